"""Reports 2021-06-30: ask for a report, wait for it, download its document and read its rows."""
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import httpx

from .config import check_url
from .errors import BadData, ConfigurationError, RetryLater
from .flatfile import DocumentSpool, iter_rows
from .tls import tls_context
from .transport import _csv, _iso, _marketplace_list, _Pages
from .values import _check_obj, _dt, _items, _str, _strs

#: Most marketplace ids one createReport call takes (Amazon's model: maxItems 25).
MAX_REPORT_MARKETPLACES = 25


REPORT_FINAL_STATUSES = ("DONE", "CANCELLED", "FATAL")
#: A report Amazon lists as created this long before a createReport whose answer was lost is still taken for it
#: (Amazon's clock and ours differ by a few seconds; a report this recent serves as well).
LOST_REQUEST_MARGIN = timedelta(minutes=2)


@dataclass(frozen=True)
class Report:
    report_id: str
    report_type: str
    processing_status: str  # IN_QUEUE, IN_PROGRESS, DONE, CANCELLED, FATAL
    created_time: datetime
    report_document_id: str | None = None
    data_start_time: datetime | None = None
    data_end_time: datetime | None = None
    processing_start_time: datetime | None = None
    processing_end_time: datetime | None = None
    marketplace_ids: tuple[str, ...] = ()
    report_schedule_id: str | None = None
    raw: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def is_done(self):
        return self.processing_status == "DONE"

    @property
    def is_final(self):
        return self.processing_status in REPORT_FINAL_STATUSES


@dataclass(frozen=True)
class ReportDocument:
    """Where to download a report. The URL is presigned (anyone holding it can read the report for five
    minutes): it is kept out of ``repr`` and never logged."""

    report_document_id: str
    url: str = field(repr=False)
    compression_algorithm: str | None = None
    raw: dict = field(default_factory=dict, repr=False, compare=False)


def parse_report(d, path="report"):
    """A Reports 2021-06-30 ``Report`` (also the whole ``getReport`` answer)."""
    _check_obj(d, path)
    report_id = _str(d, "reportId", path, required=True)
    path = f"report {report_id}"
    return Report(
        report_id=report_id,
        report_type=_str(d, "reportType", path, required=True),
        processing_status=_str(d, "processingStatus", path, required=True),
        created_time=_dt(d, "createdTime", path, required=True),
        report_document_id=_str(d, "reportDocumentId", path),
        data_start_time=_dt(d, "dataStartTime", path),
        data_end_time=_dt(d, "dataEndTime", path),
        processing_start_time=_dt(d, "processingStartTime", path),
        processing_end_time=_dt(d, "processingEndTime", path),
        marketplace_ids=_strs(d, "marketplaceIds", path),
        report_schedule_id=_str(d, "reportScheduleId", path),
        raw=d,
    )


def parse_reports_page(body, path="getReports"):
    """A ``GetReportsResponse``: (reports, next_token)."""
    _check_obj(body, path)
    return (_items(body, "reports", path, parse_report, required=True), _str(body, "nextToken", path) or None)


def parse_create_report(body, path="createReport"):
    _check_obj(body, path)
    return _str(body, "reportId", path, required=True)


def parse_report_document(body, path="getReportDocument"):
    _check_obj(body, path)
    return ReportDocument(
        report_document_id=_str(body, "reportDocumentId", path, required=True),
        url=_str(body, "url", path, required=True),
        compression_algorithm=_str(body, "compressionAlgorithm", path),
        raw={k: v for k, v in body.items() if k != "url"},
    )


class ReportsApi:
    """The Reports calls of :class:`.client.SpApi`."""

    def create_report(self, report_type, data_start_time=None, data_end_time=None, report_options=None,
                      marketplace_ids=None, asked_since=None):
        """Ask Amazon for a report of the connection's marketplace (or of ``marketplace_ids``); returns its
        report id.

        createReport is not safe to send twice (a second request is a second report against the seller's
        quota). When its answer is lost after it was sent (a timeout), Amazon's reports are listed: a report of
        this request created since then is the answer; else RetryLater with ``maybe_done`` and ``asked_at``.
        The caller passes that time back as ``asked_since`` on its next try, which lists the reports again
        before asking anew."""
        if not report_type:
            raise ValueError("report_type is required")
        marketplaces = _marketplace_list(marketplace_ids, self.config.marketplace_id, MAX_REPORT_MARKETPLACES)
        body = {"reportType": report_type, "marketplaceIds": marketplaces}
        if data_start_time is not None:
            body["dataStartTime"] = _iso(data_start_time, "data_start_time")
        if data_end_time is not None:
            body["dataEndTime"] = _iso(data_end_time, "data_end_time")
        if report_options:
            body["reportOptions"] = dict(report_options)
        if asked_since is not None:
            found = self.find_report(body, asked_since)
            if found:
                return found.report_id
        sent = datetime.now(timezone.utc)
        try:
            reply = self._call("createReport", "reports", "create_report", **body)
        except RetryLater as exc:
            if not exc.maybe_done:
                raise
            found = self.find_report(body, sent)
            if found:
                return found.report_id
            lost = RetryLater(f"{exc.message} No {report_type} report is listed yet: the next try looks again "
                              "before asking for a new one.", operation="createReport", status=exc.status,
                              maybe_done=True)
            lost.asked_at = sent
            raise lost from None
        return parse_create_report(reply.body)

    def find_report(self, request, asked_at):
        """The newest report Amazon lists for a createReport ``request`` (its body) sent at ``asked_at``, or
        None: same type, marketplaces and period, created since then (less :data:`LOST_REQUEST_MARGIN`)."""
        if asked_at.tzinfo is None:
            asked_at = asked_at.replace(tzinfo=timezone.utc)
        since = asked_at - LOST_REQUEST_MARGIN
        wanted = set(request["marketplaceIds"])
        for report in self.iter_reports([request["reportType"]], created_since=since,
                                        marketplace_ids=request["marketplaceIds"]):
            if report.report_schedule_id or not wanted <= set(report.marketplace_ids or wanted):
                continue
            if any(request.get(key) is not None and request[key] != _iso(value, key)
                   for key, value in (("dataStartTime", report.data_start_time),
                                      ("dataEndTime", report.data_end_time))):
                continue
            return report  # newest first
        return None

    def get_report(self, report_id):
        if not report_id:
            raise ValueError("report_id is required")
        reply = self._call("getReport", "reports", "get_report", report_id)
        return parse_report(reply.body)

    def iter_reports(self, report_types, processing_statuses=None, created_since=None, marketplace_ids=None):
        """Reports of these types (e.g. settlement reports Amazon generates on its own), newest first."""
        params = {
            "reportTypes": _csv(report_types, "report_types"),
            "processingStatuses": _csv(processing_statuses, "processing_statuses"),
            "createdSince": _iso(created_since, "created_since"),
            "marketplaceIds": _csv(marketplace_ids, "marketplace_ids") or self.config.marketplace_id,
            "pageSize": 100,
        }
        params = {k: v for k, v in params.items() if v is not None}
        pages = _Pages("getReports")
        while True:
            reply = self._call("getReports", "reports", "get_reports", **params)
            reports, next_token = parse_reports_page(reply.body)
            self.stats["getReports"].pages += 1
            yield from reports
            token = pages.next(next_token)
            if token is None:
                return
            params = {"nextToken": token}  # the model: the token must be the only parameter

    def wait_for_report(self, report_id, poll_interval=30, timeout=3600):
        """Poll ``getReport`` until DONE. CANCELLED/FATAL raise BadData; still running after ``timeout`` seconds
        raises RetryLater (the report keeps being prepared: wait for it again later)."""
        deadline = self._clock() + timeout
        while True:
            report = self.get_report(report_id)
            if report.is_done:
                return report
            if report.processing_status == "CANCELLED":
                raise BadData(f"Amazon cancelled report {report_id} ({report.report_type}); it does this when the "
                              "period has no data.", operation="getReport")
            if report.processing_status == "FATAL":
                raise BadData(f"Amazon could not produce report {report_id} ({report.report_type}). Ask for it "
                              "again later or for a shorter period.", operation="getReport")
            if self._clock() + poll_interval > deadline or poll_interval > self.allowed_wait():
                raise RetryLater(f"Report {report_id} ({report.report_type}) is still "
                                 f"{report.processing_status.lower().replace('_', ' ')} after {timeout:g} seconds.",
                                 operation="getReport", retry_after=poll_interval)
            self._sleep(poll_interval)

    def get_report_document(self, document_id):
        """Where to download a report document (presigned URL, valid five minutes)."""
        if not document_id:
            raise ValueError("document_id is required")
        reply = self._call("getReportDocument", "reports", "get_report_document", document_id)
        return parse_report_document(reply.body)

    def iter_report_rows(self, document_id):
        """Rows of a tab-separated report document as dicts of column to text (see :mod:`.flatfile`).

        The document is downloaded (gunzipped when compressed) into a temporary spool, then read row by row.
        """
        spool = self._download_document(document_id)
        try:
            encoding = spool.finish()
            yield from iter_rows(spool.file, encoding)
        finally:
            spool.close()

    def _download_document(self, document_id):
        operation = "downloadReportDocument"
        stats = self.stats[operation]
        cfg = self.config
        attempt = 0
        while True:
            document = self.get_report_document(document_id)
            try:  # a presigned URL of Amazon's storage: never another host (nor this machine's network)
                url = check_url(document.url, "document", cfg.allow_loopback)
            except ConfigurationError as exc:
                raise BadData(f"Report document {document_id}: {exc}", operation=operation) from None
            spool = DocumentSpool()
            stats.calls += 1
            try:
                if self._download_client is None:  # no token or SP-API header goes to the storage URL
                    self._download_client = httpx.Client(timeout=cfg.timeout, verify=tls_context())
                with self._download_client.stream("GET", url) as response:
                    if response.status_code == 200:
                        for chunk in response.iter_bytes():
                            spool.write(chunk)
                        return spool
                    # 403/400: the presigned URL expired (fetch a new one); 5xx: storage trouble
                    reason = f"the report download answered HTTP {response.status_code}"
            except httpx.TimeoutException:
                reason = f"the report download stalled for {cfg.timeout:g} seconds"
            except httpx.TransportError as exc:
                reason = f"the report download failed ({type(exc).__name__})"
            except BaseException:
                spool.close()
                raise
            spool.close()
            if attempt >= cfg.max_retries:
                raise RetryLater(f"Report document {document_id}: {reason}; tried {attempt + 1} times.",
                                 operation=operation)
            attempt += 1
            stats.retries += 1
            delay = self._backoff(attempt)
            if delay > self.allowed_wait():
                raise RetryLater(f"Report document {document_id}: {reason}; it can be retried in {delay:.0f} "
                                 "seconds.", operation=operation, retry_after=delay)
            stats.waited += delay
            self._sleep(delay)
