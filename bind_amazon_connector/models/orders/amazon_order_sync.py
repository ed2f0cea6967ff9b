"""The orders flow: Amazon orders read page by page and imported as sales, deliveries and invoices.

Amazon is polled by ``lastUpdatedAfter`` (new orders and status changes) in windows of at most
``MAX_WINDOW``, each ending at least two minutes in the past (Amazon's rule). Each page of ``searchOrders``
is imported and then committed (scheduled job) together with where the run stands: the window and the
next page's token, so a restarted run continues with the next page. The cursor moves to the end of a
window only once every page of it is committed; the next window starts ``OVERLAP`` earlier, and orders
seen twice are recognised (unchanged ones are skipped).

The flow knows no other flow: a page that posted invoices of a connection paying on post asks for the
payouts job (the invoices wait for their payment there); the stock flow sees the sales by their moves.
"""
import dataclasses
import logging
from datetime import timedelta, timezone

from odoo import api, fields, models
from odoo.exceptions import UserError

from ...spapi import errors as spapi_errors
from ..connection import amazon_sync_job as sync
from ..connection.amazon_sync_job import RESTART_PAGE, SINGLE_TRANSACTION
from ..connection.connection_progress import ORDERS_PROGRESS
from .amazon_order import MalformedOrder
from .order_import import OrderImport, prepare_shared_records

_logger = logging.getLogger(__name__)

#: Each run re-reads this much before the cursor, so an order updated while the previous run ended is not missed.
OVERLAP = timedelta(minutes=10)
#: Amazon only answers for updates at least two minutes old; a little margin on top.
SAFETY_LAG = timedelta(minutes=2, seconds=30)
#: Longest period read as one window (a long backlog is read window by window, each committed).
MAX_WINDOW = timedelta(days=7)
#: Pages with orders the "Sync orders now" button imports before handing the rest to the scheduled job
#: (windows without orders do not count: a new connection's quiet weeks are crossed to its recent orders).
BUTTON_MAX_PAGES = 3
#: Seconds the button may read for (a person waits for it; the request must end well before Odoo's limit):
#: what is left continues in the background.
BUTTON_TIME_BUDGET = 40
PAGE_SIZE = 100
#: A scheduled run asks Amazon for pages its time left can hold: a page may take at most this share of it,
#: estimated from the seconds an order took lately (at first ORDER_SECONDS), and holds at least
#: MIN_PAGE_SIZE orders. Amazon lets the page size change from a page to the next of the same reading.
PAGE_TIME_SHARE = 0.5
ORDER_SECONDS = 1.0
MIN_PAGE_SIZE = 5
#: Seconds an order's import took lately, per connection, in this process.
_order_seconds = {}
#: The connection's fields showing where the orders sync stands, and their column in ``amazon.sync.cursor``.


class AmazonOrderSync(models.AbstractModel):
    """The orders flow's owner: the connections it runs for, its run per connection and its button."""

    _name = "amazon.order.sync"
    _description = "Amazon Orders Synchronization"
    #: The connections the flow's scheduled action triggers a job for (``amazon.sync.job._dispatch_flow``).
    _sync_domain = [("state", "=", "authorized")]

    # ------------------------------------------------------------------ entry points

    @api.model
    def _sync_now(self, account):
        """The "Sync orders now" button: a few pages now, the rest in the background; a notification."""
        Job = self.env["amazon.sync.job"]
        deadline = sync._monotonic() + BUTTON_TIME_BUDGET
        result = self.sudo()._sync_for(account.sudo(), max_pages=BUTTON_MAX_PAGES, deadline=deadline)
        if result["busy"]:
            raise UserError(self.env._(
                "Orders of %s are being synchronized right now: try again in a moment.", account.name))
        if result["retry_at"] or result["more"]:
            Job._trigger(account.sudo(), "orders", at=result["retry_at"])
        if result["error"]:
            message, kind = result["error"], "warning"
        else:
            message = self.env._(
                "Orders read from Amazon: %(orders)s (imported: %(imported)s, in error: %(errors)s).",
                orders=result["orders"], imported=result["counts"].get("imported", 0),
                errors=result["counts"].get("error", 0))
            if result["more"]:
                message += " " + self.env._("More orders are waiting: they are imported in the background.")
            kind = "warning" if result["counts"].get("error") else "success"
        return Job._notification(message, kind, title=self.env._("Amazon orders"), sticky=False)

    @api.model
    def _sync_for(self, account, *, commit=False, deadline=None, max_pages=None):
        """Read orders updated on Amazon since the cursor and import them, page by page.

        ``commit``: commit after each page (True in the scheduled job; a function is called instead of the
        commit, for tests); without it the whole run belongs to the caller's transaction. ``deadline``:
        ``time.monotonic()`` value to stop by (no page started, no wait for Amazon, past it). ``max_pages``:
        pages with orders to import at most. Returns ``amazon.sync.job._result`` with ``pages`` and ``orders``.
        """
        account.ensure_one()
        # reasons and messages stored on the orders are written in the language of the connection's user
        # (the article's "Usuario"), whoever or whatever runs the sync (scheduled actions run as OdooBot)
        account = account.with_context(lang=account.user_id.lang or account.env.lang).sudo()
        self = self.with_env(account.env)
        Job = self.env["amazon.sync.job"]
        result = Job._result()
        result.update(pages=0, orders=0)
        if not self._lock(account):
            result["busy"] = True
            return result
        Orders = self.env["amazon.order"].sudo()
        try:
            api_client = account._spapi(deadline=deadline)
        except (UserError, spapi_errors.SpApiError) as exc:
            self._record_problem(account, exc)
            result["error"] = self._error_text(exc)
            return result
        fetched = {}
        prepared, pinned, prepared_imports = set(), {}, {}

        def step(last_try):
            window = self._window(account)
            if window is None:
                return 0, False
            start, end, token = window
            # the page prepared before the fresh transaction is the same page (same end of window)
            end = pinned.pop((start, token), end)
            # a page tried again after a conflict is not asked from Amazon twice
            page = fetched.pop((start, end, token), None)
            if page is None:
                try:
                    page = self._fetch_page(account, api_client, start, end, token,
                                            size=self._page_size(account, deadline))
                except spapi_errors.SpApiError as exc:
                    self._record_problem(account, exc)
                    result["error"] = str(exc)
                    if isinstance(exc, spapi_errors.RetryLater):
                        result["retry_at"] = Job._retry_at(exc)
                        result["more"] = bool(result["retry_at"])
                    elif isinstance(exc, spapi_errors.BadData) and token:
                        # An expired or refused page token: read the window again from its start.
                        self._write_progress(account, {"orders_next_token": False})
                        result["more"] = True
                    return 0, False
                fetched[(start, end, token)] = page
            if commit is True and not self.env.context.get(SINGLE_TRANSACTION) and (start, end, token) not in prepared:
                # what the page shares with other imports (buyers, taxes) is committed first, then the page
                # starts again in a fresh transaction that sees it (see order_import.prepare_shared_records)
                prepared.add((start, end, token))
                fetched[(start, end, token)] = page
                pinned[(start, token)] = end
                # the page's import goes on with what was decided and mapped there: each order once
                prepared_imports[(start, end, token)] = prepare_shared_records(Orders, account, page.orders)
                return RESTART_PAGE
            began = sync._monotonic()
            # used by one try only: a try that fails leaves records of its rolled-back transaction in it
            order_import = prepared_imports.pop((start, end, token), None)
            importing = Orders.with_context(amazon_record_conflicts=last_try).sudo()
            order_import = (order_import.continue_in(importing, account.sudo()) if order_import
                            else OrderImport(importing, account.sudo()))
            page_orders = [order for order in page.orders if order is not None]
            counts = order_import.import_orders(page_orders) if page_orders else {}
            self._measure(account, len(page.orders), sync._monotonic() - began)
            fetched.clear()
            for state, count in counts.items():
                result["counts"][state] = result["counts"].get(state, 0) + count
            result["pages"] += 1
            result["orders"] += len(page.orders)
            vals = {"orders_last_sync": fields.Datetime.now(), "orders_sync_message": False}
            if page.next_token:
                vals.update(orders_window_start=start, orders_window_end=end, orders_next_token=page.next_token)
            else:
                cursor = end
                if page.last_updated_before:
                    echoed = page.last_updated_before.astimezone(timezone.utc).replace(tzinfo=None)
                    cursor = min(cursor, echoed)
                vals.update(orders_cursor=max(cursor, account.orders_cursor or cursor),
                            orders_window_start=False, orders_window_end=False, orders_next_token=False)
            self._write_progress(account, vals)
            up_to_date = not page.next_token and end >= self._now() - SAFETY_LAG - timedelta(minutes=1)
            return len(page.orders), not up_to_date

        for attempt in Job._pages(account, "orders", result, commit=commit, max_pages=max_pages, deadline=deadline):
            with attempt:
                attempt.answer = step(attempt.last_try)
        if result["busy"]:
            return result
        if not result["error"] and not result["out_of_time"]:
            def retry_step(last_try):
                RetryOrders = Orders.with_context(amazon_record_conflicts=last_try)
                RetryOrders._retry_waiting_for_skus(account)
                RetryOrders._retry_failed_orders(account)
                return 0, False
            Job._page(account, "orders", retry_step, {**result, "counts": {}}, commit=commit is True)
        return result

    @api.model
    def _settings_confirmed(self, account, marketplaces):
        """Orders of these marketplaces that waited in error for their settings are imported now."""
        waiting = self.env["amazon.order"].sudo().search([
            ("account_id", "=", account.id), ("state", "=", "error"), ("marketplace_id", "in", marketplaces.ids),
            ("sale_order_id", "=", False),
        ])
        if waiting and self._lock(account):
            self.env["amazon.order"].sudo()._import_orders(account, [o._payload_order() for o in waiting], force=True)

    # ------------------------------------------------------------------ where a run stands

    @api.model
    def _now(self):
        """Now (naive UTC), the clock windows are computed from."""
        return fields.Datetime.now()

    @api.model
    def _lock(self, account):
        """Take the connection's orders for this transaction; False when another worker has them."""
        return self.env["amazon.sync.job"]._lock(account, "orders")

    @api.model
    def _window(self, account):
        """(start, end, page token) of the reading in progress, or of the next one; None when up to date."""
        account.ensure_one()
        if account.orders_window_start and account.orders_window_end:
            return account.orders_window_start, account.orders_window_end, account.orders_next_token or None
        now = self._now()
        if account.orders_cursor:
            start = account.orders_cursor - OVERLAP
        else:
            start = account.import_start_date or (now - timedelta(days=1))
        end = min(now - SAFETY_LAG, start + MAX_WINDOW)
        if end <= start:
            return None
        return start, end, None

    @api.model
    def _write_progress(self, account, vals):
        """Where a run stands: written by the sync itself on the progress row only (not on the connection's
        row, no chatter message, no reset of the window)."""
        account.ensure_one()
        return self.env["amazon.sync.job"]._cursor(account, "orders").write(
            {ORDERS_PROGRESS[field]: value for field, value in vals.items()})

    @api.model
    def _error_text(self, exc):
        return str(exc.args[0] if isinstance(exc, UserError) and exc.args else exc)

    @api.model
    def _record_problem(self, account, exc):
        _logger.warning("Amazon connection %s: order sync stopped (%s)", account.id, type(exc).__name__)
        self._write_progress(account, {"orders_sync_message": self._error_text(exc)})

    # ------------------------------------------------------------------ pages

    @api.model
    def _page_size(self, account, deadline):
        """Orders to ask Amazon for in the next page: PAGE_SIZE, or fewer when the run's time left (until
        ``deadline``, a ``time.monotonic()`` value) could not hold a whole page. A page longer than Odoo's time
        limit for scheduled jobs would be killed, and a long page keeps its new records locked meanwhile."""
        if deadline is None:
            return PAGE_SIZE
        left = max(self.env["amazon.sync.job"]._time_left(deadline), 0.0)
        per_order = max(_order_seconds.get(account.id, ORDER_SECONDS), 0.001)
        return max(MIN_PAGE_SIZE, min(PAGE_SIZE, int(left * PAGE_TIME_SHARE / per_order)))

    @api.model
    def _measure(self, account, count, seconds):
        """Remember how long an order took (half the last page, half the earlier ones)."""
        if count:
            measured = seconds / count
            previous = _order_seconds.get(account.id)
            _order_seconds[account.id] = measured if previous is None else (previous + measured) / 2

    @api.model
    def _fetch_page(self, account, api_client, start, end, token, size=None):
        """One searchOrders page of ``size`` orders at most. An order Amazon sent that cannot be read becomes a
        :class:`MalformedOrder` (kept in error with the reason) instead of failing the whole page."""
        page = api_client.search_orders_page(last_updated_after=start, last_updated_before=end,
                                             max_results=size or PAGE_SIZE, pagination_token=token,
                                             skip_unreadable=True, marketplace_ids=self._marketplace_ids(account))
        if not page.rejected:
            return page
        malformed = []
        for rejected in page.rejected:
            if not rejected.order_id:
                _logger.error("Amazon connection %s: an order of a page has no id and cannot be recorded",
                              account.id)
                continue
            malformed.append(MalformedOrder(rejected.order_id, rejected.raw, rejected.error))
        return dataclasses.replace(page, orders=page.orders + tuple(malformed), rejected=())

    @api.model
    def _marketplace_ids(self, account):
        """Amazon ids of the marketplaces whose orders are read: every one the connection has, in one call."""
        return account._get_marketplaces().mapped("marketplace_id")
