"""What the connection's card on the Overview screen says, from what the other flows recorded.

Plain functions (no model) behind the connection's counts, its overview card and its smart buttons
(``amazon_account.py``): they read, never write.
"""
from datetime import datetime, time, timedelta

import pytz

from odoo import fields
from odoo.tools import SQL, format_amount, formatLang

from .access import ACCOUNTANT, AMAZON_USER, check_group

#: A connection whose orders were last read longer ago than this is shown as late.
SYNC_LATE_AFTER = timedelta(hours=6)
#: The card's profitability: the orders of today and of the days before, this many days in all.
PROFIT_DAYS = 30
#: ...and this many products with the lowest margin.
PROFIT_PRODUCTS = 5


def today_start(env):
    """Midnight of the user's day, as naive UTC."""
    user_now = fields.Datetime.context_timestamp(env.user, fields.Datetime.now())
    midnight = pytz.timezone(env.user.tz or "UTC").localize(datetime.combine(user_now.date(), time.min))
    return midnight.astimezone(pytz.utc).replace(tzinfo=None)


def count_by_connection(records, account_ids, domain):
    """{connection id: number of ``records``' rows of those connections matching ``domain``}."""
    groups = records._read_group([("account_id", "in", account_ids)] + domain, ["account_id"], ["__count"])
    return {account.id: count for account, count in groups}


def shipments_to_confirm(env, account_ids):
    """{connection id: packages validated in Odoo that Amazon has not confirmed yet (waiting or refused)}."""
    # imported here: the connection's models load before the orders flow's
    from ..orders.amazon_shipment import OPEN_STATES

    return count_by_connection(env["amazon.shipment"].sudo(), account_ids, [("state", "in", OPEN_STATES)])


def age_text(env, delta):
    """How long ago, in words: "just now", "12 min ago", "30 h ago", "3 days ago"."""
    minutes = int(delta.total_seconds() // 60)
    if minutes < 1:
        return env._("just now")
    if minutes < 60:
        return env._("%s min ago", minutes)
    if minutes < 48 * 60:
        return env._("%s h ago", minutes // 60)
    return env._("%s days ago", minutes // (24 * 60))


def documents_domain(accounts, kind):
    """The connections' customer invoices (``kind`` "invoices") or Amazon's fee bills ("fee_bills")."""
    if kind == "fee_bills":
        return [("amazon_fee_bill", "=", True), ("amazon_settlement_id.account_id", "in", accounts.ids)]
    return [("move_type", "in", ("out_invoice", "out_refund")),
            ("line_ids.sale_line_ids.order_id.amazon_order_id.account_id", "in", accounts.ids)]


def documents_action(account, kind):
    """The smart button's list of the connection's invoices or fee bills, for Amazon users."""
    env = account.env
    check_group(env, AMAZON_USER, message=env._("Only Amazon users can open the Amazon connections."))
    account.ensure_one()
    invoices = kind == "invoices"
    name = env._("Invoices of %s", account.name) if invoices else env._("Amazon fee bills of %s", account.name)
    list_view = env.ref("account.view_out_invoice_tree" if invoices else "account.view_in_invoice_bill_tree")
    return {
        "type": "ir.actions.act_window",
        "name": name,
        "res_model": "account.move",
        "view_mode": "list,form",
        "views": [(list_view.id, "list"), (False, "form")],
        "domain": documents_domain(account, kind),
        "context": {"create": False, "default_move_type": "out_invoice" if invoices else "in_invoice"},
    }


def counts_by_state(records, account_ids, state_field):
    """{connection id: {state: number of ``records`` of that connection in that state}}."""
    counts = {}
    for account, state, count in records._read_group(
            [("account_id", "in", account_ids)], ["account_id", state_field], ["__count"]):
        counts.setdefault(account.id, {})[state] = count
    return counts


def stock_push_counts(env, account_ids):
    """({connection id: listings waiting to be sent}, {...: listings Amazon did not take}, {...: last sending})."""
    if not account_ids:
        return {}, {}, {}
    env["amazon.stock.push"].flush_model()
    env.cr.execute(SQL("SELECT account_id, count(DISTINCT listing_id) FROM amazon_stock_push "
                       "WHERE account_id = ANY(%s) GROUP BY account_id", account_ids))
    pending = dict(env.cr.fetchall())
    Listing = env["amazon.listing"].sudo()
    failed = dict(Listing._read_group(
        [("account_id", "in", account_ids), ("stock_push_state", "in", ("retry", "refused"))],
        ["account_id"], ["__count"]))
    last_sent = dict(Listing._read_group([("account_id", "in", account_ids), ("stock_sent_date", "!=", False)],
                                         ["account_id"], ["stock_sent_date:max"]))
    return pending, {a.id: n for a, n in failed.items()}, {a.id: d for a, d in last_sent.items()}


def records_action(account, action, domain=(), filters=(), groups=(AMAZON_USER,)):
    """A smart button's list: the addon's window action ``action`` narrowed to the connection and ``domain``,
    with the search filters ``filters`` on, for the ``groups``' users who may read the connection."""
    env = account.env
    check_group(env, *groups)
    account.ensure_one()
    account.check_access("read")
    result = env["ir.actions.act_window"]._for_xml_id(f"bind_amazon_connector.{action}")
    result["domain"] = [("account_id", "=", account.id), *domain]
    result["context"] = {"default_account_id": account.id, **{f"search_default_filter_{f}": 1 for f in filters}}
    return result


def set_order_counts(accounts):
    counts = counts_by_state(accounts.env["amazon.order"], accounts.ids, "state")
    for account in accounts:
        mine = counts.get(account.id, {})
        account.amazon_order_imported_count = mine.get("imported", 0)
        account.amazon_order_error_count = mine.get("error", 0)
        account.amazon_order_skipped_count = mine.get("skipped", 0)
        account.amazon_order_cancelled_count = mine.get("cancelled", 0)
        account.amazon_order_count = sum(mine.values())


def set_orders_to_look_at(accounts, attention_limit, recent_limit):
    """The Sales tab: the orders needing attention (in error, skipped, new), then the latest ones."""
    Order = accounts.env["amazon.order"]
    for account in accounts:
        if not account.id:
            account.amazon_order_tab_ids = Order
            continue
        attention = Order.search(
            [("account_id", "=", account.id), ("state", "in", ("error", "skipped", "new"))], limit=attention_limit)
        account.amazon_order_tab_ids = attention | Order.search(
            [("account_id", "=", account.id), ("id", "not in", attention.ids)], limit=recent_limit)


def set_listing_counts(accounts):
    counts = counts_by_state(accounts.env["amazon.listing"], accounts.ids, "mapping_state")
    for account in accounts:
        mine = counts.get(account.id, {})
        account.listing_unmapped_count = mine.get("unmapped", 0)
        account.listing_conflict_count = mine.get("conflict", 0)
        account.listing_count = sum(mine.values())


def set_stock_push_counts(accounts):
    pending, failed, last_sent = stock_push_counts(accounts.env, [i for i in accounts.ids if i])
    for account in accounts:
        account.stock_push_pending_count = pending.get(account.id, 0)
        account.stock_push_failed_count = failed.get(account.id, 0)
        account.stock_last_sent_date = last_sent.get(account.id, False)


def set_card(accounts):
    """The overview card: orders imported today, shipments to confirm, how long ago the orders were read."""
    env = accounts.env
    ids = [account._origin.id for account in accounts if account._origin.id]  # _origin: also in a form edited
    today = count_by_connection(env["amazon.order"], ids, [("state", "=", "imported"),
                                                           ("create_date", ">=", today_start(env))])
    shipments = shipments_to_confirm(env, ids)
    now = fields.Datetime.now()
    for account in accounts:
        account.dashboard_today_count = today.get(account._origin.id, 0)
        account.dashboard_shipment_count = shipments.get(account._origin.id, 0)
        last = account.orders_last_sync
        account.dashboard_sync_age = age_text(env, now - last) if last else env._("never")
        account.dashboard_sync_late = account.state == "authorized" and (not last or now - last > SYNC_LATE_AFTER)
        # refused by Amazon (revoked, expired) or removed after having been authorized
        account.authorization_lost = account.state == "error" or (
            account.state == "draft" and bool(account.authorized_date))


def set_document_counts(accounts):
    Move = accounts.env["account.move"]
    can_read = Move.has_access("read")
    for account in accounts:
        origin = account._origin if can_read else accounts.browse()
        account.invoice_count = origin.id and Move.search_count(documents_domain(origin, "invoices"))
        account.fee_bill_count = origin.id and Move.search_count(documents_domain(origin, "fee_bills"))


def set_settlement_counts(accounts):
    """The Settlements button: how many, and how many have their deposit but are not reconciled."""
    for account in accounts:
        account.settlement_count = len(account.settlement_ids)
        account.unreconciled_count = len(account.settlement_ids.filtered(
            lambda s: s.deposit_date and not s.is_reconciled))


def profit_since(env):
    """The first moment of the card's profitability: midnight of the user's day, ``PROFIT_DAYS`` - 1 days ago."""
    return today_start(env) - timedelta(days=PROFIT_DAYS - 1)


def set_profit_card(accounts):
    """The card's profitability of the last 30 days, as the profitability report shows it (fees known): net
    sales, Amazon fees, margin and the products with the lowest margin. Nothing for whoever may not read the
    report."""
    env = accounts.env
    origins = accounts.browse([account._origin.id for account in accounts if account._origin.id])
    figures = env["amazon.profit.report"]._overview_figures(origins, profit_since(env), limit=PROFIT_PRODUCTS)
    for account in accounts:
        mine = figures.get(account._origin.id)
        account.profit_card = mine and profit_card_values(env, account.company_id.currency_id, mine)


def profit_card_values(env, currency, figures):
    """The card's figures (numbers, and as the user reads them) and its products (with the context that opens
    the report on each)."""
    def money(amount):
        return format_amount(env, amount, currency)

    def percent(value):
        return "" if value is None else formatLang(env, value, digits=1) + " %"

    return {
        **{key: figures[key] for key in ("net_sales", "fees", "margin", "pending_sales")},
        **{f"{key}_text": money(figures[key]) for key in ("net_sales", "fees", "margin", "pending_sales")},
        "products": [{
            "id": product.id, "name": product.display_name, "net_sales": net_sales, "margin": margin,
            "margin_percent": margin_percent, "margin_text": money(margin), "percent_text": percent(margin_percent),
            "context": {"profit_product_id": product.id},
        } for product, net_sales, margin, margin_percent in figures["products"]],
    }


def profit_action(account, product_id=None):
    """The profitability report of the connection's last 30 days (of one product when ``product_id``), with the
    report's own filter (fees known): what the card sums."""
    env = account.env
    check_group(env, AMAZON_USER, ACCOUNTANT)
    account.ensure_one()
    account.check_access("read")
    env["amazon.profit.report"].check_access("read")
    since = profit_since(env)
    result = env["ir.actions.act_window"]._for_xml_id("bind_amazon_connector.amazon_profit_report_action")
    result["domain"] = [("account_id", "=", account.id), ("date", ">=", fields.Datetime.to_string(since))]
    result["context"] = {"search_default_fees_known": 1}
    result["name"] = env._("Profitability of %(connection)s, last %(days)s days", connection=account.name,
                           days=PROFIT_DAYS)
    product = env["product.product"].browse(product_id if isinstance(product_id, int) else []).exists()
    if product:
        result["domain"].append(("product_id", "=", product.id))
        result["name"] = env._("Profitability of %(product)s on %(connection)s, last %(days)s days",
                               product=product.display_name, connection=account.name, days=PROFIT_DAYS)
    return result
