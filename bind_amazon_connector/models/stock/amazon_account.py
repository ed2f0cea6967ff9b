"""Stock to Amazon: the article's "Update stock on Amazon" toggle, and more.

- After an Amazon sale (the toggle on): the moves of its delivery in the connection's warehouse note the
  products; their merchant-fulfilled listings get the available quantity right after the order import.
- "Also after any stock change" (off by default): receipts, adjustments and other channels' sales in that
  warehouse do the same; the scheduled action sends them every few minutes.
- "Push stock now": every mapped merchant-fulfilled listing.

Available quantity = on hand - reserved in the warehouse's stock location and its children, never below
zero, rounded down to a whole number, minus the connection's safety buffer, never below zero. Pending
pushes are coalesced per listing (see ``amazon_stock_push.py``): one patchListingsItem call per listing
with the quantity of the moment, none when Amazon already has it. Calls are paced by the SP-API layer
(usage plan of patchListingsItem: 5 per second, burst 5).
"""
import dataclasses
import logging
import math

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, float_round

from ...spapi import SpApi
from ...spapi import errors as spapi_errors
from ...spapi.pacing import CallSpacer
from ..connection.access import AMAZON_USER, check_group
from ..connection.amazon_sync_job import is_concurrency_error
from .amazon_listing import DEFAULT_PRODUCT_TYPE
from .amazon_stock_push import flush_stock_changes

_logger = logging.getLogger(__name__)

#: Listings handled between two commits of the scheduled action.
BATCH_SIZE = 100
#: Listings "Push stock now" sends while the user waits; the scheduled action sends the rest.
BUTTON_LIMIT = 25
#: Listings sent right after an order import (the ones its sales changed); the scheduled action sends the rest.
AFTER_IMPORT_LIMIT = 50
#: ... only when the import's run has this much time left (a call may wait for Amazon 30 s, plus a retry).
AFTER_IMPORT_MIN_SECONDS = 45
PATCH = "patchListingsItem"


class AmazonAccount(models.Model):
    _inherit = "amazon.account"

    push_stock_on_any_change = fields.Boolean(
        string="Also after any stock change",
        help="Besides Amazon sales, send the quantity after every other stock change of a mapped product in "
        "the warehouse: receipts, inventory adjustments, other channels' sales and deliveries.",
    )
    stock_buffer = fields.Integer(
        string="Safety Buffer",
        help="Units kept back from Amazon: each listing gets the available quantity minus this (never below 0).",
    )
    # on the flow's own progress row (amazon.sync.cursor): written on the connection's row it failed whenever
    # another flow or a person wrote the connection at the same time
    stock_push_message = fields.Text(
        string="Stock Sync Problem", copy=False, readonly=True, compute="_compute_stock_push_message",
        compute_sudo=True,
        help="Why the last sending of quantities to Amazon stopped; cleared by the next run that works.",
    )
    stock_last_sent_date = fields.Datetime(
        string="Last Quantity Sent", compute="_compute_stock_push_counts",
        help="When Amazon last accepted a quantity of this connection's listings.",
    )
    stock_push_pending_count = fields.Integer(
        string="Waiting to Be Sent", compute="_compute_stock_push_counts",
        help="Listings with a stock change not sent to Amazon yet.",
    )
    stock_push_failed_count = fields.Integer(
        string="Not Taken by Amazon", compute="_compute_stock_push_counts",
        help="Listings whose last quantity Amazon refused or could not receive: tried again with backoff.",
    )

    _stock_buffer_positive = models.Constraint(
        "CHECK(stock_buffer >= 0)", "The safety buffer cannot be negative."
    )

    def _compute_stock_push_counts(self):
        pending, failed, last_sent = {}, {}, {}
        ids = [i for i in self.ids if i]
        if ids:
            self.env["amazon.stock.push"].flush_model()
            self.env.cr.execute(SQL(
                "SELECT account_id, count(DISTINCT listing_id) FROM amazon_stock_push WHERE account_id = ANY(%s) "
                "GROUP BY account_id", ids))
            pending = dict(self.env.cr.fetchall())
            failed = {
                account.id: count for account, count in self.env["amazon.listing"].sudo()._read_group(
                    [("account_id", "in", ids), ("stock_push_state", "in", ("retry", "refused"))],
                    ["account_id"], ["__count"])
            }
            last_sent = {
                account.id: date for account, date in self.env["amazon.listing"].sudo()._read_group(
                    [("account_id", "in", ids), ("stock_sent_date", "!=", False)],
                    ["account_id"], ["stock_sent_date:max"])
            }
        for account in self:
            account.stock_push_pending_count = pending.get(account.id, 0)
            account.stock_push_failed_count = failed.get(account.id, 0)
            account.stock_last_sent_date = last_sent.get(account.id, False)

    def write(self, vals):
        # A new buffer or warehouse changes every quantity: send them all (when sending is on).
        resend = {"stock_buffer", "warehouse_id"} & set(vals)
        before = {a.id: (a.stock_buffer, a.warehouse_id.id) for a in self} if resend else {}
        res = super().write(vals)
        if resend:
            changed = self.filtered(lambda a: before[a.id] != (a.stock_buffer, a.warehouse_id.id)
                                    and a._stock_auto_push("sale"))
            for account in changed:
                account._enqueue_stock_push(account._stock_listings().product_id)
        return res

    # ------------------------------------------------------------------ what is sent, and when

    def _stock_auto_push(self, kind):
        """Whether stock changes of ``kind`` ("sale": an Amazon sale; "any": any stock change) are sent."""
        self.ensure_one()
        if not (self.active and self.update_stock_on_amazon and self.warehouse_id):
            return False
        return kind == "sale" or self.push_stock_on_any_change

    def _stock_listings(self):
        """The connection's mapped merchant-fulfilled listings (the sold-both-ways ones are filtered later)."""
        self.ensure_one()
        return self.env["amazon.listing"].sudo().search([
            ("account_id", "=", self.id), ("fulfillment_channel", "=", "merchant"), ("product_id", "!=", False),
            ("marketplace_id", "in", self._get_marketplaces().ids),
        ])

    def _enqueue_stock_push(self, products, force=False):
        """Queue the quantity of ``products`` for their merchant-fulfilled listings on this connection.

        For the orders import (call it after an import) and any code that changes stock behind Odoo's moves.
        Without ``force`` nothing is queued unless the connection's "Update stock on Amazon" is on. Returns
        the number of listings queued; they are sent right after the order import, else by the scheduled action.
        """
        self.ensure_one()
        if not products or not (force or self._stock_auto_push("sale")):
            return 0
        Push = self.env["amazon.stock.push"].sudo()
        if force:
            listings = self._stock_listings().filtered(lambda lst: lst.product_id in products)
            return Push._enqueue_listings(listings, forced=True)
        return Push._enqueue_changes({(self.id, product_id) for product_id in products.ids}, ())

    def _stock_available_quantities(self, products):
        """``{product id: whole quantity to offer on Amazon}`` in the connection's warehouse (see module doc)."""
        self.ensure_one()
        quantities = dict.fromkeys(products.ids, 0)
        stock_location = self.warehouse_id.lot_stock_id
        if not products or not stock_location:
            return quantities
        groups = self.env["stock.quant"].sudo()._read_group(
            [("product_id", "in", products.ids), ("location_id", "child_of", stock_location.id)],
            ["product_id"], ["quantity:sum", "reserved_quantity:sum"],
        )
        buffer = max(self.stock_buffer, 0)
        for product, on_hand, reserved in groups:
            # 6 decimals first, so that 2.9999999 of float sums counts as 3, then whole units only
            free = math.floor(float_round((on_hand or 0.0) - (reserved or 0.0), precision_digits=6))
            quantities[product.id] = max(max(free, 0) - buffer, 0)
        return quantities

    # ------------------------------------------------------------------ sending

    def _stock_lock(self):
        """Take the sending of this connection's stock for this transaction; False when another worker has it."""
        return self.env["amazon.sync.job"]._lock(self, "stock")

    def _sync_run_stock(self, *, commit=False, deadline=None):
        return self._push_stock(commit=commit, deadline=deadline)

    def _push_stock(self, *, commit=False, limit=None, listing_ids=None, after_row_id=None, interactive=False,
                    deadline=None):
        """Send the due pending quantities of this connection to Amazon.

        ``commit``: commit after each batch (True in the scheduled job); without it the run belongs to the
        caller's transaction. ``limit``: at most this many listings (the rest stays queued).
        ``listing_ids``: only these listings; ``after_row_id``: only listings queued since that row.
        ``interactive``: a person waits (short waits, few retries). ``deadline``: see :meth:`_sync_pages`.
        Returns the result of :meth:`_sync_result`, counting sent, unchanged, refused, retry and skipped.
        """
        self.ensure_one()
        account = self.sudo()
        flush_stock_changes(self.env)
        result = self.env["amazon.sync.job"]._result(sent=0, unchanged=0, refused=0, retry=0, skipped=0)
        if not account._stock_lock():
            result["busy"] = True
            return result
        Push = self.env["amazon.stock.push"].sudo()
        due = Push._due(account, fields.Datetime.now(), listing_ids=listing_ids, after_row_id=after_row_id)
        if not due:
            return result
        if limit and len(due) > limit:
            due, result["more"] = due[:limit], True
        if not account.warehouse_id:
            result["error"] = _("Choose the connection's warehouse: its stock is what Amazon is sent.")
            account._stock_write_status(result["error"])
            return result
        try:
            api_client = account._spapi(interactive=interactive, deadline=deadline)
        except (UserError, spapi_errors.SpApiError) as exc:
            result["error"] = str(exc.args[0] if isinstance(exc, UserError) and exc.args else exc)
            account._stock_write_status(result["error"])
            return result
        spacer = CallSpacer()
        batches = [due[start:start + BATCH_SIZE] for start in range(0, len(due), BATCH_SIZE)]
        limited = result["more"]

        def step(last_try):
            batch = batches.pop(0)
            stop = account._push_stock_batch(api_client, batch, result, spacer)
            if stop:
                # "more": only the pacing stopped (a person waits, or the job's time is up): the job goes on
                # soon. "stop": Amazon cannot be used now: the listings stay queued for the next run.
                result["more"] = limited or stop == "more"
                return len(batch), False
            return len(batch), bool(batches)

        self.env["amazon.sync.job"]._pages(account, "stock", step, result, commit=commit, deadline=deadline)
        # on the connection's row, which other flows also write: a conflict is retried like a page
        self.env["amazon.sync.job"]._page(account, "stock", lambda last_try: (account._stock_write_status(result["error"]), (0, False))[1],
                           {**result, "counts": {}}, commit=commit is True)
        _logger.info("Amazon connection %s: stock sync %s", account.id, result["counts"])
        return result

    def _push_stock_batch(self, api_client, due, result, spacer):
        """Send one batch of ``(listing id, row ids, forced)``. Returns False to go on, "stop" when Amazon
        cannot be used now (unreachable, throttled, authorization), "more" when only the pacing stopped it."""
        Push = self.env["amazon.stock.push"].sudo()
        Listing = self.env["amazon.listing"].sudo().with_context(active_test=False)
        rows = {listing_id: (row_ids, forced) for listing_id, row_ids, forced in due}
        listings = Listing.browse([listing_id for listing_id, _r, _f in due]).exists()
        eligible, others = listings._stock_eligible()
        done_rows = [r for lst in others for r in rows[lst.id][0]]
        postponed_rows = []
        result["counts"]["skipped"] += len(others)
        quantities = self._stock_available_quantities(eligible.product_id)
        apis = {self.marketplace_id: api_client}
        try:
            for listing in eligible:
                row_ids, forced = rows[listing.id]
                quantity = quantities[listing.product_id.id]
                now = fields.Datetime.now()
                if not listing._stock_needs_push(quantity, forced=forced):
                    listing._stock_up_to_date()
                    done_rows += row_ids
                    result["counts"]["unchanged"] += 1
                    continue
                listing_api = apis.get(listing.marketplace_id)
                if listing_api is None:
                    # A listing of another marketplace of the connection: same seller, same usage plan.
                    config = dataclasses.replace(api_client.config,
                                                 marketplace_id=listing.marketplace_id.marketplace_id)
                    listing_api = apis[listing.marketplace_id] = SpApi(config, pacer=api_client.pacer,
                                                                       deadline=api_client.deadline)
                calls_before = listing_api.stats[PATCH].calls
                try:
                    spacer.wait(listing_api, PATCH)
                    answer, reason = self._stock_send(listing_api, listing, quantity)
                except spapi_errors.RetryLater as exc:
                    if listing_api.stats[PATCH].calls == calls_before:
                        return "more"  # only our pacing would wait too long: nothing failed, the rest stays queued
                    listing._stock_failed("retry", str(exc), now, exc.retry_after)
                    postponed_rows += row_ids
                    result["counts"]["retry"] += 1
                    result["error"] = str(exc)
                    return "stop"
                except (spapi_errors.AuthorizationError, spapi_errors.ConfigurationError) as exc:
                    listing._stock_failed("retry", str(exc), now)
                    postponed_rows += row_ids
                    result["counts"]["retry"] += 1
                    result["error"] = str(exc)
                    return "stop"
                except spapi_errors.NotFound:
                    answer, reason = None, _(
                        "Amazon no longer has the listing %(sku)s in this marketplace: it may have been deleted or "
                        "its SKU changed.", sku=listing.seller_sku)
                except spapi_errors.BadData as exc:
                    answer, reason = None, _("Amazon refused the quantity %(qty)s: %(error)s", qty=quantity, error=exc)
                if answer is not None and answer.accepted:
                    listing._stock_accepted(quantity, now)
                    done_rows += row_ids
                    result["counts"]["sent"] += 1
                    continue
                listing._stock_failed("refused", reason or self._stock_refusal_text(answer, quantity), now)
                postponed_rows += row_ids
                result["counts"]["refused"] += 1
            return False
        finally:
            Push._done(done_rows)
            Push._postpone(postponed_rows)

    def _stock_send(self, api_client, listing, quantity):
        """Send one quantity. Returns (Amazon's answer, refusal reason or None).

        Sent with the listing's product type, else the generic PRODUCT; when Amazon refuses PRODUCT, the
        listing is read once to learn its product type (and the patch sent again with it), or to find that
        Amazon fulfils it (FBA), which is then never patched.
        """
        product_type = listing.amazon_product_type or DEFAULT_PRODUCT_TYPE
        answer = api_client.patch_listing_quantity(listing.seller_sku, quantity, product_type)
        if answer.accepted or listing.amazon_product_type:
            return answer, None
        try:
            item = api_client.get_listings_item(listing.seller_sku,
                                                included_data=("summaries", "fulfillmentAvailability"))
        except spapi_errors.SpApiError:
            return answer, None  # Amazon's refusal of the patch says enough
        fba = [fa.channel_code for fa in item.fulfillment_availability if fa.channel_code != "DEFAULT"]
        if fba:
            return answer, _(
                "Amazon fulfils this SKU (%(channels)s): its quantity is Amazon's and Odoo does not send it. "
                "Import the listings again so that it shows as Fulfillment by Amazon.", channels=", ".join(fba))
        learned = item.product_type
        if learned:
            listing._stock_write({"amazon_product_type": learned})
            if learned != DEFAULT_PRODUCT_TYPE:
                answer = api_client.patch_listing_quantity(listing.seller_sku, quantity, learned)
        return answer, None

    def _stock_refusal_text(self, answer, quantity):
        issues = [i for i in answer.issues if i.severity == "ERROR"] or list(answer.issues)
        if not issues:
            return _("Amazon answered %(status)s to the quantity %(qty)s, without a reason.",
                     status=answer.status, qty=quantity)
        return _("Amazon refused the quantity %(qty)s: %(issues)s", qty=quantity,
                 issues="; ".join(f"{i.message} ({i.code})" for i in issues))

    @api.depends("sync_cursor_ids.flow", "sync_cursor_ids.message")
    def _compute_stock_push_message(self):
        for account in self:
            account.stock_push_message = account.sync_cursor_ids.filtered(lambda c: c.flow == "stock")[:1].message

    def _stock_write_status(self, message):
        """Show (or clear) the problem of the last run, on the stock flow's progress row; written only when it
        changes."""
        message = message or False
        for account in self.sudo():
            if account.stock_push_message != message:
                self.env["amazon.sync.job"]._cursor(account, "stock").write({"message": message})

    # ------------------------------------------------------------------ after each order import

    def _orders_before_sync(self):
        marks = super()._orders_before_sync()
        self.env["amazon.stock.push"].flush_model()
        self.env.cr.execute("SELECT COALESCE(max(id), 0) FROM amazon_stock_push")
        marks["stock_push_last_row"] = self.env.cr.fetchone()[0]
        return marks

    def _orders_after_sync(self, result, marks, deadline=None):
        """Right after the orders import, send the quantities its sales changed."""
        super()._orders_after_sync(result, marks, deadline=deadline)
        if self._stock_auto_push("sale"):
            if deadline is not None and self.env["amazon.sync.job"]._time_left(deadline) < AFTER_IMPORT_MIN_SECONDS:
                # the import used its time: one slow answer of Amazon would take the job past Odoo's limit
                self.env["amazon.sync.job"]._trigger(self, "stock")
                return
            # In the import's transaction (its pages are already committed by the scheduled action): the
            # listings queued by this import, a few at most, no commit here; the scheduled action sends the
            # rest. A failure leaves the import alone, shows on the connection, and the quantities stay queued.
            try:
                with self.env.cr.savepoint():
                    pushed = self._push_stock(after_row_id=marks["stock_push_last_row"], limit=AFTER_IMPORT_LIMIT,
                                              deadline=deadline)
                if pushed["more"] or pushed["busy"]:
                    self.env["amazon.sync.job"]._trigger(self, "stock")
            except Exception as exc:  # recorded on the connection, see above
                if is_concurrency_error(exc):
                    # another run of this connection's stock moved meanwhile: the queue keeps the quantities
                    _logger.info("Amazon connection %s: stock after the order import left to the scheduled "
                                 "action (%s)", self.id, exc)
                    self.env["amazon.sync.job"]._trigger(self, "stock")
                    return
                _logger.exception("Amazon connection %s: sending stock after the order import failed", self.id)
                try:
                    with self.env.cr.savepoint():
                        self._stock_write_status(_("Sending stock after the order import failed: %s", exc))
                except Exception as status_exc:  # noqa: BLE001 - the import must not fail for its note
                    _logger.info("Amazon connection %s: stock problem not recorded (%s)", self.id, status_exc)

    # ------------------------------------------------------------------ buttons and scheduled action

    def action_push_stock_now(self):
        """"Push stock now": every mapped merchant-fulfilled listing; a few now, the rest in the background."""
        check_group(self.env, AMAZON_USER, message=_("Only Amazon users can send stock to Amazon."))
        self.ensure_one()
        self.check_access("read")
        if not self.warehouse_id:
            raise UserError(_("Choose the connection's warehouse first: its stock is what Amazon is sent."))
        return self._stock_push_notification([self._stock_push_now(self._stock_listings())])

    def _stock_push_now(self, listings):
        """Queue ``listings`` (forced) and send up to BUTTON_LIMIT of them now; the scheduled action the rest."""
        self.ensure_one()
        account = self.sudo()
        queued = self.env["amazon.stock.push"].sudo()._enqueue_listings(listings, forced=True)
        result = account._push_stock(limit=BUTTON_LIMIT, listing_ids=listings.ids, interactive=True)
        if result["more"] or result["busy"]:
            self.env["amazon.sync.job"]._trigger(account, "stock")
        result.update(account=account, queued=queued)
        return result

    @api.model
    def _stock_push_notification(self, results):
        messages, kind = [], "success"
        for result in results:
            counts = result["counts"]
            text = _("%(name)s: %(sent)s quantities sent, %(unchanged)s already up to date on Amazon, "
                     "%(refused)s refused, %(skipped)s not sent.",
                     name=result["account"].name, sent=counts["sent"], unchanged=counts["unchanged"],
                     refused=counts["refused"], skipped=counts["skipped"])
            if result["more"] or result["busy"]:
                text += " " + _("The others are sent in the background within a few minutes.")
            if result["error"]:
                text += " " + result["error"]
                kind = "warning"
            if counts["refused"] or counts["retry"]:
                kind = "warning"
            messages.append(text)
        return self.env["amazon.sync.job"]._notification("\n".join(messages), kind, title=_("Stock sent to Amazon"),
                                       sticky=kind != "success")

    def action_view_stock_failures(self):
        check_group(self.env, AMAZON_USER)
        self.ensure_one()
        self.check_access("read")
        action = self.env["ir.actions.act_window"]._for_xml_id("bind_amazon_connector.amazon_listing_action")
        action["domain"] = [("account_id", "=", self.id), ("stock_push_state", "in", ("retry", "refused"))]
        action["context"] = {"default_account_id": self.id}
        return action

    @api.model
    def _cron_push_stock(self):
        """Every few minutes: trigger the stock job of each connection with quantities waiting to be sent."""
        flush_stock_changes(self.env)
        self.env["amazon.stock.push"].flush_model()
        self.env.cr.execute("SELECT DISTINCT account_id FROM amazon_stock_push")
        accounts = self.sudo().browse([r[0] for r in self.env.cr.fetchall()]).filtered(
            lambda a: a.active and a.state == "authorized")
        return self.env["amazon.sync.job"]._dispatch("stock", accounts.sorted("id"))
