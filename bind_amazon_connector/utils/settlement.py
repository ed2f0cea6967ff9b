"""How Amazon's Finances transactions are classified: plain Python, no ORM.

Sales, refunds, fees by type, IVA and ISR withholdings, transfers and anything unknown; see
``models/money/amazon_settlement.py`` for the records that keep them.
"""
import re
from decimal import Decimal

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


def _fee_leaves(node, path):
    """(type, path, amount, tax) of each fee inside a breakdown: a node whose children only split it into
    base and tax is one fee."""
    children = [b for b in node.breakdowns if b.type or b.amount]
    if not children or all(norm(c.type) in FEE_COMPONENTS for c in children):
        tax = sum((money_amount(c.amount) for c in children if norm(c.type) in TAX_COMPONENTS), Decimal(0))
        if node.amount is None and children:
            total = sum((money_amount(c.amount) for c in children), Decimal(0))
        else:
            total = money_amount(node.amount)
        yield node.type or "?", path, total, tax
        return
    for child in children:
        yield from _fee_leaves(child, path + (child.type or "?",))


def _leaves(node, path):
    children = [b for b in node.breakdowns if b.type or b.amount]
    if not children:
        yield node.type or "?", path, money_amount(node.amount)
        return
    for child in children:
        yield from _leaves(child, path + (child.type or "?",))


def classify_transaction(txn):
    """Split an SP-API ``Transaction`` into classified amounts.

    Returns a list of dicts ``{category, amazon_type, path, amount, tax_amount}`` whose amounts (Amazon's
    sign: positive is money for the seller) add up to the transaction's total; a part the breakdowns do not
    explain becomes an ``unknown`` amount.
    """
    kind = transaction_kind(txn.transaction_type)
    total = money_amount(txn.total_amount)
    out = []

    def add(category, amazon_type, path, amount, tax=Decimal(0)):
        if amount:
            out.append({"category": category, "amazon_type": amazon_type or "?", "path": " / ".join(path),
                        "amount": amount, "tax_amount": tax})

    breakdowns = list(txn.breakdowns)
    if not breakdowns:  # some types carry their breakdowns on the items only
        breakdowns = [b for item in txn.items for b in item.breakdowns]
    order_kind = kind in ("sale", "refund")
    words = (txn.transaction_type, txn.description)
    # Amazon Mexico withholds IVA order by order (ISR monthly): a withholding inside an order transaction of
    # Mexico that does not say which tax it is, is IVA. Elsewhere (US marketplace facilitator tax...) it is
    # not a Mexican withholding: suspense.
    mexican = (txn.marketplace_id or MX_MARKETPLACE) == MX_MARKETPLACE
    order_withholding = "withholding_iva" if order_kind and mexican else "unknown"

    if kind == "transfer":
        add("transfer", txn.transaction_type, (txn.transaction_type or "?",), total)
        return out
    if kind == "unknown" or (not breakdowns and kind in ("sale", "refund")):
        add("unknown", txn.transaction_type, (txn.transaction_type or "?",), total)
        return out
    if not breakdowns:
        if kind == "fee":
            fee_type = txn.description or txn.transaction_type
            add("fee", fee_type, (txn.transaction_type or "?", fee_type or "?"), total)
        else:  # withholding
            add(withholding_category(words, "unknown"), txn.transaction_type, (txn.transaction_type or "?",), total)
        return out

    for top in breakdowns:
        key = norm(top.type)
        path = (top.type or "?",)
        if kind == "withholding" or key in WITHHOLDING_TOPS:
            for leaf_type, leaf_path, amount in _leaves(top, path):
                add(withholding_category(words + leaf_path, order_withholding), leaf_type, leaf_path, amount)
        elif key in FEE_TOPS or (kind == "fee" and key not in SALES_TOPS and key not in TAX_TOPS):
            for fee_type, fee_path, amount, tax in _fee_leaves(top, path):
                add("fee", fee_type, fee_path, amount, tax)
        elif key in SALES_TOPS and order_kind:
            add(kind, top.type, path, money_amount(top.amount) if top.amount is not None
                else sum((a for _t, _p, a in _leaves(top, path)), Decimal(0)))
        elif key in TAX_TOPS:
            for leaf_type, leaf_path, amount in _leaves(top, path):
                if any(w in norm(" ".join(leaf_path)) for w in _WITHHELD_WORDS):
                    add(withholding_category(words + leaf_path, order_withholding), leaf_type, leaf_path, amount)
                elif order_kind:
                    add(kind, leaf_type, leaf_path, amount)  # tax collected from the buyer: part of the sale
                else:
                    add("unknown", leaf_type, leaf_path, amount)
        else:
            for leaf_type, leaf_path, amount in _leaves(top, path):
                add("unknown", leaf_type, leaf_path, amount)

    explained = sum((line["amount"] for line in out), Decimal(0))
    if txn.total_amount is not None and explained != total:
        add("unknown", "Unexplained", ("(total - breakdowns)",), total - explained)
    return out


# ---------------------------------------------------------------- models
