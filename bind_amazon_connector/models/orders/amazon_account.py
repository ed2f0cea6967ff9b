"""Order synchronization of a connection: the cursor, the scheduled action and the "Sync orders now" button.

Amazon is polled by ``lastUpdatedAfter`` (new orders and status changes) in windows of at most
``MAX_WINDOW``, each ending at least two minutes in the past (Amazon's rule). Each page of ``searchOrders``
is imported and then committed (scheduled action) together with where the run stands: the window and the
next page's token, so a restarted run continues with the next page. The cursor moves to the end of a
window only once every page of it is committed; the next window starts ``OVERLAP`` earlier, and orders
seen twice are recognised (unchanged ones are skipped).
"""
import dataclasses
import logging
from datetime import timedelta, timezone

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL
from odoo.tools.sql import column_exists

from ...spapi import errors as spapi_errors
from ..connection import amazon_sync_job as sync
from ..connection.access import AMAZON_USER, check_group
from ..connection.amazon_sync_job import RESTART_PAGE, SINGLE_TRANSACTION
from .amazon_order import MalformedOrder

_logger = logging.getLogger(__name__)

#: Each run re-reads this much before the cursor, so an order updated while the previous run ended is not missed.
OVERLAP = timedelta(minutes=10)
#: Amazon only answers for updates at least two minutes old; a little margin on top.
SAFETY_LAG = timedelta(minutes=2, seconds=30)
#: Longest period read as one window (a long backlog is read window by window, each committed).
MAX_WINDOW = timedelta(days=7)
#: Pages with orders the "Sync orders now" button imports before handing the rest to the scheduled action
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
MANAGER = "bind_amazon_connector.group_amazon_manager"
#: The Sales tab lists the orders needing attention (up to this many), then this many latest orders.
TAB_ATTENTION_LIMIT = 200
TAB_RECENT_LIMIT = 80
#: The connection's fields showing where the orders sync stands, and their column in ``amazon.sync.cursor``.
ORDERS_PROGRESS = {
    "orders_cursor": "cursor",
    "orders_window_start": "window_start",
    "orders_window_end": "window_end",
    "orders_next_token": "next_token",
    "orders_last_sync": "last_sync",
    "orders_sync_message": "message",
}


class AmazonAccount(models.Model):
    _inherit = "amazon.account"

    # Where the orders sync stands lives in its own row (amazon.sync.cursor, flow "orders"): every page commits
    # it, and on the connection's row it collided with anyone else writing the connection at the same time.
    orders_cursor = fields.Datetime(
        string="Orders synchronized until", copy=False, tracking=True,
        compute="_compute_orders_progress", inverse="_inverse_orders_progress", compute_sudo=True,
        help="Orders updated on Amazon up to this moment are imported. Move it back to read a period again: "
        "orders already imported are not duplicated.",
    )
    # Where the reading in progress stands (resumed after a restart); internal.
    orders_window_start = fields.Datetime(copy=False, readonly=True, groups=MANAGER, compute="_compute_orders_progress",
                                          inverse="_inverse_orders_progress", compute_sudo=True)
    orders_window_end = fields.Datetime(copy=False, readonly=True, groups=MANAGER, compute="_compute_orders_progress",
                                        inverse="_inverse_orders_progress", compute_sudo=True)
    orders_next_token = fields.Char(copy=False, readonly=True, groups=MANAGER, compute="_compute_orders_progress",
                                    inverse="_inverse_orders_progress", compute_sudo=True)
    orders_last_sync = fields.Datetime(string="Last order sync", copy=False, readonly=True,
                                       compute="_compute_orders_progress", inverse="_inverse_orders_progress",
                                       compute_sudo=True)
    orders_sync_message = fields.Text(string="Order sync problem", copy=False, readonly=True,
                                      compute="_compute_orders_progress", inverse="_inverse_orders_progress",
                                      compute_sudo=True)
    amazon_order_ids = fields.One2many("amazon.order", "account_id", string="Amazon Orders")
    amazon_order_tab_ids = fields.Many2many(
        "amazon.order", compute="_compute_amazon_order_tab_ids", string="Orders to look at",
        help="Orders in error or skipped, then the latest ones (all orders: the Amazon Orders button).",
    )
    amazon_order_count = fields.Integer(compute="_compute_amazon_order_counts", string="Orders")
    amazon_order_imported_count = fields.Integer(compute="_compute_amazon_order_counts", string="Imported")
    amazon_order_error_count = fields.Integer(compute="_compute_amazon_order_counts", string="In error")
    amazon_order_skipped_count = fields.Integer(compute="_compute_amazon_order_counts", string="Skipped")
    amazon_order_cancelled_count = fields.Integer(compute="_compute_amazon_order_counts", string="Cancelled")
    fbm_shipment_mode = fields.Selection(
        [("odoo", "Odoo confirms on Amazon"), ("amazon", "Amazon tells Odoo")],
        string="Who ships merchant-fulfilled orders", default="odoo", required=True, tracking=True,
        help="Odoo confirms on Amazon: validating the delivery of a merchant-fulfilled order confirms the package "
        "on Amazon with its carrier and tracking number. Amazon tells Odoo: the seller confirms in Seller Central "
        "(or buys Amazon shipping) and the deliveries are validated when Amazon reports the order shipped.",
    )
    fbm_tracking_policy = fields.Selection(
        [("block", "Ask for carrier and tracking number"),
         ("allow", "Confirm without tracking number when there is none")],
        string="Deliveries without tracking number", default="block", required=True,
        help="Ask: a delivery of a merchant-fulfilled order is validated only with its carrier and tracking "
        "number. Confirm without: the carrier is still required; Amazon may refuse a confirmation without "
        "tracking number for some carriers, the refusal is then shown on the delivery.",
    )

    @api.depends("sync_cursor_ids.flow", "sync_cursor_ids.cursor", "sync_cursor_ids.window_start",
                 "sync_cursor_ids.window_end", "sync_cursor_ids.next_token", "sync_cursor_ids.last_sync",
                 "sync_cursor_ids.message")
    def _compute_orders_progress(self):
        for account in self:
            row = account.sync_cursor_ids.filtered(lambda c: c.flow == "orders")[:1]
            for field, column in ORDERS_PROGRESS.items():
                account[field] = row[column]

    def _inverse_orders_progress(self):
        for account in self:
            if account.id:
                self.env["amazon.sync.job"]._cursor(account, "orders").write({column: account[field]
                                                      for field, column in ORDERS_PROGRESS.items()})

    def _compute_amazon_order_counts(self):
        counts = {
            (account.id, state): count
            for account, state, count in self.env["amazon.order"]._read_group(
                [("account_id", "in", self.ids)], ["account_id", "state"], ["__count"])
        }
        for account in self:
            account.amazon_order_imported_count = counts.get((account.id, "imported"), 0)
            account.amazon_order_error_count = counts.get((account.id, "error"), 0)
            account.amazon_order_skipped_count = counts.get((account.id, "skipped"), 0)
            account.amazon_order_cancelled_count = counts.get((account.id, "cancelled"), 0)
            account.amazon_order_count = sum(c for (a, _s), c in counts.items() if a == account.id)

    def _compute_amazon_order_tab_ids(self):
        Order = self.env["amazon.order"]
        for account in self:
            if not account.id:
                account.amazon_order_tab_ids = Order
                continue
            attention = Order.search([("account_id", "=", account.id), ("state", "in", ("error", "skipped", "new"))],
                                     limit=TAB_ATTENTION_LIMIT)
            recent = Order.search([("account_id", "=", account.id), ("id", "not in", attention.ids)],
                                  limit=TAB_RECENT_LIMIT)
            account.amazon_order_tab_ids = attention | recent

    def _auto_init(self):
        # Connections that existed before Odoo could confirm shipments keep working as they did (Amazon tells
        # Odoo); only new ones default to Odoo confirming on Amazon.
        new_column = not column_exists(self.env.cr, self._table, "fbm_shipment_mode")
        res = super()._auto_init()
        if new_column:
            self.env.cr.execute(SQL("UPDATE amazon_account SET fbm_shipment_mode = 'amazon'"))
        return res

    def write(self, vals):
        if "orders_cursor" in vals and not (self.env.su and self.env.context.get("amazon_sync_internal")):
            # Moving the cursor (back) starts a new reading from there: forget the run in progress.
            vals = dict(vals, orders_window_start=False, orders_window_end=False, orders_next_token=False)
        return super().write(vals)

    # ------------------------------------------------------------------ actions

    def action_sync_orders(self):
        """Import the orders Amazon has for this connection now; a long backlog continues in the background."""
        check_group(self.env, AMAZON_USER, message=_("Only Amazon users can synchronize orders."))
        self.ensure_one()
        self.check_access("read")
        deadline = sync._monotonic() + BUTTON_TIME_BUDGET
        result = self.sudo()._sync_orders(max_pages=BUTTON_MAX_PAGES, deadline=deadline)
        if result["busy"]:
            raise UserError(_("Orders of %s are being synchronized right now: try again in a moment.", self.name))
        if result["retry_at"] or result["more"]:
            self.env["amazon.sync.job"]._trigger(self.sudo(), "orders", at=result["retry_at"])
        if result["error"]:
            message, kind = result["error"], "warning"
        else:
            message = _("Orders read from Amazon: %(orders)s (imported: %(imported)s, in error: %(errors)s).",
                        orders=result["orders"], imported=result["counts"].get("imported", 0),
                        errors=result["counts"].get("error", 0))
            if result["more"]:
                message += " " + _("More orders are waiting: they are imported in the background.")
            kind = "warning" if result["counts"].get("error") else "success"
        return self.env["amazon.sync.job"]._notification(message, kind, title=_("Amazon orders"), sticky=False)

    def action_view_amazon_orders(self):
        check_group(self.env, AMAZON_USER)
        self.ensure_one()
        self.check_access("read")
        action = self.env["ir.actions.act_window"]._for_xml_id("bind_amazon_connector.amazon_order_action")
        action["domain"] = [("account_id", "=", self.id)]
        action["context"] = {"default_account_id": self.id}
        state = self.env.context.get("amazon_order_state")
        if state:
            action["domain"].append(("state", "=", state))
        return action

    @api.model
    def _cron_sync_orders(self):
        """Scheduled action: trigger the orders job of every authorized connection (they run in parallel)."""
        return self.env["amazon.sync.job"]._dispatch("orders", self.sudo().search([("state", "=", "authorized")]))

    # ------------------------------------------------------------------ the synchronization

    def _orders_now(self):
        """Now (naive UTC), the clock windows are computed from."""
        return fields.Datetime.now()

    def _orders_lock(self):
        """Take this connection's orders for this transaction; False when another worker has them."""
        return self.env["amazon.sync.job"]._lock(self, "orders")

    def _orders_window(self):
        """(start, end, page token) of the reading in progress, or of the next one; None when up to date."""
        self.ensure_one()
        if self.orders_window_start and self.orders_window_end:
            return self.orders_window_start, self.orders_window_end, self.orders_next_token or None
        now = self._orders_now()
        if self.orders_cursor:
            start = self.orders_cursor - OVERLAP
        else:
            start = self.import_start_date or (now - timedelta(days=1))
        end = min(now - SAFETY_LAG, start + MAX_WINDOW)
        if end <= start:
            return None
        return start, end, None

    def _sync_run_orders(self, *, commit=False, deadline=None):
        return self._sync_orders(commit=commit, deadline=deadline)

    def _sync_orders(self, *, commit=False, max_pages=None, deadline=None):
        """Read orders updated on Amazon since the cursor and import them, page by page.

        ``commit``: commit after each page (True in the scheduled job; a function is called instead of the
        commit, for tests); without it the whole run belongs to the caller's transaction. ``deadline``:
        ``time.monotonic()`` value to stop by (no page started, no wait for Amazon, past it). Returns the
        result of :meth:`_sync_result` with ``pages`` and ``orders``.
        """
        self.ensure_one()
        # reasons and messages stored on the orders are written in the language of the connection's user
        # (the article's "Usuario"), whoever or whatever runs the sync (scheduled actions run as OdooBot)
        self = self.with_context(lang=self.user_id.lang or self.env.lang)
        account = self.sudo()
        result = self.env["amazon.sync.job"]._result()
        result.update(pages=0, orders=0)
        if not account._orders_lock():
            result["busy"] = True
            return result
        Orders = self.env["amazon.order"].sudo()
        marks = account._orders_before_sync()
        try:
            api_client = account._spapi(deadline=deadline)
        except (UserError, spapi_errors.SpApiError) as exc:
            account._orders_record_problem(exc)
            result["error"] = str(exc.args[0] if isinstance(exc, UserError) and exc.args else exc)
            return result
        fetched = {}
        prepared, pinned = set(), {}

        def step(last_try):
            window = account._orders_window()
            if window is None:
                return 0, False
            start, end, token = window
            # the page prepared before the fresh transaction is the same page (same end of window)
            end = pinned.pop((start, token), end)
            # a page tried again after a conflict is not asked from Amazon twice
            page = fetched.pop((start, end, token), None)
            if page is None:
                try:
                    page = account.with_context(amazon_orders_page_size=account._orders_page_size(deadline)) \
                        ._orders_fetch_page(api_client, start, end, token)
                except spapi_errors.SpApiError as exc:
                    account._orders_record_problem(exc)
                    result["error"] = str(exc)
                    if isinstance(exc, spapi_errors.RetryLater):
                        result["retry_at"] = self.env["amazon.sync.job"]._retry_at(exc)
                        result["more"] = bool(result["retry_at"])
                    elif isinstance(exc, spapi_errors.BadData) and token:
                        # An expired or refused page token: read the window again from its start.
                        account._orders_write_internal({"orders_next_token": False})
                        result["more"] = True
                    return 0, False
                fetched[(start, end, token)] = page
            if commit is True and not self.env.context.get(SINGLE_TRANSACTION) and (start, end, token) not in prepared:
                # what the page shares with other imports (buyers, taxes) is committed first, then the page
                # starts again in a fresh transaction that sees it (see _prepare_shared_records)
                prepared.add((start, end, token))
                fetched[(start, end, token)] = page
                pinned[(start, token)] = end
                Orders._prepare_shared_records(account, page.orders)
                return RESTART_PAGE
            began = sync._monotonic()
            counts = Orders.with_context(amazon_record_conflicts=last_try)._import_orders(account, page.orders)
            account._orders_measure(len(page.orders), sync._monotonic() - began)
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
            account._orders_write_internal(vals)
            up_to_date = not page.next_token and end >= account._orders_now() - SAFETY_LAG - timedelta(minutes=1)
            return len(page.orders), not up_to_date

        self.env["amazon.sync.job"]._pages(account, "orders", step, result, commit=commit, max_pages=max_pages, deadline=deadline)
        if result["busy"]:
            return result
        if not result["error"] and not result["out_of_time"]:
            def retry_step(last_try):
                RetryOrders = Orders.with_context(amazon_record_conflicts=last_try)
                RetryOrders._retry_waiting_for_skus(account)
                RetryOrders._retry_failed_orders(account)
                return 0, False
            self.env["amazon.sync.job"]._page(account, "orders", retry_step, {**result, "counts": {}}, commit=commit is True)
        account._orders_after_sync(result, marks, deadline=deadline)
        return result

    # ------------------------------------------------------------------ hooks for the other flows

    def _orders_before_sync(self):
        """Hook: called once the connection is taken for an orders run; returns marks (a dict) that
        :meth:`_orders_after_sync` receives, so another flow can tell what this run added."""
        return {}

    def _orders_after_sync(self, result, marks, deadline=None):
        """Hook: called at the end of an orders run that held the connection, with its result and the run's
        ``deadline`` (see ``_sync_pages``): what the hook does counts against the same time limit."""

    def _orders_page_size(self, deadline):
        """Orders to ask Amazon for in the next page: PAGE_SIZE, or fewer when the run's time left (until
        ``deadline``, a ``time.monotonic()`` value) could not hold a whole page. A page longer than Odoo's time
        limit for scheduled jobs would be killed, and a long page keeps its new records locked meanwhile."""
        if deadline is None:
            return PAGE_SIZE
        left = max(self.env["amazon.sync.job"]._time_left(deadline), 0.0)
        per_order = max(_order_seconds.get(self.id, ORDER_SECONDS), 0.001)
        return max(MIN_PAGE_SIZE, min(PAGE_SIZE, int(left * PAGE_TIME_SHARE / per_order)))

    def _orders_measure(self, count, seconds):
        """Remember how long an order took (half the last page, half the earlier ones)."""
        if count:
            measured = seconds / count
            previous = _order_seconds.get(self.id)
            _order_seconds[self.id] = measured if previous is None else (previous + measured) / 2

    def _orders_fetch_page(self, api_client, start, end, token):
        """One searchOrders page. An order Amazon sent that cannot be read becomes a :class:`MalformedOrder`
        (kept in error with the reason) instead of failing the whole page."""
        size = self.env.context.get("amazon_orders_page_size") or PAGE_SIZE
        page = api_client.search_orders_page(last_updated_after=start, last_updated_before=end,
                                             max_results=size, pagination_token=token, skip_unreadable=True,
                                             marketplace_ids=self._orders_marketplace_ids())
        if not page.rejected:
            return page
        malformed = []
        for rejected in page.rejected:
            if not rejected.order_id:
                _logger.error("Amazon connection %s: an order of a page has no id and cannot be recorded", self.id)
                continue
            malformed.append(MalformedOrder(rejected.order_id, rejected.raw, rejected.error))
        return dataclasses.replace(page, orders=page.orders + tuple(malformed), rejected=())

    def _orders_marketplace_ids(self):
        """Amazon ids of the marketplaces whose orders are read: every one the connection has, in one call."""
        return self._get_marketplaces().mapped("marketplace_id")

    def _marketplace_settings_confirmed(self, marketplaces):
        """Orders of these marketplaces that waited in error for their settings are imported now."""
        super()._marketplace_settings_confirmed(marketplaces)
        waiting = self.env["amazon.order"].sudo().search([
            ("account_id", "=", self.id), ("state", "=", "error"), ("marketplace_id", "in", marketplaces.ids),
            ("sale_order_id", "=", False),
        ])
        if waiting and self._orders_lock():
            self.env["amazon.order"].sudo()._import_orders(self, [o._payload_order() for o in waiting], force=True)

    def _orders_write_internal(self, vals):
        """Where a run stands: written by the sync itself on the progress row only (not on the connection's
        row, no chatter message, no reset of the window)."""
        self.ensure_one()
        return self.env["amazon.sync.job"]._cursor(self, "orders").write({ORDERS_PROGRESS[field]: value for field, value in vals.items()})

    def _orders_record_problem(self, exc):
        message = str(exc.args[0] if isinstance(exc, UserError) and exc.args else exc)
        _logger.warning("Amazon connection %s: order sync stopped (%s)", self.id, type(exc).__name__)
        self._orders_write_internal({"orders_sync_message": message})
