"""The job runner finds each flow's owner through one table, and an upgrade moves existing jobs and scheduled
actions to it; who may see and change the jobs."""
from unittest.mock import patch

from odoo.exceptions import AccessError
from odoo.tests import tagged

from ..models.connection.amazon_sync_job import FLOW_MODELS, SYNC_DISPATCHERS, SYNC_FLOWS
from .common import AMAZON_ADMIN, AmazonTestCommon, run_migration


@tagged("post_install", "-at_install")
class TestFlowRunner(AmazonTestCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        manager = AMAZON_ADMIN
        cls.admin = cls._user("runner_amazon_admin", manager, name="Amazon Admin")
        cls.other_company, cls.other_admin = cls._other_company_admin("Otra Empresa Runner SA", "runner_other_admin")

    def test_every_flow_has_one_owner_with_one_entry_point(self):
        self.assertEqual(set(FLOW_MODELS), {flow for flow, _label in SYNC_FLOWS})
        for flow, model in FLOW_MODELS.items():
            owner = self.env[model]
            self.assertTrue(callable(getattr(owner, "_sync_for", None)), model)
            cron = self.env.ref(SYNC_DISPATCHERS[flow])
            self.assertEqual((cron.model_id.model, cron.code), ("amazon.sync.job", f"model._dispatch_flow({flow!r})"))
            self.assertIsInstance(owner._sync_domain, list, model)

    def test_a_job_runs_its_flow_through_the_owner(self):
        calls = []
        for flow, model in FLOW_MODELS.items():
            def sync_for(owner, account, *, commit=False, deadline=None, _flow=flow):
                calls.append((_flow, account, commit))
                return owner.env["amazon.sync.job"]._result()

            with patch.object(type(self.env[model]), "_sync_for", sync_for):
                job = self.env["amazon.sync.job"]._for(self.amazon, flow)
                self.assertEqual((job.cron_id.model_id.model, job.cron_id.code),
                                 ("amazon.sync.job", f"model._run({self.amazon.id}, {flow!r})"))
                job.cron_id.ir_actions_server_id.run()  # what the scheduler runs, in this transaction
        self.assertEqual(calls, [(flow, self.amazon, True) for flow in FLOW_MODELS])

    def test_upgrade_moves_jobs_and_scheduled_actions_to_the_owners(self):
        Job = self.env["amazon.sync.job"]
        job = Job._for(self.amazon, "payouts")
        account_model = self.env["ir.model"]._get_id("amazon.account")
        # as 19.0.1.4.0 left them: the flow called "money", run by the connection model
        self.env.cr.execute("UPDATE amazon_sync_job SET flow = 'money' WHERE id = %s", [job.id])
        Job._cursor(self.amazon, "payouts")
        self.env.cr.execute("UPDATE amazon_sync_cursor SET flow = 'money' WHERE account_id = %s AND flow = 'payouts'",
                            [self.amazon.id])
        job.cron_id.write({"model_id": account_model, "code": f"model._sync_job_run({self.amazon.id}, 'money')"})
        orders_cron = self.env.ref(SYNC_DISPATCHERS["orders"])
        orders_cron.write({"model_id": account_model, "code": "model._cron_sync_orders()"})
        self.env.invalidate_all()
        run_migration(self.env.cr, "19.0.2.0.0", "19.0.1.4.0")
        self.env.invalidate_all()
        self.assertEqual(job.flow, "payouts")
        self.assertEqual((job.cron_id.model_id.model, job.cron_id.code),
                         ("amazon.sync.job", f"model._run({self.amazon.id}, 'payouts')"))
        self.assertEqual(self.amazon.sync_cursor_ids.mapped("flow"), ["payouts"])
        self.assertEqual((orders_cron.model_id.model, orders_cron.code),
                         ("amazon.order.sync", "model._cron_dispatch()"))

    def test_upgrade_has_the_scheduled_actions_call_the_runner(self):
        for flow, xmlid in SYNC_DISPATCHERS.items():
            # as 19.0.2.1.0 left them: the flow's owner picked the connections
            self.env.ref(xmlid).write({"model_id": self.env["ir.model"]._get_id(FLOW_MODELS[flow]),
                                       "code": "model._cron_dispatch()"})
        run_migration(self.env.cr, "19.0.2.2.0", "19.0.2.1.0")
        for flow, xmlid in SYNC_DISPATCHERS.items():
            cron = self.env.ref(xmlid)
            self.assertEqual((cron.model_id.model, cron.code), ("amazon.sync.job", f"model._dispatch_flow({flow!r})"))

    def test_jobs_are_read_only_and_stay_in_their_company(self):
        job = self.env["amazon.sync.job"]._for(self.amazon, "orders")
        self.assertEqual(job.company_id, self.amazon.company_id)
        mine = self.env["amazon.sync.job"].with_user(self.admin)
        self.assertEqual(mine.search([("id", "=", job.id)]), job.with_user(self.admin))
        for attempt in (lambda: job.with_user(self.admin).write({"flow": "stock"}),
                        lambda: mine.create({"account_id": self.amazon.id, "flow": "stock", "cron_id": job.cron_id.id}),
                        lambda: job.with_user(self.admin).unlink()):
            with self.assertRaises(AccessError):
                attempt()
        outsider = self.env["amazon.sync.job"].with_user(self.other_admin).with_company(self.other_company)
        self.assertFalse(outsider.search([("id", "=", job.id)]), "another company's administrator sees no job here")
        with self.assertRaises(AccessError):
            job.with_user(self.other_admin).with_company(self.other_company).read(["flow"])
