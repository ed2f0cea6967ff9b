"""Rows of Amazon's listings report (and Listings Items) read into listing values: plain Python, no ORM."""
import re
from decimal import Decimal, InvalidOperation

from .text import plain_text

#: Report ``product-id-type`` codes (Amazon's flat files use digits; names are accepted too).
PRODUCT_ID_TYPES = {
    "1": "asin", "asin": "asin",
    "2": "isbn", "isbn": "isbn",
    "3": "upc", "upc": "upc",
    "4": "ean", "ean": "ean",
    "gtin": "gtin", "jan": "ean",
}
#: Identifier types that are product barcodes.
BARCODE_ID_TYPES = ("upc", "ean", "gtin", "isbn")


class RowError(ValueError):
    """A report row that cannot be imported, with its reason code and the offending value."""

    def __init__(self, code, value=""):
        super().__init__(code)
        self.code = code
        self.value = value


def _text(row, key):
    value = row.get(key)
    if value is None:
        return ""
    return str(value).strip()


def parse_price(text):
    """Amazon's price as a Decimal; None when empty. Accepts 1299.00, 1,299.00, 1.299,00, 1299,5, $1,299.00."""
    original = text = (text or "").strip()
    text = text.replace("$", "").replace("\u00a0", "").replace(" ", "")
    if text.upper().endswith("MXN") or text.upper().endswith("USD"):
        text = text[:-3]
    if not text:
        return None
    if not re.fullmatch(r"[0-9.,]+", text):
        raise RowError("bad_price", original)
    if "," in text and "." in text:
        # the last separator is the decimal one
        if text.rfind(",") > text.rfind("."):
            text = text.replace(".", "").replace(",", ".")
        else:
            text = text.replace(",", "")
    elif "," in text:
        parts = text.split(",")
        if len(parts) == 2 and len(parts[1]) != 3:
            text = text.replace(",", ".")  # decimal comma: 1299,50
        elif parts[0] and all(len(p) == 3 for p in parts[1:]):
            text = text.replace(",", "")  # thousands: 1,299 or 1,299,000
        else:
            raise RowError("bad_price", original)
    if text.count(".") > 1:
        raise RowError("bad_price", original)
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise RowError("bad_price", original) from None
    return value


def parse_quantity(text):
    """A whole, non-negative quantity; None when empty (Amazon leaves FBA and inactive rows empty)."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise RowError("bad_quantity", text) from None
    if value < 0 or value != value.to_integral_value():
        raise RowError("bad_quantity", text)
    return int(value)


def parse_channel(text):
    """``DEFAULT`` is merchant-fulfilled; ``AMAZON_NA``, ``AMAZON_EU``... are Fulfillment by Amazon."""
    code = (text or "").strip().upper()
    if code in ("DEFAULT", "MFN", "MERCHANT"):
        return "merchant"
    if code.startswith("AMAZON_") or code in ("AFN", "AMAZON"):
        return "amazon"
    raise RowError("bad_channel", text or "")


def parse_row(row):
    """Values of one listing from a report row (column names as in the report); RowError if unusable."""
    sku = _text(row, "seller-sku")
    if not sku:
        raise RowError("no_sku")
    channel = parse_channel(_text(row, "fulfillment-channel"))
    price = parse_price(_text(row, "price"))
    quantity = parse_quantity(_text(row, "quantity"))
    if quantity is None and channel == "merchant":
        quantity = 0  # an inactive merchant offer: nothing for sale
    # an FBA row leaves the quantity to Amazon's inventory: None keeps what Odoo knows
    id_type_raw = _text(row, "product-id-type").lower()
    product_identifier = _text(row, "product-id") or None
    id_type = PRODUCT_ID_TYPES.get(id_type_raw, "other" if id_type_raw else None) if product_identifier else None
    return {
        "seller_sku": sku,
        "name": plain_text(_text(row, "item-name")) or None,
        "amazon_title": _text(row, "item-name") or None,
        "asin": _text(row, "asin1") or (product_identifier if id_type == "asin" else None),
        "amazon_listing_ref": _text(row, "listing-id") or None,
        "product_identifier": product_identifier,
        "product_identifier_type": id_type,
        "price": price if price is not None else Decimal(0),
        "quantity": quantity,
        "fulfillment_channel": channel,
        "amazon_status": _text(row, "status") or None,
    }


def barcode_variants(code):
    """The forms a UPC/EAN can take as an Odoo barcode: UPC-A 12 digits is EAN-13 with a leading zero."""
    code = (code or "").strip()
    variants = {code} if code else set()
    if code.isdigit():
        if len(code) == 12:
            variants.add("0" + code)
        elif len(code) == 13 and code.startswith("0"):
            variants.add(code[1:])
    return variants


def listing_values_from_item(item, marketplace_id=None):
    """Listing values from a Listings Items API ``ListingsItem``; None where the item says nothing."""
    vals = {"name": plain_text(item.item_name) or None, "amazon_title": item.item_name, "asin": item.asin}
    price = item.price
    vals["price"] = float(price.amount) if price is not None else None
    channel = quantity = None
    for availability in item.fulfillment_availability:
        try:
            channel = parse_channel(availability.channel_code)
        except RowError:
            continue
        quantity = availability.quantity
        break
    vals["fulfillment_channel"] = channel
    vals["quantity"] = quantity if quantity is not None else (0 if channel else None)
    if item.summaries:
        # the report's vocabulary, so that the next import does not see a change
        vals["amazon_status"] = "Active" if item.is_buyable else "Inactive"
    return vals
