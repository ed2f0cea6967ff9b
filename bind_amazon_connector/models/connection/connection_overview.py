"""What the connection's card on the Overview screen says, from what the other flows recorded.

Plain functions (no model) behind the card's computes and smart buttons (``models/dashboard/amazon_account.py``):
they read, never write.
"""
from datetime import datetime, time, timedelta

import pytz

from odoo import fields

from .access import AMAZON_USER, check_group

#: A connection whose orders were last read longer ago than this is shown as late.
SYNC_LATE_AFTER = timedelta(hours=6)


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
