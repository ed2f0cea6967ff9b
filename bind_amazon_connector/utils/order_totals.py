"""What an Amazon order's invoice carries, read from Amazon's own numbers (no ORM).

Amazon reports, per item, a ``proceedsTotal`` and its breakdowns (ITEM, SHIPPING, GIFT_WRAP, COD_FEE,
OTHER, DISCOUNT, TAX), and per order a ``grandTotal``. Whether TAX comes on top of ITEM or is already
inside it is not a marketplace rule: Amazon's own examples show TAX on top of ITEM in a marketplace whose
shelf prices include VAT. So the reading is decided item by item, by which sum gives ``proceedsTotal``.
Whatever does not add up is reported (:class:`Unreconciled`), never guessed.

The result gives, per item, the amounts its invoice lines carry *with* Amazon's tax on them (``gross``)
and that tax, so the lines of an item add up to its ``proceedsTotal`` and the order's invoice to
``grandTotal`` less what the seller does not invoice (a delivery tip, tax Amazon remits itself).
"""
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from .values import money_amount

CENT = Decimal("0.01")
#: Amounts of Amazon's own breakdowns may disagree with its totals by this much (a rounding), no more.
TOLERANCE = Decimal("0.02")
#: Item charges, in the order their invoice lines come.
CHARGES = ("ITEM", "SHIPPING", "GIFT_WRAP", "COD_FEE", "OTHER")
#: Order-level categories the seller does not invoice: Amazon passes a delivery tip on to the driver.
NOT_INVOICED = ("DELIVERY_TIP",)
#: Parts of an item's invoice: its charges and its promotions (on the item, on its shipping).
DISCOUNT = "DISCOUNT"
SHIPPING_DISCOUNT = "SHIPPING_DISCOUNT"
TAX_ON_TOP = "on_top"
TAX_INSIDE = "inside"


class Unreconciled(ValueError):
    """Amazon's numbers do not add up: ``expected`` is Amazon's total, ``computed`` what its parts give."""

    def __init__(self, what, expected, computed, item_id=None):
        self.what = what  # "item" or "order" or "quantity"
        self.expected = expected
        self.computed = computed
        self.item_id = item_id
        super().__init__(f"{what} {item_id or ''}: Amazon total {expected}, parts give {computed}")

    @property
    def difference(self):
        return self.expected - self.computed


@dataclass
class Part:
    """One invoice amount: ``gross`` is what the buyer pays for it, ``tax`` Amazon's tax inside ``gross``."""

    kind: str
    gross: Decimal
    tax: Decimal = Decimal(0)

    @property
    def net(self):
        return self.gross - self.tax


@dataclass
class ItemTotals:
    item: object  # spapi.order_types.OrderItem
    reading: str
    parts: list = field(default_factory=list)
    #: What the invoice lines of this item must total (``proceedsTotal`` less tax Amazon remits itself).
    invoiced: Decimal = Decimal(0)
    #: Amazon's tax on what is invoiced, None when Amazon reported no TAX for the item.
    tax: Decimal | None = None
    #: Tax Amazon collects and remits itself (MARKETPLACE_FACILITATOR): not on the seller's invoice.
    facilitator_tax: Decimal = Decimal(0)

    def part(self, kind):
        return next((p for p in self.parts if p.kind == kind), None)


@dataclass
class OrderTotals:
    items: list
    #: Order-level charges no item carries, invoiced on their own line.
    extras: list = field(default_factory=list)
    #: ``(category, amount)`` Amazon charged the buyer that the seller does not invoice.
    not_invoiced: list = field(default_factory=list)
    grand_total: Decimal | None = None
    #: What the order's invoice must total, to the cent.
    invoice_total: Decimal = Decimal(0)
    #: Amazon's tax on the invoice, None when Amazon reported none.
    tax: Decimal | None = None

    @property
    def amount_not_invoiced(self):
        return sum((amount for _kind, amount in self.not_invoiced), Decimal(0))


def _negative(money):
    """A DISCOUNT amount as a negative number, whatever sign Amazon wrote it with."""
    return -abs(money_amount(money))


def split(total, weights):
    """``total`` shared in proportion to ``weights``, in cents, the last share taking the rounding."""
    whole = sum(weights, Decimal(0))
    shares, left = [], total
    for index, weight in enumerate(weights):
        last = index == len(weights) - 1 or not whole
        share = left if last else (total * weight / whole).quantize(CENT, rounding=ROUND_HALF_UP)
        shares.append(share)
        left -= share
        if not whole:
            shares.extend([Decimal(0)] * (len(weights) - index - 1))
            break
    return shares


def _close(a, b, tolerance=TOLERANCE):
    return abs(a - b) <= tolerance


def item_discounts(item):
    """(promotion on the item, promotion on its shipping), both negative. A DISCOUNT without details is
    a promotion on the item."""
    if item.discount is None:
        return Decimal(0), Decimal(0)
    total = _negative(item.discount)
    shipping = _negative(item.shipping_discount) if item.shipping_discount is not None else Decimal(0)
    return total - shipping, shipping


def _charges(item):
    return {
        "ITEM": money_amount(item.item_price),
        "SHIPPING": money_amount(item.shipping_price),
        "GIFT_WRAP": money_amount(item.gift_wrap_price),
        "COD_FEE": money_amount(item.cod_fee),
        "OTHER": money_amount(item.other_charge),
    }


def read_item(item, prices_include_tax):
    """The :class:`ItemTotals` of one item. ``prices_include_tax`` (the marketplace's habit) only decides
    when Amazon sent no ``proceedsTotal`` to read the convention from. Raises :class:`Unreconciled`."""
    qty = item.quantity_ordered or 0
    charges = _charges(item)
    discount, ship_discount = item_discounts(item)
    base = sum(charges.values(), Decimal(0)) + discount + ship_discount
    has_tax = item.tax is not None
    tax = money_amount(item.tax)
    total = item.proceeds_total.amount if item.proceeds_total is not None else None
    facilitator = any(c.model == "MARKETPLACE_FACILITATOR" for c in item.tax_collections)
    unit_total = item.unit_price.amount * qty if item.unit_price is not None else None

    if qty == 0:
        # Nothing ordered: Amazon charging anything for it (a promotion, a price) cannot be invoiced.
        charged = total if total is not None else base + tax
        if charged or any(money_amount(b.subtotal) for b in item.proceeds):
            raise Unreconciled("quantity", charged, Decimal(0), item.order_item_id)
        return ItemTotals(item=item, reading=TAX_ON_TOP)
    if total is not None and not item.proceeds:
        # A total without breakdowns: all of it is the item.
        charges["ITEM"] = base = total
    if total is None:
        reading = TAX_INSIDE if prices_include_tax else TAX_ON_TOP
        total = base + (tax if reading == TAX_ON_TOP else 0)
    elif not tax or total == base + tax:
        reading = TAX_ON_TOP
    elif total == base:
        reading = TAX_INSIDE
    else:
        # Neither sum is exact: a cent or two of Amazon's own rounding is accepted on the closest
        # reading, the unit price deciding a tie; anything more is not guessed.
        on_top, inside = abs(total - base - tax), abs(total - base)
        if min(on_top, inside) > TOLERANCE:
            raise Unreconciled("item", total, base + tax if on_top < inside else base, item.order_item_id)
        if on_top == inside and unit_total is not None:
            reading = TAX_INSIDE if unit_total == charges["ITEM"] else TAX_ON_TOP
        else:
            reading = TAX_ON_TOP if on_top <= inside else TAX_INSIDE

    taxes = {kind: money_amount(item.proceeds_amount("TAX", kind)) for kind in CHARGES}
    discount_tax = -abs(money_amount(item.proceeds_amount("TAX", "DISCOUNT")))
    # TAX not detailed by subtype belongs to the item itself.
    taxes["ITEM"] += tax - sum(taxes.values(), Decimal(0)) - discount_tax
    result = ItemTotals(item=item, reading=reading, tax=tax if has_tax else None)
    if facilitator:
        # Amazon collects and remits this tax: the seller invoices what it receives without it.
        result.tax = None
        if reading == TAX_ON_TOP:
            result.facilitator_tax = tax
            taxes = dict.fromkeys(taxes, Decimal(0))
            discount_tax = Decimal(0)
    on_top = reading == TAX_ON_TOP
    for kind in CHARGES:
        amount = charges[kind]
        if amount or (kind == "ITEM" and qty):
            result.parts.append(Part(kind, amount + taxes[kind] if on_top else amount, taxes[kind]))
    promotions = [(kind, amount) for kind, amount in ((DISCOUNT, discount), (SHIPPING_DISCOUNT, ship_discount))
                  if amount]
    # Amazon reports the tax given back on promotions as one amount: shared in proportion.
    shares = split(discount_tax, [amount for _kind, amount in promotions]) if promotions else []
    for (kind, amount), part_tax in zip(promotions, shares, strict=True):
        result.parts.append(Part(kind, amount + part_tax if on_top else amount, part_tax))
    # Within Amazon's rounding, the lines may miss ``invoiced`` by a cent: the invoice gets an explicit
    # rounding line for it rather than a changed price.
    result.invoiced = total - result.facilitator_tax
    return result


def read_order(order, prices_include_tax):
    """The :class:`OrderTotals` of an order, or None when Amazon sent no proceeds (the PROCEEDS dataset
    was not asked for). Raises :class:`Unreconciled` when the items do not add up to ``grandTotal``."""
    if not any(item.proceeds or item.proceeds_total for item in order.items):
        return None
    items = [read_item(item, prices_include_tax) for item in order.items]
    result = OrderTotals(items=items)
    items_total = sum((i.invoiced + i.facilitator_tax for i in items), Decimal(0))
    extras_total = Decimal(0)
    extra_tax = Decimal(0)
    for breakdown in (order.proceeds.breakdowns if order.proceeds else ()):
        kind = breakdown.type
        amount = money_amount(breakdown.subtotal)
        if kind in NOT_INVOICED:
            if amount:
                result.not_invoiced.append((kind, amount))
                extras_total += amount
            continue
        # Aggregated categories equal the sum of the items'; what is left is charged on the order only.
        if kind == "DISCOUNT":
            amount = _negative(breakdown.subtotal)
            from_items = sum((_negative(i.discount) for i in order.items if i.discount is not None), Decimal(0))
        else:
            from_items = sum((money_amount(i.proceeds_amount(kind)) for i in order.items), Decimal(0))
        left = amount - from_items
        if not left:
            continue
        if kind == "TAX":
            extra_tax += left
            continue
        result.extras.append(Part(kind, left))
        extras_total += left
    if extra_tax:
        if result.extras:
            result.extras[0].gross += extra_tax
            result.extras[0].tax += extra_tax
        else:
            result.extras.append(Part("TAX", extra_tax, extra_tax))
        extras_total += extra_tax
    grand = order.grand_total.amount if order.grand_total is not None else None
    computed = items_total + extras_total
    tips = result.amount_not_invoiced
    if grand is not None and result.extras and grand == items_total + tips:
        # The order's categories only summarize the items (however Amazon added them up): no charge of
        # the order's own.
        result.extras, extra_tax, computed = [], Decimal(0), items_total + tips
    if grand is not None and not _close(grand, computed):
        raise Unreconciled("order", grand, computed)
    result.grand_total = grand if grand is not None else computed
    facilitator = sum((i.facilitator_tax for i in items), Decimal(0))
    if facilitator:
        result.not_invoiced.append(("TAX", facilitator))
    result.invoice_total = result.grand_total - result.amount_not_invoiced
    taxed = [i.tax for i in items if i.tax is not None]
    if taxed or extra_tax:
        result.tax = sum(taxed, Decimal(0)) + extra_tax
    return result


def discount_percent(list_amount, paid, digits=2):
    """The discount (%) that takes a line of ``list_amount`` to ``paid``, to ``digits`` decimals (Odoo's
    *Discount* precision): 50.00 off 2 x 349.00 is 7.16 %. The line then misses ``paid`` by at most
    :func:`discount_rounding_bound`, which the invoice's explicit rounding line takes."""
    if not list_amount or paid >= list_amount:
        return Decimal(0)
    percent = (list_amount - paid) * 100 / list_amount
    return percent.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)


def discount_rounding_bound(list_amount, digits=2):
    """How far a line of ``list_amount`` with a discount rounded to ``digits`` decimals may be from the
    amount the discount stands for (half a unit of the last digit of the percentage)."""
    return abs(Decimal(str(list_amount))) * Decimal(5).scaleb(-digits - 3)


def list_unit_price(item, amount, paid):
    """The unit price of an item's line whose promotion is shown as a discount: Amazon's ``unitPrice`` when
    the promotion lowered the item below it (``paid`` for all units, ``amount`` what ITEM carries), else the
    item's own price (:func:`unit_price` of ``amount``)."""
    qty = item.quantity_ordered
    listed = item.unit_price.amount * qty if item.unit_price is not None else None
    if listed is not None and amount <= listed and paid < listed \
            and (item.promotion_ids or paid < amount):
        return item.unit_price.amount
    return unit_price(item, amount)


def unit_price(item, amount, quantum=Decimal("0.000001")):
    """The unit price of a line of ``amount`` for the item's quantity: Amazon's ``unitPrice`` when it
    gives that amount (349.00 x 2 = 698.00), else the amount divided, to six decimals (what a CFDI
    accepts): 100.00 for three units listed at 33.33 is 33.333333."""
    qty = item.quantity_ordered
    if item.unit_price is not None and item.unit_price.amount * qty == amount:
        return item.unit_price.amount
    return (amount / qty).quantize(quantum, rounding=ROUND_HALF_UP)
