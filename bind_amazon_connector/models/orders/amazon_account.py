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

from ...spapi import errors as spapi_errors
from ...utils.crashpoints import crashpoint
from .amazon_order import MalformedOrder

_logger = logging.getLogger(__name__)

#: Each run re-reads this much before the cursor, so an order updated while the previous run ended is not missed.
OVERLAP = timedelta(minutes=10)
#: Amazon only answers for updates at least two minutes old; a little margin on top.
SAFETY_LAG = timedelta(minutes=2, seconds=30)
#: Longest period read as one window (a long backlog is read window by window, each committed).
MAX_WINDOW = timedelta(days=7)
#: Pages the "Sync orders now" button imports before handing the rest to the scheduled action.
BUTTON_MAX_PAGES = 3
#: A scheduled run stops starting pages when less time than this is left.
MIN_SECONDS_LEFT = 60
PAGE_SIZE = 100
MANAGER = "bind_amazon_connector.group_amazon_manager"
#: The Sales tab lists the orders needing attention (up to this many), then this many latest orders.
TAB_ATTENTION_LIMIT = 200
TAB_RECENT_LIMIT = 80


class AmazonAccount(models.Model):
    _inherit = "amazon.account"

    orders_cursor = fields.Datetime(
        string="Orders synchronized until", copy=False, tracking=True,
        help="Orders updated on Amazon up to this moment are imported. Move it back to read a period again: "
        "orders already imported are not duplicated.",
    )
    # Where the reading in progress stands (resumed after a restart); internal.
    orders_window_start = fields.Datetime(copy=False, readonly=True, groups=MANAGER)
    orders_window_end = fields.Datetime(copy=False, readonly=True, groups=MANAGER)
    orders_next_token = fields.Char(copy=False, readonly=True, groups=MANAGER)
    orders_last_sync = fields.Datetime(string="Last order sync", copy=False, readonly=True)
    orders_sync_message = fields.Text(string="Order sync problem", copy=False, readonly=True)
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

    def write(self, vals):
        if "orders_cursor" in vals and not self.env.context.get("amazon_sync_internal"):
            # Moving the cursor (back) starts a new reading from there: forget the run in progress.
            vals = dict(vals, orders_window_start=False, orders_window_end=False, orders_next_token=False)
        return super().write(vals)

    # ------------------------------------------------------------------ actions

    def action_sync_orders(self):
        """Import the orders Amazon has for this connection now; a long backlog continues in the background."""
        self.ensure_one()
        if not self.env.user.has_group("bind_amazon_connector.group_amazon_user"):
            raise UserError(_("Only Amazon users can synchronize orders."))
        result = self.sudo()._sync_orders(max_pages=BUTTON_MAX_PAGES)
        if result.get("busy"):
            raise UserError(_("Orders of %s are being synchronized right now: try again in a moment.", self.name))
        if result.get("more"):
            self.env.ref("bind_amazon_connector.ir_cron_amazon_sync_orders").sudo()._trigger()
        if result.get("error"):
            message, kind = result["error"], "warning"
        else:
            message = _("%(orders)s orders read from Amazon: %(imported)s imported, %(errors)s in error.",
                        orders=result["orders"], imported=result["counts"].get("imported", 0),
                        errors=result["counts"].get("error", 0))
            if result.get("more"):
                message += " " + _("More orders are waiting: they are imported in the background.")
            kind = "warning" if result["counts"].get("error") else "success"
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {"type": kind, "title": _("Amazon orders"), "message": message, "sticky": False,
                       "next": {"type": "ir.actions.client", "tag": "soft_reload"}},
        }

    def action_view_amazon_orders(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("bind_amazon_connector.amazon_order_action")
        action["domain"] = [("account_id", "=", self.id)]
        action["context"] = {"default_account_id": self.id}
        state = self.env.context.get("amazon_order_state")
        if state:
            action["domain"].append(("state", "=", state))
        return action

    @api.model
    def _cron_sync_orders(self):
        """Scheduled action: every authorized connection, one at a time, each page committed."""
        accounts = self.sudo().search([("state", "=", "authorized")])
        more = False
        for account in accounts:
            result = account._sync_orders(commit=self._commit_orders_page)
            more = more or bool(result.get("more"))
            if result.get("out_of_time"):
                break
        if more:
            # Tells the scheduler to run again as soon as possible.
            self.env["ir.cron"]._commit_progress(remaining=1)

    @api.model
    def _commit_orders_page(self, processed):
        """THE place where order synchronization commits: after each page, with its cursor (cron only)."""
        return self.env["ir.cron"]._commit_progress(processed)

    # ------------------------------------------------------------------ the synchronization

    def _orders_now(self):
        """Now (naive UTC), the clock windows are computed from."""
        return fields.Datetime.now()

    def _orders_lock(self):
        """Take this connection for this transaction; False when another worker has it."""
        self.ensure_one()
        self.env.cr.execute(SQL(
            "SELECT id FROM amazon_account WHERE id = %s FOR UPDATE SKIP LOCKED", self.id))
        return bool(self.env.cr.fetchone())

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

    def _sync_orders(self, *, commit=None, max_pages=None):
        """Read orders updated on Amazon since the cursor and import them, page by page.

        ``commit(processed) -> seconds left`` is called after each page (scheduled action); without it the
        whole run belongs to the caller's transaction. Returns a dict: ``pages``, ``orders``, ``counts``
        (per state), ``more`` (orders remain), ``busy`` (another worker has the connection), ``error``.
        """
        self.ensure_one()
        # reasons and messages stored on the orders are written in the language of the connection's user
        # (the article's "Usuario"), whoever or whatever runs the sync (scheduled actions run as OdooBot)
        self = self.with_context(lang=self.user_id.lang or self.env.lang)
        account = self.sudo()
        result = {"pages": 0, "orders": 0, "counts": {}, "more": False}
        if not account._orders_lock():
            result["busy"] = True
            return result
        Orders = self.env["amazon.order"].sudo()
        marks = account._orders_before_sync()
        try:
            api_client = account._spapi()
        except (UserError, spapi_errors.SpApiError) as exc:
            account._orders_record_problem(exc)
            result["error"] = str(exc.args[0] if isinstance(exc, UserError) and exc.args else exc)
            return result
        while True:
            window = account._orders_window()
            if window is None:
                break
            start, end, token = window
            try:
                page = account._orders_fetch_page(api_client, start, end, token)
            except spapi_errors.SpApiError as exc:
                account._orders_record_problem(exc)
                result["error"] = str(exc)
                if isinstance(exc, spapi_errors.RetryLater) and exc.retry_after:
                    self.env.ref("bind_amazon_connector.ir_cron_amazon_sync_orders").sudo()._trigger(
                        fields.Datetime.now() + timedelta(seconds=exc.retry_after))
                elif isinstance(exc, spapi_errors.BadData) and token:
                    # An expired or refused page token: read the window again from its start.
                    account._orders_write_internal({"orders_next_token": False})
                    result["more"] = True
                break
            counts = Orders._import_orders(account, page.orders)
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
            crashpoint("orders.page")
            seconds_left = float("inf")
            if commit:
                seconds_left = commit(len(page.orders))
            # A page's records are not needed any more: keep memory flat over a long backlog.
            self.env.invalidate_all()
            if commit and not account._orders_lock():
                break  # another worker took over after the commit: it continues from what is committed
            if not page.next_token and end >= account._orders_now() - SAFETY_LAG - timedelta(minutes=1):
                break  # up to date
            if (max_pages and result["pages"] >= max_pages) or seconds_left < MIN_SECONDS_LEFT:
                result["more"] = True
                result["out_of_time"] = seconds_left < MIN_SECONDS_LEFT
                break
        if not result.get("error"):
            Orders._retry_waiting_for_skus(account)
            Orders._retry_failed_orders(account)
        account._orders_after_sync(result, marks)
        return result

    # ------------------------------------------------------------------ hooks for the other flows

    def _orders_before_sync(self):
        """Hook: called once the connection is taken for an orders run; returns marks (a dict) that
        :meth:`_orders_after_sync` receives, so another flow can tell what this run added."""
        return {}

    def _orders_after_sync(self, result, marks):
        """Hook: called at the end of an orders run that held the connection, with its result."""

    def _orders_fetch_page(self, api_client, start, end, token):
        """One searchOrders page. An order Amazon sent that cannot be read becomes a :class:`MalformedOrder`
        (kept in error with the reason) instead of failing the whole page."""
        page = api_client.search_orders_page(last_updated_after=start, last_updated_before=end,
                                             max_results=PAGE_SIZE, pagination_token=token, skip_unreadable=True)
        if not page.rejected:
            return page
        malformed = []
        for rejected in page.rejected:
            if not rejected.order_id:
                _logger.error("Amazon connection %s: an order of a page has no id and cannot be recorded", self.id)
                continue
            malformed.append(MalformedOrder(rejected.order_id, rejected.raw, rejected.error))
        return dataclasses.replace(page, orders=page.orders + tuple(malformed), rejected=())

    def _orders_write_internal(self, vals):
        """Where a run stands: written by the sync itself (no chatter message, no reset of the window)."""
        return self.with_context(amazon_sync_internal=True, tracking_disable=True).write(vals)

    def _orders_record_problem(self, exc):
        message = str(exc.args[0] if isinstance(exc, UserError) and exc.args else exc)
        _logger.warning("Amazon connection %s: order sync stopped (%s)", self.id, type(exc).__name__)
        self._orders_write_internal({"orders_sync_message": message})
