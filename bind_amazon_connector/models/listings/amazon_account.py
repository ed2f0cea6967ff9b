import logging
from datetime import timedelta

from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError

from ...spapi import errors as spapi_errors
from ..connection.access import AMAZON_MANAGER, AMAZON_USER, check_group, internal_context, is_trusted_writer
from ..connection.amazon_sync_job import SYNC_LOCK_KEYS
from .listing_importer import REPORT_TYPE, ListingImporter, failure_html

_logger = logging.getLogger(__name__)

#: Seconds between two report status checks (getReport allows 2 a second; Amazon needs minutes).
REPORT_POLL_INTERVAL = 15.0
#: How long a run waits for Amazon's report: from a button, then from the scheduled action.
REPORT_WAIT_BUTTON = 60.0
REPORT_WAIT_CRON = 15 * 60.0
#: A report requested but not ready is reused by the next run for this long; after that, a new one is asked.
REPORT_REUSE_HOURS = 6
#: The scheduled import runs each connection at most once in this many hours.
CRON_MIN_HOURS = 20
#: A marketplace without a report waiting at Amazon.
NO_PENDING = {"listing_report_id": False, "listing_report_date": False}
#: First key of the advisory lock taken during a listings import ("AMLS"); the second is the connection id.
LISTINGS_LOCK_KEY = SYNC_LOCK_KEYS["listings"]
#: A scheduled import finding Amazon's report not ready looks again this much later.
REPORT_RETRY = timedelta(minutes=2)


def _error_text(exc):
    """An error's message without its final full stop, to be embedded in a sentence."""
    return str(exc).strip().rstrip(".")


class AmazonAccount(models.Model):
    _inherit = "amazon.account"

    listing_ids = fields.One2many("amazon.listing", "account_id", string="Listings")
    listing_count = fields.Integer(compute="_compute_listing_counts")
    listing_unmapped_count = fields.Integer(string="Unmapped Listings", compute="_compute_listing_counts")
    listing_conflict_count = fields.Integer(string="Listing Conflicts", compute="_compute_listing_counts")

    listing_import_date = fields.Datetime(string="Last Listing Import", readonly=True, copy=False)
    listing_import_success_date = fields.Datetime(
        string="Last Complete Listing Import", readonly=True, copy=False,
        help="The last import that read Amazon's whole listings report.",
    )
    listing_import_state = fields.Selection(
        [("done", "Done"), ("warning", "Done, with skipped rows"), ("waiting", "Waiting for Amazon"),
         ("failed", "Failed")],
        string="Listing Import Result", readonly=True, copy=False,
    )
    listing_import_summary = fields.Html(string="Listing Import Summary", readonly=True, copy=False)
    listing_import_rows = fields.Integer(string="Rows Read", readonly=True, copy=False)
    listing_import_created = fields.Integer(string="Listings Created", readonly=True, copy=False)
    listing_import_updated = fields.Integer(string="Listings Updated", readonly=True, copy=False)
    listing_import_archived = fields.Integer(string="Listings Archived", readonly=True, copy=False)
    listing_import_skipped = fields.Integer(string="Rows Skipped", readonly=True, copy=False)
    listing_import_writes = fields.Integer(
        string="Records Written", readonly=True, copy=False,
        help="Listings and price list rules created or changed by the last import (0 when nothing changed).",
    )
    listing_report_id = fields.Char(string="Pending Listings Report", readonly=True, copy=False)
    listing_report_date = fields.Datetime(string="Listings Report Requested", readonly=True, copy=False)

    def _compute_listing_counts(self):
        counts = {
            (account.id, state): count
            for account, state, count in self.env["amazon.listing"]._read_group(
                [("account_id", "in", self.ids)], ["account_id", "mapping_state"], ["__count"]
            )
        }
        for account in self:
            account.listing_unmapped_count = counts.get((account.id, "unmapped"), 0)
            account.listing_conflict_count = counts.get((account.id, "conflict"), 0)
            account.listing_count = account.listing_unmapped_count + account.listing_conflict_count + counts.get(
                (account.id, "mapped"), 0)

    def write(self, vals):
        # What the last import did is written by the import, never typed in (it is shown as HTML).
        if not is_trusted_writer(self.env) and any(f.startswith(("listing_import_", "listing_report_")) for f in vals):
            raise AccessError(self.env._("The listings import results are written by the import only."))
        return super().write(vals)
    def _settings_missing(self):
        missing = super()._settings_missing()
        # FBA orders go to the fulfillment warehouse: ask for it as soon as the seller has FBA listings,
        # not when the first FBA order fails
        account_id = self._origin.id  # also in the form being edited (a new id there)
        if not self.fba_warehouse_id and account_id and self.env["amazon.listing"].search_count(
                [("account_id", "=", account_id), ("fulfillment_channel", "=", "amazon")], limit=1):
            missing.append("fba_warehouse_id")
        return missing

    # ------------------------------------------------------------------ actions

    def action_import_listings(self):
        """Button: import the whole catalogue now (waits a minute for Amazon, then leaves it to the cron)."""
        check_group(self.env, AMAZON_USER)
        self.ensure_one()
        self.check_access("read")
        result = self._import_listings(wait=REPORT_WAIT_BUTTON)
        kind = {"done": "success", "warning": "warning", "waiting": "info", "busy": "info"}.get(result, "danger")
        messages = {
            "done": _("Listings imported."),
            "warning": _("Listings imported; some rows were skipped: see the import summary."),
            "waiting": _("Amazon is still preparing the listings report: the scheduled import will finish it."),
            "failed": _("The listings import failed: see the import summary."),
            "busy": _("An import of this connection's listings is already running: wait for it to finish."),
        }
        return self.env["amazon.sync.job"]._notification(messages[result], kind, sticky=result == "failed")

    def action_view_listings(self):
        check_group(self.env, AMAZON_USER)
        self.ensure_one()
        self.check_access("read")
        action = self.env["ir.actions.act_window"]._for_xml_id("bind_amazon_connector.amazon_listing_action")
        action["domain"] = [("account_id", "=", self.id)]
        action["context"] = {"default_account_id": self.id}
        mapping_filter = self.env.context.get("listing_filter")
        if mapping_filter in ("unmapped", "conflict"):
            action["context"][f"search_default_filter_{mapping_filter}"] = 1
        return action

    def action_set_stock_from_amazon(self):
        check_group(self.env, AMAZON_MANAGER)
        self.ensure_one()
        self.check_access("write")
        wizard = self.env["amazon.listing.stock.wizard"].create({"account_id": self.id})
        wizard._load_lines()
        return {
            "type": "ir.actions.act_window",
            "name": _("Set Stock from Amazon"),
            "res_model": "amazon.listing.stock.wizard",
            "res_id": wizard.id,
            "view_mode": "form",
            "target": "new",
            "context": {"dialog_size": "extra-large"},  # eight columns: the default dialog cuts the products
        }

    # ------------------------------------------------------------------ import

    def _sync_run_listings(self, *, commit=False, deadline=None):
        """The connection's listings job: one page (every marketplace's report, each all or nothing)."""
        result = self.env["amazon.sync.job"]._result()
        if not self._listings_lock():
            result["busy"] = True
            return result

        def step(last_try):
            state = self._import_listings(wait=REPORT_WAIT_CRON, deadline=deadline)
            result["counts"] = {state: 1}
            result["error"] = state == "failed" and self.listing_import_summary
            return self.listing_import_rows if state in ("done", "warning") else 0, False

        self.env["amazon.sync.job"]._pages(self, "listings", step, result, commit=commit, deadline=deadline)
        return result

    def _import_listings(self, wait=REPORT_WAIT_CRON, deadline=None):
        """Request (or reuse), await, download and import the listings report of each marketplace of this
        connection (Amazon makes this report per marketplace).

        Returns the resulting state: done, warning (rows skipped), waiting (Amazon not ready), failed, or
        busy (another import of this connection is running: nothing done); with several marketplaces, the
        worst of theirs. Each marketplace's listings and prices are written all at once or not at all. The
        connection itself is written only at the end (summary, pending reports), so its row is not held
        while Amazon prepares the reports.
        """
        self.ensure_one()
        if not self._listings_lock():
            return "busy"
        account = self.sudo().with_company(self.company_id)
        now = fields.Datetime.now()
        marketplaces = account._listing_marketplaces()
        try:
            api = account._spapi(deadline=deadline)
        except (spapi_errors.SpApiError, UserError) as exc:
            api, error = None, exc
        if api is None:
            message = _("Amazon did not deliver the listings report: %(error)s. Nothing was changed.",
                        error=_error_text(error))
            results = [(m, "failed", {"listing_import_summary": failure_html(message)}, NO_PENDING)
                       for m in marketplaces]
            return account._listing_import_result(results, now)
        # Every marketplace's report is asked for, then awaited, before anything is imported: Amazon prepares
        # them side by side, and nothing is written (no row held) while waiting.
        clients = {m: api.for_marketplace(m.marketplace_id) for m in marketplaces}
        outcomes = {m: account._listing_request_report(clients[m], m, now) for m in marketplaces}
        for marketplace, outcome in outcomes.items():
            if isinstance(outcome, dict):
                outcomes[marketplace] = account._listing_wait_report(clients[marketplace], outcome, wait)
        results = []
        for marketplace in marketplaces:
            outcome = outcomes[marketplace]
            if isinstance(outcome, tuple):  # not ready, or refused
                results.append((marketplace, *outcome))
                continue
            results.append((marketplace, *account._import_marketplace_listings(
                clients[marketplace], marketplace, outcome)))
        return account._listing_import_result(results, now)

    def _listing_marketplaces(self):
        """The marketplaces whose listings are imported and stock sent: those the connection reads (as for
        orders), the main one first."""
        self.ensure_one()
        marketplaces = self._get_marketplaces()
        return (self.marketplace_id & marketplaces) | marketplaces

    def _listing_pending(self, marketplace):
        """(report id, requested on) of the listings report Amazon still prepares for ``marketplace``."""
        if marketplace == self.marketplace_id:
            return self.listing_report_id, self.listing_report_date
        line = self._marketplace_setting(marketplace)
        return line.listing_report_id, line.listing_report_date

    def _listing_request_report(self, api, marketplace, now):
        """The listings report of one marketplace as pending values (``listing_report_id``,
        ``listing_report_date``): the one Amazon still prepares (asked for less than ``REPORT_REUSE_HOURS``
        ago), else a new one; or, when Amazon refuses, the marketplace's result."""
        report_id, requested = self._listing_pending(marketplace)
        if not (report_id and requested and requested >= now - timedelta(hours=REPORT_REUSE_HOURS)):
            try:
                report_id = api.create_report(REPORT_TYPE, marketplace_ids=[marketplace.marketplace_id])
            except (spapi_errors.SpApiError, UserError) as exc:
                return self._listing_report_failed(exc, None)
            requested = now
        return {"listing_report_id": report_id, "listing_report_date": requested}

    def _listing_wait_report(self, api, pending, wait):
        """The report of ``pending`` once Amazon finished it; else the marketplace's result (state, summary
        values, pending report values or None)."""
        poll = float(internal_context(self.env, "amazon_report_poll_interval", REPORT_POLL_INTERVAL))
        wait = float(internal_context(self.env, "amazon_report_wait", wait))
        try:
            return api.wait_for_report(pending["listing_report_id"], poll_interval=poll, timeout=wait)
        except (spapi_errors.SpApiError, UserError) as exc:
            return self._listing_report_failed(exc, pending)

    def _listing_report_failed(self, exc, pending):
        if isinstance(exc, spapi_errors.RetryLater):
            # Amazon takes minutes: look again soon, without keeping a scheduled job waiting meanwhile
            self.env["amazon.sync.job"]._trigger(self, "listings", at=fields.Datetime.now() + REPORT_RETRY)
            # the report being prepared is kept: the next import waits for it instead of asking again
            return *self._listing_failure_vals(
                "waiting",
                _("Amazon has not finished the listings report yet (%(error)s). Nothing was changed; the next "
                  "import will try again.", error=_error_text(exc)),
            ), pending
        return *self._listing_failure_vals(
            "failed",
            _("Amazon did not deliver the listings report: %(error)s. Nothing was changed.",
              error=_error_text(exc)),
        ), NO_PENDING

    def _import_marketplace_listings(self, api, marketplace, report):
        """Import one marketplace's ready listings report. Returns (state, values for the connection's summary,
        the marketplace's pending report values), written by the caller at the end."""
        self.ensure_one()
        account = self
        importer = ListingImporter(account, marketplace)
        try:
            with self.env.cr.savepoint():
                importer.run(api.iter_report_rows(report.report_document_id))
        except spapi_errors.SpApiError as exc:
            return *account._listing_failure_vals(
                "failed",
                _("Reading Amazon's listings report failed: %(error)s. Nothing was changed; import again later.",
                  error=_error_text(exc)),
            ), NO_PENDING
        self._after_listing_import(importer)
        stats = importer.stats
        state = "warning" if stats["skipped"] else "done"
        _logger.info("Amazon connection %s: listings of %s imported %s", self.id, marketplace.marketplace_id,
                     dict(stats))
        return state, {
            "listing_import_summary": importer.summary_html(),
            "listing_import_rows": stats["read"],
            "listing_import_created": stats["created"],
            "listing_import_updated": stats["updated"],
            "listing_import_archived": stats["archived"],
            "listing_import_skipped": stats["skipped"],
            "listing_import_writes": stats["writes"],
        }, NO_PENDING

    def _listing_failure_vals(self, state, message):
        _logger.warning("Amazon connection %s: listings import %s: %s", self.id, state, message)
        return state, {"listing_import_summary": failure_html(message)}

    def _listing_import_result(self, results, now):
        """Write what the run did on the connection; returns its state (the worst of the marketplaces')."""
        self.ensure_one()
        severity = ["done", "warning", "waiting", "failed"]
        state = max((r[1] for r in results), key=severity.index, default="done")
        vals = {"listing_import_date": now, "listing_import_state": state}
        for marketplace, _state, _part, pending in results:
            if pending is None:
                continue
            if marketplace == self.marketplace_id:
                vals.update(pending)
            else:
                self._marketplace_setting(marketplace).write(pending)
        if all(r[1] in ("done", "warning") for r in results):
            vals["listing_import_success_date"] = now
            for fname in ("listing_import_rows", "listing_import_created", "listing_import_updated",
                          "listing_import_archived", "listing_import_skipped", "listing_import_writes"):
                vals[fname] = sum(r[2].get(fname, 0) for r in results)
        if len(results) == 1:
            vals["listing_import_summary"] = results[0][2]["listing_import_summary"]
        else:
            # one block per marketplace, under its name
            vals["listing_import_summary"] = Markup("").join(
                Markup("<h5>%s</h5>%s") % (marketplace.name, part["listing_import_summary"])
                for marketplace, _state, part, _pending in results)
        self.write(vals)
        return state

    def _listings_lock(self):
        """One listings import per connection at a time."""
        return self.env["amazon.sync.job"]._lock(self, "listings")

    def _after_listing_import(self, importer):
        """Orders waiting for SKUs that are now mapped get retried, batch by batch."""
        try:
            for skus in importer.newly_mapped_skus():
                try:
                    with self.env.cr.savepoint():
                        self._notify_listings_mapped(skus)
                except Exception as exc:  # shown on the connection, the import itself stands
                    _logger.exception("Amazon connection %s: retrying orders of mapped SKUs failed", self.id)
                    importer.notes.append(_("Retrying the orders waiting for the newly mapped SKUs failed: %s", exc))
                    break
        finally:
            importer.drop_temp_table()

    def _listing_import_failed(self, state, message, **extra):
        self.ensure_one()
        self.write({
            **extra,
            "listing_import_date": fields.Datetime.now(),
            "listing_import_state": state,
            "listing_import_summary": failure_html(message),
        })
        _logger.warning("Amazon connection %s: listings import %s: %s", self.id, state, message)
        return state

    def _notify_listings_mapped(self, skus):
        """Mapping unblocks the orders that wait for these SKUs."""
        self.ensure_one()
        if skus:
            self.env["amazon.order"]._retry_waiting_for_skus(self, list(skus))

    @api.model
    def _cron_import_listings(self):
        """Daily: trigger the listings job of each authorized connection not imported for a while."""
        since = fields.Datetime.now() - timedelta(hours=CRON_MIN_HOURS)
        accounts = self.sudo().search([
            ("state", "=", "authorized"),
            "|", "|", "|", ("listing_import_date", "=", False), ("listing_import_date", "<", since),
            ("listing_report_id", "!=", False), ("marketplace_setting_ids.listing_report_id", "!=", False),
        ], order="listing_import_date asc nulls first, id")
        return self.env["amazon.sync.job"]._dispatch("listings", accounts)
