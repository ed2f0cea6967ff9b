"""Two importers at the same time, each in its own transactions (threads with their own cursors, real commits),
on the same products, the same buyers and the same tax, while a person validates a delivery of the same
products: no order left in error, one contact per buyer, one price-included tax, every delivery done.

The data the threads share must be committed, so this class commits its own company (with the Mexican chart)
and connections, and retires the connections when it ends.
"""
import threading
import uuid
from datetime import timedelta, timezone
from unittest.mock import patch

from odoo import SUPERUSER_ID, Command, api
from odoo.modules.registry import DummyRLock, Registry
from odoo.service.model import retrying
from odoo.tests import TransactionCase, tagged

from spapi_simulator import Simulator, factory

from ..models.connection import amazon_sync_job as sync_module
from ..models.orders import amazon_order_sync as orders_module
from ..models.orders.order_import import OrderImport
from ..models.stock.stock_quant import SKIP_CHANGED_QUANTS
from ..spapi.order_types import OrdersPage
from ..utils import order_totals
from .common import AMAZON_USER, SIM_CLIENT_ID, SIM_CLIENT_SECRET, SIM_REFRESH_TOKEN

SPEED = 1000.0


@tagged("post_install", "-at_install")
class TestConcurrentImporters(TransactionCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sim = Simulator(speed=SPEED)
        cls.sim.start()
        cls.addClassCleanup(cls.sim.stop)
        cls.tag = uuid.uuid4().hex[:8]
        with cls.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            cls._setup_data(env)
        cls.addClassCleanup(cls._retire)

    @classmethod
    def _setup_data(cls, env):
        mxn = env.ref("base.MXN")
        mxn.active = True
        company = env["res.company"].create({
            "name": f"Amazon concurrency {cls.tag}", "country_id": env.ref("base.mx").id, "currency_id": mxn.id,
        })
        env["account.chart.template"].try_loading("mx", company=company, install_demo=False)
        env = env(context={"allowed_company_ids": company.ids})
        warehouse = env["stock.warehouse"].search([("company_id", "=", company.id)], limit=1)
        tax = company.account_sale_tax_id
        user = env["res.users"].create({
            "name": f"Amazon bot {cls.tag}", "login": f"amazon_bot_{cls.tag}", "company_id": company.id,
            "company_ids": [Command.set(company.ids)],
            "group_ids": [Command.set([env.ref(AMAZON_USER).id,
                                       env.ref("stock.group_stock_user").id,
                                       env.ref("account.group_account_invoice").id])],
        })
        pricelist = env["product.pricelist"].create({"name": "Amazon", "currency_id": mxn.id,
                                                     "company_id": company.id})
        journal = env["account.journal"].search([("company_id", "=", company.id), ("type", "=", "bank")], limit=1)
        accounts = env["amazon.account"]
        for letter in "AB":
            accounts |= env["amazon.account"].create({
                "name": f"Amazon {letter} {cls.tag}", "company_id": company.id, "region": "NA",
                "marketplace_id": env.ref("bind_amazon_connector.marketplace_mx").id,
                "seller_id": f"A3CONC{cls.tag}{letter}", "lwa_client_id": SIM_CLIENT_ID,
                "lwa_client_secret": SIM_CLIENT_SECRET, "refresh_token": SIM_REFRESH_TOKEN,
                "endpoint_override": cls.sim.url, "token_url_override": cls.sim.token_url,
                "state": "authorized", "pricelist_id": pricelist.id, "warehouse_id": warehouse.id,
                "journal_id": journal.id, "user_id": user.id, "update_stock_on_amazon": False,
                "import_start_date": cls.sim.now().replace(tzinfo=None, microsecond=0) - timedelta(days=1),
            })
        products = env["product.product"]
        for sku in ("MUG", "TEE"):
            product = env["product.product"].create({
                "name": f"{sku} {cls.tag}", "default_code": f"{sku}-{cls.tag}", "type": "consu",
                "is_storable": True, "list_price": 100.0, "taxes_id": [Command.set(tax.ids)],
                "company_id": company.id,
            })
            products |= product
            env["stock.quant"]._update_available_quantity(product, warehouse.lot_stock_id, 1000)
            for account in accounts:
                env["amazon.listing"].create({
                    "account_id": account.id, "marketplace_id": account.marketplace_id.id,
                    "seller_sku": product.default_code, "name": product.name,
                    "currency_id": account.marketplace_id.currency_id.id, "fulfillment_channel": "merchant",
                    "product_id": product.id,
                })
        # a delivery a person validates while the importers run
        picking = env["stock.picking"].create({
            "picking_type_id": warehouse.out_type_id.id, "partner_id": company.partner_id.id,
            "location_id": warehouse.lot_stock_id.id,
            "location_dest_id": env.ref("stock.stock_location_customers").id,
            "move_ids": [Command.create({
                "product_id": product.id, "product_uom_qty": 2, "product_uom": product.uom_id.id,
                "location_id": warehouse.lot_stock_id.id,
                "location_dest_id": env.ref("stock.stock_location_customers").id,
            }) for product in products],
        })
        picking.action_confirm()
        picking.action_assign()
        cls.company_id, cls.tax_id, cls.picking_id = company.id, tax.id, picking.id
        cls.account_ids = accounts.ids
        cls.skus = products.mapped("default_code")

    @classmethod
    def _retire(cls):
        with cls.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["amazon.account"].browse(cls.account_ids).write({"state": "draft", "active": False})

    def _in_new_transaction(self, func, errors):
        try:
            with self.registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {"amazon_pacing_speed": SPEED})
                func(env)
        except Exception as exc:  # noqa: BLE001 - any failure of a thread fails the test
            errors.append(exc)

    def test_two_importers_and_a_person_at_once(self):
        buyers = [{"name": f"Comprador {n}", "email": f"buyer{n}-{self.tag}@example.com"} for n in range(3)]
        # each buyer sends to two other people: two delivery addresses per buyer, met by both importers
        recipients = [{**factory.DEFAULT_ADDRESS, "name": f"Destinatario {n}"} for n in range(2)]
        for n in range(24):
            self.sim.add_order(factory.make_order(
                status="SHIPPED", buyer=buyers[n % 3], recipient=recipients[(n // 3) % 2],
                created=self.sim.now() - orders_module.OVERLAP,
                items=[{"sku": self.skus[0], "quantity": 1, "unit_price": "199.00"},
                       {"sku": self.skus[1], "quantity": 1, "unit_price": "299.00"}]))
        self.sim.advance(300)
        barrier = threading.Barrier(3, timeout=120)
        errors = []

        def importer(account_id):
            def run(env):
                barrier.wait()
                env["amazon.order.sync"]._sync_for(env["amazon.account"].browse(account_id), commit=True)
            return run

        def person(env):
            barrier.wait()
            picking = env["stock.picking"].browse(self.picking_id)

            def validate():
                # what the Validate button does, retried by Odoo on a concurrency conflict as a request is
                picking.move_ids.write({"picked": True})
                return picking.button_validate()

            retrying(validate, env)

        threads = [threading.Thread(target=self._in_new_transaction, args=(importer(account_id), errors))
                   for account_id in self.account_ids]
        threads.append(threading.Thread(target=self._in_new_transaction, args=(person, errors)))
        sim_now = self.sim.now().replace(tzinfo=None, microsecond=0)
        # the test runner holds the registry's lock while tests run: the threads must not wait for it
        with patch.object(type(self.env["amazon.order.sync"]), "_now", lambda sync: sim_now), \
                patch.object(Registry, "_lock", DummyRLock()), \
                patch.object(orders_module, "PAGE_SIZE", 10), patch.object(sync_module, "CONCURRENCY_BACKOFF", 0.05), \
                patch.object(sync_module._logger, "info") as log:
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=600)
        self.assertFalse(errors)
        # buyers and the tax twin are committed before each page: no page waits for the other import's page
        # and then starts over because of them
        redone = [call.args for call in log.call_args_list
                  if "conflicted" in call.args[0] and call.args[3] in ("UniqueViolation", "ConcurrentUpdate")]
        self.assertFalse(redone)

        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            orders = env["amazon.order"].with_context(active_test=False).search(
                [("account_id", "in", self.account_ids)])
            self.assertEqual(len(orders), 48)
            self.assertEqual({(o.state, o.reason or "") for o in orders}, {("imported", "")})
            self.assertEqual(len(orders.sale_order_id), 48)
            partners = orders.sale_order_id.partner_id
            self.assertEqual(len(partners), 3, "one contact per buyer")
            self.assertEqual(env["res.partner"].search_count(
                [("amazon_buyer_key", "in", partners.sudo().mapped("amazon_buyer_key"))]), 3)
            addresses = orders.sale_order_id.partner_shipping_id
            self.assertEqual(len(addresses), 6, "two delivery addresses per buyer")
            for partner in partners:
                self.assertEqual(len(partner.child_ids.filtered(lambda c: c.type == "delivery")), 2,
                                 "one contact per delivery address")
            lines = orders.sale_order_id.order_line.filtered("product_id.is_storable")
            self.assertEqual(len(lines.tax_ids), 1, "one price-included tax on every line")
            self.assertTrue(lines.tax_ids.price_include)
            self.assertLessEqual(env["account.tax"].with_context(active_test=False).search_count(
                [("amazon_twin_of_id", "=", self.tax_id)]), 1)
            pickings = orders.sale_order_id.picking_ids
            self.assertEqual(set(pickings.mapped("state")), {"done"})
            invoices = orders.sale_order_id.invoice_ids
            self.assertEqual(len(invoices), 48)
            self.assertEqual(set(invoices.mapped("state")), {"posted"})
            # each connection numbered its invoices in its own series: neither waited for the other's next number
            connections = env["amazon.account"].browse(self.account_ids)
            self.assertEqual(len(connections.sales_journal_id), 2)
            for connection in connections:
                own = invoices.filtered(lambda m, c=connection: m.line_ids.sale_line_ids.order_id.amazon_order_id
                                        .account_id == c)
                self.assertEqual(len(own), 24)
                self.assertEqual(own.journal_id, connection.sales_journal_id)
                prefix = connection.sales_journal_id.code + "/"
                self.assertTrue(all(name.startswith(prefix) for name in own.mapped("name")), own.mapped("name"))
                self.assertEqual(len(set(own.mapped("name"))), 24)
            self.assertEqual(env["stock.picking"].browse(self.picking_id).state, "done")

    def test_a_person_editing_the_connection_while_an_orders_page_commits(self):
        """The orders sync commits where it stands at every page in its own row: a person saving the connection
        at the same time (its transaction still open) neither blocks the page nor makes it conflict."""
        account_id = self.account_ids[0]
        held = threading.Event()
        page_done = threading.Event()
        outcome = {}
        errors = []

        def person(env):
            env["amazon.account"].browse(account_id).write({"name": f"Amazon A {self.tag} (edited)"})
            env.flush_all()  # the connection's row is locked by this open transaction from here on
            held.set()
            outcome["page_done_while_held"] = page_done.wait(timeout=30)

        def importer(env):
            held.wait(timeout=60)
            with patch.object(sync_module._logger, "info") as log:
                account = env["amazon.account"].browse(account_id)
                outcome["result"] = env["amazon.order.sync"]._sync_for(account, commit=True)
            outcome["conflicts"] = [call for call in log.call_args_list if "conflicted" in call.args[0]]
            page_done.set()

        def empty_page(sync, account, api_client, start, end, token, **kw):
            return OrdersPage(orders=(), last_updated_before=end.replace(tzinfo=timezone.utc))

        sim_now = self.sim.now().replace(tzinfo=None, microsecond=0)
        threads = [threading.Thread(target=self._in_new_transaction, args=(func, errors))
                   for func in (person, importer)]
        with patch.object(type(self.env["amazon.order.sync"]), "_now", lambda sync: sim_now), \
                patch.object(type(self.env["amazon.order.sync"]), "_fetch_page", empty_page), \
                patch.object(Registry, "_lock", DummyRLock()):
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=120)
        self.addCleanup(self._forget_orders_progress, account_id)
        self.assertFalse(errors)
        self.assertTrue(outcome["page_done_while_held"], "the page committed without waiting for the person")
        self.assertFalse(outcome["conflicts"], "the page did not conflict with the person's transaction")
        self.assertFalse(outcome["result"]["error"])
        with self.registry.cursor() as cr:
            account = api.Environment(cr, SUPERUSER_ID, {})["amazon.account"].browse(account_id)
            self.assertEqual(account.name, f"Amazon A {self.tag} (edited)")
            self.assertEqual(account.orders_cursor, sim_now - orders_module.SAFETY_LAG)
            self.assertTrue(account.orders_last_sync)

    def _forget_orders_progress(self, account_id):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["amazon.sync.cursor"].search([("account_id", "=", account_id)]).unlink()
            env["amazon.account"].browse(account_id).name = f"Amazon A {self.tag}"

    def test_a_scheduled_page_decides_and_maps_each_order_once(self):
        """A scheduled run prepares what a page's orders share in a transaction of its own, then imports the page
        in a fresh one: each order is decided and mapped once, and Amazon's amounts read once, not once each."""
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            model = env["amazon.account"].browse(self.account_ids[0])
            account = env["amazon.account"].create({
                "name": f"Amazon C {self.tag}", "company_id": model.company_id.id, "region": "NA",
                "marketplace_id": model.marketplace_id.id, "seller_id": f"A3CONC{self.tag}C",
                "lwa_client_id": SIM_CLIENT_ID, "lwa_client_secret": SIM_CLIENT_SECRET,
                "refresh_token": SIM_REFRESH_TOKEN, "endpoint_override": self.sim.url,
                "token_url_override": self.sim.token_url, "state": "authorized",
                "pricelist_id": model.pricelist_id.id, "warehouse_id": model.warehouse_id.id,
                "journal_id": model.journal_id.id, "user_id": model.user_id.id, "update_stock_on_amazon": False,
                "import_start_date": self.sim.now().replace(tzinfo=None, microsecond=0) - timedelta(days=1),
            })
            for listing in env["amazon.listing"].search([("account_id", "=", model.id)]):
                listing.copy({"account_id": account.id})
            account_id = account.id

        def retire():
            with self.registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                env["amazon.account"].browse(account_id).write({"state": "draft", "active": False})
            with self.sim.state.lock:
                self.sim.state.orders.clear()
                self.sim.state.order_index.clear()
        self.addCleanup(retire)
        buyer = {"name": "Compradora única", "email": f"once-{self.tag}@example.com"}
        ids = [self.sim.add_order(factory.make_order(
            status="SHIPPED", buyer=buyer, created=self.sim.now() - orders_module.OVERLAP,
            items=[{"sku": self.skus[0], "quantity": 1, "unit_price": "199.00"}]))["orderId"] for _n in range(3)]
        self.sim.advance(300)
        mapped, read = [], []
        real_vals, real_read = OrderImport.sale_order_vals, order_totals.read_order

        def sale_order_vals(order_import, record, order):
            mapped.append(order.order_id)
            return real_vals(order_import, record, order)

        def read_order(order, *args, **kwargs):
            read.append(order.order_id)
            return real_read(order, *args, **kwargs)

        sim_now = self.sim.now().replace(tzinfo=None, microsecond=0)
        with patch.object(type(self.env["amazon.order.sync"]), "_now", lambda sync: sim_now), \
                patch.object(OrderImport, "sale_order_vals", sale_order_vals), \
                patch.object(order_totals, "read_order", read_order), \
                self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {"amazon_pacing_speed": SPEED})
            result = env["amazon.order.sync"]._sync_for(env["amazon.account"].browse(account_id), commit=True)
        self.assertFalse(result["error"])
        self.assertEqual(result["counts"], {"imported": 3})
        self.assertEqual(sorted(mapped), sorted(ids), "each order mapped once")
        self.assertEqual(sorted(read), sorted(ids), "Amazon's amounts of each order read once")
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            orders = env["amazon.order"].search([("account_id", "=", account_id)])
            self.assertEqual(set(orders.mapped("state")), {"imported"})
            self.assertEqual(len(orders.sale_order_id.partner_id), 1)
            self.assertEqual(set(orders.sale_order_id.invoice_ids.mapped("state")), {"posted"})

    def test_a_quant_committed_by_another_import_meanwhile_does_not_fail_the_page(self):
        """PostgreSQL refuses to lock a quant that another transaction committed after this one began; an
        import skips it as Odoo skips a held one, and the stock adds up."""
        def stock(env):
            product = env["product.product"].search([("default_code", "=", self.skus[0])])
            location = env["stock.warehouse"].search([("company_id", "=", self.company_id)], limit=1).lot_stock_id
            return product, location

        with self.registry.cursor() as cr:
            product, location = stock(api.Environment(cr, SUPERUSER_ID, {}))
            before = product.with_context(location=location.id).qty_available
        with self.registry.cursor() as cr_import, self.registry.cursor() as cr_other:
            env_import = api.Environment(cr_import, SUPERUSER_ID, {SKIP_CHANGED_QUANTS: True})
            product, location = stock(env_import)  # this transaction's snapshot is taken here
            env_import["stock.quant"]._gather(product, location).mapped("quantity")
            other_product, other_location = stock(api.Environment(cr_other, SUPERUSER_ID, {}))
            other_product.env["stock.quant"]._update_available_quantity(other_product, other_location, 5)
            cr_other.commit()
            # without skipping, this raised "could not serialize access due to concurrent update"
            env_import["stock.quant"]._update_available_quantity(product, location, -1)
            env_import.flush_all()
            cr_import.commit()
        with self.registry.cursor() as cr:
            product, location = stock(api.Environment(cr, SUPERUSER_ID, {}))
            self.assertEqual(product.with_context(location=location.id).qty_available, before + 5 - 1)
