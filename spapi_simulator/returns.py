"""Customer returns in the simulator: the factory helper and both returns reports (FBM and FBA).

A return is a dict in the simulator's own shape (camelCase, ISO 8601 dates, so scenarios' ``time_base``
moves them): ``channel`` ("fbm" or "fba"), ``returnId`` (Amazon RMA id or licence plate number), ``orderId``,
``sku``, ``quantity``, ``returnDate``, ``status``, ``reason``, ``disposition`` (FBA), ``deliveredDate`` (FBM:
back at the seller's), ``refundedAmount``, ``currency``... The reports are built from them with Amazon's
column names: FBM headers are words, FBA headers dashed.
"""
import itertools

from .factory import asin_for, fnsku_for, iso, parse_time, utcnow
from .reports import tsv

FBM_REPORT = "GET_FLAT_FILE_RETURNS_DATA_BY_RETURN_DATE"
FBA_REPORT = "GET_FBA_FULFILLMENT_CUSTOMER_RETURNS_DATA"
RETURNS_REPORTS = {FBM_REPORT: "fbm", FBA_REPORT: "fba"}
FBM_RETURNS_COLUMNS = [
    "Order ID", "Order date", "Return request date", "Return request status", "Amazon RMA ID", "Merchant RMA ID",
    "Label type", "Label cost", "Currency code", "Return carrier", "Tracking ID", "Label to be paid by",
    "A-to-Z Claim", "Is prime", "ASIN", "Merchant SKU", "Item Name", "Return quantity", "Return Reason", "In policy",
    "Return type", "Resolution", "Invoice number", "Return delivery date", "Order Amount", "Order quantity",
    "SafeT Action reason", "SafeT claim id", "SafeT claim state", "SafeT claim creation time",
    "SafeT claim reimbursement amount", "Refunded Amount",
]
FBA_RETURNS_COLUMNS = [
    "return-date", "order-id", "sku", "asin", "fnsku", "product-name", "quantity", "fulfillment-center-id",
    "detailed-disposition", "reason", "status", "license-plate-number", "customer-comments",
]
_seq = itertools.count(1)


def make_return(order_id, sku, *, channel="fbm", quantity=1, return_id=None, return_date=None, status=None,
                reason="DEFECTIVE", disposition="SELLABLE", delivered_date=None, refunded_amount=None,
                currency="MXN", fulfillment_center="MEX1", product_name=None, resolution="StandardRefund",
                carrier="Estafeta", tracking=None):
    """A customer return of ``quantity`` units of ``sku`` of order ``order_id``.

    FBM: ``status`` defaults to "Approved"; ``delivered_date`` (when the parcel reached the seller) makes it
    "Closed". FBA: ``status`` defaults to "Unit returned to inventory"; ``disposition`` is Amazon's detailed
    disposition (SELLABLE, DEFECTIVE, CUSTOMER_DAMAGED, CARRIER_DAMAGED, DISTRIBUTOR_DAMAGED, EXPIRED...).
    """
    if channel not in ("fbm", "fba"):
        raise ValueError("channel is fbm or fba")
    n = next(_seq)
    when = iso(return_date or utcnow())
    if channel == "fbm":
        return_id = return_id or f"D{n:08d}RRMA"
        status = status or ("Closed" if delivered_date else "Approved")
    else:
        return_id = return_id or f"LPNRR{n:09d}"
        status = status or "Unit returned to inventory"
    return {
        "channel": channel, "returnId": return_id, "orderId": order_id, "sku": sku, "quantity": int(quantity),
        "returnDate": when, "status": status, "reason": reason,
        "disposition": disposition if channel == "fba" else "",
        "deliveredDate": iso(delivered_date) if delivered_date else "",
        "refundedAmount": "" if refunded_amount is None else str(refunded_amount), "currency": currency,
        "fulfillmentCenterId": fulfillment_center if channel == "fba" else "",
        "asin": asin_for(sku), "fnsku": fnsku_for(sku), "productName": product_name or f"Producto {sku}",
        "resolution": resolution, "carrier": carrier if channel == "fbm" else "",
        "tracking": tracking or (f"TRK{n:010d}" if channel == "fbm" else ""),
    }


def _flat(value):
    return parse_time(value).strftime("%Y-%m-%d %H:%M:%S UTC") if value else ""


def _fbm_row(ret):
    return {
        "Order ID": ret["orderId"], "Return request date": _flat(ret["returnDate"]),
        "Return request status": ret["status"], "Amazon RMA ID": ret["returnId"], "Currency code": ret["currency"],
        "Label type": "AmazonPrePaidLabel", "Return carrier": ret["carrier"], "Tracking ID": ret["tracking"],
        "Label to be paid by": "Customer", "A-to-Z Claim": "N", "Is prime": "N", "ASIN": ret["asin"],
        "Merchant SKU": ret["sku"], "Item Name": ret["productName"], "Return quantity": ret["quantity"],
        "Return Reason": ret["reason"], "In policy": "Y", "Return type": "C-Returns", "Resolution": ret["resolution"],
        "Return delivery date": _flat(ret["deliveredDate"]), "Refunded Amount": ret["refundedAmount"],
    }


def _fba_row(ret):
    return {
        "return-date": iso(ret["returnDate"]).replace("Z", "+00:00"), "order-id": ret["orderId"], "sku": ret["sku"],
        "asin": ret["asin"], "fnsku": ret["fnsku"], "product-name": ret["productName"], "quantity": ret["quantity"],
        "fulfillment-center-id": ret["fulfillmentCenterId"], "detailed-disposition": ret["disposition"],
        "reason": ret["reason"], "status": ret["status"], "license-plate-number": ret["returnId"],
    }


def returns_report(report_type, returns, start=None, end=None):
    """The TSV text of a returns report: the returns of its channel whose return date is in [start, end]."""
    channel = RETURNS_REPORTS[report_type]
    lo = parse_time(start).timestamp() if start else None
    hi = parse_time(end).timestamp() if end else None
    chosen = []
    for ret in returns:
        when = parse_time(ret["returnDate"]).timestamp()
        if ret["channel"] == channel and (lo is None or when >= lo) and (hi is None or when <= hi):
            chosen.append(ret)
    chosen.sort(key=lambda r: r["returnDate"])
    if channel == "fbm":
        return tsv(FBM_RETURNS_COLUMNS, [_fbm_row(r) for r in chosen])
    return tsv(FBA_RETURNS_COLUMNS, [_fba_row(r) for r in chosen])
