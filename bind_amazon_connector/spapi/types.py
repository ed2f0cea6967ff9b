"""What the SP-API layer returns: frozen dataclasses built by :mod:`.parsers` from Amazon's JSON.

Conventions
- Money is :class:`Money` (``Decimal`` amount + ISO 4217 currency); amounts keep Amazon's sign (DISCOUNT
  proceeds are negative, fees in finances are negative).
- Datetimes are timezone-aware (UTC when Amazon gives no offset).
- Optional data Amazon did not send is ``None`` (scalars) or an empty tuple (lists).
- Every top-level object keeps ``raw``: the JSON dict it was built from, for audit (JSON-serialisable as is).
- Names follow the Orders 2026-01-01, Listings Items 2021-08-01, FBA Inventory v1, Finances 2024-06-19,
  Reports 2021-06-30 and Sellers v1 models, in snake_case.
"""
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

#: Orders 2026-01-01 ``includedData`` datasets.
ORDER_DATASETS = ("BUYER", "RECIPIENT", "PROCEEDS", "EXPENSE", "PROMOTION", "CANCELLATION", "FULFILLMENT",
                  "PACKAGES", "TAX", "PAYMENT", "FULFILLMENT_ORDERS")
#: What the connector asks for by default: everything needed for sales, deliveries and invoices
#: (PAYMENT is Brazil-only card data and FULFILLMENT_ORDERS Easy Ship only: ask for them explicitly).
DEFAULT_ORDER_DATA = ("BUYER", "RECIPIENT", "PROCEEDS", "EXPENSE", "PROMOTION", "CANCELLATION", "FULFILLMENT",
                      "PACKAGES", "TAX")
DEFAULT_LISTING_DATA = ("summaries", "offers", "fulfillmentAvailability", "issues", "attributes")

FULFILLED_BY_MERCHANT = "MERCHANT"
FULFILLED_BY_AMAZON = "AMAZON"
REPORT_FINAL_STATUSES = ("DONE", "CANCELLED", "FATAL")


@dataclass(frozen=True)
class Money:
    amount: Decimal
    currency: str

    def __str__(self):
        return f"{self.amount} {self.currency}"


@dataclass(frozen=True)
class DateTimeRange:
    earliest: datetime | None
    latest: datetime | None


# ---------------------------------------------------------------- Sellers

@dataclass(frozen=True)
class MarketplaceParticipation:
    """One marketplace of the seller account (Sellers v1 ``MarketplaceParticipation``)."""

    marketplace_id: str
    name: str
    country_code: str
    currency: str
    is_participating: bool
    has_suspended_listings: bool = False
    store_name: str | None = None
    language_code: str | None = None
    domain_name: str | None = None
    raw: dict = field(default_factory=dict, repr=False, compare=False)


# ---------------------------------------------------------------- Orders 2026-01-01

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


# ---------------------------------------------------------------- Listings Items 2021-08-01

@dataclass(frozen=True)
class ListingSummary:
    marketplace_id: str
    product_type: str
    status: tuple[str, ...]  # BUYABLE, DISCOVERABLE
    created_date: datetime
    last_updated_date: datetime
    asin: str | None = None
    condition_type: str | None = None
    fn_sku: str | None = None
    item_name: str | None = None
    main_image_url: str | None = None


@dataclass(frozen=True)
class ListingOffer:
    marketplace_id: str
    offer_type: str  # B2C, B2B
    price: Money
    points: int | None = None
    audience: str | None = None


@dataclass(frozen=True)
class FulfillmentAvailability:
    channel_code: str  # DEFAULT (merchant) or AMAZON_NA, ... (FBA)
    quantity: int | None = None


@dataclass(frozen=True)
class ListingIssue:
    code: str
    message: str
    severity: str  # ERROR, WARNING, INFO
    categories: tuple[str, ...] = ()
    attribute_names: tuple[str, ...] = ()
    marketplace_ids: tuple[str, ...] = ()
    enforcement_actions: tuple[str, ...] = ()
    exemption_status: str | None = None


@dataclass(frozen=True)
class ListingsItem:
    """A listings item (``Item``). ``marketplace_id`` is the marketplace the connection asked about; the
    convenience properties read that marketplace's summary and offer (else the first one)."""

    sku: str
    marketplace_id: str | None = None
    summaries: tuple[ListingSummary, ...] = ()
    offers: tuple[ListingOffer, ...] = ()
    fulfillment_availability: tuple[FulfillmentAvailability, ...] = ()
    issues: tuple[ListingIssue, ...] = ()
    attributes: dict = field(default_factory=dict, compare=False)
    product_types: tuple[tuple[str, str], ...] = ()  # (marketplace_id, product_type)
    raw: dict = field(default_factory=dict, repr=False, compare=False)

    def _pick(self, rows):
        for row in rows:
            if row.marketplace_id == self.marketplace_id:
                return row
        return rows[0] if rows else None

    @property
    def summary(self):
        return self._pick(self.summaries)

    @property
    def asin(self):
        return self.summary.asin if self.summary else None

    @property
    def item_name(self):
        return self.summary.item_name if self.summary else None

    @property
    def product_type(self):
        if self.summary:
            return self.summary.product_type
        for marketplace_id, product_type in self.product_types:
            if marketplace_id == self.marketplace_id:
                return product_type
        return self.product_types[0][1] if self.product_types else None

    @property
    def status(self):
        return self.summary.status if self.summary else ()

    @property
    def is_buyable(self):
        return "BUYABLE" in self.status

    @property
    def price(self):
        offer = self._pick([o for o in self.offers if o.offer_type == "B2C"] or list(self.offers))
        return offer.price if offer else None

    @property
    def merchant_quantity(self):
        """Quantity offered by the seller itself (channel DEFAULT), or None."""
        for fa in self.fulfillment_availability:
            if fa.channel_code == "DEFAULT":
                return fa.quantity
        return None

    @property
    def errors(self):
        return tuple(i for i in self.issues if i.severity == "ERROR")


@dataclass(frozen=True)
class PatchResult:
    """Amazon's answer to a listings submission (``ListingsItemSubmissionResponse``).

    ACCEPTED means queued for processing, not applied: issues found later show up on the item."""

    status: str  # ACCEPTED, INVALID, VALID
    submission_id: str
    issues: tuple[ListingIssue, ...] = ()
    sku: str | None = None
    raw: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def accepted(self):
        return self.status in ("ACCEPTED", "VALID")


# ---------------------------------------------------------------- FBA inventory v1

@dataclass(frozen=True)
class InventorySummary:
    """FBA stock of one SKU in the marketplace. Quantities other than ``total_quantity`` are None unless
    details were returned."""

    seller_sku: str | None
    asin: str | None = None
    fn_sku: str | None = None
    condition: str | None = None
    product_name: str | None = None
    last_updated_time: datetime | None = None
    total_quantity: int | None = None
    fulfillable_quantity: int | None = None
    inbound_working_quantity: int | None = None
    inbound_shipped_quantity: int | None = None
    inbound_receiving_quantity: int | None = None
    reserved_quantity: int | None = None
    pending_customer_order_quantity: int | None = None
    researching_quantity: int | None = None
    unfulfillable_quantity: int | None = None
    stores: tuple[str, ...] = ()
    raw: dict = field(default_factory=dict, repr=False, compare=False)


# ---------------------------------------------------------------- Finances 2024-06-19

@dataclass(frozen=True)
class Breakdown:
    """How an amount is made up (``breakdownType`` such as "Sales", "Expenses", "Product Charges", "Tax")."""

    type: str | None
    amount: Money | None
    breakdowns: tuple["Breakdown", ...] = ()

    def find(self, type_):
        """The first breakdown of this type at any depth, or None."""
        for b in self.breakdowns:
            if b.type == type_:
                return b
            found = b.find(type_)
            if found:
                return found
        return None


@dataclass(frozen=True)
class TransactionContext:
    """One ``Context`` (ProductContext, AmazonPayContext, PaymentsContext, DeferredContext, BusinessContext,
    TimeRangeContext); fields of the other kinds are None."""

    context_type: str | None
    sku: str | None = None
    asin: str | None = None
    quantity_shipped: int | None = None
    fulfillment_network: str | None = None
    store_name: str | None = None
    order_type: str | None = None
    channel: str | None = None
    payment_type: str | None = None
    payment_method: str | None = None
    payment_reference: str | None = None
    payment_date: datetime | None = None
    deferral_reason: str | None = None
    maturity_date: datetime | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None


@dataclass(frozen=True)
class TransactionItem:
    description: str | None = None
    total_amount: Money | None = None
    breakdowns: tuple[Breakdown, ...] = ()
    contexts: tuple[TransactionContext, ...] = ()
    related_identifiers: tuple[tuple[str, str], ...] = ()  # (itemRelatedIdentifierName, value)


@dataclass(frozen=True)
class Transaction:
    """A financial transaction (Finances 2024-06-19 ``Transaction``). The model requires no field: everything
    may be None. ``related_identifiers`` holds (name, value) pairs such as ("ORDER_ID", "...")."""

    transaction_id: str | None = None
    transaction_type: str | None = None
    transaction_status: str | None = None  # DEFERRED, RELEASED, DEFERRED_RELEASED
    description: str | None = None
    posted_date: datetime | None = None
    total_amount: Money | None = None
    marketplace_id: str | None = None
    marketplace_name: str | None = None
    selling_partner_id: str | None = None
    account_type: str | None = None
    related_identifiers: tuple[tuple[str, str], ...] = ()
    items: tuple[TransactionItem, ...] = ()
    contexts: tuple[TransactionContext, ...] = ()
    breakdowns: tuple[Breakdown, ...] = ()
    raw: dict = field(default_factory=dict, repr=False, compare=False)

    def related(self, name):
        for key, value in self.related_identifiers:
            if key == name:
                return value
        return None

    @property
    def order_id(self):
        return self.related("ORDER_ID")

    @property
    def settlement_id(self):
        return self.related("SETTLEMENT_ID")

    @property
    def financial_event_group_id(self):
        return self.related("FINANCIAL_EVENT_GROUP_ID")


# ---------------------------------------------------------------- Reports 2021-06-30

@dataclass(frozen=True)
class Report:
    report_id: str
    report_type: str
    processing_status: str  # IN_QUEUE, IN_PROGRESS, DONE, CANCELLED, FATAL
    created_time: datetime
    report_document_id: str | None = None
    data_start_time: datetime | None = None
    data_end_time: datetime | None = None
    processing_start_time: datetime | None = None
    processing_end_time: datetime | None = None
    marketplace_ids: tuple[str, ...] = ()
    report_schedule_id: str | None = None
    raw: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def is_done(self):
        return self.processing_status == "DONE"

    @property
    def is_final(self):
        return self.processing_status in REPORT_FINAL_STATUSES


@dataclass(frozen=True)
class ReportDocument:
    """Where to download a report. The URL is presigned (anyone holding it can read the report for five
    minutes): it is kept out of ``repr`` and never logged."""

    report_document_id: str
    url: str = field(repr=False)
    compression_algorithm: str | None = None
    raw: dict = field(default_factory=dict, repr=False, compare=False)


# ---------------------------------------------------------------- Login with Amazon

@dataclass(frozen=True)
class TokenGrant:
    """Result of an authorization-code exchange. Tokens are kept out of ``repr``; ``raw`` has no token."""

    refresh_token: str = field(repr=False)
    access_token: str | None = field(default=None, repr=False)
    expires_in: int = 0
    raw: dict = field(default_factory=dict, repr=False, compare=False)


# ---------------------------------------------------------------- shipment confirmation (Orders v0)

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
