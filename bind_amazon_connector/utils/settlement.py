"""How Amazon's Finances transactions are classified: plain Python, no ORM.

Sales, refunds, fees by type, IVA and ISR withholdings, transfers and anything unknown; see
``models/payouts/amazon_settlement.py`` for the records that keep them.
"""
import re
from collections import defaultdict
from datetime import datetime, time, timezone
from decimal import Decimal, InvalidOperation

from .values import money_amount

# ---------------------------------------------------------------- classification of Amazon's types

#: transactionType (normalised) -> kind of transaction
SALE_KINDS = {"shipment", "order", "sale", "orderpayment", "shipmentsale"}
REFUND_KINDS = {"refund", "refundorder", "chargeback", "chargebackrefund", "guaranteeclaim", "atozguaranteeclaim",
                "atozclaim", "saferetreimbursement"}
FEE_KINDS = {"servicefee", "productadspayment", "fbainventoryfee", "fee", "fees", "subscription", "subscriptionfee",
             "advertising", "sellerdealpayment", "couponpayment", "shippinglabel", "shippingservices", "fbafee",
             "fbafees", "storagefee", "removalshipment", "removalshipmentadjustment"}
TRANSFER_KINDS = {"transfer", "disbursement", "fundtransfer", "paymenttransfer", "payout", "disburse"}
WITHHOLDING_KINDS = {"taxwithholding", "taxwithheld", "withholding", "withholdingtax", "withheldtax"}

#: top-level breakdownType (normalised) groups
SALES_TOPS = {"sales", "productcharges", "refundedsales", "salesrefund", "refunds", "refund", "revenue",
              "promotions", "promotion", "shipping", "giftwrap"}
FEE_TOPS = {"expenses", "refundedexpenses", "amazonfees", "fees", "fbafees", "servicefees", "sellingfees",
            "otherfees", "advertising"}
WITHHOLDING_TOPS = {"taxwithholding", "taxwithheld", "withholding", "withheldtax", "taxeswithheld",
                    "withholdingtax", "retenciones", "retencion"}
TAX_TOPS = {"tax", "taxes"}
#: children that only split a fee into its parts (the fee keeps its own type)
FEE_COMPONENTS = {"base", "tax", "principal", "amount", "vat", "iva", "taxamount", "feeamount", "basefee",
                  "feetax", "promotion", "discount"}
TAX_COMPONENTS = {"tax", "vat", "iva", "taxamount", "feetax"}

_ISR_WORDS = ("isr", "incometax", "impuestosobrelarenta")
_IVA_WORDS = ("iva", "vat", "valueadded", "impuestoalvaloragregado")
_WITHHELD_WORDS = ("withh", "retenc", "retenid", "facilitator", "isr")

CATEGORIES = [
    ("sale", "Sale"),
    ("refund", "Refund"),
    ("fee", "Fee"),
    ("withholding_iva", "IVA withheld"),
    ("withholding_isr", "ISR withheld"),
    ("transfer", "Deposit"),
    ("unknown", "Unknown"),
]
KINDS = [
    ("sale", "Sale"),
    ("refund", "Refund"),
    ("fee", "Fees"),
    ("withholding", "Withholding"),
    ("transfer", "Deposit"),
    ("unknown", "Unknown"),
]
RELEASED = ("RELEASED", "DEFERRED_RELEASED")
MX_MARKETPLACE = "A1AM78C64UM0Y8"


def norm(value):
    """Amazon type names vary in case and separators ("Product Charges", "ProductCharges"): compare them so."""
    return re.sub(r"[^a-z0-9]", "", (value or "").lower())


def transaction_kind(transaction_type):
    key = norm(transaction_type)
    for kinds, kind in ((SALE_KINDS, "sale"), (REFUND_KINDS, "refund"), (FEE_KINDS, "fee"),
                        (TRANSFER_KINDS, "transfer"), (WITHHOLDING_KINDS, "withholding")):
        if key in kinds:
            return kind
    return "unknown"


def withholding_category(words, default):
    """IVA or ISR from the names around a withheld amount; ``default`` when none says."""
    text = norm(" ".join(w for w in words if w))
    if any(w in text for w in _ISR_WORDS):
        return "withholding_isr"
    if any(w in text for w in _IVA_WORDS):
        return "withholding_iva"
    return default


def _children(node):
    return [b for b in node.breakdowns if b.type or b.amount is not None or b.breakdowns]


def effective(node):
    """A breakdown's amount: Amazon's own, or the sum of its children when Amazon gave none."""
    if node.amount is not None:
        return money_amount(node.amount)
    return sum((effective(c) for c in _children(node)), Decimal(0))


def _is_fee_split(children):
    return bool(children) and all(norm(c.type) in FEE_COMPONENTS for c in children)


def _expand(node, path, item, fee_mode):
    """Leaves ``(type, path, amount, tax, item, has_tax)`` of a breakdown. A parent whose amount equals the sum
    of its children is not counted again; a parent whose children explain only part of it keeps the rest
    under its own type (nothing lost). In fee mode, a fee split only into base and tax is one fee."""
    children = _children(node)
    if not children:
        yield node.type or "?", path, money_amount(node.amount), Decimal(0), item, False
        return
    if fee_mode and _is_fee_split(children):
        tax = sum((effective(c) for c in children if norm(c.type) in TAX_COMPONENTS), Decimal(0))
        yield node.type or "?", path, effective(node), tax, item, True
        return
    explained = Decimal(0)
    for child in children:
        explained += effective(child)
        yield from _expand(child, path + (child.type or "?",), item, fee_mode)
    if node.amount is not None and explained != money_amount(node.amount):
        yield node.type or "?", path, money_amount(node.amount) - explained, Decimal(0), item, False


def _highest(item_roots, key, used):
    """The highest breakdowns of type ``key`` inside the items' trees: [(item, node, path)]."""
    found = []

    def walk(item, node, path):
        if id(node) in used:
            return
        if norm(node.type) == key:
            found.append((item, node, path))
            return
        for child in _children(node):
            walk(item, child, path + (child.type or "?",))

    for item, root in item_roots:
        walk(item, root, (root.type or "?",))
    return found


def _resolve(node, path, item_roots, used, fee_mode):
    """Leaves of a transaction-level breakdown, taken from the items where they detail it (same type, same
    amount): Amazon may put an undetailed "Expenses / AmazonFees" at the top and the fees in the items, or
    the same detail at both levels. Each amount is counted once."""
    key = norm(node.type)
    # a base or tax part is matched through its fee, never alone (any fee has one)
    matches = _highest(item_roots, key, used) if key and key not in FEE_COMPONENTS else []
    if matches and sum((effective(n) for _i, n, _p in matches), Decimal(0)) == effective(node):
        for item, match, match_path in matches:
            used.add(id(match))
            yield from _expand(match, match_path, item, fee_mode)
        return
    children = _children(node)
    if not children or (fee_mode and _is_fee_split(children)):
        yield from _expand(node, path, None, fee_mode)
        return
    explained = Decimal(0)
    for child in children:
        explained += effective(child)
        yield from _resolve(child, path + (child.type or "?",), item_roots, used, fee_mode)
    if node.amount is not None and explained != money_amount(node.amount):
        yield node.type or "?", path, money_amount(node.amount) - explained, Decimal(0), None, False


def _is_fee_top(key, kind):
    return key in FEE_TOPS or (kind == "fee" and key not in SALES_TOPS and key not in TAX_TOPS
                               and key not in WITHHOLDING_TOPS)


def _units(txn, kind):
    """(top type, leaves) of each transaction-level breakdown, with the items' detail where they give it."""
    top = [b for b in txn.breakdowns if b.type or b.amount is not None or b.breakdowns]
    item_roots = [(item, b) for item in txn.items for b in item.breakdowns]
    if not top:
        return [(root.type, list(_expand(root, (root.type or "?",), item, _is_fee_top(norm(root.type), kind))))
                for item, root in item_roots]
    used = set()
    units = [(b.type, list(_resolve(b, (b.type or "?",), item_roots, used, _is_fee_top(norm(b.type), kind))))
             for b in top]
    if txn.total_amount is not None and item_roots:
        # item breakdowns of a type the top level does not have: they count only when the top level leaves
        # exactly their amount unexplained (otherwise they repeat it under other names)
        touched = set()
        for _item, root in item_roots:
            stack = [root]
            while stack:
                node = stack.pop()
                if id(node) in used:
                    touched.add(id(root))
                    break
                stack.extend(_children(node))
        rest = [(item, root) for item, root in item_roots if id(root) not in touched]
        top_total = sum((effective(b) for b in top), Decimal(0))
        rest_total = sum((effective(root) for _i, root in rest), Decimal(0))
        if rest and top_total != money_amount(txn.total_amount) \
                and top_total + rest_total == money_amount(txn.total_amount):
            units += [(root.type, list(_expand(root, (root.type or "?",), item,
                                               _is_fee_top(norm(root.type), kind)))) for item, root in rest]
    return units


def _product(item, txn):
    """(sku, quantity, order item) of an item, or of the transaction's only item."""
    if item is None:
        skus = [i for i in txn.items if any(c.sku for c in i.contexts)]
        if len(skus) != 1:
            return None, None, None
        item = skus[0]
    context = next((c for c in item.contexts if c.sku), None)
    ref = next((v for k, v in item.related_identifiers if k in ("ORDER_ADJUSTMENT_ITEM_ID", "TRANSACTION_ID")
                and v), None)
    if context is None:
        return None, None, ref
    return context.sku, context.quantity_shipped, ref


def charge_kind(path):
    """What a sale or refund amount pays for: the product, its shipping or its gift wrap."""
    text = norm(" ".join(path))
    if "giftwrap" in text:
        return "giftwrap"
    if "shipping" in text:
        return "shipping"
    return "product"


def classify_transaction(txn):
    """Split an SP-API ``Transaction`` into classified amounts.

    Returns a list of dicts ``{category, amazon_type, path, amount, tax_amount, has_tax, sku, quantity,
    item_ref, charge}`` whose amounts (Amazon's sign: positive is money for the seller) add up to the
    transaction's total; a part the breakdowns do not explain becomes an ``unknown`` amount. Fees are read
    at the transaction and at the item level, at any depth, each amount once.
    """
    kind = transaction_kind(txn.transaction_type)
    total = money_amount(txn.total_amount)
    out = []
    sales = {}

    def add(category, amazon_type, path, amount, tax=Decimal(0), has_tax=False, item=None):
        if not amount:
            return
        sku, quantity, ref = _product(item, txn) if category in ("sale", "refund", "fee") else (None, None, None)
        part = {"category": category, "amazon_type": amazon_type or "?", "path": " / ".join(path),
                "amount": amount, "tax_amount": tax, "has_tax": has_tax, "sku": sku, "quantity": quantity,
                "item_ref": ref, "charge": charge_kind(path) if category in ("sale", "refund") else False}
        if category in ("sale", "refund"):
            # one amount per product and charge (the credit note needs no more detail)
            key = (category, part["amazon_type"], sku, ref, part["charge"])
            if key in sales:
                sales[key]["amount"] += amount
                sales[key]["tax_amount"] += tax
                return
            sales[key] = part
        out.append(part)

    order_kind = kind in ("sale", "refund")
    words = (txn.transaction_type, txn.description)
    # Amazon Mexico withholds IVA order by order (ISR monthly): a withholding inside an order transaction of
    # Mexico that does not say which tax it is, is IVA. Elsewhere (US marketplace facilitator tax...) it is
    # not a Mexican withholding: suspense.
    mexican = (txn.marketplace_id or MX_MARKETPLACE) == MX_MARKETPLACE
    order_withholding = "withholding_iva" if order_kind and mexican else "unknown"
    units = _units(txn, kind) if kind not in ("transfer", "unknown") else []

    if kind == "transfer":
        add("transfer", txn.transaction_type, (txn.transaction_type or "?",), total)
        return out
    if kind == "unknown" or (not units and kind in ("sale", "refund")):
        add("unknown", txn.transaction_type, (txn.transaction_type or "?",), total)
        return out
    if not units:
        if kind == "fee":
            fee_type = txn.description or txn.transaction_type
            add("fee", fee_type, (txn.transaction_type or "?", fee_type or "?"), total)
        else:  # withholding
            add(withholding_category(words, "unknown"), txn.transaction_type, (txn.transaction_type or "?",), total)
        return out

    if kind == "fee" and all(norm(t) in FEE_COMPONENTS for t, _leaves in units):
        # a fee transaction split only into its base and tax: one fee, named by the transaction
        fee_type = txn.description or txn.transaction_type
        tax = sum((a for t, leaves in units if norm(t) in TAX_COMPONENTS for _l, _p, a, *_r in leaves), Decimal(0))
        amount = sum((a for _t, leaves in units for _l, _p, a, *_r in leaves), Decimal(0))
        add("fee", fee_type, (txn.transaction_type or "?", fee_type or "?"), amount, tax, True)
        units = []

    fee_taxes = []  # IVA of a fee transaction given beside its fee rather than inside it
    for top_type, leaves in units:
        key = norm(top_type)
        if kind == "withholding" or key in WITHHOLDING_TOPS:
            for leaf_type, leaf_path, amount, _tax, _item, _has in leaves:
                add(withholding_category(words + leaf_path, order_withholding), leaf_type, leaf_path, amount)
        elif _is_fee_top(key, kind):
            for fee_type, fee_path, amount, tax, item, has_tax in leaves:
                if kind == "fee" and norm(fee_type) in FEE_TOPS and (txn.description or txn.transaction_type):
                    # a fee transaction whose only detail is a group ("Expenses"): its description names it
                    fee_type = txn.description or txn.transaction_type
                add("fee", fee_type, fee_path, amount, tax, has_tax, item)
        elif key in SALES_TOPS and order_kind:
            for _leaf_type, leaf_path, amount, _tax, item, _has in leaves:
                tax = amount if norm(leaf_path[-1]) in TAX_COMPONENTS or "tax" in norm(leaf_path[-1]) \
                    else Decimal(0)
                add(kind, top_type, leaf_path, amount, tax, item=item)
        elif key in TAX_TOPS:
            for leaf_type, leaf_path, amount, _tax, item, _has in leaves:
                if any(w in norm(" ".join(leaf_path)) for w in _WITHHELD_WORDS):
                    add(withholding_category(words + leaf_path, order_withholding), leaf_type, leaf_path, amount)
                elif order_kind:
                    add(kind, leaf_type, leaf_path, amount, amount, item=item)  # tax collected from the buyer
                elif kind == "fee":
                    fee_taxes.append((leaf_type, leaf_path, amount))
                else:
                    add("unknown", leaf_type, leaf_path, amount)
        else:
            for leaf_type, leaf_path, amount, _tax, _item, _has in leaves:
                add("unknown", leaf_type, leaf_path, amount)

    fee_parts = [p for p in out if p["category"] == "fee"]
    for leaf_type, leaf_path, amount in fee_taxes:
        if len(fee_parts) == 1 and not fee_parts[0]["has_tax"]:
            fee_parts[0].update(amount=fee_parts[0]["amount"] + amount, tax_amount=amount, has_tax=True)
        else:
            add("unknown", leaf_type, leaf_path, amount)
    out = [part for part in out if part["amount"]]
    explained = sum((line["amount"] for line in out), Decimal(0))
    if txn.total_amount is not None and explained != total:
        add("unknown", "Unexplained", ("(total - breakdowns)",), total - explained)
    return out


# ---------------------------------------------------------------- models


# ---------------------------------------------------------------------- settlement reports (V2 flat file)

def settlement_report_summaries(rows):
    """The rows of a V2 settlement report: (summary rows, {settlement id: its order ids}).

    A summary row is the one with ``total-amount`` (the deposit of the settlement); the other rows name the
    orders of the settlement. Keys are normalised (``settlement-id`` -> ``settlementid``) and values stripped.
    """
    summaries = []
    orders = defaultdict(set)
    for row in rows:
        row = {norm(k): (v or "").strip() for k, v in dict(row).items() if k}
        ref = row.get("settlementid")
        if not ref:
            continue
        if row.get("totalamount"):
            summaries.append(row)
        elif row.get("orderid"):
            orders[ref].add(row["orderid"])
    return summaries, orders


def parse_report_amount(value):
    """A settlement report's amount ("1,234.56") as a float, or None when it is not a number."""
    try:
        return float(Decimal(value.replace(",", "")))
    except (InvalidOperation, ValueError):
        return None


def parse_report_date(value):
    """Settlement report dates: "2024-06-01 12:00:00 UTC", "2024-06-01T12:00:00+00:00", "01.06.2024 ..."."""
    if not value:
        return False
    text = value.strip().replace(" UTC", "").replace("Z", "+00:00")
    for parse in (
        datetime.fromisoformat,
        lambda v: datetime.strptime(v, "%d.%m.%Y %H:%M:%S"),
        lambda v: datetime.strptime(v, "%d.%m.%Y"),
        lambda v: datetime.strptime(v, "%Y-%m-%d %H:%M:%S"),
    ):
        try:
            parsed = parse(text)
        except ValueError:
            continue
        if parsed.tzinfo:
            parsed = parsed.astimezone(timezone.utc).replace(tzinfo=None)
        return parsed
    try:
        return datetime.combine(datetime.strptime(text[:10], "%Y-%m-%d").date(), time())
    except ValueError:
        return False
