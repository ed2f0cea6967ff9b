"""The connection every test starts from: a Mexican company (l10n_mx chart, MXN), its warehouses and journal,
and an Amazon connection pointing at a fresh SP-API simulator on loopback; the scheduler and its commits as the
tests play them."""
import importlib.util
from pathlib import Path
from unittest.mock import patch

from odoo import Command, fields

from odoo.addons.account.tests.common import AccountTestInvoicingCommon

from ...models.connection.amazon_sync_job import FLOW_MODELS
from ...models.stock.amazon_stock_push import flush_stock_changes
from ...spapi import SpApi
from ...utils.crashpoints import SimulatedCrash, crash_at

SIM_CLIENT_ID = "sim-client-id"
SIM_CLIENT_SECRET = "sim-client-secret"
SIM_REFRESH_TOKEN = "Atzr|sim-refresh-token"
#: the addon's two roles (xml ids of their groups)
AMAZON_ADMIN = "bind_amazon_connector.group_amazon_manager"
AMAZON_USER = "bind_amazon_connector.group_amazon_user"


def run_migration(cr, version, previous):
    """Run the addon's ``migrations/<version>/post-migrate.py`` on ``cr``, as an upgrade from ``previous``."""
    path = Path(__file__).resolve().parents[2] / "migrations" / version / "post-migrate.py"
    spec = importlib.util.spec_from_file_location(f"bac_post_migrate_{version.replace('.', '_')}", path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    migration.migrate(cr, previous)


class Commits:
    """The commits of a scheduled job, inside the test's transaction: each commit keeps the work done since
    the previous one; a crash loses it."""

    def __init__(self, env):
        self.env = env
        self.done = []
        self._savepoint = env.cr.savepoint()

    def commit(self, processed=0, remaining=None, deactivate=False):
        self._savepoint.close(rollback=False)
        self._savepoint = self.env.cr.savepoint()
        self.done.append(processed)
        return 3600.0

    def crashed(self):
        """The process died: what was not committed is gone; the next run starts a fresh transaction."""
        self._savepoint.close(rollback=True)
        self.env.invalidate_all()
        self._savepoint = self.env.cr.savepoint()

    def rollback(self):
        """Stands for ``cr.rollback()`` of the scheduled action: back to the last commit."""
        self.crashed()

    def run_until_crash(self, test, point, nth, func):
        """Run ``func()`` with a crash at the ``nth`` passage through ``point``; assert it died there."""
        # not assertRaises: its own savepoint would be released by the commits played here
        crashed = False
        with crash_at(point, nth) as reached:
            try:
                func()
            except SimulatedCrash:
                crashed = True
        test.assertTrue(crashed, f"the flow did not reach {point} {nth} times: {reached}")
        self.crashed()


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
        cls.amazon_user = cls._user("amazon_bot", "bind_amazon_connector.group_amazon_user", "stock.group_stock_user",
                                    "account.group_account_invoice", name="Amazon Bot")
        cls.amazon = cls.env["amazon.account"].create(cls._amazon_account_vals())

    @classmethod
    def _user(cls, login, *groups, name=None, company=None, companies=None, **vals):
        """A user of ``company`` (the test company by default) allowed in ``companies`` (its company by default),
        in the groups of the xml ids ``groups`` (Odoo's default groups when none)."""
        company = company or cls.company
        vals = {"name": name or login, "login": login, "company_id": company.id,
                "company_ids": [Command.set((companies or company).ids)], **vals}
        if groups:
            vals["group_ids"] = [Command.set([cls.env.ref(xmlid).id for xmlid in groups])]
        return cls.env["res.users"].create(vals)

    @classmethod
    def _other_company_admin(cls, company_name, login, name="Admin de otra empresa"):
        """Another company, and an Amazon administrator of that company only: (company, user)."""
        company = cls.env["res.company"].create({"name": company_name})
        return company, cls._user(login, AMAZON_ADMIN, name=name, company=company)

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

    def _reset_amazon(self, skus=(), quantity=0):
        """Amazon as new for the test (the simulator lives as long as the class): no listings but those of
        ``skus`` (``quantity`` units each), no fault, no request recorded, full quotas; and the SP-API layer's
        retries without their waits (1, 2, 4... seconds at Amazon)."""
        with self.sim.state.lock:
            self.sim.state.listings.clear()
        self.sim.clear_faults()
        self.sim.reset_records()
        self.sim.reset_quotas()
        for sku in skus:
            self.sim.add_listing(sku=sku, quantity=quantity)
        self.patch(SpApi, "_backoff", lambda api, attempt: 0.001)

    @classmethod
    def _api(cls, account=None):
        """An SP-API client on the test connection, paced at the simulator's speed."""
        account = account or cls.amazon
        return SpApi(account.with_context(amazon_pacing_speed=cls.sim_speed)._spapi_config())

    # ------------------------------------------------------------------ listings

    @classmethod
    def _make_listing(cls, sku, product=None, *, account=None, marketplace=None, name=None, channel="merchant"):
        """A listing of the connection, in its main marketplace unless ``marketplace``, of ``product`` if given."""
        account = account or cls.amazon
        marketplace = marketplace or account.marketplace_id
        return cls.env["amazon.listing"].create({
            "account_id": account.id, "marketplace_id": marketplace.id, "seller_sku": sku, "name": name or sku,
            "currency_id": marketplace.currency_id.id, "fulfillment_channel": channel,
            "product_id": product.id if product else False,
        })

    @classmethod
    def _listings(cls, account=None):
        """The connection's listings in Odoo, archived ones included, by SKU."""
        return cls.env["amazon.listing"].with_context(active_test=False).search(
            [("account_id", "=", (account or cls.amazon).id)], order="seller_sku")

    @classmethod
    def _listing(cls, sku, account=None):
        """The connection's listing of ``sku`` (archived included)."""
        return cls._listings(account).filtered(lambda lst: lst.seller_sku == sku)

    def _import_listings(self, account=None, wait=5):
        """The listings import of the connection, polling Amazon's reports fast: its state (done, waiting...)."""
        account = (account or self.amazon).with_context(
            amazon_pacing_speed=self.sim_speed, amazon_report_poll_interval=0.01, amazon_report_wait=wait)
        return self.env["amazon.listing.sync"]._import_listings(account)

    # ------------------------------------------------------------------ the scheduler

    def _run_scheduled(self, flow, commit=None, dispatch=True, **context):
        """What the scheduler does for ``flow``, in the test's transaction, its commits replaced by ``commit``
        (default none): the flow's scheduled action triggers the connections' jobs (unless not ``dispatch``), then
        each triggered job runs. Returns {connection: the job's result}. The ``"shipments"`` scheduled action
        sends every connection's packages itself (no job per connection; returns {})."""
        commit = commit or (lambda cron, processed=0, **kw: float("inf"))
        if flow == "shipments":
            with patch.object(type(self.env["ir.cron"]), "_commit_progress", commit):
                self.env["amazon.shipment"].with_context(amazon_pacing_speed=self.sim_speed, **context)._cron_send()
            return {}
        # the job stays in the test's transaction (no transaction of its own, see SINGLE_TRANSACTION)
        Job = self.env["amazon.sync.job"].with_context(amazon_pacing_speed=self.sim_speed,
                                                       amazon_single_transaction=True, **context)
        if dispatch:
            flush_stock_changes(self.env)  # the stock changes the test noted, as its commit would have
            Job._dispatch_flow(flow)
        jobs = self.env["amazon.sync.job"].search([("flow", "=", flow)])
        Trigger = self.env["ir.cron.trigger"].sudo()
        results = {}
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

    def _run_job(self, flow, commit, account=None):
        """The body of the connection's ``flow`` job (its ``_sync_for``), committing with ``commit`` (see
        :class:`Commits`), paced at the simulator's speed and polling Amazon's reports fast."""
        account = (account or self.amazon).with_context(
            amazon_pacing_speed=self.sim_speed, amazon_report_poll_interval=0.01, amazon_report_wait=5)
        return self.env[FLOW_MODELS[flow]].with_context(**account.env.context)._sync_for(account, commit=commit)
