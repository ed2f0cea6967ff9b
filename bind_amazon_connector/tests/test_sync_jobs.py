"""Scheduled work that survives: prompt retries of concurrency conflicts, jobs that fit Odoo's time limit,
Amazon's "wait" turned into a later run instead of a sleep, failed attempts counted apart."""
import logging
import time
from datetime import timedelta
from unittest.mock import patch

import psycopg2.errors

from odoo import fields
from odoo.tests import tagged
from odoo.tools import SQL, config

from ..models.connection import amazon_sync_job as sync_module
from ..models.orders import amazon_order_sync as orders_module
from ..models.orders.amazon_order import AmazonOrderError
from ..models.orders.order_import import OrderImport
from ..spapi.pacing import shared_pacer
from .common import AmazonOrderCommon


class FakeClock:
    """The budget's clock, moved by the test (it starts at the real clock, as the SP-API layer's does)."""

    def __init__(self):
        self.now = time.monotonic()

    def __call__(self):
        return self.now


@tagged("post_install", "-at_install")
class TestSyncJobs(AmazonOrderCommon):

    def setUp(self):
        super().setUp()
        self.patch(sync_module, "CONCURRENCY_BACKOFF", 0.0)

    def _job_triggers(self, flow="orders"):
        job = self.env["amazon.sync.job"]._for(self.amazon, flow)
        return self.env["ir.cron.trigger"].sudo().search([("cron_id", "=", job.cron_id.id)])

    # ------------------------------------------------------------------ concurrency conflicts

    def _conflict_on(self, order_id, times):
        """Make the import of ``order_id`` hit a serialization failure ``times`` times."""
        real = OrderImport.sale_order_vals
        tries = []

        def prepare(order_import, record, order):
            if record.name == order_id:
                tries.append(order_id)
                if len(tries) <= times:
                    raise psycopg2.errors.SerializationFailure("could not serialize access due to concurrent update")
            return real(order_import, record, order)

        return patch.object(OrderImport, "sale_order_vals", prepare), tries

    def test_serialization_failure_retried_at_once_and_imported(self):
        ids = [self._make_order(status="SHIPPED")["orderId"] for _i in range(3)]
        patcher, tries = self._conflict_on(ids[1], times=1)
        with patcher:
            result = self._sync()
        self.assertEqual(result["counts"], {"imported": 3})
        rec = self._amazon_order(ids[1])
        self.assertEqual(rec.state, "imported", rec.reason)
        self.assertEqual(rec.attempt_count, 0)
        self.assertGreaterEqual(len(tries), 2, "tried again in the same run, not an hour later")
        self.assertEqual(len(self._invoices(rec).filtered(lambda m: m.state == "posted")), 1)
        self.assertEqual(len(rec.sale_order_id.picking_ids.filtered(lambda p: p.state == "done")), 1)

    def test_conflict_on_every_try_leaves_the_order_waiting_with_the_reason(self):
        ids = [self._make_order()["orderId"] for _i in range(3)]
        patcher, tries = self._conflict_on(ids[0], times=100)
        with patcher:
            self._sync()
        rec = self._amazon_order(ids[0])
        self.assertEqual(rec.state, "error")
        self.assertIn("SerializationFailure", rec.reason)
        self.assertEqual(rec.attempt_count, 1)
        self.assertTrue(rec.retry_date)
        self.assertLessEqual(rec.retry_date, fields.Datetime.now() + timedelta(minutes=10), "minutes, not hours")
        self.assertLessEqual(rec.retry_date, fields.Datetime.now() + timedelta(minutes=1),
                             "a conflict is tried again by the next run")
        self.assertEqual(len(tries) - 1, sync_module.CONCURRENCY_RETRIES + 1, "a few prompt tries, then it waits")
        self.assertEqual({self._amazon_order(i).state for i in ids[1:]}, {"imported"})
        # the next automatic try imports it
        rec.sudo().retry_date = fields.Datetime.now() - timedelta(seconds=1)  # only the sync writes orders
        self._sync()
        self.assertEqual(rec.state, "imported", rec.reason)
        self.assertEqual(rec.attempt_count, 0)

    # ------------------------------------------------------------------ what a conflict logs

    def _page_failing(self, errcode, times):
        """A page step whose first ``times`` tries run a statement PostgreSQL refuses with ``errcode``."""
        tries = []

        def step(last):
            tries.append(last)
            if len(tries) <= times:
                self.env.cr.execute(SQL("DO $$ BEGIN RAISE EXCEPTION 'forced' USING ERRCODE = %s; END $$",
                                        SQL(f"'{errcode}'")))
            return 1, False

        return step, tries

    def test_retried_conflict_logs_one_line_and_no_error(self):
        step, tries = self._page_failing("serialization_failure", times=1)
        # logging.INFO, not "INFO": Odoo names its level 25 "INFO" too
        with self.assertNoLogs("odoo.sql_db", logging.ERROR), \
                self.assertLogs(sync_module.__name__, logging.INFO) as logs:
            Job = self.env["amazon.sync.job"]
            outcome = Job._page(self.amazon, "orders", step, Job._result())
        self.assertEqual(outcome, (1, False))
        self.assertEqual(tries, [False, False])
        conflict = [line for line in logs.output if "conflicted" in line]
        self.assertEqual(len(conflict), 1, logs.output)
        self.assertIn(f"Amazon connection {self.amazon.id}: orders page", conflict[0])
        self.assertIn("SerializationFailure", conflict[0])
        self.assertIn(f"try 1 of {sync_module.CONCURRENCY_RETRIES + 1}", conflict[0])

    def test_conflict_not_retried_any_more_logs_an_error(self):
        step, tries = self._page_failing("serialization_failure", times=100)
        with self.assertLogs("odoo.sql_db", logging.ERROR) as logs, \
                self.assertRaises(psycopg2.errors.SerializationFailure):
            self.env["amazon.sync.job"]._page(self.amazon, "orders", step, self.env["amazon.sync.job"]._result())
        self.assertEqual(len(tries), sync_module.CONCURRENCY_RETRIES + 1)
        self.assertEqual(len(logs.records), 1, "only the try that is not retried logs its statement")
        self.assertIn("bad query", logs.output[0])

    def test_other_failure_logs_an_error_and_is_not_retried(self):
        step, tries = self._page_failing("division_by_zero", times=1)
        with self.assertLogs("odoo.sql_db", logging.ERROR) as logs, \
                self.assertRaises(psycopg2.errors.DivisionByZero):
            self.env["amazon.sync.job"]._page(self.amazon, "orders", step, self.env["amazon.sync.job"]._result())
        self.assertEqual(tries, [False])
        self.assertEqual(len(logs.records), 1)

    # ------------------------------------------------------------------ failed attempts

    def test_only_failed_attempts_count_and_updated_orders_keep_their_retries(self):
        order = self._make_order()
        self._sync()
        rec = self._amazon_order(order["orderId"])
        for _i in range(6):  # Amazon updates the order several times: each is processed normally
            self._update_order(order["orderId"], buyer={"name": "Ana López", "email": "ana@example.com"})
            self._sync()
        self.assertEqual(rec.state, "imported")
        self.assertEqual(rec.attempt_count, 0)
        self._update_order(order["orderId"], status="SHIPPED")
        with patch.object(OrderImport, "apply_fulfillment",
                          side_effect=AmazonOrderError("warehouse busy")):
            self._sync()
        self.assertEqual((rec.state, rec.attempt_count), ("error", 1))
        rec.sudo().retry_date = fields.Datetime.now() - timedelta(seconds=1)  # only the sync writes orders
        self._sync()
        self.assertEqual(rec.state, "imported", "an order Amazon updated often is still retried automatically")
        self.assertEqual(rec.attempt_count, 0)

    # ------------------------------------------------------------------ jobs created by another server

    def test_job_created_by_another_server_meanwhile_is_triggered_through_its_scheduled_action(self):
        """A long page (one flow) asks for another flow's run when that flow's job was created and committed by
        another server after the page began: the job is there, but the page's transaction cannot see it. The
        full soak met it once (an orders job failing on the stock job's unique key after committing its pages).
        The run is asked of the flow's scheduled action, which triggers every connection's job."""
        # the other server's job: in the database, unseen by the page below
        self.env["amazon.sync.job"]._for(self.amazon, "stock")
        Job = type(self.env["amazon.sync.job"])
        real_search = Job.search

        def unseen(job_model, domain, *args, **kwargs):
            if ("flow", "=", "stock") in domain:
                return job_model.browse()
            return real_search(job_model, domain, *args, **kwargs)

        dispatcher = self.env.ref(sync_module.SYNC_DISPATCHERS["stock"])
        Trigger = self.env["ir.cron.trigger"].sudo()
        before = Trigger.search_count([("cron_id", "=", dispatcher.id)])
        with patch.object(Job, "search", unseen), self.assertLogs("odoo.sql_db", "ERROR"):
            self.env["amazon.sync.job"]._trigger(self.amazon, "stock")  # raised the unique key's violation before
        self.assertEqual(Trigger.search_count([("cron_id", "=", dispatcher.id)]), before + 1)
        self.assertEqual(self.env["amazon.sync.job"].search_count(
            [("account_id", "=", self.amazon.id), ("flow", "=", "stock")]), 1, "nothing half-written")
        # and the scheduled action's run triggers the connection's job, which it sees
        self.env["amazon.sync.job"]._dispatch("stock", self.amazon)
        self.assertTrue(self._job_triggers("stock"))

    # ------------------------------------------------------------------ time limit

    def test_cron_time_limit_read_from_the_configuration(self):
        with patch.dict(config.options, {"limit_time_real_cron": 300, "limit_time_real": 120, "workers": 0}):
            self.assertEqual(sync_module.cron_time_limit(), 300)
        with patch.dict(config.options, {"limit_time_real_cron": -1, "limit_time_real": 120, "workers": 0}):
            self.assertEqual(sync_module.cron_time_limit(), 120)
        with patch.dict(config.options, {"limit_time_real_cron": 0, "limit_time_real": 0, "workers": 0}):
            self.assertIsNone(sync_module.cron_time_limit())

    def test_cron_time_limit_with_workers_counts_the_cpu_limit(self):
        # a cron worker is killed past limit_time_cpu CPU seconds over all the jobs of its turn
        options = {"limit_time_real_cron": 300, "limit_time_real": 120, "workers": 2, "limit_time_cpu": 60}
        with patch.dict(config.options, options):
            self.assertEqual(sync_module.cron_time_limit(), 60)
        with patch.dict(config.options, dict(options, limit_time_cpu=600)):
            self.assertEqual(sync_module.cron_time_limit(), 300 - sync_module.PREFORK_SLEEP)

    def test_job_with_a_short_time_limit_stops_and_resumes(self):
        ids = [self._make_order()["orderId"] for _i in range(25)]
        clock = FakeClock()
        sync_class = type(self.env["amazon.order.sync"])
        real_fetch = sync_class._fetch_page

        def slow_fetch(sync, account, api, start, end, token, **kw):
            clock.now += 40  # each page takes 40 s of the job's 120 s limit
            return real_fetch(sync, account, api, start, end, token, **kw)

        runs = []
        with patch.object(sync_module, "_monotonic", clock), patch.object(orders_module, "PAGE_SIZE", 10), \
                patch.object(sync_class, "_fetch_page", slow_fetch), \
                patch.dict(config.options, {"limit_time_real_cron": 120, "workers": 0}):
            self.env["amazon.sync.job"]._trigger(self.amazon, "orders")
            for _run in range(10):
                results = self._run_scheduled("orders", dispatch=False)
                if not results:
                    break
                runs.append(results[self.amazon])
        self.assertEqual([r["pages"] for r in runs], [1, 1, 1], "a page, a safe stop, then the next run")
        self.assertTrue(runs[0]["out_of_time"] and runs[0]["more"])
        self.assertFalse(runs[-1]["more"])
        self.assertFalse(self._job_triggers().filtered(lambda t: t.call_at <= fields.Datetime.now()))
        orders = self.env["amazon.order"].search([("name", "in", ids)])
        self.assertEqual(len(orders), 25)
        self.assertEqual(set(orders.mapped("state")), {"imported"})
        self.assertEqual(len(orders.sale_order_id), 25)

    def test_pages_fit_the_time_left_of_the_job(self):
        """A slow import asks Amazon for smaller pages: no page outlasts the job's time budget (a page longer
        than Odoo's time limit would be killed with the whole job)."""
        ids = [self._make_order()["orderId"] for _i in range(40)]
        self.sim.reset_records()
        clock = FakeClock()
        real_import = OrderImport.import_orders
        pages = []

        def slow_import(order_import, page_orders, *args, **kwargs):
            if page_orders:
                clock.now += 2.0 * len(page_orders)  # two seconds an order
                pages.append(len(page_orders))
            return real_import(order_import, page_orders, *args, **kwargs)

        orders_module._order_seconds.pop(self.amazon.id, None)  # nothing measured yet (other tests import fast)
        self.addCleanup(orders_module._order_seconds.pop, self.amazon.id, None)
        with patch.object(sync_module, "_monotonic", clock), \
                patch.object(OrderImport, "import_orders", slow_import), \
                patch.dict(config.options, {"limit_time_real_cron": 120, "workers": 0}):
            self.env["amazon.sync.job"]._trigger(self.amazon, "orders")
            for _run in range(10):
                if not self._run_scheduled("orders", dispatch=False):
                    break
        budget = 120 * sync_module.SYNC_TIME_BUDGET
        self.assertLess(pages[0] * 2.0, 120, "before any measure: a page the time limit holds, not the whole backlog")
        self.assertTrue(len(pages) >= 2 and all(p * 2.0 <= budget for p in pages[1:]),
                        f"measured: each page fits the job's time budget ({pages})")
        self.assertEqual(sum(pages), 40)
        requested = [int(r.query["maxResultsPerPage"][0]) for r in self.sim.requests if r.operation == "searchOrders"]
        self.assertLess(max(requested), orders_module.PAGE_SIZE)
        orders = self.env["amazon.order"].search([("name", "in", ids)])
        self.assertEqual(set(orders.mapped("state")), {"imported"})

    def test_long_wait_for_amazon_becomes_a_later_run_not_a_sleep(self):
        self._make_order()
        config_ = self.amazon.with_context(amazon_pacing_speed=self.sim_speed)._spapi_config()
        pacer = shared_pacer(config_.connection_key, speed=config_.pacing_speed)
        # Amazon answered 429 and says this seller may call searchOrders once an hour from now
        pacer.observe("searchOrders", {"x-amzn-RateLimit-Limit": str(1 / 3600)})
        pacer.throttled("searchOrders")
        self.addCleanup(pacer.bucket("searchOrders").set_rate, pacer.plan("searchOrders").rate * self.sim_speed)
        self.env["amazon.sync.job"]._trigger(self.amazon, "orders")
        sleeps = []
        with patch.dict(config.options, {"limit_time_real_cron": 120, "workers": 0}), \
                patch.object(pacer, "_sleep", sleeps.append):
            result = self._run_scheduled("orders", dispatch=False)[self.amazon]
        self.assertLess(max(sleeps, default=0), 1, "no waiting for Amazon's quota inside the job")
        self.assertTrue(result["retry_at"])
        self.assertFalse(self.env["amazon.order"].search([("account_id", "=", self.amazon.id)]))
        later = self._job_triggers()
        self.assertEqual(len(later), 1)
        self.assertGreater(later.call_at, fields.Datetime.now() + timedelta(minutes=50))
        self.assertTrue(pacer.bucket("searchOrders").tokens < 1, "the quota was not waited for")
