"""The listings flow: each marketplace's listings report asked for, awaited, read and mapped to products.

Amazon makes the report per marketplace and takes minutes to prepare it. A run asks for every marketplace's
report (or reuses the one Amazon still prepares), awaits them side by side, then imports each one all or
nothing (``listing_importer.py``). What the run did is written on the connection at the end only, so its row
is not held while Amazon prepares the reports.
"""
import logging
from datetime import timedelta

from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ...spapi import errors as spapi_errors
from ..connection.access import internal_context
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
#: A scheduled import finding Amazon's report not ready looks again this much later.
REPORT_RETRY = timedelta(minutes=2)
#: The import's results written on the connection, summed over the marketplaces.
RESULT_COUNTS = ("listing_import_rows", "listing_import_created", "listing_import_updated",
                 "listing_import_archived", "listing_import_skipped", "listing_import_writes")


def _error_text(exc):
    """An error's message without its final full stop, to be embedded in a sentence."""
    return str(exc).strip().rstrip(".")


class AmazonListingSync(models.AbstractModel):
    """The listings flow: Amazon's listings report read and mapped to products."""

    _name = "amazon.listing.sync"
    _description = "Amazon Listings Synchronization"
    #: The connections the flow's scheduled action triggers a job for (``amazon.sync.job._dispatch_flow``):
    #: daily, each authorized connection not imported for CRON_MIN_HOURS, or with a report Amazon still prepares.
    _sync_domain = [
        ("state", "=", "authorized"),
        "|", "|", "|", ("listing_import_date", "=", False), ("listing_import_date", "<", f"now -{CRON_MIN_HOURS}H"),
        ("listing_report_id", "!=", False), ("marketplace_setting_ids.listing_report_id", "!=", False),
    ]

    # ------------------------------------------------------------------ entry points

    @api.model
    def _sync_for(self, account, *, commit=False, deadline=None):
        """The connection's listings job: one page (every marketplace's report, each all or nothing)."""
        Job = self.env["amazon.sync.job"]
        result = Job._result()
        if not Job._lock(account, "listings"):
            result["busy"] = True
            return result

        def step(last_try):
            state = self._import_listings(account, wait=REPORT_WAIT_CRON, deadline=deadline)
            result["counts"] = {state: 1}
            result["error"] = state == "failed" and account.listing_import_summary
            return account.listing_import_rows if state in ("done", "warning") else 0, False

        for attempt in Job._pages(account, "listings", result, commit=commit, deadline=deadline):
            with attempt:
                attempt.answer = step(attempt.last_try)
        return result

    @api.model
    def _import_now(self, account):
        """The button: import now, waiting a minute for Amazon (the scheduled import finishes a later report).
        Returns the notification."""
        state = self._import_listings(account, wait=REPORT_WAIT_BUTTON)
        kind = {"done": "success", "warning": "warning", "waiting": "info", "busy": "info"}.get(state, "danger")
        messages = {
            "done": _("Listings imported."),
            "warning": _("Listings imported; some rows were skipped: see the import summary."),
            "waiting": _("Amazon is still preparing the listings report: the scheduled import will finish it."),
            "failed": _("The listings import failed: see the import summary."),
            "busy": _("An import of this connection's listings is already running: wait for it to finish."),
        }
        return self.env["amazon.sync.job"]._notification(messages[state], kind, sticky=state == "failed")

    # ------------------------------------------------------------------ one import

    @api.model
    def _import_listings(self, account, wait=REPORT_WAIT_CRON, deadline=None):
        """Request (or reuse), await, download and import the listings report of each marketplace of
        ``account`` (Amazon makes this report per marketplace).

        Returns the resulting state: done, warning (rows skipped), waiting (Amazon not ready), failed, or
        busy (another import of this connection is running: nothing done); with several marketplaces, the
        worst of theirs. Each marketplace's listings and prices are written all at once or not at all. The
        connection itself is written only at the end (summary, pending reports), so its row is not held
        while Amazon prepares the reports.
        """
        account.ensure_one()
        if not self.env["amazon.sync.job"]._lock(account, "listings"):
            return "busy"
        account = account.sudo().with_company(account.company_id)
        now = fields.Datetime.now()
        marketplaces = self._marketplaces(account)
        try:
            api = account._spapi(deadline=deadline)
        except (spapi_errors.SpApiError, UserError) as exc:
            message = _("Amazon did not deliver the listings report: %(error)s. Nothing was changed.",
                        error=_error_text(exc))
            results = [(m, "failed", {"listing_import_summary": failure_html(message)}, NO_PENDING)
                       for m in marketplaces]
            return self._write_result(account, results, now)
        # Every marketplace's report is asked for, then awaited, before anything is imported: Amazon prepares
        # them side by side, and nothing is written (no row held) while waiting.
        clients = {m: api.for_marketplace(m.marketplace_id) for m in marketplaces}
        outcomes = {m: self._request_report(account, clients[m], m, now) for m in marketplaces}
        for marketplace, outcome in outcomes.items():
            if isinstance(outcome, dict):
                outcomes[marketplace] = self._wait_report(account, clients[marketplace], outcome, wait)
        results = []
        for marketplace in marketplaces:
            outcome = outcomes[marketplace]
            if isinstance(outcome, tuple):  # not ready, or refused
                results.append((marketplace, *outcome))
                continue
            results.append((marketplace, *self._import_marketplace(account, clients[marketplace], marketplace,
                                                                   outcome)))
        return self._write_result(account, results, now)

    @api.model
    def _marketplaces(self, account):
        """The marketplaces whose listings are imported: those the connection reads (as for orders), the main
        one first."""
        account.ensure_one()
        marketplaces = account._get_marketplaces()
        return (account.marketplace_id & marketplaces) | marketplaces

    @api.model
    def _pending_report(self, account, marketplace):
        """(report id, requested on) of the listings report Amazon still prepares for ``marketplace``."""
        if marketplace == account.marketplace_id:
            return account.listing_report_id, account.listing_report_date
        line = account.env["amazon.account.marketplace"]._for(account, marketplace)
        return line.listing_report_id, line.listing_report_date

    @api.model
    def _request_report(self, account, api, marketplace, now):
        """The listings report of one marketplace as pending values (``listing_report_id``,
        ``listing_report_date``): the one Amazon still prepares (asked for less than ``REPORT_REUSE_HOURS``
        ago), else a new one; or, when Amazon refuses, the marketplace's result."""
        report_id, requested = self._pending_report(account, marketplace)
        recent = bool(requested and requested >= now - timedelta(hours=REPORT_REUSE_HOURS))
        if not (report_id and recent):
            # A request whose answer was lost (a date, no id) is looked for among Amazon's reports first:
            # createReport is not sent twice when Amazon may have taken it.
            lost_since = requested if recent else None
            try:
                report_id = api.create_report(REPORT_TYPE, marketplace_ids=[marketplace.marketplace_id],
                                              asked_since=lost_since)
            except (spapi_errors.SpApiError, UserError) as exc:
                asked_at = getattr(exc, "asked_at", None)
                pending = None
                if asked_at:  # Amazon may have it: remember when it was asked, without an id
                    pending = {"listing_report_id": False,
                               "listing_report_date": lost_since or asked_at.replace(tzinfo=None, microsecond=0)}
                return self._report_failed(account, exc, pending)
            requested = now
        return {"listing_report_id": report_id, "listing_report_date": requested}

    @api.model
    def _wait_report(self, account, api, pending, wait):
        """The report of ``pending`` once Amazon finished it; else the marketplace's result (state, summary
        values, pending report values or None)."""
        poll = float(internal_context(account.env, "amazon_report_poll_interval", REPORT_POLL_INTERVAL))
        wait = float(internal_context(account.env, "amazon_report_wait", wait))
        try:
            return api.wait_for_report(pending["listing_report_id"], poll_interval=poll, timeout=wait)
        except (spapi_errors.SpApiError, UserError) as exc:
            return self._report_failed(account, exc, pending)

    @api.model
    def _report_failed(self, account, exc, pending):
        if isinstance(exc, spapi_errors.RetryLater):
            # Amazon takes minutes: look again soon, without keeping a scheduled job waiting meanwhile
            self.env["amazon.sync.job"]._trigger(account, "listings", at=fields.Datetime.now() + REPORT_RETRY)
            # the report being prepared is kept: the next import waits for it instead of asking again
            return *self._failure(
                account, "waiting",
                _("Amazon has not finished the listings report yet (%(error)s). Nothing was changed; the next "
                  "import will try again.", error=_error_text(exc)),
            ), pending
        return *self._failure(
            account, "failed",
            _("Amazon did not deliver the listings report: %(error)s. Nothing was changed.",
              error=_error_text(exc)),
        ), NO_PENDING

    @api.model
    def _import_marketplace(self, account, api, marketplace, report):
        """Import one marketplace's ready listings report. Returns (state, values for the connection's summary,
        the marketplace's pending report values), written by the caller at the end."""
        account.ensure_one()
        importer = ListingImporter(account, marketplace)
        try:
            with self.env.cr.savepoint():
                importer.run(api.iter_report_rows(report.report_document_id))
        except spapi_errors.SpApiError as exc:
            return *self._failure(
                account, "failed",
                _("Reading Amazon's listings report failed: %(error)s. Nothing was changed; import again later.",
                  error=_error_text(exc)),
            ), NO_PENDING
        self._after_import(account, importer)
        stats = importer.stats
        state = "warning" if stats["skipped"] else "done"
        _logger.info("Amazon connection %s: listings of %s imported %s", account.id, marketplace.marketplace_id,
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

    @api.model
    def _failure(self, account, state, message):
        _logger.warning("Amazon connection %s: listings import %s: %s", account.id, state, message)
        return state, {"listing_import_summary": failure_html(message)}

    @api.model
    def _write_result(self, account, results, now):
        """Write what the run did on the connection; returns its state (the worst of the marketplaces')."""
        account.ensure_one()
        severity = ["done", "warning", "waiting", "failed"]
        state = max((r[1] for r in results), key=severity.index, default="done")
        vals = {"listing_import_date": now, "listing_import_state": state}
        for marketplace, _state, _part, pending in results:
            if pending is None:
                continue
            if marketplace == account.marketplace_id:
                vals.update(pending)
            else:
                account.env["amazon.account.marketplace"]._for(account, marketplace).write(pending)
        if all(r[1] in ("done", "warning") for r in results):
            vals["listing_import_success_date"] = now
            for fname in RESULT_COUNTS:
                vals[fname] = sum(r[2].get(fname, 0) for r in results)
        if len(results) == 1:
            vals["listing_import_summary"] = results[0][2]["listing_import_summary"]
        else:
            # one block per marketplace, under its name
            vals["listing_import_summary"] = Markup("").join(
                Markup("<h5>%s</h5>%s") % (marketplace.name, part["listing_import_summary"])
                for marketplace, _state, part, _pending in results)
        account.write(vals)
        return state

    # ------------------------------------------------------------------ newly mapped SKUs

    @api.model
    def _after_import(self, account, importer):
        """Orders waiting for SKUs that are now mapped get retried, batch by batch."""
        try:
            for skus in importer.newly_mapped_skus():
                try:
                    with self.env.cr.savepoint():
                        self._retry_orders_waiting_for_skus(account, skus)
                except Exception as exc:  # shown on the connection, the import itself stands
                    _logger.exception("Amazon connection %s: retrying orders of mapped SKUs failed", account.id)
                    importer.notes.append(_("Retrying the orders waiting for the newly mapped SKUs failed: %s", exc))
                    break
        finally:
            importer.drop_temp_table()

    @api.model
    def _retry_orders_waiting_for_skus(self, account, skus):
        """Mapping unblocks the orders that wait for these SKUs: the mapped listings are the record the orders
        flow reads, its job is asked for (each run retries the orders whose SKUs are all mapped now)."""
        account.ensure_one()
        if skus:
            self.env["amazon.sync.job"]._trigger(account, "orders")
