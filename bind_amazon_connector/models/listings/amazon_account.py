import logging
import random
import time
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY
from odoo.tools import SQL

from ...spapi import errors as spapi_errors
from ...utils.crashpoints import crashpoint
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
#: Fresh transactions a connection's import gets when a concurrent update of the same rows stops it.
CONCURRENCY_TRIES = 3
#: First key of the advisory lock taken during a listings import ("AMLS"); the second is the connection id.
LISTINGS_LOCK_KEY = 0x414D4C53


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
    listing_import_summary = fields.Html(string="Listing Import Summary", readonly=True, copy=False, sanitize=False)
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

    # ------------------------------------------------------------------ actions

    def action_import_listings(self):
        """Button: import the whole catalogue now (waits a minute for Amazon, then leaves it to the cron)."""
        self.ensure_one()
        result = self._import_listings(wait=REPORT_WAIT_BUTTON)
        kind = {"done": "success", "warning": "warning", "waiting": "info", "busy": "info"}.get(result, "danger")
        messages = {
            "done": _("Listings imported."),
            "warning": _("Listings imported; some rows were skipped: see the import summary."),
            "waiting": _("Amazon is still preparing the listings report: the scheduled import will finish it."),
            "failed": _("The listings import failed: see the import summary."),
            "busy": _("An import of this connection's listings is already running: wait for it to finish."),
        }
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {"message": messages[result], "type": kind, "sticky": result == "failed",
                       "next": {"type": "ir.actions.client", "tag": "soft_reload"}},
        }

    def action_view_listings(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("bind_amazon_connector.amazon_listing_action")
        action["domain"] = [("account_id", "=", self.id)]
        action["context"] = {"default_account_id": self.id}
        mapping_filter = self.env.context.get("listing_filter")
        if mapping_filter in ("unmapped", "conflict"):
            action["context"][f"search_default_filter_{mapping_filter}"] = 1
        return action

    def action_set_stock_from_amazon(self):
        self.ensure_one()
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

    def _import_listings(self, wait=REPORT_WAIT_CRON):
        """Request (or reuse), await, download and import the listings report of this connection.

        Returns the resulting state: done, warning (rows skipped), waiting (Amazon not ready), failed, or
        busy (another import of this connection is running: nothing done).
        Listings and prices are written all at once or not at all. The connection itself is written only at
        the end (summary, pending report), so its row is not held while Amazon prepares the report.
        """
        self.ensure_one()
        if not self._listings_lock():
            return "busy"
        account = self.sudo().with_company(self.company_id)
        now = fields.Datetime.now()
        poll = float(self.env.context.get("amazon_report_poll_interval", REPORT_POLL_INTERVAL))
        wait = float(self.env.context.get("amazon_report_wait", wait))
        no_pending = {"listing_report_id": False, "listing_report_date": False}
        report_id, requested = account.listing_report_id, account.listing_report_date
        try:
            api = account._spapi()
            if not report_id or not requested or requested < now - timedelta(hours=REPORT_REUSE_HOURS):
                report_id, requested = api.create_report(REPORT_TYPE), now
            report = api.wait_for_report(report_id, poll_interval=poll, timeout=wait)
        except spapi_errors.RetryLater as exc:
            cron = self.env.ref("bind_amazon_connector.ir_cron_amazon_import_listings", raise_if_not_found=False)
            if cron:
                cron.sudo()._trigger(at=now + timedelta(minutes=20))
            pending = {"listing_report_id": report_id, "listing_report_date": requested} if report_id else {}
            return account._listing_import_failed(
                "waiting",
                _("Amazon has not finished the listings report yet (%(error)s). Nothing was changed; the next "
                  "import will try again.", error=_error_text(exc)),
                **pending,
            )
        except (spapi_errors.SpApiError, UserError) as exc:
            return account._listing_import_failed(
                "failed",
                _("Amazon did not deliver the listings report: %(error)s. Nothing was changed.",
                  error=_error_text(exc)),
                **no_pending,
            )
        importer = ListingImporter(account)
        try:
            with self.env.cr.savepoint():
                importer.run(api.iter_report_rows(report.report_document_id))
        except spapi_errors.SpApiError as exc:
            return account._listing_import_failed(
                "failed",
                _("Reading Amazon's listings report failed: %(error)s. Nothing was changed; import again later.",
                  error=_error_text(exc)),
                **no_pending,
            )
        self._after_listing_import(importer)
        stats = importer.stats
        state = "warning" if stats["skipped"] else "done"
        account.write({
            **no_pending,
            "listing_import_date": now,
            "listing_import_success_date": now,
            "listing_import_state": state,
            "listing_import_summary": importer.summary_html(),
            "listing_import_rows": stats["read"],
            "listing_import_created": stats["created"],
            "listing_import_updated": stats["updated"],
            "listing_import_archived": stats["archived"],
            "listing_import_skipped": stats["skipped"],
            "listing_import_writes": stats["writes"],
        })
        _logger.info("Amazon connection %s: listings imported %s", self.id, dict(stats))
        return state

    def _listings_lock(self):
        """One listings import per connection at a time (transaction-level advisory lock; the connection row
        itself stays free for the order synchronisation)."""
        self.ensure_one()
        self.env.cr.execute(SQL("SELECT pg_try_advisory_xact_lock(%s, %s)", LISTINGS_LOCK_KEY, self.id))
        return self.env.cr.fetchone()[0]

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
        """Daily: import the listings of each authorized connection, one connection per committed step."""
        since = fields.Datetime.now() - timedelta(hours=CRON_MIN_HOURS)
        accounts = self.sudo().search([
            ("state", "=", "authorized"),
            "|", "|", ("listing_import_date", "=", False), ("listing_import_date", "<", since),
            ("listing_report_id", "!=", False),
        ], order="listing_import_date asc nulls first, id")
        cron = self.env["ir.cron"]
        cron._commit_progress(remaining=len(accounts))
        for done, account in enumerate(accounts, start=1):
            for attempt in range(1, CONCURRENCY_TRIES + 1):
                try:
                    # the summary is written in the language of the connection's user
                    account.with_context(lang=account.user_id.lang or self.env.lang)._import_listings(
                        wait=REPORT_WAIT_CRON)
                except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY:
                    # Another flow wrote the connection meanwhile (e.g. the orders' cursor): a fresh transaction
                    # sees it. Not a failure of the import: it is not stamped, so the next run tries again.
                    self.env.cr.rollback()
                    _logger.info("Amazon connection %s: listings import met a concurrent update (try %s)",
                                 account.id, attempt)
                    if attempt < CONCURRENCY_TRIES:
                        time.sleep(random.uniform(0.5, 2.0) * attempt)  # noqa: S311 - backoff jitter
                        continue
                    self.env.ref("bind_amazon_connector.ir_cron_amazon_import_listings").sudo()._trigger(
                        at=fields.Datetime.now() + timedelta(minutes=1))
                except Exception as exc:  # recorded on the connection, the other connections go on
                    self.env.cr.rollback()
                    _logger.exception("Amazon connection %s: listings import crashed", account.id)
                    account._listing_import_failed("failed", _("The listings import stopped on an error: %s", exc))
                break
            crashpoint("listings.connection")
            if not cron._commit_progress(1, remaining=len(accounts) - done):
                break  # out of time: the cron runs again soon for the rest
