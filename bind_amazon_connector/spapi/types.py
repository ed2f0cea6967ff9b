"""Kept for the imports of the models until the lead updates them: the types now live beside each API's calls."""
from .auth import TokenGrant  # noqa: F401
from .finances import Breakdown, Transaction, TransactionContext, TransactionItem  # noqa: F401
from .inventory import InventorySummary  # noqa: F401
from .listings import (  # noqa: F401
    DEFAULT_LISTING_DATA,
    FulfillmentAvailability,
    ListingIssue,
    ListingOffer,
    ListingsItem,
    ListingSummary,
    PatchResult,
)
from .order_types import (  # noqa: F401
    DEFAULT_ORDER_DATA,
    FULFILLED_BY_AMAZON,
    FULFILLED_BY_MERCHANT,
    ORDER_DATASETS,
    Address,
    AssociatedOrder,
    AssociatedOrderItem,
    Buyer,
    DeliveryPreference,
    GiftOption,
    ItemCancellation,
    Measurement,
    Order,
    OrderAlias,
    OrderItem,
    OrderProceeds,
    OrdersPage,
    OrderTax,
    Package,
    PackageItem,
    PaymentExecution,
    PointsGranted,
    ProceedsBreakdown,
    ProceedsDetail,
    Recipient,
    RejectedOrder,
    TaxCollection,
    TaxRegistration,
)
from .reports import REPORT_FINAL_STATUSES, Report, ReportDocument  # noqa: F401
from .sellers import MarketplaceParticipation  # noqa: F401
from .shipments import CARRIER_OTHER, ShipmentPackage  # noqa: F401
from .values import DateTimeRange, Money  # noqa: F401
