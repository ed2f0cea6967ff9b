"""The payouts flow of a connection: Amazon's financial transactions read and booked.

- Amazon keeps the seller's money until it deposits a settlement: each released sale pays its customer
  invoice into the connection's settlement clearing account (Amazon's journal), refunds, fees and
  withholdings are paid out of it, and the deposit is one entry of the bank journal that moves the
  settlement's net from the clearing account to the bank (the bank statement line matches it).
- A daily scheduled action (and a button) reads Finances 2024-06-19 ``listTransactions`` and, where the
  seller has them, the settlement reports (deposit amount and date).
- A connection that pays on post has its Amazon orders' posted invoices paid by this job as soon as the
  orders flow triggers it: that needs no Amazon call, and such a run reads Amazon only when a read is due.

The work is split by concept: transactions stored here, booked by ``amazon.settlement.transaction`` and
``amazon.settlement``; payments in ``clearing_payments``, credit notes in ``refund_credit_notes``, fee bills,
withholdings and deposits in ``settlement_entries``, deposits read in ``settlement_reports``, the settings in
``payout_settings``.
"""
import logging
from datetime import timedelta, timezone

import psycopg2

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import format_datetime

from ...spapi import errors as spapi_errors
from ...utils.crashpoints import crashpoint
from ...utils.settlement import RELEASED
from ..connection.amazon_sync_job import SYNC_DISPATCHERS, _monotonic, is_concurrency_error
from . import clearing_payments, order_invoices, payout_settings, settlement_reports

_logger = logging.getLogger(__name__)

#: Re-read this much before the cursor: Amazon's finances may lack the events of the last 48 hours.
READ_OVERLAP = timedelta(days=3)
#: Amazon answers nothing when postedAfter and postedBefore are more than 180 days apart.
MAX_WINDOW = timedelta(days=179)
#: postedBefore must be more than two minutes before the request.
READ_LAG = timedelta(minutes=3)
IMPORT_BATCH = 200
#: Transactions booked between two commits of the payouts job (it stops between batches when its time is up).
BOOK_BATCH = 20
#: The payouts job reads Amazon's transactions a slice of at most this length at a time, each committed;
#: a regular read (the overlap and the days since) is one slice, a first read of months several.
READ_SLICE = timedelta(days=7)
#: Seconds a job keeps, after reading a page of transactions, to commit and to book.
SLICE_MARGIN = 10
#: A read that stopped less than this after the cursor's slice started is a backlog in progress: the next
#: read goes on from the cursor, without the overlap. Also the shortest time between two reads of a job.
REREAD_AFTER = timedelta(minutes=5)
#: Minutes of each interval type of the payouts scheduled action (a job reads Amazon at most twice an interval).
INTERVAL_MINUTES = {"minutes": 1, "hours": 60, "days": 1440, "weeks": 10080, "months": 43200}


class AmazonPayoutSync(models.AbstractModel):
    """The payouts flow: Amazon's financial transactions read and booked."""

    _name = "amazon.payout.sync"
    _description = "Amazon Payouts Synchronization"
    #: The connections the flow's scheduled action triggers a job for (``amazon.sync.job._dispatch_flow``):
    #: daily, every authorized connection with an account.
    _sync_domain = [("state", "=", "authorized"), ("journal_id", "!=", False)]

    # ------------------------------------------------------------------ entry points

    @api.model
    def _sync_for(self, account, *, commit=False, deadline=None):
        """The connection's payouts job: pay the invoices posted since (pay on post), read Amazon's transactions
        slice by slice when a read is due, then book them batch by batch, each committed; failures are shown on
        the connection, Amazon's "later" becomes a later run. A run out of time stops between two batches and
        the next run goes on (booking is idempotent)."""
        account.ensure_one()
        Job = self.env["amazon.sync.job"]
        result = Job._result()
        if not Job._lock(account, "payouts"):
            result["busy"] = True
            return result
        account = account.sudo().with_company(account.company_id)
        sync = self.with_env(account.env)  # the connection's work, as superuser in its company
        todo = []
        done = {"paid": not account.register_payment_on_post, "read": not sync._read_due(account),
                "booked": False}
        if done["read"]:
            todo.extend(sync._to_book(account).ids)  # read moments ago: book what is waiting

        def step(last_try):
            if not done["paid"]:
                paid = sync._pay_posted_invoices(account)
                done["paid"] = True
                return len(paid), True
            if not done["read"]:
                counts = {"count": 0}
                try:
                    with sync.env.cr.savepoint():
                        counts = sync._read_and_book(account, deadline=deadline, book=False, max_slices=1)
                    # one slice a page, committed: a run out of time resumes after the last slice
                    for key, value in counts.items():
                        if key != "more":
                            result["counts"][key] = result["counts"].get(key, 0) + value
                except spapi_errors.RetryLater as exc:
                    _logger.info("Amazon payouts of %s postponed: %s", account.name, exc)
                    sync._progress(account, message=str(exc))
                    result.update(error=str(exc), retry_at=Job._retry_at(exc))
                except (spapi_errors.SpApiError, UserError, ValidationError) as exc:
                    _logger.warning("Amazon payouts of %s failed: %s", account.name, exc)
                    sync._progress(account, message=str(exc))
                    account.message_post(body=sync.env._("Payout synchronisation failed: %s", exc))
                    result["error"] = str(exc)
                if result["error"]:
                    return counts["count"], False
                if counts.get("more"):
                    return counts["count"], True  # the next slice in the next page
                done["read"] = done["booked"] = True
                todo.extend(sync._to_book(account).ids)
                return counts["count"], True
            batch = sync.env["amazon.settlement.transaction"].browse(todo[:BOOK_BATCH]).exists()
            batch.with_env(account.env)._book_order_part()
            if len(todo) > BOOK_BATCH:
                del todo[:BOOK_BATCH]
                return len(batch), True
            todo.clear()
            if batch or done["booked"]:
                # a run that only paid on post leaves the settlements alone: nothing of theirs changed
                sync._book_settlements(account)
            return len(batch), False

        for attempt in Job._pages(account, "payouts", result, commit=commit, deadline=deadline):
            with attempt:
                attempt.answer = step(attempt.last_try)
        return result

    @api.model
    def _sync_now(self, account):
        """The connection's button: read Amazon's transactions and settlement reports now, book them, and say
        what was read."""
        try:
            stats = self._read_and_book(account)
        except spapi_errors.SpApiError as exc:
            self._progress(account.sudo(), message=str(exc))
            raise UserError(self.env._("Amazon could not be read: %s", exc)) from exc
        if stats["count"]:
            message = self.env._(
                "Transactions read: %(count)s (booked: %(booked)s, waiting for an invoice: %(waiting)s, "
                "deferred by Amazon: %(deferred)s).", **stats)
        else:
            # "0 read" reads as "Amazon has none": say when Amazon may have them instead
            message = self.env._("Amazon has no transaction of this period yet.")
        message += " " + self._delay_note()
        kind = "warning" if stats["waiting"] else ("success" if stats["count"] else "info")
        return self.env["amazon.sync.job"]._notification(
            message, kind, title=self.env._("Amazon payouts synchronized"), sticky=False)

    @api.model
    def _delay_note(self):
        """When Amazon's next transactions can be expected, and when the connector looks again."""
        note = self.env._("Amazon publishes transactions up to 48 h later and releases deferred ones later still.")
        cron = self.env.ref(SYNC_DISPATCHERS["payouts"], raise_if_not_found=False)
        if cron and cron.sudo().active:
            note += " " + self.env._("Next check at %s.", format_datetime(self.env, cron.sudo().nextcall,
                                                                          dt_format="short"))
        return note

    # ------------------------------------------------------------------ progress

    @api.model
    def _progress(self, account, **vals):
        """Write the payouts flow's progress (``cursor``, ``last_sync``, ``message``, and the slice a run left
        between two pages: ``window_start``, ``window_end``, ``next_token``) on its own row, only what changes:
        the connection's row is left alone."""
        account.ensure_one()
        row = self.env["amazon.sync.job"]._cursor(account, "payouts")
        vals = {key: value or False for key, value in vals.items() if (row[key] or False) != (value or False)}
        if vals:
            row.write(vals)
        return row

    @api.model
    def _read_every(self):
        """How long a job waits after a read before it reads Amazon again: half the interval of the payouts
        scheduled action (a day: twelve hours), at least REREAD_AFTER. The runs in between (triggered to pay
        what the orders flow invoiced, or to go on with a long booking) book without reading."""
        cron = self.env.ref(SYNC_DISPATCHERS["payouts"], raise_if_not_found=False)
        if not cron:
            return REREAD_AFTER
        cron = cron.sudo()
        minutes = cron.interval_number * INTERVAL_MINUTES.get(cron.interval_type, 1440)
        return max(REREAD_AFTER, timedelta(minutes=minutes / 2))

    @api.model
    def _read_due(self, account):
        """Whether a run of the job reads Amazon: never read, a backlog or a slice left in the middle, or the
        last read is older than :meth:`_read_every`."""
        cursor = self.env["amazon.sync.job"]._cursor(account, "payouts").cursor
        return not cursor or cursor <= fields.Datetime.now() - READ_LAG - self._read_every()

    # ------------------------------------------------------------------ paying on post

    @api.model
    def _pay_posted_invoices(self, account):
        """A connection that pays on post: its Amazon orders' posted invoices not paid yet, paid in full from the
        settlement journal. The connection's payments get one savepoint: when they fail, the invoices stay
        posted and unpaid (said once in their chatter; a release by Amazon pays them) and the job goes on.
        Returns the payments."""
        Payment = self.env["account.payment"]
        if not account.register_payment_on_post or not account.clearing_journal_id \
                or not account.clearing_account_id:
            return Payment
        invoices = order_invoices.unpaid_order_invoices(account)
        if not invoices:
            return Payment
        try:
            with self.env.cr.savepoint():
                return clearing_payments.pay_invoices_in_full(account, invoices)
        except (UserError, ValidationError, psycopg2.Error) as exc:
            if is_concurrency_error(exc):
                raise  # the page is tried again (see amazon.sync.job._tries)
            # the savepoint has undone the payments; the invoices stay posted and say why (once)
            _logger.warning("Amazon payment on post of %s failed: %s", invoices.mapped("name"), exc)
            body = self.env._("The payment of this Amazon invoice could not be registered: %s. It is paid when "
                              "Amazon releases the money.", exc)
            told = set(self.env["mail.message"].sudo().search([
                ("model", "=", "account.move"), ("res_id", "in", invoices.ids),
                ("body", "ilike", str(exc)),
            ]).mapped("res_id"))
            for invoice in invoices.filtered(lambda m: m.id not in told):
                invoice.sudo().message_post(body=body)
        return Payment

    # ------------------------------------------------------------------ reading Amazon

    @api.model
    def _read_and_book(self, account, deadline=None, book=True, max_slices=None):
        """Read Amazon's transactions (and settlement reports) and book them (not when ``book`` is False: the
        payouts job books them batch by batch). Returns counters, and ``more`` when the reading stopped
        before the end of the window (``max_slices`` slices read, or the ``deadline`` near).

        The window is read in slices of at most READ_SLICE, each moving the cursor when read whole: a
        job that commits after each slice resumes after the last one instead of reading months of history
        again. Amazon does not say in which order it lists transactions, so nothing finer than a whole slice
        counts as read; a slice the job's time cannot hold stops between two of Amazon's pages and the next
        run goes on with Amazon's page token (kept with the slice on the flow's progress row), or reads the
        slice again from its start if Amazon refuses the token (reading a transaction again changes
        nothing)."""
        account.ensure_one()
        payout_settings.apply_clearing_defaults(account)
        payout_settings.check_settings(account)
        if not self.env["amazon.sync.job"]._lock(account, "payouts"):
            raise UserError(self.env._("The payouts of %s are being synchronized right now: try again in a "
                                       "moment.", account.name))
        api_client = account._spapi(deadline=deadline)  # as the caller, before sudo
        account = account.sudo().with_company(account.company_id)
        sync = self.with_env(account.env)  # the connection's work, as superuser in its company
        after, before = sync._window(account)
        counts = {"count": 0, "booked": 0, "waiting": 0, "deferred": 0}
        if after >= before:
            # a connection created minutes ago: Amazon only answers for periods ending two minutes back
            return counts
        row = sync.env["amazon.sync.job"]._cursor(account, "payouts")
        first_after = after
        touched = sync.env["amazon.settlement.transaction"]
        slices = 0
        while after < before:
            if max_slices and slices >= max_slices:
                counts["more"] = True
                break
            end, resume = min(after + READ_SLICE, before), None
            if row.next_token and row.window_start == after and row.window_end:
                end, resume = row.window_end, row.next_token  # a slice a run left between two pages
            started = fields.Datetime.now()
            try:
                count, read, stopped_at = sync._read_slice(account, api_client, after, end, deadline, resume)
            except spapi_errors.BadData:
                if not resume:
                    raise
                # an expired or refused page token: the slice is read again from its start
                sync._progress(account, window_start=False, window_end=False, next_token=False)
                continue
            counts["count"] += count
            touched |= read
            slices += 1
            if stopped_at:
                sync._progress(account, window_start=after, window_end=end, next_token=stopped_at)
                counts["more"] = True
                break
            sync._progress(account, cursor=end, last_sync=started, window_start=False, window_end=False,
                           next_token=False, message=False)
            after = end
        if after >= before:
            # the reports of every settlement still without its deposit, even those of a backlog read in
            # several runs
            oldest_open = sync.env["amazon.settlement.transaction"].search([
                ("account_id", "=", account.id), ("settlement_id.deposit_date", "=", False),
                ("posted_date", "!=", False),
            ], order="posted_date asc", limit=1).posted_date
            settlement_reports.read_deposits(account, api_client, min(first_after, oldest_open or first_after))
        if book:
            sync._book_waiting(account)
        counts.update(
            booked=len(touched.filtered(lambda t: t.state == "done")),
            waiting=len(touched.filtered(lambda t: t.state == "waiting")),
            deferred=len(touched.filtered(lambda t: t.state == "deferred")),
        )
        return counts

    @api.model
    def _window(self, account, now=None):
        """(posted_after, posted_before) of the next read, to a few minutes ago.

        When the last slice read was history (a run stopped in the middle of a long backlog), it goes on
        from the cursor. Once caught up, it starts again an overlap before the cursor (Amazon publishes
        transactions up to 48 h late) or at the oldest deferred transaction still waiting (to see it
        released), whichever is earlier."""
        account.ensure_one()
        before = (now or fields.Datetime.now()) - READ_LAG
        row = self.env["amazon.sync.job"]._cursor(account, "payouts")
        if not row.cursor:
            start = account.finance_start_date or before - timedelta(days=30)
        elif row.last_sync and row.cursor < row.last_sync - READ_LAG - REREAD_AFTER:
            return max(row.cursor, before - MAX_WINDOW), before  # the rest of a backlog
        else:
            start = row.cursor - READ_OVERLAP
        oldest_deferred = self.env["amazon.settlement.transaction"].search([
            ("account_id", "=", account.id), ("state", "=", "deferred"), ("posted_date", "!=", False),
        ], order="posted_date asc", limit=1).posted_date
        if oldest_deferred and oldest_deferred < start:
            start = oldest_deferred
        return max(start, before - MAX_WINDOW), before

    @api.model
    def _read_slice(self, account, api_client, after, before, deadline=None, resume=None):
        """Store the transactions posted in [after, before) in every marketplace, from ``resume`` (where an
        earlier run stopped: "marketplace|page token") if given. Returns (count, records, stopped_at):
        ``stopped_at`` says where to go on when the ``deadline`` came between two of Amazon's pages."""
        utc_after = after.replace(tzinfo=timezone.utc)
        utc_before = before.replace(tzinfo=timezone.utc)
        resume_marketplace, _sep, token = (resume or "").partition("|")
        count = 0
        touched = self.env["amazon.settlement.transaction"]
        marketplaces = account._get_marketplaces().sorted("id").mapped("marketplace_id")
        if resume_marketplace in marketplaces:
            marketplaces = marketplaces[marketplaces.index(resume_marketplace):]
        else:
            token = None
        for marketplace_id in marketplaces:
            for transactions, next_token in api_client.iter_transaction_pages(
                    utc_after, utc_before, marketplace_id=marketplace_id, next_token=token or None):
                for start in range(0, len(transactions), IMPORT_BATCH):
                    touched |= self._import_transactions(account, transactions[start:start + IMPORT_BATCH])
                    crashpoint("payouts.batch")
                count += len(transactions)
                if next_token and deadline is not None and _monotonic() > deadline - SLICE_MARGIN:
                    return count, touched, f"{marketplace_id}|{next_token}"
            token = None
        return count, touched, None

    @api.model
    def _import_transactions(self, account, transactions):
        """Store SP-API transactions (idempotent: a transaction read again is updated, never duplicated)."""
        account.ensure_one()
        Txn = self.env["amazon.settlement.transaction"]
        Settlement = self.env["amazon.settlement"]
        keys = [Txn._transaction_key(t) for t in transactions]
        existing = {r.name: r for r in Txn.search([("account_id", "=", account.id), ("name", "in", keys)])}
        settlements, currencies = {}, {}
        touched = Txn
        refunds_new = False
        for key, txn in zip(keys, transactions, strict=True):
            vals = Txn._values_from_api(account, txn, currencies)
            group = txn.settlement_id or txn.financial_event_group_id
            if group:
                settlement = settlements.get(group)
                if settlement is None:
                    settlement = Settlement.search([("account_id", "=", account.id), ("name", "=", group)],
                                                   limit=1) \
                        or Settlement.create({"account_id": account.id, "name": group,
                                              "currency_id": vals["currency_id"]})
                    settlements[group] = settlement
                vals["settlement_id"] = settlement.id
            record = existing.get(key)
            released = vals["status"] in RELEASED
            if record and (record.state in ("done", "superseded")
                           or record.line_ids.filtered(lambda ln: ln.move_id or ln.payment_id)):
                # (partly) booked already: only follow Amazon's status and settlement, never re-split; written
                # only when they changed (each read overlaps three days: most are read again unchanged, and a
                # write would take their rows from the booking going on)
                stored = {"status": record.status, "settlement_id": record.settlement_id.id,
                          "maturity_date": record.maturity_date}
                changes = {k: v for k, v in vals.items() if k in stored and (stored[k] or False) != (v or False)}
                if changes:
                    record.write(changes)
            elif record and record.state in ("to_book", "waiting") and record.raw_json == vals["raw_json"] \
                    and record.status == vals["status"] \
                    and record.settlement_id.id == vals.get("settlement_id", False) \
                    and not record.line_ids.filtered("is_unknown"):
                # read again unchanged (each read overlaps the last days): its split and state stand; a sale
                # waiting for its invoice is tried again once the order is invoiced (see _to_book)
                pass
            else:
                vals["state"] = "to_book" if released else "deferred"
                if record:
                    record.write(vals)
                else:
                    record = Txn.create({**vals, "account_id": account.id, "name": key})
                    existing[key] = record
                record._rebuild_lines(txn)
                refunds_new = refunds_new or record.kind == "refund"
            touched |= record
        if refunds_new:  # the returns flow notes refunds whose goods are not back: its job, not a call
            self.env["amazon.sync.job"]._trigger(account, "returns")
        return touched

    # ------------------------------------------------------------------ booking

    @api.model
    def _book_waiting(self, account):
        """Book what can be booked: invoices to pay on post, sales and refunds released, fee bills of open
        settlements, settlements whose deposit is known."""
        account.ensure_one()
        self._pay_posted_invoices(account)
        self._to_book(account)._book_order_part()
        self._book_settlements(account)
        return True

    @api.model
    def _to_book(self, account):
        """The transactions to book now, those never tried first: released ones not booked yet, failed ones,
        and sales waiting for an invoice once the order has a posted one (the others go on waiting untouched)."""
        account.ensure_one()
        Txn = self.env["amazon.settlement.transaction"]
        # a released transaction that names the deferred one it releases carries the money
        releasing = Txn.search([("account_id", "=", account.id), ("deferred_ref", "!=", False),
                                ("status", "in", list(RELEASED))])
        if releasing:
            Txn.search([
                ("account_id", "=", account.id), ("name", "in", releasing.mapped("deferred_ref")),
                ("state", "in", ("deferred", "to_book", "waiting")),
            ]).write({"state": "superseded", "message": self.env._("Released by another transaction.")})
        domain = [("account_id", "=", account.id)]
        order = "posted_date, id"
        to_book = Txn.search(domain + [("state", "=", "to_book")], order=order)
        failed = Txn.search(domain + [("state", "=", "error")], order=order)
        waiting = Txn.search(domain + [("state", "=", "waiting")], order=order)
        sales = waiting.filtered(lambda t: t.kind == "sale" and t.amazon_order_id)
        if sales:
            invoiced = {oid for oid, moves in order_invoices.find_order_invoices(
                account, sales.mapped("amazon_order_id")).items()
                if moves.filtered(lambda m: m.move_type == "out_invoice")}
            waiting -= sales.filtered(lambda t: t.amazon_order_id not in invoiced)
        return to_book | failed | waiting

    @api.model
    def _book_settlements(self, account):
        """Fee bills of the open settlements; closing of the settlements whose deposit is known."""
        account.ensure_one()
        settlements = account.settlement_ids
        for settlement in settlements.filtered(lambda s: s.state == "open" and not s.deposit_date):
            settlement._refresh_fee_bill()
        to_close = settlements.filtered(
            lambda s: s.deposit_date and (
                s.state == "open"
                or s.line_ids.filtered(lambda ln: ln.category != "transfer" and not ln.booked
                                       and ln.category not in ("sale", "refund")
                                       and ln.transaction_id.state not in ("deferred", "superseded"))
            )
        )
        to_close._book_closing()
