"""The entries of a settlement besides its sales and refunds: the vendor bill of Amazon's fees, the
withholdings and unknown amounts kept by Amazon, and the deposit to the bank.

Plain functions taking the connection (``amazon.account``).
"""
from collections import defaultdict

from odoo import Command, fields

from . import clearing_payments


def book_fee_bill(account, settlement, lines):
    """Create or refresh the draft fee bill of a settlement: one line per fee type."""
    account.ensure_one()
    _ = account.env._
    Move = account.env["account.move"]
    bill = settlement.move_ids.filtered(
        lambda m: m.amazon_fee_bill and m.state == "draft" and not m.amazon_cfdi_uuid)[:1]
    if bill:
        lines |= settlement.line_ids.filtered(lambda ln: ln.move_id == bill and ln.category == "fee")
    currency = settlement.currency_id
    # per fee type: Amazon's gross (a cost is positive here) and the IVA inside it, as Amazon charged it
    groups = defaultdict(lambda: [0.0, 0.0])
    for line in lines:
        key = (line.fee_account_id.id or 0, "" if line.fee_account_id else (line.amazon_type or "?"))
        gross = -line.amount  # Amazon's fees are negative: a cost for the seller
        groups[key][0] += gross
        groups[key][1] += -line.tax_amount if line.has_tax else line._fee_tax_estimate(gross)
    total = currency.round(sum(g for g, _t in groups.values()))
    if all(currency.is_zero(g) for g, _t in groups.values()):
        lines.write({"move_id": False})
        if bill:
            bill.unlink()
        return Move
    sign = -1 if total < 0 else 1
    line_commands = []
    for (fee_id, unknown_type), (cost, tax) in sorted(groups.items(), key=lambda kv: (kv[0][0] == 0, kv[0])):
        cost, tax = currency.round(cost), currency.round(tax)
        if currency.is_zero(cost):
            continue
        if fee_id:
            fee = account.env["amazon.fee.account"].browse(fee_id)
            name, gl_account, taxes = fee.name, fee.expense_account_id, fee.tax_ids
        else:
            name = _("Unknown Amazon fee type: %s", unknown_type)
            gl_account, taxes = account.suspense_account_id, account.env["account.tax"]
        vals = {
            "name": _("%(fee)s - settlement %(settlement)s", fee=name, settlement=settlement.name),
            "account_id": gl_account.id,
            "quantity": 1,
            "price_unit": sign * cost,
            "tax_ids": [Command.set(taxes.ids)],
        }
        if len(taxes) == 1 and taxes.amount_type == "percent" and taxes.price_include:
            # Amazon's own base and IVA, not Odoo's split of the gross: IVA acreditable and the DIOT
            # then match Amazon's CFDI to the cent
            base = currency.round(cost - tax)
            vals["extra_tax_data"] = {
                "currency_id": currency.id, "price_unit": sign * cost, "discount": 0.0, "quantity": 1.0,
                "manual_total_excluded_currency": sign * base, "manual_total_excluded": sign * base,
                "manual_tax_amounts": {str(taxes.id): {
                    "base_amount_currency": sign * base, "base_amount": sign * base,
                    "tax_amount_currency": sign * tax, "tax_amount": sign * tax,
                }},
            }
        line_commands.append(Command.create(vals))
    move_type = "in_refund" if sign < 0 else "in_invoice"
    others = settlement.move_ids.filtered(lambda m: m.amazon_fee_bill and m != bill)
    ref = _("Amazon fees %s", settlement.name) + (f" ({len(others) + 1})" if others else "")
    vals = {
        "move_type": move_type,
        "partner_id": account.amazon_partner_id.id,
        "currency_id": currency.id,
        "company_id": account.company_id.id,
        "ref": ref,
        "invoice_date": settlement.deposit_date or fields.Date.to_date(settlement.end_date)
        or fields.Date.context_today(account),
        "amazon_settlement_id": settlement.id,
        "amazon_fee_bill": True,
    }
    if bill and bill.move_type == move_type:
        bill.write({**vals, "invoice_line_ids": [Command.clear(), *line_commands]})
    else:
        if bill:
            bill.unlink()
        bill = Move.create({**vals, "invoice_line_ids": line_commands})
    lines.write({"move_id": bill.id})
    return bill

def book_other_amounts(account, settlement, category, lines, date):
    """Withholdings (IVA, ISR) and unknown amounts of a settlement: a payment out of the clearing account
    to the withholding / suspense account, for the part Amazon kept (or gave back)."""
    account.ensure_one()
    _ = account.env._
    currency = settlement.currency_id
    amount = currency.round(sum(lines.mapped("amount")))  # Amazon's sign: negative = kept by Amazon
    if currency.is_zero(amount):
        lines.write({"payment_id": False})
        return account.env["account.payment"]
    gl_account = {
        "withholding_iva": account.withholding_iva_account_id,
        "withholding_isr": account.withholding_isr_account_id,
        "unknown": account.suspense_account_id,
    }[category]
    label = {
        "withholding_iva": _("IVA withheld by Amazon"),
        "withholding_isr": _("ISR withheld by Amazon"),
        "unknown": _("Amazon amounts of unknown type"),
    }[category]
    payment = account.env["account.payment"].create({
        "payment_type": "outbound" if amount < 0 else "inbound",
        "partner_type": "supplier",
        "partner_id": account.amazon_partner_id.id,
        "amount": abs(amount),
        "currency_id": currency.id,
        "journal_id": clearing_payments.clearing_journal(account).id,
        "date": date,
        "memo": _("%(label)s - settlement %(settlement)s", label=label, settlement=settlement.name),
        "amazon_settlement_id": settlement.id,
    })
    payment.destination_account_id = gl_account
    payment.action_post()
    lines.write({"payment_id": payment.id})
    return payment

def book_deposit(account, settlement):
    """The one entry of the bank journal for a settlement: the deposit, from the clearing account to the
    bank's outstanding receipts, where the bank statement line of the deposit matches it (amount, date
    and the settlement in its memo)."""
    account.ensure_one()
    currency = settlement.currency_id
    amount = currency.round(settlement.deposited_amount)
    payment = settlement.deposit_payment_id
    if payment and payment.state not in ("draft", "canceled", "rejected"):
        return payment
    if currency.is_zero(amount) or not settlement.deposit_date:
        return account.env["account.payment"]
    reference = settlement.settlement_ref or settlement.name
    payment = account.env["account.payment"].create({
        "payment_type": "inbound" if amount > 0 else "outbound",
        "partner_type": "customer" if amount > 0 else "supplier",
        "partner_id": account.amazon_partner_id.id,
        "amount": abs(amount),
        "currency_id": currency.id,
        "journal_id": account.journal_id.id,
        "date": settlement.deposit_date,
        "memo": account.env._("Amazon settlement %s", reference),
        "amazon_settlement_id": settlement.id,
    })
    payment.destination_account_id = account.clearing_account_id
    payment.action_post()
    settlement.deposit_payment_id = payment
    settlement._reconcile_clearing()
    return payment
