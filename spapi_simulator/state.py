"""What the simulated Amazon knows: a seller's orders, listings, FBA stock, transactions and reports.

Plain data kept as model objects (see factory.py), an index of orders sorted by
(lastUpdatedTime, orderId), and a clock the tests control.
"""
import bisect
import copy
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from . import factory
from .factory import iso, parse_time


def epoch(value):
    return parse_time(value).timestamp()


class Clock:
    """Real time plus an offset that ``advance`` moves forward (never backwards)."""

    def __init__(self):
        self.offset = 0.0

    def now(self):
        return datetime.now(timezone.utc) + timedelta(seconds=self.offset)

    def monotonic(self):
        return time.monotonic() + self.offset

    def advance(self, seconds):
        if seconds < 0:
            raise ValueError("the simulator's clock only moves forward")
        self.offset += seconds


@dataclass
class LazyOrder:
    """An order known by its searchable fields, built only when a response needs it (benchmarks)."""

    order_id: str
    created: object  # datetime or ISO string
    last_updated: object
    status: str
    fulfilled_by: str
    marketplace_id: str
    build: object  # () -> Order dict


@dataclass
class OrderEntry:
    order_id: str
    created: float
    updated: float
    status: str
    fulfilled_by: str
    marketplace_id: str
    obj: dict = None
    build: object = None

    @property
    def key(self):
        return (self.updated, self.order_id)

    def order(self):
        if self.obj is None:
            self.obj = self.build()
            self.build = None
        return self.obj


@dataclass
class LazyTransaction:
    """A transaction known by its searchable fields, built only when an answer needs it (benchmarks)."""

    transaction_id: str
    posted: object  # datetime or ISO string
    marketplace_id: str
    status: str
    order_id: str
    build: object  # () -> Transaction dict


@dataclass
class TransactionEntry:
    transaction_id: str
    posted: float
    marketplace_id: str
    status: str
    related: tuple  # ((relatedIdentifierName, relatedIdentifierValue), ...)
    obj: dict = None
    build: object = None

    def txn(self):
        if self.obj is None:
            self.obj = self.build()
            self.build = None
        return self.obj


@dataclass
class ReportJob:
    report_id: str
    report_type: str
    marketplace_ids: list
    created: datetime
    created_mono: float
    outcome: str
    data_start: str = None
    data_end: str = None
    polls: int = 0
    status: str = "IN_QUEUE"
    started: datetime = None
    ended: datetime = None
    document_id: str = None
    options: dict = field(default_factory=dict)

    def to_model(self):
        out = {"reportId": self.report_id, "reportType": self.report_type, "createdTime": iso(self.created),
               "processingStatus": self.status}
        if self.marketplace_ids:
            out["marketplaceIds"] = list(self.marketplace_ids)
        if self.data_start:
            out["dataStartTime"] = self.data_start
        if self.data_end:
            out["dataEndTime"] = self.data_end
        if self.started:
            out["processingStartTime"] = iso(self.started)
        if self.ended:
            out["processingEndTime"] = iso(self.ended)
        if self.document_id:
            out["reportDocumentId"] = self.document_id
        return out


@dataclass
class Document:
    content: bytes  # as served (gzipped when compression is GZIP)
    content_type: str
    compression: str = None  # None or "GZIP"


class State:
    """The seller's data. Every method is called with ``lock`` held (the simulator does it)."""

    def __init__(self, seller_id=factory.DEFAULT_SELLER_ID, marketplace_id=factory.MX):
        self.lock = threading.RLock()
        self.clock = Clock()
        self.seller_id = seller_id
        self.marketplace_id = marketplace_id
        self.store_name = "Tienda Simulada MX"
        self.participations = None
        self.orders = {}  # order id -> OrderEntry
        self.order_index = []  # sorted (updated, order id)
        self.order_snapshot = 0.0  # latest searchOrders snapshot time: later changes must come after it
        self.listings = {}  # sku -> Item
        self.inventory = {}  # sku -> InventorySummary of North America's unified pool (shown in US, CA and MX)
        self.marketplace_inventory = {}  # marketplace id -> {sku -> InventorySummary shown there only}
        self.returns = {}  # return id -> customer return (see returns.py)
        self.transactions = []  # TransactionEntry, sorted by postedDate on demand
        self._transactions_sorted = True
        self.reports = {}  # report id -> ReportJob
        self.documents = {}  # document id -> Document
        self.report_documents = {}  # report type -> (bytes, content_type)
        self.report_gzip = {}  # report type -> serve its document GZIP-compressed
        self.report_outcomes = {}  # report type -> outcome
        self.report_encoding = "cp1252"
        self.report_seq = 50000000000

    # ------------------------------------------------------------ orders

    def put_order(self, order):
        """Insert or replace a full Order dict (or a LazyOrder)."""
        if isinstance(order, LazyOrder):
            entry = OrderEntry(order.order_id, epoch(order.created), epoch(order.last_updated), order.status,
                               order.fulfilled_by, order.marketplace_id, build=order.build)
        else:
            fulfillment = order.get("fulfillment") or {}
            entry = OrderEntry(order["orderId"], epoch(order["createdTime"]), epoch(order["lastUpdatedTime"]),
                               fulfillment.get("fulfillmentStatus", "UNSHIPPED"),
                               fulfillment.get("fulfilledBy", "MERCHANT"),
                               (order.get("salesChannel") or {}).get("marketplaceId", self.marketplace_id), obj=order)
        old = self.orders.get(entry.order_id)
        if old is not None:
            pos = bisect.bisect_left(self.order_index, old.key)
            if pos < len(self.order_index) and self.order_index[pos] == old.key:
                del self.order_index[pos]
        self.orders[entry.order_id] = entry
        bisect.insort(self.order_index, entry.key)
        return entry

    def change_order(self, order_id, changes):
        """A copy of the order with ``changes`` applied and lastUpdatedTime bumped to now."""
        entry = self.orders.get(order_id)
        if entry is None:
            raise KeyError(f"unknown order {order_id!r}")
        order = copy.deepcopy(entry.order())
        changes = dict(changes)
        status = changes.pop("status", None)
        if status is not None:
            if status not in factory.FULFILLMENT_STATUSES:
                raise ValueError(f"status must be one of {factory.FULFILLMENT_STATUSES}")
            order.setdefault("fulfillment", {})["fulfillmentStatus"] = status
            for item in order["orderItems"]:
                ful = item.setdefault("fulfillment", {})
                qty = item["quantityOrdered"]
                if status == "SHIPPED":
                    ful.update(quantityFulfilled=qty, quantityUnfulfilled=0)
                    item.pop("cancellation", None)
                elif status == "CANCELLED":
                    ful.update(quantityFulfilled=0, quantityUnfulfilled=0)
                    item.setdefault("cancellation", {"cancellationExecution": {
                        "cancelledBy": "MERCHANT", "cancelReason": "NO_INVENTORY"}})
            merchant = (order.get("fulfillment") or {}).get("fulfilledBy", "MERCHANT") == "MERCHANT"
            if status == "SHIPPED" and merchant and not order.get("packages") and "packages" not in changes:
                shipped = [(i["orderItemId"], i["quantityOrdered"]) for i in order["orderItems"]]
                order["packages"] = [factory.make_package(order_id, shipped, when=self.clock.now())]
        factory._deep_merge(order, changes)
        if "lastUpdatedTime" not in changes:
            # milliseconds, and strictly after any page already served, so a paging client never sees it twice
            now = max(self.clock.now().timestamp(), self.order_snapshot + 0.001)
            order["lastUpdatedTime"] = factory.iso_ms(datetime.fromtimestamp(now, timezone.utc))
        return order

    def iter_orders(self, start_key=None):
        """Entries in (lastUpdatedTime, orderId) order, strictly after ``start_key`` when given."""
        pos = 0 if start_key is None else bisect.bisect_right(self.order_index, tuple(start_key))
        for key in self.order_index[pos:]:
            yield self.orders[key[1]]

    # ------------------------------------------------------------ others

    def put_transaction(self, txn):
        """Add a Transaction dict or a LazyTransaction."""
        if isinstance(txn, LazyTransaction):
            entry = TransactionEntry(txn.transaction_id, epoch(txn.posted), txn.marketplace_id, txn.status,
                                     (("ORDER_ID", txn.order_id),) if txn.order_id else (), build=txn.build)
        else:
            entry = TransactionEntry(
                txn.get("transactionId", ""), epoch(txn["postedDate"]),
                (txn.get("marketplaceDetails") or {}).get("marketplaceId"), txn.get("transactionStatus"),
                tuple((r.get("relatedIdentifierName"), r.get("relatedIdentifierValue"))
                      for r in txn.get("relatedIdentifiers", [])), obj=txn)
        self.transactions.append(entry)
        self._transactions_sorted = False
        return entry

    def sorted_transactions(self):
        """Transaction entries by (postedDate, transactionId)."""
        if not self._transactions_sorted:
            self.transactions.sort(key=lambda e: (e.posted, e.transaction_id))
            self._transactions_sorted = True
        return self.transactions

    def next_report_id(self):
        self.report_seq += 1
        return str(self.report_seq)

    def participation_list(self):
        if self.participations is not None:
            return self.participations
        return [factory.make_marketplace_participation(self.marketplace_id, store_name=self.store_name)]
