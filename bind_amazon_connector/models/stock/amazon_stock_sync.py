"""Stock to Amazon: the article's "Update stock on Amazon" toggle, and more.

- After an Amazon sale (the toggle on): the moves of its delivery in the connection's warehouse leave the
  products' listings in ``amazon.stock.push`` and wake the connection's stock job, which sends their
  available quantity (``stock_move.py``, ``amazon_stock_push.py``).
- "Also after any stock change" (off by default): receipts, adjustments and other channels' sales in that
  warehouse do the same; the scheduled action sends them every few minutes.
- "Push stock now": every mapped merchant-fulfilled listing.

Available quantity = on hand - reserved in the warehouse's stock location and its children, never below
zero, rounded down to a whole number, minus the connection's safety buffer, never below zero. Pending
pushes are coalesced per listing (see ``amazon_stock_push.py``): one patchListingsItem call per listing
with the quantity of the moment, none when Amazon already has it. Calls are paced by the SP-API layer
(usage plan of patchListingsItem: 5 per second, burst 5). A failed push waits (backoff on the listing), and
the stock job is woken when the wait ends.
"""
import dataclasses
import logging
import math
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, float_round

from ...spapi import SpApi
from ...spapi import errors as spapi_errors
from ...spapi.pacing import CallSpacer
from .amazon_stock_push import flush_stock_changes

_logger = logging.getLogger(__name__)

#: Listings handled between two commits of the scheduled action.
BATCH_SIZE = 100
#: Listings "Push stock now" sends while the user waits; the scheduled action sends the rest.
BUTTON_LIMIT = 25
PATCH = "patchListingsItem"
#: Sent when the listing's product type is not known: Amazon accepts it for offer-only attributes such as
#: the merchant quantity (and the product type is learned from Amazon when it refuses it).
DEFAULT_PRODUCT_TYPE = "PRODUCT"
#: Backoff of failed pushes: the first retry after RETRY_BASE when Amazon could not be used (throttled, no
#: answer, a server error: usually gone a minute later, and a stale quantity is what oversells) or after
#: REFUSED_BASE when Amazon refused the quantity; doubling at each failure, at most RETRY_MAX.
RETRY_BASE = timedelta(minutes=1)
REFUSED_BASE = timedelta(minutes=5)
RETRY_MAX = timedelta(hours=6)


class AmazonStockSync(models.AbstractModel):
    """The stock flow: the quantities waiting in amazon.stock.push sent to Amazon."""

    _name = "amazon.stock.sync"
    _description = "Amazon Stock Synchronization"
    #: The connections the flow's scheduled action triggers a job for (``amazon.sync.job._dispatch_flow``):
    #: every few minutes, each connection with quantities waiting to be sent.
    _sync_domain = [("state", "=", "authorized"), ("stock_push_ids", "!=", False)]

    # ------------------------------------------------------------------ entry points

    @api.model
    def _sync_for(self, account, *, commit=False, deadline=None):
        """One run of the flow for ``account``: the due quantities sent (see :meth:`_push_stock`)."""
        return self._push_stock(account, commit=commit, deadline=deadline)

    @api.model
    def _push_all_now(self, account):
        """The connection's "Push stock now" button: every mapped merchant-fulfilled listing (see _push_now)."""
        if not account.warehouse_id:
            raise UserError(_("Choose the connection's warehouse first: its stock is what Amazon is sent."))
        return self._push_notification([self._push_now(account, self._listings_to_push(account))])

    @api.model
    def _push_now(self, account, listings):
        """Queue ``listings`` (forced) and send up to BUTTON_LIMIT of them now; the stock job sends the rest."""
        account = account.sudo()
        queued = self.env["amazon.stock.push"].sudo()._enqueue_listings(listings, forced=True)
        result = self._push_stock(account, limit=BUTTON_LIMIT, listing_ids=listings.ids, interactive=True)
        if result["more"] or result["busy"]:
            self.env["amazon.sync.job"]._trigger(account, "stock")
        result.update(account=account, queued=queued)
        return result

    @api.model
    def _push_notification(self, results):
        """What the buttons show: per connection, what was sent, and what was not."""
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

    # ------------------------------------------------------------------ what is sent, and when

    @api.model
    def _auto_push(self, account, kind):
        """Whether stock changes of ``kind`` ("sale": an Amazon sale; "any": any stock change) are sent."""
        account.ensure_one()
        if not (account.active and account.update_stock_on_amazon and account.warehouse_id):
            return False
        return kind == "sale" or account.push_stock_on_any_change

    @api.model
    def _listings_to_push(self, account):
        """The connection's mapped merchant-fulfilled listings (the sold-both-ways ones are filtered later)."""
        account.ensure_one()
        return self.env["amazon.listing"].sudo().search([
            ("account_id", "=", account.id), ("fulfillment_channel", "=", "merchant"), ("product_id", "!=", False),
            ("marketplace_id", "in", account._get_marketplaces().ids),
        ])

    @api.model
    def _enqueue_products(self, account, products, force=False):
        """Queue the quantity of ``products`` for their merchant-fulfilled listings on ``account``.

        For code that changes stock behind Odoo's moves. Without ``force`` nothing is queued unless the
        connection's "Update stock on Amazon" is on. Returns the number of listings queued; the stock job
        sends them.
        """
        account.ensure_one()
        if not products or not (force or self._auto_push(account, "sale")):
            return 0
        Push = self.env["amazon.stock.push"].sudo()
        if force:
            listings = self._listings_to_push(account).filtered(lambda lst: lst.product_id in products)
            return Push._enqueue_listings(listings, forced=True)
        return Push._enqueue_changes({(account.id, product_id) for product_id in products.ids}, ())

    @api.model
    def _settings_changed(self, accounts):
        """A new buffer or warehouse changes every quantity: all are queued (when sending is on)."""
        for account in accounts:
            if self._auto_push(account, "sale"):
                self._enqueue_products(account, self._listings_to_push(account).product_id)

    @api.model
    def _available_quantities(self, account, products):
        """``{product id: whole quantity to offer on Amazon}`` in the connection's warehouse (see module doc)."""
        account.ensure_one()
        quantities = dict.fromkeys(products.ids, 0)
        stock_location = account.warehouse_id.lot_stock_id
        if not products or not stock_location:
            return quantities
        groups = self.env["stock.quant"].sudo()._read_group(
            [("product_id", "in", products.ids), ("location_id", "child_of", stock_location.id)],
            ["product_id"], ["quantity:sum", "reserved_quantity:sum"],
        )
        buffer = max(account.stock_buffer, 0)
        for product, on_hand, reserved in groups:
            # 6 decimals first, so that 2.9999999 of float sums counts as 3, then whole units only
            free = math.floor(float_round((on_hand or 0.0) - (reserved or 0.0), precision_digits=6))
            quantities[product.id] = max(max(free, 0) - buffer, 0)
        return quantities

    # ------------------------------------------------------------------ sending

    @api.model
    def _push_stock(self, account, *, commit=False, limit=None, listing_ids=None, interactive=False,
                    deadline=None):
        """Send the due pending quantities of ``account`` to Amazon.

        ``commit``: commit after each batch (True in the scheduled job); without it the run belongs to the
        caller's transaction. ``limit``: at most this many listings (the rest stays queued).
        ``listing_ids``: only these listings. ``interactive``: a person waits (short waits, few retries).
        ``deadline``: see ``amazon.sync.job._pages``. Returns the result of ``amazon.sync.job._result``,
        counting sent, unchanged, refused, retry and skipped.
        """
        account.ensure_one()
        account = account.sudo()
        Job = self.env["amazon.sync.job"]
        flush_stock_changes(self.env)
        result = Job._result(sent=0, unchanged=0, refused=0, retry=0, skipped=0)
        if not Job._lock(account, "stock"):
            result["busy"] = True
            return result
        Push = self.env["amazon.stock.push"].sudo()
        due = Push._due(account, fields.Datetime.now(), listing_ids=listing_ids)
        if not due:
            return result
        if limit and len(due) > limit:
            due, result["more"] = due[:limit], True
        if not account.warehouse_id:
            result["error"] = _("Choose the connection's warehouse: its stock is what Amazon is sent.")
            self._write_problem(account, result["error"])
            return result
        try:
            api_client = account._spapi(interactive=interactive, deadline=deadline)
        except (UserError, spapi_errors.SpApiError) as exc:
            result["error"] = str(exc.args[0] if isinstance(exc, UserError) and exc.args else exc)
            self._write_problem(account, result["error"])
            return result
        spacer = CallSpacer()
        batches = [due[start:start + BATCH_SIZE] for start in range(0, len(due), BATCH_SIZE)]
        limited = result["more"]

        def step(last_try):
            batch = batches.pop(0)
            stop = self._push_batch(account, api_client, batch, result, spacer)
            if stop:
                # "more": only the pacing stopped (a person waits, or the job's time is up): the job goes on
                # soon. "stop": Amazon cannot be used now: the listings stay queued for the next run.
                result["more"] = limited or stop == "more"
                return len(batch), False
            return len(batch), bool(batches)

        def finish(last_try):
            self._write_problem(account, result["error"])
            self._wake_at_next_attempt(account)
            return 0, False

        for attempt in Job._pages(account, "stock", result, commit=commit, deadline=deadline):
            with attempt:
                attempt.answer = step(attempt.last_try)
        # on the flow's progress row and the job's triggers: a conflict is retried like a page
        Job._page(account, "stock", finish, {**result, "counts": {}}, commit=commit is True)
        _logger.info("Amazon connection %s: stock sync %s", account.id, result["counts"])
        return result

    @api.model
    def _push_batch(self, account, api_client, due, result, spacer):
        """Send one batch of ``(listing id, row ids, forced)``. Returns False to go on, "stop" when Amazon
        cannot be used now (unreachable, throttled, authorization), "more" when only the pacing stopped it."""
        Push = self.env["amazon.stock.push"].sudo()
        Listing = self.env["amazon.listing"].sudo().with_context(active_test=False)
        rows = {listing_id: (row_ids, forced) for listing_id, row_ids, forced in due}
        listings = Listing.browse([listing_id for listing_id, _r, _f in due]).exists()
        eligible, others = self._split_eligible(listings)
        done_rows = [r for lst in others for r in rows[lst.id][0]]
        postponed_rows = []
        result["counts"]["skipped"] += len(others)
        quantities = self._available_quantities(account, eligible.product_id)
        apis = {account.marketplace_id: api_client}
        try:
            for listing in eligible:
                row_ids, forced = rows[listing.id]
                quantity = quantities[listing.product_id.id]
                now = fields.Datetime.now()
                if not self._needs_push(listing, quantity, forced=forced):
                    self._mark_up_to_date(listing)
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
                    answer, reason = self._send_quantity(listing_api, listing, quantity)
                except spapi_errors.RetryLater as exc:
                    if listing_api.stats[PATCH].calls == calls_before:
                        return "more"  # only our pacing would wait too long: nothing failed, the rest stays queued
                    self._mark_failed(listing, "retry", str(exc), now, exc.retry_after)
                    postponed_rows += row_ids
                    result["counts"]["retry"] += 1
                    result["error"] = str(exc)
                    return "stop"
                except (spapi_errors.AuthorizationError, spapi_errors.ConfigurationError) as exc:
                    self._mark_failed(listing, "retry", str(exc), now)
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
                    self._mark_accepted(listing, quantity, now)
                    done_rows += row_ids
                    result["counts"]["sent"] += 1
                    continue
                self._mark_failed(listing, "refused", reason or self._refusal_text(answer, quantity), now)
                postponed_rows += row_ids
                result["counts"]["refused"] += 1
            return False
        finally:
            Push._done(done_rows)
            Push._postpone(postponed_rows)

    @api.model
    def _send_quantity(self, api_client, listing, quantity):
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
            self._write_listings(listing, {"amazon_product_type": learned})
            if learned != DEFAULT_PRODUCT_TYPE:
                answer = api_client.patch_listing_quantity(listing.seller_sku, quantity, learned)
        return answer, None

    @api.model
    def _refusal_text(self, answer, quantity):
        issues = [i for i in answer.issues if i.severity == "ERROR"] or list(answer.issues)
        if not issues:
            return _("Amazon answered %(status)s to the quantity %(qty)s, without a reason.",
                     status=answer.status, qty=quantity)
        return _("Amazon refused the quantity %(qty)s: %(issues)s", qty=quantity,
                 issues="; ".join(f"{i.message} ({i.code})" for i in issues))

    # ------------------------------------------------------------------ status and waking up

    @api.model
    def _write_problem(self, account, message):
        """Show (or clear) the problem of the last run, on the stock flow's progress row (never the
        connection's row, which other flows and people write); written only when it changes."""
        message = message or False
        for acc in account.sudo():
            if acc.stock_push_message != message:
                self.env["amazon.sync.job"]._cursor(acc, "stock").write({"message": message})

    @api.model
    def _wake(self, accounts):
        """Ask for the stock job of ``accounts`` now (once: not when a run is already asked for)."""
        now = fields.Datetime.now()
        for account in accounts:
            self._wake_at(account, now)

    @api.model
    def _wake_at_next_attempt(self, account):
        """A failed push waits for its next attempt: the stock job runs again when the first wait ends."""
        self.env["amazon.stock.push"].flush_model()
        self.env["amazon.listing"].flush_model(["stock_push_next_date"])
        self.env.cr.execute(SQL(
            """SELECT min(l.stock_push_next_date)
                 FROM amazon_stock_push p JOIN amazon_listing l ON l.id = p.listing_id
                WHERE p.account_id = %s AND l.stock_push_next_date > %s""",
            account.id, fields.Datetime.now()))
        next_date = self.env.cr.fetchone()[0]
        if next_date:
            self._wake_at(account, next_date)

    @api.model
    def _wake_at(self, account, when):
        """Trigger the stock job of ``account`` at ``when``, unless a run is already asked for by then: by a
        trigger of this transaction, or a later one (a due trigger of another transaction may be the one a
        running job is consuming, which would not run again for what is left now)."""
        Job = self.env["amazon.sync.job"]
        job = Job.sudo().search([("account_id", "=", account.id), ("flow", "=", "stock")], limit=1)
        if job:
            self.env["ir.cron.trigger"].flush_model()
            self.env.cr.execute(SQL(
                """SELECT 1 FROM ir_cron_trigger
                    WHERE cron_id = %s AND call_at <= %s
                      AND (call_at > %s OR create_date = (now() AT TIME ZONE 'UTC')) LIMIT 1""",
                job.cron_id.id, when, fields.Datetime.now()))
            if self.env.cr.fetchone():
                return
        Job._trigger(account, "stock", at=when)

    # ------------------------------------------------------------------ listings: what and how it went

    @api.model
    def _split_eligible(self, listings):
        """Split ``listings`` into (the ones whose quantity is sent, the others)."""
        twins = listings._stock_fba_twins()
        eligible = listings.filtered(lambda lst: lst.active and lst.fulfillment_channel == "merchant"
                                     and lst.product_id and lst.product_id.is_storable and lst.id not in twins
                                     and lst._in_connection_marketplaces())
        return eligible, listings - eligible

    @api.model
    def _needs_push(self, listing, quantity, forced=False):
        """False when Amazon already has ``quantity``: the last quantity it accepted from Odoo, unless a listings
        import since then reported another one (changed on Seller Central, or by Amazon's own sales). A listing
        never sent is compared with what the last import saw, except when a person asks to send it."""
        listing.ensure_one()
        if listing.stock_sent_date and listing.synced_date and listing.synced_date > listing.stock_sent_date:
            return listing.quantity != quantity
        if listing.stock_sent_date:
            return listing.stock_sent_qty != quantity
        if listing.synced_date and not forced:
            return listing.quantity != quantity
        return True

    @api.model
    def _write_listings(self, listings, vals):
        res = listings.sudo().write(vals)
        if "stock_push_state" in vals:
            self.env["amazon.account"].invalidate_model(["stock_push_failed_count"])
        return res

    @api.model
    def _mark_up_to_date(self, listings):
        """Amazon already shows the quantity wanted: a pending error no longer matters."""
        todo = listings.filtered(lambda lst: lst.stock_push_state != "done" and lst.stock_sent_date
                                 or lst.stock_push_error or lst.stock_push_next_date)
        if todo:
            self._write_listings(todo, {"stock_push_state": "done", "stock_push_error": False,
                                        "stock_push_attempts": 0, "stock_push_next_date": False})

    @api.model
    def _mark_accepted(self, listing, quantity, now):
        """Amazon took ``quantity``: it is what the listing offers now."""
        self._write_listings(listing, {
            "quantity": quantity, "stock_sent_qty": quantity, "stock_sent_date": now, "stock_push_state": "done",
            "stock_push_error": False, "stock_push_attempts": 0, "stock_push_next_date": False,
        })

    @api.model
    def _mark_failed(self, listings, state, message, now, retry_after=None):
        """Record a failed push; it is tried again later, waiting longer after each failure."""
        for listing in listings:
            attempts = listing.stock_push_attempts + 1
            base = REFUSED_BASE if state == "refused" else RETRY_BASE
            delay = min(base * 2 ** (attempts - 1), RETRY_MAX)
            if retry_after:
                delay = max(delay, timedelta(seconds=retry_after))
            self._write_listings(listing, {
                "stock_push_state": state, "stock_push_error": message, "stock_push_attempts": attempts,
                "stock_push_next_date": now + delay,
            })
