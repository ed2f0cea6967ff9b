"""Orders v0 shipment confirmation: tell Amazon a package of a merchant-fulfilled order has shipped."""
from dataclasses import dataclass

from .transport import _iso

#: The carrier code Amazon wants, with ``carrier_name``, for a carrier missing from its list.
CARRIER_OTHER = "Other"


@dataclass(frozen=True)
class ShipmentPackage:
    """One package of a merchant-fulfilled order for ``confirmShipment`` (Orders v0 ``PackageDetail``).

    ``package_reference_id``: positive number (as text) unique within the order; ``items``: ((order item id,
    units), ...); ``ship_date``: datetime (naive means UTC) or ISO 8601 text.
    """

    package_reference_id: str
    carrier_code: str
    items: tuple
    ship_date: object
    tracking_number: str = ""
    carrier_name: str | None = None
    shipping_method: str | None = None

    def __post_init__(self):
        ref = str(self.package_reference_id or "")
        if not ref.isdigit() or int(ref) <= 0:
            raise ValueError("package_reference_id must be a positive number (Amazon accepts only those)")
        if not self.carrier_code:
            raise ValueError("carrier_code is required (Amazon requires it in every marketplace)")
        if self.carrier_code == CARRIER_OTHER and not self.carrier_name:
            raise ValueError("carrier_name is required when carrier_code is Other")
        if not self.items:
            raise ValueError("a package needs at least one order item")
        for item_id, quantity in self.items:
            if not item_id or isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
                raise ValueError("each package item needs an order item id and a whole quantity above 0")
        if self.ship_date is None:
            raise ValueError("ship_date is required")

    def to_request(self, ship_date_iso):
        """The model's ``PackageDetail`` (``ship_date_iso``: the ship date as ISO 8601 text)."""
        detail = {
            "packageReferenceId": str(self.package_reference_id),
            "carrierCode": self.carrier_code,
            "trackingNumber": self.tracking_number or "",
            "shipDate": ship_date_iso,
            "orderItems": [{"orderItemId": item_id, "quantity": quantity} for item_id, quantity in self.items],
        }
        if self.carrier_name and self.carrier_code == CARRIER_OTHER:
            detail["carrierName"] = self.carrier_name
        if self.shipping_method:
            detail["shippingMethod"] = self.shipping_method
        return detail


class ShipmentsApi:
    """The shipment confirmation call of :class:`.client.SpApi` (Orders v0: no 2026-01-01 equivalent)."""

    def confirm_shipment(self, order_id, package, marketplace_id=None):
        """Tell Amazon one package of a merchant-fulfilled order has shipped (``confirmShipment``, 204 on success).

        ``package``: a :class:`ShipmentPackage`. Amazon's refusals (unknown item, quantity above what is
        left to ship, cancelled order, carrier code missing or unknown) raise :class:`BadData` (or
        :class:`NotFound` for an unknown order) carrying Amazon's message; throttling raises RetryLater.
        """
        if not order_id:
            raise ValueError("order_id is required")
        if not isinstance(package, ShipmentPackage):
            raise TypeError("package must be a ShipmentPackage")
        body = {"marketplaceId": marketplace_id or self.config.marketplace_id,
                "packageDetail": package.to_request(_iso(package.ship_date, "ship_date"))}
        self._call("confirmShipment", "orders_v0", "confirm_shipment", order_id, **body)
