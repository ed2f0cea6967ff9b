"""The returns flow: Amazon's customer returns reports read and recorded as ``amazon.return``, goods back in stock.

A reading covers the last ``LOOKBACK`` days (returns reach the reports late: an FBA return can show 30 days
and more after the sale) and has two pages, one per report: merchant-fulfilled returns
(``GET_FLAT_FILE_RETURNS_DATA_BY_RETURN_DATE``), then FBA returns (``GET_FBA_FULFILLMENT_CUSTOMER_RETURNS_DATA``).
Each page asks Amazon for its report, waits for it, and records its rows, each in its own savepoint
(``amazon_return.py``); it is committed with where the reading stands (its ``amazon.sync.cursor`` row: the
window, and in ``next_token`` the report to read next and the one Amazon still prepares). A run killed before
a commit reads that report again: the returns' unique keys make a row read twice change nothing.

Every run then does what needs no call to Amazon: the returns waiting in error tried again, the refunds the
payouts flow recorded noted on their returns (or a return made for a refund without one), and the connection's
user reminded of the goods refunded more than ``return_wait_days`` ago that did not come back
(``return_refunds.py``).
"""
import logging
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError

from ...spapi import errors as spapi_errors
from ...spapi.returns import FBA_REPORT, FBM_REPORT, RejectedReturn, read_returns
from ..connection.access import internal_context
from . import return_refunds

_logger = logging.getLogger(__name__)

FLOW = "returns"
#: The reports of a reading, in order (one page each).
REPORTS = (FBM_REPORT, FBA_REPORT)
#: How far back each reading goes.
LOOKBACK = timedelta(days=45)
#: Seconds between two report status checks, and how long a scheduled run waits for Amazon's report.
REPORT_POLL_INTERVAL = 15.0
REPORT_WAIT = 10 * 60.0
#: A report Amazon has not finished: looked at again this much later.
REPORT_RETRY = timedelta(minutes=5)
#: Rows recorded between two flushes of the page (each row in its own savepoint).
ROW_BATCH = 100
#: Rejected rows named in the progress message at most.
MAX_REJECTED_SHOWN = 5


class AmazonReturnSync(models.AbstractModel):
    """The returns flow's owner: the connections it runs for and its run per connection."""

    _name = "amazon.return.sync"
    _description = "Amazon Returns Synchronization"
    #: The connections the flow's scheduled action triggers a job for (``amazon.sync.job._dispatch_flow``).
    _sync_domain = [("state", "=", "authorized")]

    @api.model
    def _now(self):
        return fields.Datetime.now()

    @api.model
    def _sync_for(self, account, *, commit=False, deadline=None):
        """Read both returns reports over the window and record their rows, one report per page; then try the
        returns waiting in error again, note the refunds and remind of the goods that did not come back.
        Returns ``amazon.sync.job._result`` (counts per outcome)."""
        account.ensure_one()
        account = account.with_context(lang=account.user_id.lang or account.env.lang).sudo()
        self = self.with_env(account.env)
        Job = self.env["amazon.sync.job"]
        result = Job._result()
        if not Job._lock(account, FLOW):
            result["busy"] = True
            return result
        try:
            api_client = account._spapi(deadline=deadline)
        except (UserError, spapi_errors.SpApiError) as exc:
            Job._cursor(account, FLOW).write({"message": self._error_text(exc)})
            result["error"] = self._error_text(exc)
            return result

        def step(last_try):
            reading = self._reading(account)
            if reading is None:
                return 0, False
            start, end, report_type, report_id = reading
            rows = self._fetch(account, api_client, reading, result, deadline)
            if rows is None:
                return 0, False
            Returns = self.env["amazon.return"].sudo()
            valid = [r for r in rows if not isinstance(r, RejectedReturn)]
            rejected = [r for r in rows if isinstance(r, RejectedReturn)]
            for n in range(0, len(valid), ROW_BATCH):
                for outcome, count in Returns._record_rows(account, valid[n:n + ROW_BATCH]).items():
                    result["counts"][outcome] = result["counts"].get(outcome, 0) + count
                self.env.flush_all()
            if rejected:
                result["counts"]["rejected"] = result["counts"].get("rejected", 0) + len(rejected)
                _logger.warning("Amazon connection %s: %s rows of %s could not be read", account.id, len(rejected),
                                report_type)
            message = self._rejected_text(report_type, rejected)
            position = REPORTS.index(report_type)
            vals = {"last_sync": fields.Datetime.now(), "message": message}
            if position + 1 < len(REPORTS):
                vals.update(window_start=start, window_end=end, next_token=f"{REPORTS[position + 1]}:")
                more = True
            else:
                vals.update(cursor=end, window_start=False, window_end=False, next_token=False)
                more = False
            Job._cursor(account, FLOW).write(vals)
            return max(len(rows), 1), more

        for attempt in Job._pages(account, FLOW, result, commit=commit, deadline=deadline):
            with attempt:
                attempt.answer = step(attempt.last_try)
        if result["busy"] or result["error"] or result["out_of_time"]:
            return result

        def retry_step(last_try):
            Returns = self.env["amazon.return"].sudo()
            retried = Returns._retry_failed(account)
            ready = Returns.search([("account_id", "=", account.id), ("state", "=", "ready"),
                                    ("picking_id.state", "in", ("done", "cancel"))])
            ready._process()
            now = self._now()
            noted = return_refunds.note_refunds(account, now)
            reminded = return_refunds.remind(account, now)
            return len(retried) + len(ready) + len(noted) + len(reminded), False

        Job._page(account, FLOW, retry_step, {**result, "counts": {}}, commit=commit is True)
        return result

    # ------------------------------------------------------------------ where a reading stands

    @api.model
    def _reading(self, account):
        """(start, end, report type, report id Amazon still prepares or None) of the page to read, or None
        when the last reading is less than an hour old."""
        cursor = self.env["amazon.sync.job"]._cursor(account, FLOW)
        if cursor.window_start and cursor.window_end and cursor.next_token:
            report_type, _sep, report_id = cursor.next_token.partition(":")
            if report_type in REPORTS:
                return cursor.window_start, cursor.window_end, report_type, report_id or None
        now = self._now()
        if cursor.cursor and cursor.cursor > now - timedelta(hours=1):
            return None
        return now - LOOKBACK, now, REPORTS[0], None

    @api.model
    def _fetch(self, account, api_client, reading, result, deadline):
        """The rows of the page's report, or None when the page stops here (Amazon not ready, or refused)."""
        start, end, report_type, report_id = reading
        Job = self.env["amazon.sync.job"]
        cursor = Job._cursor(account, FLOW)
        poll = float(internal_context(account.env, "amazon_report_poll_interval", REPORT_POLL_INTERVAL))
        wait = float(internal_context(account.env, "amazon_report_wait", REPORT_WAIT))
        try:
            if not report_id:
                report_id = api_client.create_report(report_type, data_start_time=start, data_end_time=end)
            try:
                report = api_client.wait_for_report(report_id, poll_interval=poll, timeout=wait)
            except spapi_errors.BadData:
                if api_client.get_report(report_id).processing_status == "CANCELLED":
                    return []  # Amazon cancels a report that has no data
                raise
            return list(read_returns(report_type, api_client.iter_report_rows(report.report_document_id)))
        except spapi_errors.RetryLater as exc:
            cursor.write({"window_start": start, "window_end": end, "next_token": f"{report_type}:{report_id or ''}",
                          "message": self._error_text(exc)})
            result["retry_at"] = Job._retry_at(exc) or fields.Datetime.now() + REPORT_RETRY
            result["more"] = True
            return None
        except (UserError, spapi_errors.SpApiError) as exc:
            # the next run asks for this report again (a new one)
            message = self.env._("Amazon's returns report %(report)s could not be read: %(error)s",
                                 report=report_type, error=self._error_text(exc))
            cursor.write({"window_start": start, "window_end": end, "next_token": f"{report_type}:",
                          "message": message})
            _logger.warning("Amazon connection %s: returns report %s refused (%s)", account.id, report_type,
                            type(exc).__name__)
            result["error"] = message
            return None

    @api.model
    def _rejected_text(self, report_type, rejected):
        if not rejected:
            return False
        shown = "; ".join(self.env._("line %(line)s (order %(order)s, SKU %(sku)s): %(error)s", line=r.line,
                                     order=r.order_id or "-", sku=r.sku or "-", error=r.error)
                          for r in rejected[:MAX_REJECTED_SHOWN])
        return self.env._("%(count)s rows of %(report)s could not be read: %(rows)s", count=len(rejected),
                          report=report_type, rows=shown)

    @api.model
    def _error_text(self, exc):
        return str(exc.args[0] if isinstance(exc, UserError) and exc.args else exc)
