"""What the Orders 2026-01-01 calls return (:mod:`.orders` builds them from Amazon's JSON).

Conventions: see :mod:`.values`.
"""
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from .values import DateTimeRange, Money

#: Orders 2026-01-01 ``includedData`` datasets.
ORDER_DATASETS = ("BUYER", "RECIPIENT", "PROCEEDS", "EXPENSE", "PROMOTION", "CANCELLATION", "FULFILLMENT",
                  "PACKAGES", "TAX", "PAYMENT", "FULFILLMENT_ORDERS")
#: What the connector asks for by default: everything needed for sales, deliveries and invoices
#: (PAYMENT is Brazil-only card data and FULFILLMENT_ORDERS Easy Ship only: ask for them explicitly).
DEFAULT_ORDER_DATA = ("BUYER", "RECIPIENT", "PROCEEDS", "EXPENSE", "PROMOTION", "CANCELLATION", "FULFILLMENT",
                      "PACKAGES", "TAX")

FULFILLED_BY_MERCHANT = "MERCHANT"
FULFILLED_BY_AMAZON = "AMAZON"


@dataclass(frozen=True)
class Address:
    """A ``CustomerAddress`` (delivery, tax registration) or ``MerchantAddress`` (package ship-from).

    ``street_name``, ``street_number``, ``complement`` and ``neighborhood`` come from ``extendedFields``
    (Brazil only today). ``phone``, ``company_name`` and ``address_type`` exist on customer addresses only.
    """

    name: str | None = None
    company_name: str | None = None
    address_line1: str | None = None
    address_line2: str | None = None
    address_line3: str | None = None
    city: str | None = None
    district_or_county: str | None = None
    state_or_region: str | None = None
    municipality: str | None = None
    postal_code: str | None = None
    country_code: str | None = None
    phone: str | None = None
    address_type: str | None = None  # RESIDENTIAL, COMMERCIAL, PICKUP_POINT
    street_name: str | None = None
    street_number: str | None = None
    complement: str | None = None
    neighborhood: str | None = None


@dataclass(frozen=True)
class Buyer:
    name: str | None = None
    email: str | None = None  # anonymized relay address; FBM orders only
    company_name: str | None = None
    purchase_order_number: str | None = None


@dataclass(frozen=True)
class DeliveryPreference:
    drop_off_location: str | None = None
    address_instruction: str | None = None
    delivery_capabilities: tuple[str, ...] = ()
    delivery_time: dict | None = field(default=None, compare=False)  # PreferredDeliveryTime as Amazon sent it


@dataclass(frozen=True)
class Recipient:
    delivery_address: Address | None = None
    delivery_preference: DeliveryPreference | None = None


@dataclass(frozen=True)
class ProceedsDetail:
    """``ItemProceedsDetailedBreakdown``: part of a TAX or DISCOUNT breakdown (subtype ITEM, SHIPPING, ...)."""

    subtype: str | None
    value: Money | None


@dataclass(frozen=True)
class ProceedsBreakdown:
    """A proceeds category: ITEM, SHIPPING, GIFT_WRAP, COD_FEE, TAX, DISCOUNT, DELIVERY_TIP (order level), OTHER.

    ``status`` (PENDING/FINALIZED) exists on order-level categories charged after checkout (DELIVERY_TIP);
    ``details`` on item-level TAX and DISCOUNT breakdowns.
    """

    type: str
    subtotal: Money
    status: str | None = None
    details: tuple[ProceedsDetail, ...] = ()

    def detail(self, subtype):
        """The amount of one subtype (e.g. TAX on SHIPPING), or None."""
        for d in self.details:
            if d.subtype == subtype:
                return d.value
        return None


def _find_breakdown(breakdowns, type_, subtype=None):
    for b in breakdowns:
        if b.type == type_:
            return b.subtotal if subtype is None else b.detail(subtype)
    return None


@dataclass(frozen=True)
class OrderProceeds:
    grand_total: Money | None = None
    breakdowns: tuple[ProceedsBreakdown, ...] = ()

    def amount(self, type_):
        return _find_breakdown(self.breakdowns, type_)


@dataclass(frozen=True)
class PaymentExecution:
    payment_method: str | None = None
    amount: Money | None = None
    card_brand: str | None = None
    acquirer_id: str | None = None
    authorization_code: str | None = None


@dataclass(frozen=True)
class TaxRegistration:
    entity_type: str | None = None  # BUYER, MARKETPLACE, MERCHANT
    legal_name: str | None = None
    registration_type: str | None = None  # BUSINESS, VAT, CST, CPF, CNPJ
    registration_number: str | None = None
    address: Address | None = None
    attributes: tuple[tuple[str, str], ...] = ()  # (key, value), e.g. ("TAX_OFFICE", "...")


@dataclass(frozen=True)
class OrderTax:
    registrations: tuple[TaxRegistration, ...] = ()
    buyer_invoice_preference: str | None = None  # INDIVIDUAL / BUSINESS (Turkey)
    invoice_status: str | None = None  # Easy Ship and Brazil


@dataclass(frozen=True)
class OrderAlias:
    alias_id: str
    alias_type: str  # SELLER_ORDER_ID


@dataclass(frozen=True)
class AssociatedOrder:
    order_id: str | None
    association_type: str | None  # REPLACEMENT_ORIGINAL_ID, EXCHANGE_ORIGINAL_ID


@dataclass(frozen=True)
class AssociatedOrderItem:
    order_id: str | None
    order_item_id: str | None
    association_type: str | None  # VALUE_ADD_SERVICE


@dataclass(frozen=True)
class Measurement:
    unit: str
    value: Decimal


@dataclass(frozen=True)
class ItemCancellation:
    """Cancellation request (by the buyer) and/or execution (by BUYER, MERCHANT or AMAZON) of an item."""

    requested_by: str | None = None
    request_reason: str | None = None
    cancelled_by: str | None = None
    cancel_reason: str | None = None

    @property
    def is_requested(self):
        return self.requested_by is not None

    @property
    def is_executed(self):
        return self.cancelled_by is not None


@dataclass(frozen=True)
class GiftOption:
    message: str | None = None
    wrap_level: str | None = None


@dataclass(frozen=True)
class PointsGranted:
    points: int | None
    value: Money | None


@dataclass(frozen=True)
class TaxCollection:
    model: str | None  # MARKETPLACE_FACILITATOR
    responsible_party: str | None


@dataclass(frozen=True)
class OrderItem:
    """One line of an order (``OrderItem``).

    Prices: ``unit_price`` is the catalogue price of one unit. The ``proceeds`` breakdowns are line totals
    (all units): use :attr:`item_price`, :attr:`shipping_price`, :attr:`gift_wrap_price`, :attr:`discount`,
    :attr:`tax` and the TAX/DISCOUNT details (:attr:`item_tax`, :attr:`shipping_tax`, :attr:`gift_wrap_tax`,
    :attr:`item_discount`, :attr:`shipping_discount`). Whether TAX comes on top of ITEM or inside it is
    read from the numbers (which sum gives ``proceeds_total``): see ``utils.order_totals``.
    Quantities: ``quantity_shipped`` / ``quantity_unshipped`` are the model's ``quantityFulfilled`` /
    ``quantityUnfulfilled`` (None without the FULFILLMENT dataset).
    """

    order_item_id: str
    quantity_ordered: int
    asin: str | None = None
    seller_sku: str | None = None
    title: str | None = None
    condition_type: str | None = None
    condition_subtype: str | None = None
    condition_note: str | None = None
    unit_price: Money | None = None
    price_designation: str | None = None  # BUSINESS_PRICE
    serial_numbers: tuple[str, ...] = ()
    customized_url: str | None = None
    measurement: Measurement | None = None
    programs: tuple[str, ...] = ()
    proceeds_total: Money | None = None
    proceeds: tuple[ProceedsBreakdown, ...] = ()
    promotion_ids: tuple[str, ...] = ()
    points_granted: PointsGranted | None = None
    cancellation: ItemCancellation | None = None
    quantity_shipped: int | None = None
    quantity_unshipped: int | None = None
    gift: GiftOption | None = None
    serial_number_required: bool = False
    scheduled_delivery: DateTimeRange | None = None
    shipping_constraints: tuple[str, ...] = ()  # names of MANDATORY constraints, e.g. "cashOnDelivery"
    substitution_type: str | None = None
    tax_collections: tuple[TaxCollection, ...] = ()
    tax_reporting_schemes: tuple[str, ...] = ()
    associated_items: tuple[AssociatedOrderItem, ...] = ()

    def proceeds_amount(self, type_, subtype=None):
        """A proceeds category (ITEM, SHIPPING, GIFT_WRAP, COD_FEE, TAX, DISCOUNT, OTHER), or one subtype of it."""
        return _find_breakdown(self.proceeds, type_, subtype)

    @property
    def item_price(self):
        return self.proceeds_amount("ITEM")

    @property
    def shipping_price(self):
        return self.proceeds_amount("SHIPPING")

    @property
    def gift_wrap_price(self):
        return self.proceeds_amount("GIFT_WRAP")

    @property
    def cod_fee(self):
        return self.proceeds_amount("COD_FEE")

    @property
    def other_charge(self):
        return self.proceeds_amount("OTHER")

    @property
    def discount(self):
        return self.proceeds_amount("DISCOUNT")

    @property
    def tax(self):
        return self.proceeds_amount("TAX")

    @property
    def item_tax(self):
        return self.proceeds_amount("TAX", "ITEM")

    @property
    def shipping_tax(self):
        return self.proceeds_amount("TAX", "SHIPPING")

    @property
    def gift_wrap_tax(self):
        return self.proceeds_amount("TAX", "GIFT_WRAP")

    @property
    def item_discount(self):
        return self.proceeds_amount("DISCOUNT", "ITEM")

    @property
    def shipping_discount(self):
        return self.proceeds_amount("DISCOUNT", "SHIPPING")

    @property
    def is_cancelled(self):
        return bool(self.cancellation and self.cancellation.is_executed)


@dataclass(frozen=True)
class PackageItem:
    order_item_id: str
    quantity: int
    transparency_codes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Package:
    """A shipping package of a merchant-fulfilled order (``OrderPackage``)."""

    package_reference_id: str
    created_time: datetime | None = None
    status: str | None = None  # PENDING, IN_TRANSIT, SHIPPED, DELIVERED, CANCELLED, UNDELIVERABLE
    detailed_status: str | None = None
    carrier: str | None = None
    ship_time: datetime | None = None
    shipping_service: str | None = None
    tracking_number: str | None = None
    ship_from: Address | None = None
    items: tuple[PackageItem, ...] = ()


@dataclass(frozen=True)
class Order:
    """An Amazon order (Orders 2026-01-01 ``Order``) with its items.

    Sections exist only when asked for with ``includedData``: ``buyer`` (BUYER), ``recipient`` (RECIPIENT),
    ``proceeds`` (PROCEEDS), fulfillment fields (FULFILLMENT), ``packages`` (PACKAGES), ``tax`` (TAX),
    ``payments`` (PAYMENT), ``fulfillment_order_ids`` (FULFILLMENT_ORDERS); item sections likewise.
    """

    order_id: str
    created_time: datetime
    last_updated_time: datetime
    sales_channel: str  # channelName: AMAZON, NON_AMAZON
    marketplace_id: str | None = None
    marketplace_name: str | None = None
    fulfilled_by: str | None = None  # MERCHANT or AMAZON
    fulfillment_status: str | None = None  # PENDING_AVAILABILITY, PENDING, UNSHIPPED, PARTIALLY_SHIPPED, ...
    fulfillment_service_level: str | None = None
    ship_by: DateTimeRange | None = None
    deliver_by: DateTimeRange | None = None
    label_printing: DateTimeRange | None = None
    programs: tuple[str, ...] = ()
    aliases: tuple[OrderAlias, ...] = ()
    associated_orders: tuple[AssociatedOrder, ...] = ()
    buyer: Buyer | None = None
    recipient: Recipient | None = None
    proceeds: OrderProceeds | None = None
    tax: OrderTax | None = None
    payments: tuple[PaymentExecution, ...] = ()
    items: tuple[OrderItem, ...] = ()
    packages: tuple[Package, ...] = ()
    fulfillment_order_ids: tuple[str, ...] = ()
    raw: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def delivery_address(self):
        return self.recipient.delivery_address if self.recipient else None

    @property
    def grand_total(self):
        return self.proceeds.grand_total if self.proceeds else None

    @property
    def currency(self):
        """The order's currency, from its total or its first priced item (None without prices)."""
        if self.grand_total:
            return self.grand_total.currency
        for item in self.items:
            money = item.proceeds_total or item.unit_price
            if money:
                return money.currency
        return None

    @property
    def seller_order_id(self):
        for alias in self.aliases:
            if alias.alias_type == "SELLER_ORDER_ID":
                return alias.alias_id
        return None

    @property
    def is_fba(self):
        return self.fulfilled_by == FULFILLED_BY_AMAZON

    @property
    def is_cancelled(self):
        return self.fulfillment_status == "CANCELLED"

    @property
    def is_business_order(self):
        return "AMAZON_BUSINESS" in self.programs

    @property
    def is_prime(self):
        return "PRIME" in self.programs


@dataclass(frozen=True)
class RejectedOrder:
    """An order of a page that breaks Amazon's model (``search_orders_page(skip_unreadable=True)``): kept with
    the reason (a plain message naming the field) and the JSON Amazon sent, instead of failing the page."""

    order_id: str | None
    error: str
    raw: object = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class OrdersPage:
    """One ``searchOrders`` page. ``created_before`` / ``last_updated_before`` echo the upper bound Amazon
    applied (use it as the next polling cursor); ``next_token`` is None on the last page. ``rejected`` lists
    unreadable orders when the page was read with ``skip_unreadable=True`` (else they raise BadData)."""

    orders: tuple[Order, ...]
    next_token: str | None = None
    created_before: datetime | None = None
    last_updated_before: datetime | None = None
    rejected: tuple[RejectedOrder, ...] = ()
