"""Payout booking benchmark, the Odoo side: run inside ``odoo-bin shell`` by ``tools/bench_payouts.py``.

``setup``: a connection on the simulator (its own sales and payouts journals, the Mexican chart's cash-basis IVA),
and, for each of three sets, posted customer invoices of Amazon orders (each through an Amazon order and its sale
order, as the orders flow makes them): the connector's set and the floor's set of N invoices, and a smaller set
profiled with cProfile. Amazon's released sale transactions of the connector's and the profiled sets are read
from the simulator (not timed), each set in its own settlement; the connector's settlement has its deposit.
``measure``: the connector books its set as the payouts job does (``BOOK_BATCH`` transactions per commit, then the
settlement closed with its deposit), timed; the floor reaches the same books with bare ORM code, 50 invoices at a
time (Odoo's payment wizard, one payment per invoice in the payouts journal, each with its cash-basis IVA entry),
then one deposit from the clearing account to the bank, reconciled with the payments; then the profiled set is
booked under cProfile. One ``BENCH_RESULT {json}`` line: the times, the books of both (to compare), and the
shares of the profiled booking spent posting the payments' entries and making the cash-basis entries.
"""
import cProfile
import json
import os
import pstats
import time
from datetime import timedelta

from odoo import Command, fields

from odoo.addons.bind_amazon_connector.models.payouts.amazon_payout_sync import BOOK_BATCH

#: Invoices per call of the floor (bare ORM code, as a person paying 50 invoices at once with Odoo's wizard).
BATCH = 50
AMOUNT = 116.00  # tax included: 100.00 + IVA 16 %
PREFIXES = {"connector": "702", "floor": "703", "profiled": "704", "wizard": "705", "grouped": "706"}


def order_id(kind, n):
    return f"{PREFIXES[kind]}-{n:07d}-0000001"


def _invoices(env, account, kind, count):
    """``count`` posted invoices of Amazon orders of the connection, in its sales journal, at AMOUNT each."""
    company = account.company_id
    tax = company.account_sale_tax_id._amazon_price_included_twin()
    product = env["product.product"].search([("default_code", "=", "BENCH-PAYOUT")], limit=1) or \
        env["product.product"].create({"name": "Bench payout product", "default_code": "BENCH-PAYOUT",
                                       "type": "consu", "taxes_id": [Command.set(tax.ids)]})
    partner = env["res.partner"].search([("name", "=", "Bench payout buyer")], limit=1) or \
        env["res.partner"].create({"name": "Bench payout buyer"})
    date = fields.Date.today() - timedelta(days=5)
    moves = env["account.move"]
    for start in range(0, count, 200):
        names = [order_id(kind, n) for n in range(start, min(start + 200, count))]
        records = env["amazon.order"].sudo().create([{"name": name, "account_id": account.id} for name in names])
        sale_orders = env["sale.order"].sudo().create([{
            "partner_id": partner.id, "amazon_order_id": record.id, "client_order_ref": record.name,
            "order_line": [Command.create({"product_id": product.id, "product_uom_qty": 1, "price_unit": AMOUNT,
                                           "tax_ids": [Command.set(tax.ids)]})],
        } for record in records])
        invoices = env["account.move"].create([{
            "move_type": "out_invoice", "partner_id": partner.id, "invoice_date": date, "ref": so.client_order_ref,
            "journal_id": account.sales_journal_id.id,
            "invoice_line_ids": [Command.create({
                "product_id": product.id, "name": product.name, "quantity": 1, "price_unit": AMOUNT,
                "tax_ids": [Command.set(tax.ids)], "sale_line_ids": [Command.set(so.order_line.ids)],
            })],
        } for so in sale_orders])
        invoices.action_post()
        moves |= invoices
        env.cr.commit()
    return moves


def setup(env, sim_url, token_url, seller_id, n, n_profiled, n_wizard, n_grouped):
    company = env.company
    env.ref("base.MXN").active = True
    journal = env["account.journal"].search([("company_id", "=", company.id), ("type", "=", "bank")], limit=1)
    account = env["amazon.account"].create({
        "name": "Amazon MX (payouts benchmark)", "company_id": company.id, "region": "NA",
        "marketplace_id": env.ref("bind_amazon_connector.marketplace_mx").id, "seller_id": seller_id,
        "lwa_client_id": "sim-client-id", "lwa_client_secret": "sim-client-secret",
        "refresh_token": "Atzr|sim-refresh-token", "endpoint_override": sim_url, "token_url_override": token_url,
        "state": "authorized", "journal_id": journal.id, "user_id": env.user.id,
        "finance_start_date": fields.Datetime.now() - timedelta(days=10),
    })
    account.sudo().payout_payments = os.environ.get("BENCH_PAYMENTS") or "sale"
    env.cr.commit()
    counts = {}
    for kind, count in (("connector", n), ("floor", n), ("profiled", n_profiled), ("wizard", n_wizard),
                        ("grouped", n_grouped)):
        counts[kind] = len(_invoices(env, account, kind, count))
    return {"account_id": account.id, "invoices": counts, "tax_exigibility": company.tax_exigibility}


def read(env, account_id):
    """Amazon's transactions and the deposit read as the payouts job reads them, not booked (not timed)."""
    account = env["amazon.account"].browse(account_id).with_context(amazon_pacing_speed=1e6)
    counts = env["amazon.payout.sync"]._read_and_book(account, book=False)
    env.cr.commit()
    return {key: value for key, value in counts.items() if isinstance(value, int)}


def _transactions(env, account, kind):
    return env["amazon.settlement.transaction"].sudo().search(
        [("account_id", "=", account.id), ("amazon_order_id", "=like", PREFIXES[kind] + "-%")], order="id")


def _book_connector(env, account, txns, close=True):
    """What the payouts job does with transactions read: BOOK_BATCH a commit, then the settlements."""
    sync = env["amazon.payout.sync"].sudo().with_company(account.company_id)
    account = account.sudo().with_company(account.company_id)
    ids = txns.ids
    for start in range(0, len(ids), BOOK_BATCH):
        sync.env["amazon.settlement.transaction"].browse(ids[start:start + BOOK_BATCH])._book_order_part()
        env.cr.commit()
    if close:
        sync._book_settlements(account)
        env.cr.commit()


def _pay_floor(env, account, batch, date):
    """Bare ORM: one payment per invoice in the payouts journal, the batch created, posted and reconciled with
    its invoices in one call each (Odoo's ``_reconcile_plan`` makes the cash-basis IVA entries)."""
    journal = account.clearing_journal_id
    method = journal.inbound_payment_method_line_ids[:1]
    payments = env["account.payment"].create([{
        "payment_type": "inbound", "partner_type": "customer", "partner_id": invoice.commercial_partner_id.id,
        "amount": invoice.amount_residual, "currency_id": invoice.currency_id.id, "journal_id": journal.id,
        "payment_method_line_id": method.id, "date": date, "memo": invoice.ref,
    } for invoice in batch])
    payments.action_post()
    receivable = [("account_type", "=", "asset_receivable"), ("reconciled", "=", False)]
    env["account.move.line"]._reconcile_plan([
        (payment.move_id.line_ids | invoice.line_ids).filtered_domain(receivable)
        for payment, invoice in zip(payments, batch, strict=True)])
    return payments


def _pay_wizard(env, account, batch, date):
    """Odoo's payment wizard on the batch: one payment per invoice in the payouts journal."""
    wizard = env["account.payment.register"].with_context(active_model="account.move", active_ids=batch.ids).create(
        {"journal_id": account.clearing_journal_id.id, "payment_date": date, "group_payment": False})
    return wizard._create_payments()


def _pay_grouped(env, account, batch, date):
    """What step 3 of issue 28 would book: one payment per buyer (partner) and batch, reconciling its invoices
    (Odoo's wizard grouping them); the bench's invoices share one buyer, so this is the most it can save."""
    wizard = env["account.payment.register"].with_context(active_model="account.move", active_ids=batch.ids).create(
        {"journal_id": account.clearing_journal_id.id, "payment_date": date, "group_payment": True})
    return wizard._create_payments()


def _book_floor(env, account, invoices, deposit_date, pay=_pay_floor):
    """The same books with bare ORM code: the invoices paid 50 at a time (``pay``), a commit per batch; then the
    deposit, from the clearing account to the bank, reconciled with the payments on the clearing account."""
    payments = env["account.payment"]
    for start in range(0, len(invoices), BATCH):
        payments |= pay(env, account, invoices[start:start + BATCH], deposit_date - timedelta(days=1))
        env.cr.commit()
    total = sum(invoices.mapped("amount_total"))
    deposit = env["account.payment"].create({
        "payment_type": "inbound", "partner_type": "customer", "partner_id": account.amazon_partner_id.id,
        "amount": total, "journal_id": account.journal_id.id, "date": deposit_date,
        "memo": "Amazon settlement (floor)",
    })
    deposit.destination_account_id = account.clearing_account_id
    deposit.action_post()
    clearing = account.clearing_account_id
    (payments | deposit).move_id.line_ids.filtered(lambda ln: ln.account_id == clearing).reconcile()
    env.cr.commit()
    return payments | deposit


def _books(env, invoices, payments):
    """What the books hold for a set: invoices paid, payments and their journals, cash-basis entries, what is
    left open on the clearing account."""
    caba = env["account.move"].search_count([("tax_cash_basis_origin_move_id", "in", invoices.ids)])
    return {
        "invoices": len(invoices),
        "invoices_paid": len(invoices.filtered(lambda m: m.payment_state in ("paid", "in_payment"))),
        "payments": len(payments),
        "payment_journals": sorted(set(payments.journal_id.mapped("code"))),
        "cash_basis_entries": caba,
    }


def _clearing_open(env, account, payments):
    lines = payments.move_id.line_ids.filtered(lambda ln: ln.account_id == account.clearing_account_id)
    return {"clearing_lines": len(lines), "clearing_unreconciled": len(lines.filtered(lambda ln: not ln.reconciled)),
            "clearing_balance": round(sum(lines.mapped("balance")), 2)}


def _invoices_of(env, kind):
    return env["account.move"].search([("move_type", "=", "out_invoice"), ("ref", "=like", PREFIXES[kind] + "-%")],
                                      order="id")


def _profile_shares(profile):
    """Shares of the profiled booking's time: posting the payments' entries, making the cash-basis entries."""
    stats = pstats.Stats(profile)
    total = max(stats.total_tt, 1e-9)
    wanted = {"posting_payment_entries": ("account_payment.py", "action_post"),
              "cash_basis_entries": ("account_partial_reconcile.py", "_create_tax_cash_basis_moves"),
              "reconcile": ("account_move_line.py", "_reconcile_plan")}
    shares = {}
    for key, (filename, name) in wanted.items():
        # an override calling super() is listed again with the same file name: the outermost holds the time
        cumulative = max((entry[3] for (path, _line, func), entry in stats.stats.items()
                          if func == name and path.endswith(filename)), default=0.0)
        shares[key] = cumulative / total
    top = sorted(((entry[3], f"{path.rsplit('/', 1)[-1]}:{func}") for (path, _line, func), entry in
                  stats.stats.items() if "/odoo/" in path or "/addons/" in path), reverse=True)[:25]
    return shares, top


def measure(env, account_id, profile=True):
    account = env["amazon.account"].browse(account_id)
    txns = _transactions(env, account, "connector")
    started = time.monotonic()
    _book_connector(env, account, txns)
    connector_seconds = time.monotonic() - started
    env.invalidate_all()
    txns = _transactions(env, account, "connector")
    settlement = txns.settlement_id
    connector_payments = txns.payment_ids | settlement.deposit_payment_id
    connector = {**_books(env, _invoices_of(env, "connector"), txns.payment_ids),
                 **_clearing_open(env, account, connector_payments),
                 "transactions": len(txns), "transactions_done": len(txns.filtered(lambda t: t.state == "done")),
                 "settlement_state": ",".join(settlement.mapped("state"))}

    deposit_date = settlement[:1].deposit_date or fields.Date.today()
    out = {"connector_seconds": connector_seconds, "connector": connector}
    for kind, pay in (("floor", _pay_floor), ("wizard", _pay_wizard), ("grouped", _pay_grouped)):
        invoices = _invoices_of(env, kind)
        if not invoices:
            continue
        started = time.monotonic()
        payments = _book_floor(env, account, invoices, deposit_date, pay=pay)
        out[f"{kind}_seconds"] = time.monotonic() - started
        env.invalidate_all()
        deposit = payments.filtered(lambda p: p.journal_id == account.journal_id)
        out[kind] = {**_books(env, _invoices_of(env, kind), payments - deposit),
                     **_clearing_open(env, account, payments)}
    profiled = _transactions(env, account, "profiled")
    if profile and profiled:
        profiler = cProfile.Profile()
        started = time.monotonic()
        profiler.enable()
        _book_connector(env, account, profiled, close=False)
        profiler.disable()
        out["profiled_seconds"] = time.monotonic() - started
        out["profiled_transactions"] = len(profiled)
        out["shares"], out["top"] = _profile_shares(profiler)
    return out


def main(env):
    action = os.environ["BENCH_ACTION"]
    if action == "setup":
        out = setup(env, os.environ["BENCH_SIM_URL"], os.environ["BENCH_SIM_TOKEN_URL"],
                    os.environ["BENCH_SELLER_ID"], int(os.environ["BENCH_TRANSACTIONS"]),
                    int(os.environ["BENCH_PROFILED"]), int(os.environ["BENCH_WIZARD"]),
                    int(os.environ.get("BENCH_GROUPED") or 0))
    elif action == "read":
        out = read(env, int(os.environ["BENCH_ACCOUNT_ID"]))
    else:
        out = measure(env, int(os.environ["BENCH_ACCOUNT_ID"]))
    print("BENCH_RESULT " + json.dumps(out))  # pylint: disable=print-used
