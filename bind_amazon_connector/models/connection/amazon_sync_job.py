"""The job runner: one synchronisation mechanism for every flow of a connection (listings, orders, stock and
payouts, returns), and the scheduled job (``amazon.sync.job``) of each connection and flow.

Each flow is owned by one model (``FLOW_MODELS``) with one entry point, ``_sync_for(account, *, commit,
deadline)``, returning :meth:`AmazonSyncJob._result`. Flows never call each other: a flow that needs another
flow's work leaves a record for it and asks for its job with :meth:`AmazonSyncJob._trigger`.

- **Jobs per connection and flow.** Each flow's scheduled action only *dispatches*: it triggers one scheduled
  job per connection (``amazon.sync.job``, an ``ir.cron`` created on first use). Odoo locks a running job's
  row (``FOR NO KEY UPDATE SKIP LOCKED``), so every Odoo server of the database takes a different connection:
  N servers work N connections at once. A trigger is a committed row: when a server dies, the job is ready
  again as soon as its transaction is gone, and the servers still working are told (``pg_notify``) at each
  page they commit, so one of them takes it over within a page, not at its next poll.
- **One lock per connection and flow** (:meth:`_lock`): a transaction-level advisory lock, so the
  connection's row stays free for people editing it and for the other flows.
- **One result shape** (:meth:`_result`): ``busy``, ``more``, ``error``, ``out_of_time``, ``retry_at``
  and ``counts``.
- **One commit-per-page loop** (:meth:`_pages`): the flow does its pages in its own loop over the tries the
  runner gives (:class:`PageTry`); between them the runner commits after each page (scheduled job), keeps the
  lock, has a page that lost a concurrency conflict done again in a fresh transaction, and stops at a safe
  point well before Odoo's time limit for scheduled jobs (``SYNC_TIME_BUDGET``).
- **One notification builder** (:meth:`_notification`) for every button of the connector.
"""
import contextlib
import logging
import random
import time
import zlib
from datetime import timedelta

from psycopg2 import errors as pg_errors

from odoo import api, fields, models
from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY
from odoo.tools import SQL, config

from ...utils import held_logs
from ...utils.crashpoints import crashpoint
from .ir_cron import batch_started

_logger = logging.getLogger(__name__)

SYNC_FLOWS = [("listings", "Listings"), ("orders", "Orders"), ("stock", "Stock"), ("payouts", "Payouts"),
              ("returns", "Returns")]
#: The model that owns each flow: its ``_sync_for(account, *, commit, deadline)`` runs one job of the flow.
FLOW_MODELS = {
    "listings": "amazon.listing.sync",
    "orders": "amazon.order.sync",
    "stock": "amazon.stock.sync",
    "payouts": "amazon.payout.sync",
    "returns": "amazon.return.sync",
}
#: First key of each flow's advisory lock (the second is the connection id).
SYNC_LOCK_KEYS = {
    "listings": 0x414D4C53,
    "orders": zlib.crc32(b"bind_amazon_connector.orders") & 0x7FFFFFFF,
    "stock": zlib.crc32(b"bind_amazon_connector.stock_push") & 0x7FFFFFFF,
    "payouts": 0x616D7A66,
    "returns": zlib.crc32(b"bind_amazon_connector.returns") & 0x7FFFFFFF,
}
#: The dispatching scheduled action of each flow (its interval is the flow's schedule).
SYNC_DISPATCHERS = {
    "listings": "bind_amazon_connector.ir_cron_amazon_import_listings",
    "orders": "bind_amazon_connector.ir_cron_amazon_sync_orders",
    "stock": "bind_amazon_connector.ir_cron_amazon_push_stock",
    "payouts": "bind_amazon_connector.ir_cron_amazon_sync_finances",
    "returns": "bind_amazon_connector.ir_cron_amazon_sync_returns",
}
#: Share of Odoo's real-time limit for scheduled jobs a run may use: it starts no page that would end after
#: it, and the SP-API layer waits for Amazon's quota no longer than it; the rest is margin for the page in
#: progress, the commit and other jobs of the same worker.
SYNC_TIME_BUDGET = 0.5
#: A page that lost a concurrency conflict is tried again this many times, after a short random backoff.
CONCURRENCY_RETRIES = 4
CONCURRENCY_BACKOFF = 0.3
#: A scheduled run whose page conflicted on every try stops and runs again this much later.
CONFLICT_RERUN = timedelta(seconds=30)
#: Shortest wait for a row held by another transaction, in a scheduled run (see :meth:`_sync_page`).
LOCK_WAIT_MIN = 10.0
#: In the prefork mode, a cron worker may sleep this long after its last watchdog ping before it starts
#: working (Odoo counts the sleep against the limit): that much is taken off the limit first.
PREFORK_SLEEP = 70


def _monotonic():
    """The clock of time budgets (``time.monotonic``, as the scheduler's and the SP-API layer's)."""
    return time.monotonic()


class ConcurrentUpdate(Exception):
    """Another transaction changed or created the same records: the page is tried again in a fresh one."""


#: Context key: the run stays in the one transaction of its caller (a test running a scheduled job inside its
#: own transaction), even where it owns its transaction otherwise: it opens no transaction of its own.
SINGLE_TRANSACTION = "amazon_single_transaction"


#: Returned by a page step of a run that owns its transaction, once it committed records in a transaction of
#: its own: the page starts again at once in a fresh transaction, which sees them (not counted as a try).
RESTART_PAGE = object()


def is_concurrency_error(exc):
    """A failure that another transaction caused and a fresh transaction can get past: serialization failure,
    deadlock, lock timeout, or a unique key of the connector taken by a concurrent creation."""
    if isinstance(exc, (ConcurrentUpdate, *PG_CONCURRENCY_EXCEPTIONS_TO_RETRY)):
        return True
    if isinstance(exc, pg_errors.UniqueViolation):
        return "amazon" in (getattr(exc.diag, "constraint_name", None) or "")
    return False


class PageTry:
    """One try of a page, as :meth:`AmazonSyncJob._pages` hands it to the flow's loop: ``with`` it, the flow's
    work runs in a savepoint, Odoo's log of a failed statement held until the try's fate is known.

    A concurrency conflict the work raises is kept (``conflict``) for the runner, which tries the page again,
    instead of going on up; except on the last try of a run that does not own its transaction (the caller's
    transaction decides). Anything else goes on up, the savepoint rolled back. ``answer``: what the flow's
    step answered, ``(processed, more)`` or ``RESTART_PAGE``; ``last_try``: the step records conflicts on the
    records they hit instead of raising them.
    """

    def __init__(self, cr, last_try, *, commit):
        self.last_try = last_try
        self.answer = None
        self.conflict = None
        self._cr = cr
        self._commit = commit
        self._open = None

    @property
    def outcome(self):
        """The page's answer once this try ended it, else None (its conflict or restart ended the run)."""
        return None if self.conflict is not None or self.answer is RESTART_PAGE else self.answer

    def __enter__(self):
        # Odoo logs the statement that lost a conflict as an ERROR: dropped when the conflict is handled
        # (tried again now, or by the next run when committing; the runner logs a line of its own)
        retried = is_concurrency_error if (self._commit or not self.last_try) else None
        with contextlib.ExitStack() as opening:
            opening.enter_context(held_logs.hold("odoo.sql_db", drop_if=retried))
            opening.enter_context(self._cr.savepoint())
            self._open = opening.pop_all()
        return self

    def __exit__(self, exc_type, exc, traceback):
        try:
            self._open.__exit__(exc_type, exc, traceback)  # released (flushed), or rolled back after a failure
        except Exception as ended:  # the savepoint's own flush failed: the try failed
            if not self._keep(ended):
                raise
            return True
        return exc is not None and self._keep(exc)

    def _keep(self, exc):
        if not isinstance(exc, Exception) or not is_concurrency_error(exc):
            return False
        if self.last_try and not self._commit:
            return False
        self.conflict = exc
        return True


def cron_time_limit():
    """Seconds Odoo lets a scheduled job run (``limit_time_real_cron``, else ``limit_time_real``; with workers,
    also ``limit_time_cpu``), or None."""
    limit = config.get("limit_time_real_cron") or 0
    if limit <= 0:
        limit = config.get("limit_time_real") or 0
    if limit <= 0:
        return None
    if (config.get("workers") or 0) > 0:
        limit = max(limit - PREFORK_SLEEP, limit / 4)
        # a cron worker is also killed past limit_time_cpu CPU seconds over the jobs it runs in a row (one
        # turn): the real time of the turn bounds its CPU time
        cpu = config.get("limit_time_cpu") or 0
        if cpu > 0:
            limit = min(limit, cpu)
    return float(limit)


class AmazonSyncJob(models.Model):
    """The scheduled job (``ir.cron``) of one connection and flow, triggered by the flow's scheduled action, and
    the runner every flow's job goes through."""

    _name = "amazon.sync.job"
    _description = "Amazon Connection Scheduled Job"
    _check_company_auto = True

    account_id = fields.Many2one("amazon.account", required=True, ondelete="cascade", index=True, readonly=True)
    company_id = fields.Many2one(related="account_id.company_id", store=True, index=True)
    flow = fields.Selection(SYNC_FLOWS, required=True, readonly=True)
    cron_id = fields.Many2one("ir.cron", required=True, ondelete="restrict", readonly=True)

    _flow_unique = models.Constraint("UNIQUE(account_id, flow)", "A connection has one job per flow.")

    # ------------------------------------------------------------------ lock, result, notification

    @api.model
    def _lock(self, account, flow):
        """Take ``flow`` of ``account`` for this transaction; False when another worker has it."""
        account.ensure_one()
        self.env.cr.execute(SQL("SELECT pg_try_advisory_xact_lock(%s, %s)", SYNC_LOCK_KEYS[flow], account.id))
        return bool(self.env.cr.fetchone()[0])

    @api.model
    def _result(self, **counts):
        """The result every flow's run returns."""
        return {"busy": False, "more": False, "error": False, "out_of_time": False, "retry_at": None,
                "counts": dict(counts)}

    @api.model
    def _notification(self, message, kind="success", title=None, sticky=None):
        """The notification a button shows, then the form reloads (what the button changed is visible)."""
        params = {"type": kind, "message": message, "sticky": kind in ("danger", "warning") if sticky is None
                  else sticky, "next": {"type": "ir.actions.client", "tag": "soft_reload"}}
        if title:
            params["title"] = title
        return {"type": "ir.actions.client", "tag": "display_notification", "params": params}

    # ------------------------------------------------------------------ time

    @api.model
    def _deadline(self):
        """``time.monotonic()`` value a scheduled run must be done by, or None (no limit, or not scheduled)."""
        if not self.env.context.get("cron_id"):
            return None
        limit = self.env.context.get("amazon_time_limit") or cron_time_limit()
        if not limit:
            return None
        start = batch_started()
        if start is None:
            # the job's start, as the scheduler computed its end of turn from it
            end = self.env.context.get("cron_end_time")
            start = end - 10 if end else _monotonic()
        return start + limit * SYNC_TIME_BUDGET

    @api.model
    def _time_left(self, deadline):
        return float("inf") if deadline is None else deadline - _monotonic()

    # ------------------------------------------------------------------ the page loop

    @api.model
    def _pages(self, account, flow, result, *, commit=False, max_pages=None, deadline=None):
        """The tries of page after page of a run (:class:`PageTry`), under the flow's lock, the caller having
        taken it. The flow does each page in its own loop::

            for attempt in Job._pages(account, flow, result, commit=commit, deadline=deadline):
                with attempt:
                    attempt.answer = step(attempt.last_try)

        ``step(last_try) -> (processed, more)`` does one page in the current transaction (it fetches first,
        then writes); on its ``last_try`` it records concurrency conflicts on the records it could not write
        (they wait in error with the reason) instead of raising them; it answers ``RESTART_PAGE`` to have the
        page started again in a fresh transaction. ``commit``: True to commit after each page (the scheduled
        job owns the transaction), or a function called with the page's count instead (tests); otherwise the
        whole run belongs to the caller's transaction. A page that hits a concurrency conflict is rolled back
        and done again at once, after a short backoff, in a fresh transaction when the run owns it (see
        :meth:`_tries`). ``max_pages`` counts only pages that brought something: a run crossing a quiet period
        (a month of history with nothing in it) still reaches the recent records, within its ``deadline``.
        What the run did is in ``result``.
        """
        account.ensure_one()
        slowest = 0.0
        pages = 0
        while True:
            started = _monotonic()
            attempt = None
            for attempt in self._tries(account, flow, result, commit=commit is True, deadline=deadline):
                yield attempt
            outcome = attempt.outcome
            if outcome is None:
                if not result.get("retry_at"):
                    result["busy"] = True  # another worker took the connection while this one waited
                result["more"] = True
                return
            processed, more = outcome
            if processed:
                pages += 1
            crashpoint(f"{flow}.page")  # a page done, not committed yet: where the restart tests kill the run
            if commit:
                if callable(commit):
                    commit(processed)
                else:
                    self._commit(processed)
                if not self._lock(account, flow):
                    result["more"] = True
                    return  # another worker took over after the commit: it goes on from there
            self.env.invalidate_all()  # a page's records are not needed any more: memory stays flat
            if not more or result["error"]:
                result["more"] = result["more"] or bool(more and not result["error"])
                return
            slowest = max(slowest, _monotonic() - started)
            if max_pages and pages >= max_pages:
                result["more"] = True
                return
            if deadline is not None and _monotonic() + slowest > deadline:
                result["more"] = result["out_of_time"] = True
                return

    @api.model
    def _page(self, account, flow, step, result, *, commit=False, deadline=None):
        """One page done by ``step(last_try)`` (see :meth:`_pages`), tried again after a concurrency conflict.
        Returns ``step()``'s answer, or None when the flow's lock went to another worker meanwhile."""
        attempt = None
        for attempt in self._tries(account, flow, result, commit=commit, deadline=deadline):
            with attempt:
                attempt.answer = step(attempt.last_try)
        return attempt.outcome

    @api.model
    def _tries(self, account, flow, result, *, commit=False, deadline=None):
        """The tries of one page (:class:`PageTry`): the next one after a concurrency conflict (at most
        CONCURRENCY_RETRIES more, after a short backoff) or a ``RESTART_PAGE`` answer; the last one's
        ``outcome`` is the page's. With a ``deadline``, a page waits for a row another transaction holds no
        longer than the run's time left (at least LOCK_WAIT_MIN): a longer wait would outlast Odoo's time limit,
        which kills the whole job; the page is tried again instead."""
        conflicts = 0
        while conflicts <= CONCURRENCY_RETRIES:
            saved = {**result, "counts": dict(result["counts"])}
            if commit and deadline is not None:
                wait = max(self._time_left(deadline), LOCK_WAIT_MIN)
                self.env.cr.execute(SQL("SELECT set_config('lock_timeout', %s, true)", f"{int(wait * 1000)}ms"))
            attempt = PageTry(self.env.cr, conflicts == CONCURRENCY_RETRIES, commit=commit)
            yield attempt
            exc = attempt.conflict
            if exc is not None:
                if attempt.last_try:
                    # The other work keeps the same rows: nothing of this page is kept, the job runs again
                    # shortly (a flow that can set single records aside does so in its step's last try).
                    self.env.cr.rollback()
                    _logger.info("Amazon connection %s: %s page conflicted with other transactions on every "
                                 "try (%s): run again in %s s", account.id, flow, type(exc).__name__,
                                 CONFLICT_RERUN.seconds)
                    result.clear()
                    result.update(saved, more=True, retry_at=fields.Datetime.now() + CONFLICT_RERUN)
                    return
                # the database's first line names the conflict (never the row's values: they may be buyer data)
                why = (str(exc).strip().splitlines() or ["-"])[0]
                _logger.info("Amazon connection %s: %s page conflicted with another transaction (%s: %s), try %d "
                             "of %d; trying again", account.id, flow, type(exc).__name__, why, conflicts + 1,
                             CONCURRENCY_RETRIES + 1)
                if not self._page_reset(account, flow, result, saved, commit):
                    return
                time.sleep(CONCURRENCY_BACKOFF * (conflicts + 1) * random.uniform(0.5, 1.5))  # noqa: S311
                conflicts += 1
                continue
            if attempt.answer is RESTART_PAGE:
                if not self._page_reset(account, flow, result, saved, commit):
                    return
                continue
            return

    @api.model
    def _page_reset(self, account, flow, result, saved, commit):
        """Forget a page's try: its counts, and when the run owns its transaction, the transaction itself (a
        fresh one sees what others committed; the flow's lock went with the old one and is taken again).
        False when another worker took the lock meanwhile."""
        result.clear()
        result.update(saved)
        if not commit:
            return True
        self.env.cr.rollback()
        return bool(self._lock(account, flow))

    @api.model
    def _commit(self, processed):
        """Commit a page (with the scheduler's progress when run by it) and wake the other servers' cron
        workers, so a job whose server died is taken over by one of them right away."""
        cron = self.env["ir.cron"]
        if self.env.context.get("cron_id"):
            self.env.cr.postcommit.add(cron._notifydb)
        cron._commit_progress(processed)

    @api.model
    def _cursor(self, account, flow):
        """The progress row of ``flow`` for ``account`` (see ``amazon.sync.cursor``)."""
        account.ensure_one()
        return self.env["amazon.sync.cursor"].sudo()._for(account, flow)

    # ------------------------------------------------------------------ jobs per connection and flow

    @api.model
    def _for(self, account, flow):
        """The scheduled job running ``flow`` for ``account`` (created on first use)."""
        account.ensure_one()
        job = self.sudo().search([("account_id", "=", account.id), ("flow", "=", flow)], limit=1)
        if job:
            return job
        # two dispatchers creating the same job: the second waits for the first and takes its job
        self.env.cr.execute(SQL("SELECT pg_advisory_xact_lock(%s, %s)",
                                zlib.crc32(b"bind_amazon_connector.sync_job") & 0x7FFFFFFF, account.id))
        job = self.sudo().search([("account_id", "=", account.id), ("flow", "=", flow)], limit=1)
        if job:
            return job
        dispatcher = self.env.ref(SYNC_DISPATCHERS[flow]).sudo()
        cron = self.env["ir.cron"].sudo().create({
            "name": f"{dispatcher.cron_name}: {account.name}",
            "model_id": self.env["ir.model"]._get_id(self._name),
            "state": "code",
            "code": f"model._run({account.id}, {flow!r})",
            "user_id": dispatcher.user_id.id,
            # runs when triggered; the dispatcher's schedule triggers it
            "interval_number": 1,
            "interval_type": "weeks",
            "nextcall": fields.Datetime.now() + timedelta(weeks=1),
            "priority": dispatcher.priority,
            "active": True,
        })
        return self.sudo().create({"account_id": account.id, "flow": flow, "cron_id": cron.id})

    @api.model
    def _trigger(self, accounts, flow, at=None):
        """Ask for a run of ``flow`` for each of ``accounts``, by whichever Odoo server is free, now or ``at``."""
        for account in accounts:
            try:
                with self.env.cr.savepoint():
                    job = self._for(account, flow)
            except pg_errors.UniqueViolation:
                # Another server created this job after this transaction began (a long page of another flow):
                # the job is there but this transaction cannot see it. The flow's scheduled action triggers the
                # job of every connection, this one included, from a transaction that sees it.
                self.env.ref(SYNC_DISPATCHERS[flow]).sudo()._trigger(at)
                continue
            job.cron_id._trigger(at)

    @api.model
    def _dispatch_flow(self, flow):
        """Scheduled action of a flow: trigger the job of each connection its owner runs for (the owner's
        ``_sync_domain``)."""
        accounts = self.env["amazon.account"].sudo().search(self.env[FLOW_MODELS[flow]]._sync_domain)
        return self._dispatch(flow, accounts)

    @api.model
    def _dispatch(self, flow, accounts):
        """Trigger the job of each of ``accounts`` for ``flow`` (they run in parallel)."""
        self._trigger(accounts, flow)
        return accounts

    @api.model
    def _run(self, account_id, flow):
        """Body of a connection's job: run the flow through its owner's ``_sync_for``, commit page by page,
        then ask to run again when work remains (now, or when Amazon's quota allows)."""
        account = self.env["amazon.account"].sudo().browse(account_id).exists()
        if not account or not account.active or account.state != "authorized":
            return None
        account = account.with_context(lang=account.user_id.lang or self.env.lang)
        deadline = self._deadline()
        if deadline is not None and self._time_left(deadline) <= 0:
            # this worker already used its turn on other jobs: a free worker (or this one, next turn) runs it
            self._trigger(account, flow)
            return None
        owner = self.env[FLOW_MODELS[flow]].sudo().with_context(lang=account.env.lang)
        result = owner._sync_for(account, commit=True, deadline=deadline)
        if result.get("retry_at"):
            self._trigger(account, flow, at=result["retry_at"])
        elif result.get("more"):
            self._trigger(account, flow)
        return result

    @api.model
    def _retry_at(self, exc):
        """When to try again after Amazon said "later" (``RetryLater.retry_after``), or None."""
        retry_after = getattr(exc, "retry_after", None)
        if not retry_after:
            return None
        return fields.Datetime.now() + timedelta(seconds=max(float(retry_after), 1.0))
