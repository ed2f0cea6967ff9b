"""Shared set-up of the addon's Odoo tests: a Mexican company (l10n_mx chart, MXN), its warehouses and
journal, and an Amazon connection pointing at a fresh SP-API simulator on loopback."""
import importlib.util
from pathlib import Path
from unittest.mock import patch

from odoo import Command, fields
from odoo.tests import tagged

from odoo.addons.account.tests.common import AccountTestInvoicingCommon

from ..models.stock.amazon_stock_push import flush_stock_changes
from ..spapi import SpApi

SIM_CLIENT_ID = "sim-client-id"
SIM_CLIENT_SECRET = "sim-client-secret"
SIM_REFRESH_TOKEN = "Atzr|sim-refresh-token"


@tagged("post_install", "-at_install")
def run_migration(cr, version, previous):
    """Run the addon's ``migrations/<version>/post-migrate.py`` on ``cr``, as an upgrade from ``previous``."""
    path = Path(__file__).resolve().parents[1] / "migrations" / version / "post-migrate.py"
    spec = importlib.util.spec_from_file_location(f"bac_post_migrate_{version.replace('.', '_')}", path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    migration.migrate(cr, previous)


class AmazonTestCommon(AccountTestInvoicingCommon):
    """Base class: `cls.sim` (simulator), `cls.amazon` (authorized connection), MX company."""

    chart_template = "mx"
    #: simulator speed factor: usage plans run this many times faster than Amazon's
    sim_speed = 1000.0

    @classmethod
    def get_default_groups(cls):
        # the test user (accountman) administers the Amazon connections, as the company's admin would
        return super().get_default_groups() | cls.env.ref("bind_amazon_connector.group_amazon_manager")

    @classmethod
    def setup_independent_company(cls, **kwargs):
        # Loading the Mexican chart into a new company costs about 9 s per class (most of the suite's time).
        # The test database's main company already is that company, untouched (no entries, no connection):
        # each class's set-up and tests are rolled back, so every class still starts from the same company.
        company = cls._pristine_main_company()
        if company and not kwargs:
            return company
        return super().setup_independent_company(**kwargs)

    @classmethod
    def _pristine_main_company(cls):
        """The main company when it has the chart the tests need and no accounting or Amazon data yet."""
        company = cls.env.ref("base.main_company", raise_if_not_found=False)
        if not (company and cls.env.registry.loaded and cls.chart_template
                and company.chart_template == cls.chart_template
                and company.currency_id == cls.env.ref("base.MXN")):
            return None
        in_company = [("company_id", "=", company.id)]
        for model in ("account.move", "amazon.account", "sale.order", "stock.picking"):
            if cls.env[model].sudo().with_context(active_test=False).search_count(in_company, limit=1):
                return None
        return company

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        from spapi_simulator import Simulator

        cls.sim = Simulator(speed=cls.sim_speed)
        cls.sim.start()
        cls.addClassCleanup(cls.sim.stop)
        cls.company = cls.env.company
        cls.warehouse = cls.env["stock.warehouse"].search([("company_id", "=", cls.company.id)], limit=1)
        cls.fba_warehouse = cls.env["stock.warehouse"].create({
            "name": "Amazon FBA", "code": "FBA", "company_id": cls.company.id,
        })
        cls.bank_journal = cls.company_data["default_journal_bank"]
        cls.pricelist = cls.env["product.pricelist"].create({
            "name": "Amazon MX", "currency_id": cls.env.ref("base.MXN").id, "company_id": cls.company.id,
        })
        cls.amazon_user = cls.env["res.users"].create({
            "name": "Amazon Bot", "login": "amazon_bot", "company_id": cls.company.id,
            "company_ids": [Command.set(cls.company.ids)],
            "group_ids": [Command.set([cls.env.ref("bind_amazon_connector.group_amazon_user").id,
                                       cls.env.ref("stock.group_stock_user").id,
                                       cls.env.ref("account.group_account_invoice").id])],
        })
        cls.amazon = cls.env["amazon.account"].create(cls._amazon_account_vals())

    @classmethod
    def _amazon_account_vals(cls, **overrides):
        vals = {
            "name": "Amazon MX",
            "company_id": cls.company.id,
            "region": "NA",
            "marketplace_id": cls.env.ref("bind_amazon_connector.marketplace_mx").id,
            "seller_id": "A3SIMSELLER0001",
            "lwa_client_id": SIM_CLIENT_ID,
            "lwa_client_secret": SIM_CLIENT_SECRET,
            "refresh_token": SIM_REFRESH_TOKEN,
            "endpoint_override": cls.sim.url,
            "token_url_override": cls.sim.token_url,
            "state": "authorized",
            "pricelist_id": cls.pricelist.id,
            "warehouse_id": cls.warehouse.id,
            "fba_warehouse_id": cls.fba_warehouse.id,
            "journal_id": cls.bank_journal.id,
            "user_id": cls.amazon_user.id,
        }
        vals.update(overrides)
        return vals

    @classmethod
    def _api(cls, account=None):
        """An SP-API client on the test connection, paced at the simulator's speed."""
        account = account or cls.amazon
        return SpApi(account.with_context(amazon_pacing_speed=cls.sim_speed)._spapi_config())


    def _run_scheduled(self, flow, commit=None, dispatch=True, **context):
        """What the scheduler does for ``flow``, in the test's transaction: the flow's scheduled action triggers
        the connections' jobs (unless not ``dispatch``), then each triggered job runs (its commits replaced by
        ``commit``, default none). Returns {connection: the job's result}."""
        # the job stays in the test's transaction (no transaction of its own, see SINGLE_TRANSACTION)
        Job = self.env["amazon.sync.job"].with_context(amazon_pacing_speed=self.sim_speed,
                                                       amazon_single_transaction=True, **context)
        if dispatch:
            flush_stock_changes(self.env)  # the stock changes the test noted, as its commit would have
            Job._dispatch_flow(flow)
        jobs = self.env["amazon.sync.job"].search([("flow", "=", flow)])
        Trigger = self.env["ir.cron.trigger"].sudo()
        results = {}
        commit = commit or (lambda cron, processed=0, **kw: float("inf"))
        with patch.object(type(self.env["ir.cron"]), "_commit_progress", commit):
            for job in jobs.sorted(lambda j: j.account_id.id):
                triggers = Trigger.search([("cron_id", "=", job.cron_id.id),
                                           ("call_at", "<=", fields.Datetime.now())])
                if not triggers:
                    continue
                triggers.unlink()
                # run as the scheduler runs it: with the job in the context (its time budget applies)
                results[job.account_id] = Job.with_context(cron_id=job.cron_id.id)._run(job.account_id.id, flow)
        return results
