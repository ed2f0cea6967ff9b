"""Amazon's customer returns reports read into return rows: plain Python, no Odoo.

- ``GET_FLAT_FILE_RETURNS_DATA_BY_RETURN_DATE``: merchant-fulfilled (FBM) returns, one row per returned item;
  its headers are words ("Order ID", "Amazon RMA ID", "Merchant SKU"...).
- ``GET_FBA_FULFILLMENT_CUSTOMER_RETURNS_DATA``: returns to Amazon's fulfilment centres (FBA); its headers are
  dashed ("order-id", "license-plate-number", "detailed-disposition"...).

Amazon publishes no example file of either: columns are found by name (case, spaces, dashes and underscores
do not matter), in any order, extra columns ignored. A file without a key column is refused as a whole
(:class:`~.errors.BadData` naming the columns); a row that cannot be read is returned as a
:class:`RejectedReturn` with the reason, and the other rows are read. The bytes go through :mod:`.flatfile`
(encoding detected: UTF-8 or Windows-1252).
"""
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation

from .errors import BadData

FBM_REPORT = "GET_FLAT_FILE_RETURNS_DATA_BY_RETURN_DATE"
FBA_REPORT = "GET_FBA_FULFILLMENT_CUSTOMER_RETURNS_DATA"
#: The channel of each report.
REPORT_CHANNELS = {FBM_REPORT: "fbm", FBA_REPORT: "fba"}

#: For each channel, the value of a ``ReturnRow`` field -> the column names Amazon uses (normalised by
#: :func:`column_key`). The first name is the one documented.
COLUMNS = {
    "fbm": {
        "order_id": ("order id",),
        "return_id": ("amazon rma id",),
        "merchant_rma_id": ("merchant rma id",),
        "sku": ("merchant sku", "sku"),
        "asin": ("asin",),
        "product_name": ("item name",),
        "quantity": ("return quantity",),
        "return_date": ("return request date",),
        "status": ("return request status",),
        "reason": ("return reason",),
        "resolution": ("resolution",),
        "return_type": ("return type",),
        "carrier": ("return carrier",),
        "tracking": ("tracking id",),
        "delivered_date": ("return delivery date",),
        "refunded_amount": ("refunded amount",),
        "currency": ("currency code",),
        "order_date": ("order date",),
    },
    "fba": {
        "order_id": ("order id",),
        "return_id": ("license plate number",),
        "sku": ("sku", "merchant sku"),
        "asin": ("asin",),
        "fnsku": ("fnsku",),
        "product_name": ("product name",),
        "quantity": ("quantity",),
        "return_date": ("return date",),
        "status": ("status",),
        "reason": ("reason",),
        "disposition": ("detailed disposition",),
        "fulfillment_center": ("fulfillment center id",),
        "comments": ("customer comments",),
    },
}
#: Columns a file of each channel must have: without them no return can be recorded.
KEY_COLUMNS = {
    "fbm": ("order_id", "return_id", "sku", "quantity"),
    "fba": ("order_id", "sku", "quantity", "return_date", "disposition"),
}
#: FBA dispositions Amazon can sell again (the others are damaged, defective, expired...).
SELLABLE_DISPOSITIONS = ("SELLABLE",)
_DATE_FORMATS = ("%Y-%m-%d %H:%M:%S %Z", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d", "%d-%b-%Y", "%d/%m/%Y", "%m/%d/%Y",
                 "%b %d, %Y", "%d-%b-%Y %H:%M:%S")


def column_key(name):
    """A column name as compared: lower case, dashes, underscores and repeated spaces as one space."""
    return re.sub(r"[\s_\-]+", " ", (name or "").replace("\ufeff", "")).strip().lower()


@dataclass(frozen=True)
class ReturnRow:
    """One returned item as Amazon reports it (FBM or FBA)."""

    channel: str  # "fbm" or "fba"
    order_id: str
    sku: str
    quantity: int
    return_id: str  # Amazon RMA id (FBM) or licence plate number (FBA); may be "" for old FBA rows
    return_date: datetime | None = None
    status: str = ""
    reason: str = ""
    disposition: str = ""  # FBA detailed disposition, upper case (SELLABLE, DEFECTIVE...)
    resolution: str = ""
    return_type: str = ""
    delivered_date: datetime | None = None  # FBM: when the return reached the seller
    refunded_amount: Decimal | None = None
    currency: str = ""
    asin: str = ""
    fnsku: str = ""
    product_name: str = ""
    fulfillment_center: str = ""
    carrier: str = ""
    tracking: str = ""
    merchant_rma_id: str = ""
    comments: str = ""
    order_date: datetime | None = None
    line: int = 0  # row number in the file (the header is line 1)

    @property
    def key(self):
        """Unique per returned item and connection: the channel, Amazon's return id (or, for an FBA row
        without licence plate number, its return date and fulfilment centre), the order and the SKU."""
        ident = self.return_id
        if not ident:
            when = self.return_date.strftime("%Y%m%d%H%M%S") if self.return_date else ""
            ident = f"{when}@{self.fulfillment_center}"
        return f"{self.channel}:{ident}:{self.order_id}:{self.sku}"

    @property
    def sellable(self):
        return self.channel == "fba" and self.disposition in SELLABLE_DISPOSITIONS


@dataclass(frozen=True)
class RejectedReturn:
    """A row that could not be read: its line, what it names (order, SKU) and why."""

    line: int
    order_id: str
    sku: str
    error: str


def parse_date(text):
    """A timezone-aware datetime from the dates these reports use (ISO 8601, "2026-03-01 10:00:00 UTC",
    "01-Mar-2026", "03/01/2026"...); None when empty. Dates without a zone are UTC."""
    text = (text or "").strip()
    if not text:
        return None
    iso = text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text
    try:
        value = datetime.fromisoformat(iso)
    except ValueError:
        value = None
        for fmt in _DATE_FORMATS:
            try:
                value = datetime.strptime(text.replace(" PST", "").replace(" PDT", ""), fmt)
                break
            except ValueError:
                continue
        if value is None:
            raise ValueError(f"{text!r} is not a date") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def parse_amount(text):
    text = (text or "").strip().replace("$", "").replace(",", "")
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{text!r} is not an amount") from None
    if not value.is_finite():
        raise ValueError(f"{text!r} is not an amount")
    return value


class ReturnsReader:
    """Reads one returns report's rows (dicts of column -> text, as :func:`.flatfile.iter_rows` gives them)."""

    def __init__(self, report_type):
        if report_type not in REPORT_CHANNELS:
            raise ValueError(f"Not a returns report: {report_type}")
        self.report_type = report_type
        self.channel = REPORT_CHANNELS[report_type]
        self._columns = None  # ReturnRow field -> the file's column name

    def _map_columns(self, names):
        by_key = {}
        for name in names:
            by_key.setdefault(column_key(name), name)
        columns = {}
        for field_name, accepted in COLUMNS[self.channel].items():
            for candidate in accepted:
                if candidate in by_key:
                    columns[field_name] = by_key[candidate]
                    break
        missing = [COLUMNS[self.channel][f][0] for f in KEY_COLUMNS[self.channel] if f not in columns]
        if missing:
            raise BadData(f"The returns report {self.report_type} has no column {', '.join(missing)}: it cannot be "
                          f"read (its columns: {', '.join(n for n in names if n)[:300]}).")
        return columns

    def read(self, rows):
        """Yield a :class:`ReturnRow` or a :class:`RejectedReturn` per row; BadData when a key column is missing."""
        for number, row in enumerate(rows, start=2):
            if self._columns is None:
                self._columns = self._map_columns(list(row))
            yield self.parse_row(row, number)

    def parse_row(self, row, line=0):
        columns = self._columns

        def text(name):
            column = columns.get(name)
            return (row.get(column) or "").strip() if column else ""

        order_id, sku = text("order_id"), text("sku")
        try:
            if not order_id:
                raise ValueError("no order id")
            if not sku:
                raise ValueError("no SKU")
            quantity_text = text("quantity")
            try:
                quantity = int(Decimal(quantity_text))
            except (InvalidOperation, ValueError):
                raise ValueError(f"quantity {quantity_text!r} is not a number") from None
            if quantity <= 0:
                raise ValueError(f"quantity {quantity_text!r} is not positive")
            values = {name: text(name) for name in COLUMNS[self.channel]
                      if name not in ("quantity", "return_date", "delivered_date", "order_date", "refunded_amount")}
            if self.channel == "fbm" and not values["return_id"]:
                raise ValueError("no Amazon RMA ID")
            values.update(
                quantity=quantity,
                return_date=parse_date(text("return_date")),
                delivered_date=parse_date(text("delivered_date")),
                order_date=parse_date(text("order_date")),
                refunded_amount=parse_amount(text("refunded_amount")),
            )
            if self.channel == "fba" and values["return_date"] is None:
                raise ValueError("no return date")
        except ValueError as exc:
            return RejectedReturn(line, order_id, sku, str(exc))
        values["disposition"] = values.get("disposition", "").upper().replace(" ", "_")
        values["status"] = values.get("status", "")
        fields_ = set(ReturnRow.__dataclass_fields__)
        return ReturnRow(channel=self.channel, line=line, **{k: v for k, v in values.items() if k in fields_})


def read_returns(report_type, rows):
    """The rows of a returns report (see :class:`ReturnsReader`)."""
    return ReturnsReader(report_type).read(rows)
