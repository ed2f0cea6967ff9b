"""Restart safety per flow: a process killed between two commits resumes from what is committed.

Each test makes the flow "die" at one of its crash points (utils/crashpoints.py), throws away what was not
committed (as PostgreSQL does for a killed worker), runs the flow again and checks that nothing is lost and
nothing is done twice. The scheduled action's commits are played by savepoints inside the test transaction.
"""
from datetime import timedelta
from unittest.mock import patch

import psycopg2.errors

from odoo import fields
from odoo.tests import tagged
from odoo.tools.sql import column_exists

from spapi_simulator import factory

from ..models.connection import amazon_sync_job as sync_module
from ..models.listings import listing_importer
from ..models.orders import amazon_order_sync as orders_account
from ..models.payouts import amazon_payout_sync as payout_sync
from ..models.stock import amazon_stock_sync as stock_sync
from ..spapi import SpApi
from .common import (
    REPORT_TYPE,
    AmazonFinanceCommon,
    AmazonOrderCommon,
    AmazonStockCommon,
    AmazonTestCommon,
    Commits,
    report_row,
    report_text,
    run_migration,
)


@tagged("post_install", "-at_install")
class TestRestartOrders(AmazonOrderCommon):
    def setUp(self):
        super().setUp()
        self.patch(orders_account, "PAGE_SIZE", 10)

    def _documents(self, ids):
        sale_orders = self.env["sale.order"].search([("client_order_ref", "in", ids)])
        return (len(sale_orders), len(sale_orders.invoice_ids.filtered(lambda m: m.state == "posted")),
                len(sale_orders.picking_ids))

    def test_orders_killed_at_each_page_resume_from_the_committed_page(self):
        ids = [self._make_order(status="SHIPPED")["orderId"] for _i in range(25)]
        commits = Commits(self.env)
        # killed after page 2 was imported (page 1 committed), then again at the first page of the restart
        commits.run_until_crash(self, "orders.page", 2, lambda: self._sync(commit=commits.commit))
        self.assertEqual(commits.done, [10])
        self.assertEqual(self.env["amazon.order"].search_count([("name", "in", ids)]), 10)
        self.assertFalse(self.amazon.orders_cursor, "the cursor does not pass uncommitted orders")
        self.assertTrue(self.amazon.sudo().orders_next_token)
        commits.run_until_crash(self, "orders.page", 1, lambda: self._sync(commit=commits.commit))
        self.assertEqual(self.env["amazon.order"].search_count([("name", "in", ids)]), 10)
        before = len(self.sim.requests)
        self._sync(commit=commits.commit)
        searches = [r for r in self.sim.requests[before:] if r.operation == "searchOrders"]
        self.assertIn("paginationToken", searches[0].query, "resumed at the page after the committed one")
        self.assertEqual(self._documents(ids), (25, 25, 25))
        records = self.env["amazon.order"].search([("name", "in", ids)])
        self.assertEqual(len(records), 25)
        self.assertEqual(set(records.mapped("state")), {"imported"})
        self.assertTrue(self.amazon.orders_cursor)
        # the last page killed after its import: the cursor stays, the next run sees the same orders again
        self.amazon.orders_cursor = self.amazon.import_start_date
        commits.run_until_crash(self, "orders.page", 3, lambda: self._sync(commit=commits.commit))
        self._sync(commit=commits.commit)
        self.assertEqual(self._documents(ids), (25, 25, 25))


@tagged("post_install", "-at_install")
class TestRestartStock(AmazonStockCommon):
    amazon_quantity = 0

    def setUp(self):
        super().setUp()
        self.patch(stock_sync, "BATCH_SIZE", 2)

    def _patched_skus(self, since=0):
        return sorted(r.path.rsplit("/", 1)[1] for r in self.sim.requests[since:]
                      if r.operation == "patchListingsItem")

    def test_stock_killed_after_a_sent_batch_resends_only_what_was_not_committed(self):
        self.amazon.write({"update_stock_on_amazon": True, "push_stock_on_any_change": True})
        for product, qty in ((self.product_mug, 5), (self.product_tee, 7), (self.product_cap, 9)):
            with self.env.cr.savepoint():
                self._put_stock(product, qty)
        account = self.amazon.with_context(amazon_pacing_speed=self.sim_speed)
        Sync = self.env["amazon.stock.sync"]
        commits = Commits(self.env)
        # both batches reached Amazon; the process died before the second batch's commit
        commits.run_until_crash(self, "stock.page", 2, lambda: Sync._push_stock(account, commit=commits.commit))
        self.assertEqual(len(self._patched_skus()), 3)
        self.assertEqual(commits.done, [2])
        queued = self.env["amazon.stock.push"].search([("account_id", "=", self.amazon.id)])
        self.assertEqual(len(queued.listing_id), 1, "the uncommitted batch is still queued")
        resent = queued.listing_id.seller_sku
        before = len(self.sim.requests)
        Sync._push_stock(account, commit=commits.commit)
        self.assertEqual(self._patched_skus(before), [resent], "only the uncommitted batch is sent again")
        self.assertFalse(self.env["amazon.stock.push"].search_count([("account_id", "=", self.amazon.id)]))
        for sku, qty in (("MUG-01", 5), ("TEE-02", 7), ("CAP-03", 9)):
            amazon_qty = self.sim.get_listing(sku)["fulfillmentAvailability"][0]["quantity"]
            self.assertEqual(amazon_qty, qty, sku)
            self.assertEqual(self._listing(sku).stock_sent_qty, qty, sku)


def concurrent_update_once(func):
    """``func`` that first fails as PostgreSQL does when another transaction updated the same rows."""
    calls = []

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise psycopg2.errors.SerializationFailure("could not serialize access due to concurrent update")
        return func(*args, **kwargs)

    flaky.calls = calls
    return flaky


@tagged("post_install", "-at_install")
class TestRestartListings(AmazonTestCommon):
    def test_listings_killed_in_a_chunk_or_before_the_commit_import_once(self):
        self.sim.set_report_outcome(REPORT_TYPE, "DONE")
        rows = [report_row(f"RS-{n:02d}") for n in range(10)]
        self.sim.set_report_document(REPORT_TYPE, report_text(rows).encode(), content_type="text/plain")
        self.amazon.listing_import_date = False
        commits = Commits(self.env)
        with patch.object(listing_importer, "CHUNK_SIZE", 3):
            commits.run_until_crash(self, "listings.chunk", 2, lambda: self._run_job("listings", commits.commit))
            self.assertFalse(self._listings(), "chunks of an uncommitted import are not kept")
            self.assertFalse(self.amazon.listing_import_date)
            commits.run_until_crash(self, "listings.page", 1, lambda: self._run_job("listings", commits.commit))
            self.assertFalse(self._listings())
            self._run_job("listings", commits.commit)
        listings = self._listings()
        self.assertEqual(sorted(listings.mapped("seller_sku")), [f"RS-{n:02d}" for n in range(10)])
        self.assertEqual(self.amazon.listing_import_state, "done")
        # the next import finds everything in place
        self.amazon.listing_import_date = False
        self._run_job("listings", commits.commit)
        self.assertEqual(len(self._listings()), 10)
        self.assertEqual(self.amazon.listing_import_writes, 0)

    def test_listings_concurrent_update_retried_in_a_fresh_transaction(self):
        """Another flow (the orders' cursor) updated the connection meanwhile: the import is tried again in a
        new transaction at once, not stamped as failed (which would wait a day)."""
        self.sim.set_report_outcome(REPORT_TYPE, "DONE")
        self.sim.set_report_document(REPORT_TYPE, report_text([report_row("CC-1")]).encode(),
                                     content_type="text/plain")
        self.amazon.listing_import_date = False
        commits = Commits(self.env)
        Sync = type(self.env["amazon.listing.sync"])
        flaky = concurrent_update_once(Sync._import_listings)
        with patch.object(Sync, "_import_listings", flaky), \
                patch.object(self.env.cr, "rollback", commits.rollback), \
                patch.object(sync_module.time, "sleep", lambda seconds: None):
            self._run_job("listings", commits.commit)
        self.assertEqual(len(flaky.calls), 2)
        self.assertEqual(self._listings().mapped("seller_sku"), ["CC-1"])
        self.assertEqual(self.amazon.listing_import_state, "done")


@tagged("post_install", "-at_install")
class TestRestartPayouts(AmazonFinanceCommon):
    def test_payouts_killed_between_batches_book_each_transaction_once(self):
        group = self._group()
        invoices, txns = [], []
        for n in range(5):
            order_id = factory.new_order_id()
            invoices.append(self._invoice(order_id, 116.00 + n))
            txns.append(self._sale(order_id, group, f"{116 + n}.00", "17.40"))
        commits = Commits(self.env)
        with patch.object(payout_sync, "IMPORT_BATCH", 2):
            commits.run_until_crash(self, "payouts.batch", 2, lambda: self._run_job("payouts", commits.commit))
            self.assertFalse(self.env["amazon.settlement.transaction"].search_count(
                [("account_id", "=", self.amazon.id)]))
            cursor = self.amazon.finance_sync_date
            self.assertTrue(not cursor or cursor < fields.Datetime.now() - timedelta(days=1),
                            "the cursor waits for the commit of the slice it passes")
            commits.run_until_crash(self, "payouts.page", 1, lambda: self._run_job("payouts", commits.commit))
            self.assertEqual(set(inv.payment_state for inv in invoices), {"not_paid"})
            self._run_job("payouts", commits.commit)
        self._assert_each_booked_once(invoices)
        records = self.env["amazon.settlement.transaction"].search([("account_id", "=", self.amazon.id)])
        self.assertEqual(sorted(records.mapped("name")), sorted(t["transactionId"] for t in txns))
        self.assertEqual(len(self._settlement(group)), 1)
        self.assertTrue(self.amazon.finance_sync_date)

    def test_payouts_booked_batch_by_batch_each_committed(self):
        """A long backlog is booked in committed batches (a job can stop between two when its time is up): a
        crash loses only the batch in progress, the next run books the rest, each transaction once."""
        group = self._group()
        invoices = []
        for n in range(5):
            order_id = factory.new_order_id()
            invoices.append(self._invoice(order_id, 116.00 + n))
            self._sale(order_id, group, f"{116 + n}.00", "17.40")
        commits = Commits(self.env)
        with patch.object(payout_sync, "BOOK_BATCH", 2), \
                patch.object(payout_sync, "READ_SLICE", timedelta(days=30)):
            # pages: the reading (one slice), then two transactions a page: the crash is in the second batch
            commits.run_until_crash(self, "payouts.page", 3, lambda: self._run_job("payouts", commits.commit))
            self.assertEqual([inv.payment_state for inv in invoices].count("paid"), 2)
            self._run_job("payouts", commits.commit)
        self._assert_each_booked_once(invoices)

    def _assert_each_booked_once(self, invoices):
        """One transaction a sale, every one booked, every invoice paid by one payment."""
        records = self.env["amazon.settlement.transaction"].search([("account_id", "=", self.amazon.id)])
        self.assertEqual(len(records), len(invoices))
        self.assertEqual(set(records.mapped("state")), {"done"})
        for invoice in invoices:
            self.assertEqual(invoice.payment_state, "paid")
            self.assertEqual(len(self._payments_in_journal(invoice)), 1)

    def _backlog(self, days_ago):
        """A sale of each of ``days_ago``, invoiced; the connection reads from 30 days ago."""
        self.amazon.write({"finance_start_date": fields.Datetime.now() - timedelta(days=30),
                           "finance_sync_date": False})
        group, invoices = self._group(), []
        for days in days_ago:
            order_id = factory.new_order_id()
            invoices.append(self._invoice(order_id, 116.00 + days))
            self._sale(order_id, group, f"{116 + days}.00", "17.40", posted=self.sim.now() - timedelta(days=days))
        return invoices

    def _read_from(self):
        """Patch Amazon's transaction listing to record the start of each call."""
        starts = []
        real = SpApi.iter_transaction_pages

        def iter_transaction_pages(api, posted_after, *args, **kwargs):
            starts.append(posted_after.replace(tzinfo=None))
            return real(api, posted_after, *args, **kwargs)

        return starts, patch.object(SpApi, "iter_transaction_pages", iter_transaction_pages)

    def test_payouts_backlog_read_slice_by_slice_resumes_after_the_last_slice(self):
        """A month of history is read a week at a time, each week committed: a run killed in the third week
        goes on from there, not from the first week again, and books each transaction once."""
        invoices = self._backlog([27, 20, 13, 6, 1])
        start = self.amazon.finance_start_date
        commits = Commits(self.env)
        commits.run_until_crash(self, "payouts.page", 3, lambda: self._run_job("payouts", commits.commit))
        slice_ = payout_sync.READ_SLICE
        self.assertEqual(self.amazon.finance_sync_date, start + 2 * slice_, "two weeks read and committed")
        self.assertEqual(self.env["amazon.settlement.transaction"].search_count(
            [("account_id", "=", self.amazon.id)]), 2, "the third week was lost with the crash")
        starts, patcher = self._read_from()
        with patcher:
            self._run_job("payouts", commits.commit)
        starts = sorted(set(starts))  # one call a slice and marketplace
        self.assertEqual(starts[:3], [start + 2 * slice_, start + 3 * slice_, start + 4 * slice_],
                         "resumed after the last week committed")
        self._assert_each_booked_once(invoices)
        self.assertGreater(self.amazon.finance_sync_date, fields.Datetime.now() - timedelta(minutes=10))
        # caught up: the next read starts again an overlap before the last read, to see late transactions
        after, _before = self.env["amazon.payout.sync"]._window(self.amazon)
        self.assertAlmostEqual(after, fields.Datetime.now() - payout_sync.READ_OVERLAP,
                               delta=timedelta(minutes=10))

    def test_payouts_slice_too_long_for_the_job_goes_on_from_amazons_page(self):
        """A slice the job's time could not hold stops between two of Amazon's pages: what was stored stays, the
        cursor stays, and the next run goes on from Amazon's page token, not from the slice's start; a token
        Amazon refuses makes it read the slice again from its start."""
        invoices = self._backlog([2, 2, 2, 1, 1])
        start = self.amazon.finance_start_date
        account = self.amazon.with_context(amazon_pacing_speed=self.sim_speed)
        sync = self.env["amazon.payout.sync"].with_context(**account.env.context)
        self.addCleanup(self.sim.page_sizes.__setitem__, "listTransactions", self.sim.page_sizes["listTransactions"])
        self.sim.page_sizes["listTransactions"] = 2
        with patch.object(payout_sync, "READ_SLICE", timedelta(days=60)), \
                patch.object(payout_sync, "SLICE_MARGIN", 10 ** 6):
            counts = sync._read_and_book(account, deadline=sync_module._monotonic() + 60, book=False, max_slices=1)
            self.assertTrue(counts["more"])
            self.assertEqual(self.env["amazon.settlement.transaction"].search_count(
                [("account_id", "=", self.amazon.id)]), 2, "the first page is kept")
            self.assertFalse(self.amazon.finance_sync_date, "the slice was not read whole: the cursor stays")
            row = self.env["amazon.sync.job"]._cursor(self.amazon, "payouts")
            self.assertEqual(row.window_start, start)
            self.assertTrue(row.next_token.startswith(self.amazon.marketplace_id.marketplace_id + "|"))
            kept = row.next_token
            tokens, real = [], SpApi.iter_transaction_pages

            def pages(api, *args, next_token=None, **kwargs):
                tokens.append(next_token)
                return real(api, *args, next_token=next_token, **kwargs)

            with patch.object(SpApi, "iter_transaction_pages", pages):
                sync._read_and_book(account, deadline=sync_module._monotonic() + 60, book=False, max_slices=1)
            self.assertEqual(tokens[0], kept.partition("|")[2], "went on from Amazon's page token")
            self.assertEqual(self.env["amazon.settlement.transaction"].search_count(
                [("account_id", "=", self.amazon.id)]), 4)
            # Amazon refuses the token the run kept: the slice is read again from its start, nothing twice
            row.next_token = self.amazon.marketplace_id.marketplace_id + "|expired-token"
            sync._read_and_book(account)
        self.assertFalse(row.next_token)
        self._assert_each_booked_once(invoices)

    def test_payouts_run_right_after_a_read_books_without_reading(self):
        """A job run again minutes after a read (it had stopped when its time was up) books what waits without
        reading Amazon again: each read goes back three days, thousands of transactions in a busy shop."""
        first = self._backlog([1])
        commits = Commits(self.env)
        self._run_job("payouts", commits.commit)
        self.assertEqual(first[0].payment_state, "paid")
        order_id = factory.new_order_id()
        later = self._invoice(order_id, 150.00)
        self._sale(order_id, self._group(), "150.00", "22.50")
        starts, patcher = self._read_from()
        with patcher:
            self._run_job("payouts", commits.commit)
            self.assertEqual(starts, [], "read moments ago: not read again")
            self.assertEqual(later.payment_state, "not_paid")
            row = self.env["amazon.sync.job"]._cursor(self.amazon, "payouts")
            # a read is due again half a schedule's interval after the last one
            read_at = fields.Datetime.now() - self.env["amazon.payout.sync"]._read_every() - timedelta(minutes=5)
            row.write({"cursor": read_at, "last_sync": read_at})
            self._run_job("payouts", commits.commit)
        self.assertTrue(starts, "read again once that is longer ago")
        self.assertEqual(later.payment_state, "paid")

    def test_payouts_progress_is_kept_off_the_connection_row(self):
        """Reading and booking payouts write the flow's progress row, not the connection's (which people, other
        flows and other servers write at the same time)."""
        self._backlog([1])
        self.env.flush_all()
        self.env.cr.execute("SELECT xmin FROM amazon_account WHERE id = %s", [self.amazon.id])
        before = self.env.cr.fetchone()[0]
        self._run_job("payouts", Commits(self.env).commit)
        self.env.flush_all()
        self.env.cr.execute("SELECT xmin FROM amazon_account WHERE id = %s", [self.amazon.id])
        self.assertEqual(self.env.cr.fetchone()[0], before, "the connection's row was not written")
        self.assertEqual(self.amazon.finance_sync_date,
                         self.env["amazon.sync.job"]._cursor(self.amazon, "payouts").cursor)
        self.assertTrue(self.amazon.finance_sync_date)

    def test_upgrade_moves_the_payouts_progress_to_its_row(self):
        """19.0.1.4.0: the old columns go to the payouts flow's row and are dropped."""
        when = fields.Datetime.now() - timedelta(days=2)
        self.env.cr.execute("ALTER TABLE amazon_account ADD COLUMN finance_sync_date timestamp, "
                            "ADD COLUMN finance_last_error text")
        self.env.cr.execute("UPDATE amazon_account SET finance_sync_date = %s, finance_last_error = 'Amazon said no' "
                            "WHERE id = %s", [when, self.amazon.id])
        run_migration(self.env.cr, "19.0.1.4.0", "19.0.1.3.0")
        run_migration(self.env.cr, "19.0.2.0.0", "19.0.1.4.0")  # the flow is called "payouts" since then
        self.env.invalidate_all()
        self.assertEqual((self.amazon.finance_sync_date, self.amazon.finance_last_error), (when, "Amazon said no"))
        self.assertFalse(column_exists(self.env.cr, "amazon_account", "finance_sync_date"))
        after, _before = self.env["amazon.payout.sync"]._window(self.amazon)
        self.assertEqual(after, when - payout_sync.READ_OVERLAP, "read again from where it was")

    def test_payouts_conflicting_on_every_try_run_again_shortly(self):
        """Other work keeps the same rows through every prompt try: the job stops cleanly (nothing half done,
        no failure) and runs again half a minute later."""
        order_id = factory.new_order_id()
        invoice = self._invoice(order_id, 116.00)
        self._sale(order_id, self._group(), "116.00", "17.40")
        # the job exists before the run (its rollbacks keep it)
        self.env["amazon.sync.job"]._trigger(self.amazon, "payouts")
        commits = Commits(self.env)
        tries = []

        def always_conflicting(account, *args, **kwargs):
            tries.append(1)
            raise psycopg2.errors.SerializationFailure("could not serialize access due to concurrent update")

        with patch.object(type(self.env["amazon.payout.sync"]), "_read_and_book", always_conflicting), \
                patch.object(self.env.cr, "rollback", commits.rollback), \
                patch.object(sync_module.time, "sleep", lambda seconds: None):
            result = self._run_scheduled("payouts", dispatch=False)[self.amazon]
        self.assertEqual(len(tries), sync_module.CONCURRENCY_RETRIES + 1)
        self.assertTrue(result["more"] and not result["error"])
        self.assertEqual(invoice.payment_state, "not_paid")
        job = self.env["amazon.sync.job"]._for(self.amazon, "payouts")
        later = self.env["ir.cron.trigger"].sudo().search([("cron_id", "=", job.cron_id.id),
                                                          ("call_at", ">", fields.Datetime.now())])
        self.assertEqual(len(later), 1, "run again later, not at once in a loop")
        self.assertLessEqual(later.call_at, fields.Datetime.now() + timedelta(minutes=1))

    def test_payouts_concurrent_update_retried_in_a_fresh_transaction(self):
        order_id = factory.new_order_id()
        invoice = self._invoice(order_id, 116.00)
        self._sale(order_id, self._group(), "116.00", "17.40")
        commits = Commits(self.env)
        flaky = concurrent_update_once(type(self.env["amazon.payout.sync"])._read_and_book)
        with patch.object(type(self.env["amazon.payout.sync"]), "_read_and_book", flaky), \
                patch.object(payout_sync, "READ_SLICE", timedelta(days=30)), \
                patch.object(self.env.cr, "rollback", commits.rollback), \
                patch.object(sync_module.time, "sleep", lambda seconds: None):
            self._run_job("payouts", commits.commit)
        self.assertEqual(len(flaky.calls), 2)
        self.assertEqual(invoice.payment_state, "paid")
        self.assertFalse(self.amazon.finance_last_error)
