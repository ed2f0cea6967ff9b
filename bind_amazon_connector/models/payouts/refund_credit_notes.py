"""Credit notes of Amazon's refunds: the refunded products and quantities, shipping and gift wrap on their own
lines, from the refund transaction and the order's invoices.

Plain functions taking the connection (``amazon.account``).
"""
from collections import defaultdict

from odoo import Command
from odoo.exceptions import UserError


def invoice_line_of_sku(account, invoices, sku):
    """The customer invoice line of an Amazon SKU: the sale line's "[SKU] title", the product's
    internal reference, or the product of the connection's listing of that SKU."""
    lines = invoices.invoice_line_ids.filtered(lambda ln: ln.display_type == "product" and ln.product_id)
    found = lines.filtered(lambda ln: (ln.name or "").startswith(f"[{sku}]"))
    if not found:
        found = lines.filtered(lambda ln: ln.product_id.default_code == sku)
    if not found:
        listing = account.env["amazon.listing"].search([("account_id", "=", account.id), ("seller_sku", "=", sku)],
                                                    limit=1)
        found = lines.filtered(lambda ln: listing.product_id and ln.product_id == listing.product_id)
    return found[:1]

def refund_lines(account, invoices, txn, amount):
    """Credit note lines ``[(invoice line to copy or None, label, quantity, gross)]`` for what Amazon
    refunded: per SKU and charge (product, shipping, gift wrap) from the refund transaction. Raises
    UserError when a refunded product cannot be found on the order's invoices."""
    account.ensure_one()
    _ = account.env._
    currency = txn.currency_id
    product_lines = invoices.invoice_line_ids.filtered(lambda ln: ln.display_type == "product")
    goods = product_lines.filtered(lambda ln: ln.product_id.type != "service")
    parts = txn.line_ids.filtered(lambda ln: ln.category == "refund")
    groups = defaultdict(lambda: [0.0, 0])
    for part in parts:
        key = (part.charge or "product", part.sku or "")
        groups[key][0] += -part.amount
        groups[key][1] = max(groups[key][1], part.quantity or 0)
    result = []
    for (charge, sku), (gross, quantity) in sorted(groups.items()):
        if currency.is_zero(gross):
            continue
        if charge in ("shipping", "giftwrap"):
            xmlid = {"shipping": "bind_amazon_connector.product_amazon_shipping",
                     "giftwrap": "bind_amazon_connector.product_amazon_gift_wrap"}[charge]
            service = account.env.ref(xmlid, raise_if_not_found=False)
            source = product_lines.filtered(lambda ln, p=service: p and ln.product_id == p)[:1]
            label = _("Shipping refund") if charge == "shipping" else _("Gift wrap refund")
            result.append((source or None, label, 1, gross, service))
            continue
        source = invoice_line_of_sku(account, invoices, sku) if sku else (goods if len(goods) == 1 else None)
        if not source:
            if sku:
                raise UserError(_("Amazon refunded SKU %(sku)s, which is on no invoice of order %(order)s.",
                                  sku=sku, order=txn.amazon_order_id))
            raise UserError(_("Amazon's refund of order %(order)s names no product and the order has "
                              "%(count)s products: say which one on a credit note by hand.",
                              order=txn.amazon_order_id, count=len(goods)))
        if not quantity:
            unit = source.price_total / source.quantity if source.quantity else 0.0
            ratio = gross / unit if unit else 0.0
            quantity = round(ratio) if ratio and abs(ratio - round(ratio)) < 0.005 else 1
        result.append((source, source.name, quantity, gross, source.product_id))
    explained = currency.round(sum(r[3] for r in result))
    if currency.compare_amounts(explained, amount) != 0:
        raise UserError(_("Amazon refunded %(amount)s for order %(order)s but its lines explain %(lines)s.",
                          amount=amount, order=txn.amazon_order_id, lines=explained))
    return result

def create_refund_credit_note(account, invoices, amount, date, txn):
    """A posted credit note of ``amount`` (tax included) for a refund of an Amazon order: the refunded
    products and quantities, shipping and gift wrap on their own lines."""
    account.ensure_one()
    invoice = invoices.sorted(lambda m: (m.invoice_date or m.date, m.id))[-1]
    currency = invoice.currency_id
    reference = account.env._("Amazon refund %(order)s (%(txn)s)", order=txn.amazon_order_id, txn=txn.name)
    if currency.compare_amounts(sum(invoices.mapped("amount_total")), amount) == 0 and len(invoices) == 1 \
            and not invoice.reversal_move_ids:
        credit_note = invoice._reverse_moves([{
            "ref": reference, "invoice_date": date, "date": date,
        }])
    else:
        fallback = invoice.invoice_line_ids.filtered(lambda ln: ln.display_type == "product")[:1]
        commands = []
        for source, label, quantity, gross, product in refund_lines(account, invoices, txn, amount):
            model = source or fallback
            included = account.env["account.tax"]
            for tax in model.tax_ids:
                included |= tax._amazon_price_included_twin()
            if currency.compare_amounts(currency.round(gross / quantity) * quantity, gross) != 0:
                # a unit price that is not whole cents would not add up to Amazon's refund
                label, quantity = f"{label} (x{quantity})", 1
            commands.append(Command.create({
                "name": label,
                "product_id": (product or model.product_id).id,
                "account_id": model.account_id.id,
                "quantity": quantity,
                "price_unit": gross / quantity,
                "tax_ids": [Command.set(included.ids)],
            }))
        credit_note = account.env["account.move"].create({
            "move_type": "out_refund",
            "partner_id": invoice.partner_id.id,
            "currency_id": currency.id,
            "journal_id": invoice.journal_id.id,
            "invoice_date": date,
            "ref": reference,
            "invoice_origin": invoice.invoice_origin or invoice.ref,
            "reversed_entry_id": invoice.id,
            "invoice_line_ids": commands,
        })
    credit_note.action_post()
    return credit_note
