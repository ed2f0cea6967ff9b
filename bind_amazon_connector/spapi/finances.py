"""Finances 2024-06-19: the seller's financial transactions (sales, fees, refunds, payouts)."""
from dataclasses import dataclass, field
from datetime import datetime

from .transport import _iso, _Pages
from .values import Money, _check_obj, _dt, _int, _items, _list, _money, _obj, _str


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


def _currency(d, key, path):
    return _money(d, key, path, amount_key="currencyAmount", currency_key="currencyCode")


def parse_breakdown(d, path="breakdown"):
    _check_obj(d, path)
    return Breakdown(
        type=_str(d, "breakdownType", path),
        amount=_currency(d, "breakdownAmount", path),
        breakdowns=_items(d, "breakdowns", path, parse_breakdown),
    )


def parse_transaction_context(d, path="context"):
    _check_obj(d, path)
    return TransactionContext(
        context_type=_str(d, "contextType", path),
        sku=_str(d, "sku", path),
        asin=_str(d, "asin", path),
        quantity_shipped=_int(d, "quantityShipped", path),
        fulfillment_network=_str(d, "fulfillmentNetwork", path),
        store_name=_str(d, "storeName", path),
        order_type=_str(d, "orderType", path),
        channel=_str(d, "channel", path),
        payment_type=_str(d, "paymentType", path),
        payment_method=_str(d, "paymentMethod", path),
        payment_reference=_str(d, "paymentReference", path),
        payment_date=_dt(d, "paymentDate", path),
        deferral_reason=_str(d, "deferralReason", path),
        maturity_date=_dt(d, "maturityDate", path),
        start_time=_dt(d, "startTime", path),
        end_time=_dt(d, "endTime", path),
    )


def _pairs(d, key, path, name_key, value_key):
    pairs = []
    for i, v in enumerate(_list(d, key, path)):
        p = f"{path}.{key}[{i}]"
        _check_obj(v, p)
        pairs.append((_str(v, name_key, p) or "", _str(v, value_key, p) or ""))
    return tuple(pairs)


def _transaction_item(d, path):
    _check_obj(d, path)
    return TransactionItem(
        description=_str(d, "description", path),
        total_amount=_currency(d, "totalAmount", path),
        breakdowns=_items(d, "breakdowns", path, parse_breakdown),
        contexts=_items(d, "contexts", path, parse_transaction_context),
        related_identifiers=_pairs(d, "relatedIdentifiers", path, "itemRelatedIdentifierName",
                                   "itemRelatedIdentifierValue"),
    )


def _breakdown_list(d, path):
    """A transaction's breakdowns. Amazon's own example of ``Transaction`` wraps the list in an object
    (``{"breakdowns": [...]}``): read it too rather than refuse the transaction."""
    value = d.get("breakdowns")
    if isinstance(value, dict) and set(value) <= {"breakdowns"}:
        d = value
    return _items(d, "breakdowns", path, parse_breakdown)


def parse_transaction(d, path="transaction"):
    """A Finances 2024-06-19 ``Transaction``."""
    _check_obj(d, path)
    meta = _obj(d, "sellingPartnerMetadata", path) or {}
    details = _obj(d, "marketplaceDetails", path) or {}
    return Transaction(
        transaction_id=_str(d, "transactionId", path),
        transaction_type=_str(d, "transactionType", path),
        transaction_status=_str(d, "transactionStatus", path),
        description=_str(d, "description", path),
        posted_date=_dt(d, "postedDate", path),
        total_amount=_currency(d, "totalAmount", path),
        marketplace_id=_str(details, "marketplaceId", f"{path}.marketplaceDetails")
        or _str(meta, "marketplaceId", f"{path}.sellingPartnerMetadata"),
        marketplace_name=_str(details, "marketplaceName", f"{path}.marketplaceDetails"),
        selling_partner_id=_str(meta, "sellingPartnerId", f"{path}.sellingPartnerMetadata"),
        account_type=_str(meta, "accountType", f"{path}.sellingPartnerMetadata"),
        related_identifiers=_pairs(d, "relatedIdentifiers", path, "relatedIdentifierName", "relatedIdentifierValue"),
        items=_items(d, "items", path, _transaction_item),
        contexts=_items(d, "contexts", path, parse_transaction_context),
        breakdowns=_breakdown_list(d, path),
        raw=d,
    )


def parse_transactions_page(body, path="listTransactions"):
    """A ``ListTransactionsResponse``: (transactions, next_token)."""
    _check_obj(body, path)
    payload = _obj(body, "payload", path) or {}
    pp = f"{path}.payload"
    return _items(payload, "transactions", pp, parse_transaction), _str(payload, "nextToken", pp) or None


class FinancesApi:
    """The Finances calls of :class:`.client.SpApi`."""

    def iter_transactions(self, posted_after, posted_before=None, marketplace_id=None):
        """Financial transactions posted in [posted_after, posted_before) in the connection's marketplace
        (or ``marketplace_id``). ``posted_before`` defaults to two minutes ago (Amazon); at most 180 days."""
        for transactions, _next_token in self.iter_transaction_pages(posted_after, posted_before, marketplace_id):
            yield from transactions  # Amazon may send empty pages with a token: keep following

    def iter_transaction_pages(self, posted_after, posted_before=None, marketplace_id=None, next_token=None):
        """:meth:`iter_transactions` page by page: (transactions, token of the next page or None).
        ``next_token`` resumes an interrupted run (with the same dates and marketplace)."""
        if posted_after is None:
            raise ValueError("posted_after is required")
        params = {
            "postedAfter": _iso(posted_after, "posted_after"),
            "postedBefore": _iso(posted_before, "posted_before"),
            "marketplaceId": marketplace_id or self.config.marketplace_id,
        }
        params = {k: v for k, v in params.items() if v is not None}
        pages = _Pages("listTransactions")
        token = pages.next(next_token)
        while True:
            extra = {"nextToken": token} if token else {}
            reply = self._call("listTransactions", "finances", "list_transactions", **params, **extra)
            transactions, page_token = parse_transactions_page(reply.body)
            self.stats["listTransactions"].pages += 1
            token = pages.next(page_token)
            yield transactions, token
            if token is None:
                return
