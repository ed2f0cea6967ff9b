"""Payments inside Amazon's balance: invoices, credit notes and fee bills paid from the connection's
settlement journal, on its clearing account, many at once, with the cash-basis IVA entries Odoo's payment
wizard makes.

Plain functions taking the connection (``amazon.account``).
"""
from odoo import Command, fields


def clearing_journal(account):
    """The settlement journal, its payment methods posting on the clearing account of the connection."""
    account.ensure_one()
    journal = account.clearing_journal_id.sudo()
    lines = journal.inbound_payment_method_line_ids | journal.outbound_payment_method_line_ids
    lines.filtered(lambda ln: ln.payment_account_id != account.clearing_account_id).payment_account_id = \
        account.clearing_account_id
    return journal


def pay_invoices_in_full(account, invoices):
    """Pay posted customer invoices of the connection in full inside Amazon's balance (the "pay on post"
    setting). Safe to call twice: only what is still due is paid. Returns the payments."""
    account.ensure_one()
    if not account.clearing_journal_id or not account.clearing_account_id:
        return account.env["account.payment"]
    account = account.sudo().with_company(account.company_id)
    todo = invoices.sudo().filtered(
        lambda m: m.state == "posted" and m.move_type == "out_invoice"
        and not m.currency_id.is_zero(m.amount_residual)
    )
    payments = account.env["account.payment"]
    for paid_payments, _paid in pay_moves_batch(account, [
            {"moves": invoice, "date": invoice.invoice_date, "memo": invoice.ref or invoice.name}
            for invoice in todo]):
        payments |= paid_payments
    return payments


def pay_moves(account, moves, amount=None, date=None, memo=None):
    """Register payments of ``moves`` (invoices, credit notes, bills) inside Amazon's balance: the
    settlement journal, on the clearing account.

    ``amount``: at most this much in total (oldest first); default their whole residual.
    Returns (payments, amount paid).
    """
    return pay_moves_batch(account, [{"moves": moves, "amount": amount, "date": date, "memo": memo}])[0]


def pay_moves_batch(account, plans):
    """:func:`pay_moves` for many payments at once: ``plans`` are dicts with ``moves`` and optionally
    ``amount``, ``date`` and ``memo``; returns one (payments, amount paid) per plan.

    Odoo's payment wizard gives each payment's values, but the payments are created, posted and reconciled
    together: Odoo's per-payment reconciliation (and its cash-basis tax entry) cost over a second a payment,
    most of it per call, not per record. Plans that pay the same move share its residual, in order."""
    account.ensure_one()
    journal = clearing_journal(account)
    Payment = account.env["account.payment"]
    results = [[Payment, 0.0] for _plan in plans]
    residuals = {}
    rounds = [[]]  # a move is paid at most once per round: its residual is read before the round
    for index, plan in enumerate(plans):
        remaining = plan.get("amount")
        for move in plan["moves"].sorted(lambda m: (m.invoice_date or m.date, m.id)):
            currency = move.currency_id
            residual = residuals.get(move.id, abs(move.amount_residual))
            if currency.is_zero(residual):
                continue
            to_pay = residual if remaining is None else min(residual, remaining)
            if currency.compare_amounts(to_pay, 0.0) <= 0:
                break
            residuals[move.id] = residual - to_pay
            target = next((r for r in rounds if all(item[1] != move for item in r)), None)
            if target is None:
                target = []
                rounds.append(target)
            target.append((index, move, to_pay, plan.get("date"), plan.get("memo")))
            results[index][1] += to_pay
            if remaining is not None:
                remaining -= to_pay
    for items in rounds:
        if items:
            for index, payment in pay_moves_round(account, journal, items):
                results[index][0] |= payment
    return [tuple(result) for result in results]


def payment_groups(account, items):
    """The payments of a round: lists of items, one item each, or (the connection paying "one per buyer and batch")
    the customer invoices of one buyer paid in full on one date together."""
    groups = {}
    for item in items:
        _index, move, to_pay, date, _memo = item
        key = ("item", len(groups))
        if account.payout_payments == "batch" and move.move_type == "out_invoice" \
                and move.currency_id.compare_amounts(to_pay, abs(move.amount_residual)) == 0:
            key = ("buyer", move.commercial_partner_id.id, move.currency_id.id, date)
        groups.setdefault(key, []).append(item)
    return list(groups.values())


def pay_moves_round(account, journal, items):
    """One payment per (plan index, move, amount, date, memo), each move once (or one per group of
    :func:`payment_groups`): created, posted and reconciled in one go. Returns (plan index, payment) pairs."""
    env = account.env
    to_process = []
    groups = payment_groups(account, items)
    while groups:
        group = groups.pop(0)
        moves = env["account.move"].union(*(move for _index, move, _to_pay, _date, _memo in group))
        _index, move, _to_pay, date, memo = group[0]
        wizard = env["account.payment.register"].with_context(
            active_model="account.move", active_ids=moves.ids,
        ).create({
            "journal_id": journal.id,
            "payment_date": date or fields.Date.context_today(account),
            "amount": sum(to_pay for _index, _move, to_pay, _date, _memo in group),
            "currency_id": move.currency_id.id,
            "communication": memo or move.ref or move.name if len(group) == 1 else
            env._("Amazon sales %s", ", ".join(filter(None, (m for _i, _m, _p, _d, m in group)))),
            "payment_difference_handling": "open",
            "group_payment": True,
        })
        if len(wizard.batches) > 1:  # the wizard would make several payments (accounts, bank accounts): one each
            groups[:0] = [[item] for item in group]
            continue
        batch = wizard.batches[0]
        to_process.append(([index for index, *_rest in group], wizard._create_payment_vals_from_wizard(batch),
                           batch["lines"]))
    for _indexes, vals, lines in to_process:
        # Without a write-off Odoo makes the journal entries of all the payments in one go when they are posted;
        # an empty list would make it create them one at a time.
        if not vals.get("write_off_line_vals") and vals.get("force_balance") is None:
            vals.pop("write_off_line_vals", None)
        # The wizard links each invoice to its payment after reconciling, one invoice write per payment (which
        # also recomputes its payment state); linked at creation, as Odoo's online payments do, it is one insert.
        vals["invoice_ids"] = [Command.set(lines.move_id.ids)]
    payments = env["account.payment"].with_context(skip_invoice_sync=True).create(
        [vals for _indexes, vals, _lines in to_process])
    payments.with_context(skip_sale_auto_invoice_send=True).action_post()
    # as the wizard's reconciliation, for every payment in one plan
    open_domain = [
        ("parent_state", "=", "posted"),
        ("account_type", "in", env["account.payment"]._get_valid_payment_account_types()),
        ("reconciled", "=", False),
    ]
    plan = []
    for payment, (_indexes, _vals, lines) in zip(payments, to_process, strict=True):
        payment_lines = payment.move_id.line_ids.filtered_domain(open_domain)
        for gl_account in payment_lines.account_id:
            plan.append((payment_lines + lines).filtered_domain(
                [("account_id", "=", gl_account.id), ("reconciled", "=", False)]))
    reconcile_with_cash_basis(account, plan, payments.move_id.line_ids)
    return [(index, payment) for payment, (indexes, _vals, _lines) in zip(payments, to_process, strict=True)
            for index in indexes]


def reconcile_with_cash_basis(account, plan, payment_lines):
    """Odoo's ``_reconcile_plan``, with the cash-basis IVA entries of all the payments made in one call.

    Odoo makes them one reconciliation at a time (about 0.3 s each); together they are the same entries, one per
    payment and invoice, created and posted at once."""
    Line = account.env["account.move.line"]
    if not account.company_id.tax_exigibility:
        Line._reconcile_plan(plan)
        return
    Line.with_context(no_cash_basis=True)._reconcile_plan(plan)
    types = ("asset_receivable", "liability_payable")
    partials = (payment_lines.matched_debit_ids | payment_lines.matched_credit_ids).filtered(
        lambda p: p.debit_move_id.account_id.account_type in types)
    if partials:
        partials = partials.with_context(no_exchange_difference_no_recursive=False, no_cash_basis=False)
        partials._create_tax_cash_basis_moves()
        partials._set_draft_caba_move_vals()
