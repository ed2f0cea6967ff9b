"""Amazon's order data without the buyer's contact data (plain Python, no ORM).

Amazon's Data Protection Policy lets a seller keep a buyer's personal data only as long as the order needs it,
and no longer than 30 days after delivery, except what tax law requires. What an order keeps here: the
buyer's tax registrations (RFC, legal name, fiscal address: what a CFDI needs), the buyer's company name and
purchase order number (business data), and the delivery address's city, state, postal code and country.
"""
import copy

#: Contact data of the buyer (``buyer``) and of the delivery address (``recipient``), in the Orders API's
#: order (2026-01-01) and in the older getOrders answer (``BuyerInfo``, ``ShippingAddress``).
BUYER_KEYS = frozenset({"buyerName", "buyerEmail", "BuyerName", "BuyerEmail"})
ADDRESS_KEYS = frozenset({
    "name", "companyName", "addressLine1", "addressLine2", "addressLine3", "phone", "extendedFields",
    "districtOrCounty", "municipality", "Name", "AddressLine1", "AddressLine2", "AddressLine3", "Phone",
    "County", "District", "Municipality",
})


def _without(data, keys):
    return {k: v for k, v in data.items() if k not in keys} if isinstance(data, dict) else data


def has_contact_data(order):
    """True when ``order`` (Amazon's JSON of one order) still holds the buyer's contact data."""
    if not isinstance(order, dict):
        return False
    buyer = order.get("buyer") or order.get("BuyerInfo") or {}
    recipient = order.get("recipient") or {}
    address = recipient.get("deliveryAddress") if isinstance(recipient, dict) else None
    address = address or order.get("ShippingAddress") or {}
    return bool(
        (isinstance(buyer, dict) and BUYER_KEYS & buyer.keys())
        or (isinstance(address, dict) and ADDRESS_KEYS & address.keys())
        or (isinstance(recipient, dict) and "deliveryPreference" in recipient)
    )


def without_contact_data(order):
    """A copy of ``order`` (Amazon's JSON of one order) without the buyer's contact data; idempotent."""
    if not isinstance(order, dict):
        return order
    order = copy.deepcopy(order)
    for key in ("buyer", "BuyerInfo"):
        if isinstance(order.get(key), dict):
            order[key] = _without(order[key], BUYER_KEYS)
    recipient = order.get("recipient")
    if isinstance(recipient, dict):
        recipient.pop("deliveryPreference", None)
        if isinstance(recipient.get("deliveryAddress"), dict):
            recipient["deliveryAddress"] = _without(recipient["deliveryAddress"], ADDRESS_KEYS)
    if isinstance(order.get("ShippingAddress"), dict):
        order["ShippingAddress"] = _without(order["ShippingAddress"], ADDRESS_KEYS)
    return order
