"""Customer returns reports (FBM and FBA) read by column name: order, encoding, refused files, bad rows."""
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from bind_amazon_connector.spapi import errors
from bind_amazon_connector.spapi.flatfile import iter_tsv_rows
from bind_amazon_connector.spapi.returns import (
    FBA_REPORT,
    FBM_REPORT,
    RejectedReturn,
    ReturnRow,
    parse_date,
    read_returns,
)

FBM_COLUMNS = ["Order ID", "Order date", "Return request date", "Return request status", "Amazon RMA ID",
               "Merchant RMA ID", "Label type", "Label cost", "Currency code", "Return carrier", "Tracking ID",
               "Label to be paid by", "A-to-Z Claim", "Is prime", "ASIN", "Merchant SKU", "Item Name",
               "Return quantity", "Return Reason", "In policy", "Return type", "Resolution", "Invoice number",
               "Return delivery date", "Order Amount", "Order quantity", "SafeT Action reason", "SafeT claim id",
               "SafeT claim state", "SafeT claim creation time", "SafeT claim reimbursement amount",
               "Refunded Amount"]
FBA_COLUMNS = ["return-date", "order-id", "sku", "asin", "fnsku", "product-name", "quantity",
               "fulfillment-center-id", "detailed-disposition", "reason", "status", "license-plate-number",
               "customer-comments"]

FBM_ROW = {"Order ID": "702-1234567-1234567", "Order date": "2026-02-01", "Return request date": "2026-02-10",
           "Return request status": "Approved", "Amazon RMA ID": "DkTnZbV9RRMA", "Currency code": "MXN",
           "Return carrier": "Estafeta", "Tracking ID": "1234", "Merchant SKU": "TAZA-ÑANDÚ",
           "Item Name": "Taza café – ½ litro", "Return quantity": "2", "Return Reason": "DEFECTIVE",
           "Resolution": "StandardRefund", "Return delivery date": "2026-02-15 18:30:00 UTC",
           "Refunded Amount": "1,299.50"}
FBA_ROW = {"return-date": "2026-02-20T10:00:00+00:00", "order-id": "702-7654321-7654321", "sku": "TERMO-1",
           "asin": "B0TEST0001", "fnsku": "X00TEST001", "product-name": "Termo", "quantity": "1",
           "fulfillment-center-id": "MEX1", "detailed-disposition": "CUSTOMER_DAMAGED", "reason": "NOT_AS_DESCRIBED",
           "status": "Unit returned to inventory", "license-plate-number": "LPNRR123456789"}


def tsv(columns, rows, encoding="utf-8"):
    lines = ["\t".join(columns)] + ["\t".join(row.get(c, "") for c in columns) for row in rows]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def read(report_type, data):
    return list(read_returns(report_type, iter_tsv_rows([data])))


def test_fbm_row_read_by_column_name():
    [row] = read(FBM_REPORT, tsv(FBM_COLUMNS, [FBM_ROW]))
    assert isinstance(row, ReturnRow)
    assert (row.channel, row.order_id, row.sku, row.quantity, row.return_id) == (
        "fbm", "702-1234567-1234567", "TAZA-ÑANDÚ", 2, "DkTnZbV9RRMA")
    assert row.status == "Approved" and row.reason == "DEFECTIVE" and row.resolution == "StandardRefund"
    assert row.delivered_date == datetime(2026, 2, 15, 18, 30, tzinfo=timezone.utc)
    assert row.return_date == datetime(2026, 2, 10, tzinfo=timezone.utc)
    assert row.refunded_amount == Decimal("1299.50") and row.currency == "MXN"
    assert row.key == "fbm:DkTnZbV9RRMA:702-1234567-1234567:TAZA-ÑANDÚ"
    assert not row.sellable
    with pytest.raises(AttributeError):  # frozen
        row.quantity = 3


def test_fba_windows_1252_with_reordered_and_extra_columns():
    columns = list(reversed(FBA_COLUMNS)) + ["some-new-column"]
    row = dict(FBA_ROW, **{"product-name": "Termo acero – ½ L ñandú", "some-new-column": "x"})
    data = tsv(columns, [row, dict(row, **{"license-plate-number": "LPNRR2", "detailed-disposition": "SELLABLE"})],
               encoding="cp1252")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    first, second = read(FBA_REPORT, data)
    assert first.product_name == "Termo acero – ½ L ñandú"
    assert (first.order_id, first.sku, first.quantity, first.fulfillment_center) == (
        "702-7654321-7654321", "TERMO-1", 1, "MEX1")
    assert first.disposition == "CUSTOMER_DAMAGED" and not first.sellable
    assert second.disposition == "SELLABLE" and second.sellable
    assert first.return_date == datetime(2026, 2, 20, 10, tzinfo=timezone.utc)
    assert first.key != second.key


def test_header_names_compared_without_case_dashes_or_bom():
    columns = ["\ufeffORDER_ID", "Merchant-SKU", "return QUANTITY", "amazon rma id"]
    data = tsv(columns, [{"\ufeffORDER_ID": "702-1", "Merchant-SKU": "A", "return QUANTITY": "1",
                          "amazon rma id": "R1"}])
    [row] = read(FBM_REPORT, data)
    assert (row.order_id, row.sku, row.quantity, row.return_id) == ("702-1", "A", 1, "R1")


@pytest.mark.parametrize(("report_type", "columns", "dropped", "named"), [
    (FBM_REPORT, FBM_COLUMNS, "Amazon RMA ID", "amazon rma id"),
    (FBM_REPORT, FBM_COLUMNS, "Merchant SKU", "merchant sku"),
    (FBA_REPORT, FBA_COLUMNS, "detailed-disposition", "detailed disposition"),
    (FBA_REPORT, FBA_COLUMNS, "order-id", "order id"),
])
def test_file_without_a_key_column_is_refused(report_type, columns, dropped, named):
    data = tsv([c for c in columns if c != dropped], [FBM_ROW if report_type == FBM_REPORT else FBA_ROW])
    with pytest.raises(errors.BadData) as caught:
        read(report_type, data)
    assert named in str(caught.value) and report_type in str(caught.value)


def test_bad_rows_are_rejected_with_their_reason_and_the_others_read():
    rows = [dict(FBA_ROW, quantity="dos"), dict(FBA_ROW, quantity="0"), dict(FBA_ROW, sku=""),
            dict(FBA_ROW, **{"return-date": "not a date"}), FBA_ROW]
    result = read(FBA_REPORT, tsv(FBA_COLUMNS, rows))
    assert [type(r) for r in result] == [RejectedReturn] * 4 + [ReturnRow]
    assert "dos" in result[0].error and "positive" in result[1].error and "SKU" in result[2].error
    assert "date" in result[3].error
    assert [r.line for r in result] == [2, 3, 4, 5, 6]


def test_fba_row_without_licence_plate_keeps_a_stable_key():
    row = dict(FBA_ROW, **{"license-plate-number": ""})
    [a] = read(FBA_REPORT, tsv(FBA_COLUMNS, [row]))
    [b] = read(FBA_REPORT, tsv(list(reversed(FBA_COLUMNS)), [row], encoding="cp1252"))
    assert a.key == b.key and "MEX1" in a.key


def test_empty_report_has_no_rows():
    assert read(FBM_REPORT, tsv(FBM_COLUMNS, [])) == []


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-03-01T10:00:00Z", datetime(2026, 3, 1, 10, tzinfo=timezone.utc)),
    ("2026-03-01T04:00:00-06:00", datetime(2026, 3, 1, 10, tzinfo=timezone.utc)),
    ("2026-03-01 10:00:00 UTC", datetime(2026, 3, 1, 10, tzinfo=timezone.utc)),
    ("01-Mar-2026", datetime(2026, 3, 1, tzinfo=timezone.utc)),
    ("", None),
])
def test_dates(text, expected):
    assert parse_date(text) == expected


def test_unknown_report_type():
    with pytest.raises(ValueError):
        read_returns("GET_MERCHANT_LISTINGS_ALL_DATA", [])
