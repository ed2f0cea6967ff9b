"""Shared set-up of the order tests: mapped products, simulator orders, and a sync on the simulator's clock."""
from datetime import timedelta

from odoo import Command
from odoo.tests import tagged

from spapi_simulator import factory

from ...spapi.orders import parse_order
from .connection import AmazonTestCommon


@tagged("post_install", "-at_install")
class AmazonOrderCommon(AmazonTestCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.iva16 = cls.company.account_sale_tax_id
        cls.stock_location = cls.warehouse.lot_stock_id
        cls.fba_location = cls.fba_warehouse.lot_stock_id
        cls.amazon.import_start_date = cls._sim_now() - timedelta(days=2)
        cls.product_mug = cls._product("MUG-01", "Taza de cerámica")
        cls.product_tee = cls._product("TEE-02", "Playera algodón")

    def setUp(self):
        super().setUp()
        self.patch(type(self.env["amazon.order.sync"]), "_now", lambda sync: self._sim_now())
        # The simulator lives as long as the class, the database changes of a test do not: each test
        # starts with a seller without orders.
        with self.sim.state.lock:
            self.sim.state.orders.clear()
            self.sim.state.order_index.clear()

    # ------------------------------------------------------------------ helpers

    @classmethod
    def _sim_now(cls):
        """The simulator's clock as an Odoo datetime (naive UTC)."""
        return cls.sim.now().replace(tzinfo=None, microsecond=0)

    @classmethod
    def _product(cls, sku, name=None, mapped=True, storable=True, **vals):
        product = cls.env["product.product"].create({
            "name": name or sku,
            "default_code": sku,
            "type": "consu",
            "is_storable": storable,
            "list_price": 100.0,
            "taxes_id": [Command.set(cls.iva16.ids)],
            **vals,
        })
        cls._make_listing(sku, product if mapped else None, name=name)
        return product

    def _put_stock(self, product, qty, location=None):
        self.env["stock.quant"]._update_available_quantity(product, location or self.stock_location, qty)

    def _make_order(self, items=None, fresh=False, **kw):
        """An order in the simulator (by default one mug at 199.00, merchant-fulfilled), placed an hour ago,
        or ``fresh``: placed now, then the simulator's clock runs five minutes so a sync sees it."""
        kw.setdefault("created", self.sim.now() if fresh else self.sim.now() - timedelta(hours=1))
        items = items or [{"sku": "MUG-01", "quantity": 1, "unit_price": "199.00"}]
        order = factory.make_order(items=items, **kw)
        self.sim.add_order(order)
        if fresh:
            self.sim.advance(300)
        return order

    def _update_order(self, order_id, **changes):
        """Change an order at Amazon, then let the simulator's clock run so the change is visible."""
        order = self.sim.update_order(order_id, **changes)
        self.sim.advance(300)
        return order

    def _ship_items(self, order_id, shipped, status="PARTIALLY_SHIPPED"):
        """Amazon shipped ``shipped`` ({sku: units}) of the order."""
        order = self.sim.get_order(order_id)
        items = []
        for item in order["orderItems"]:
            item = dict(item)
            qty = shipped.get(item["product"]["sellerSku"], 0)
            item["fulfillment"] = dict(item["fulfillment"], quantityFulfilled=qty,
                                       quantityUnfulfilled=item["quantityOrdered"] - qty)
            items.append(item)
        return self._update_order(order_id, status=status, orderItems=items)

    def _import_order(self, raw, force=True):
        """``raw`` (an order as Amazon's API gives it) imported directly, without a sync; its record."""
        self.env["amazon.order"]._import_orders(self.amazon, [parse_order(raw)], force=force)
        return self._amazon_order(raw["orderId"])

    def _synced_order(self, items=None, **kw):
        """An order placed at Amazon (:meth:`_make_order`), then an orders sync: (Amazon's order, its record)."""
        order = self._make_order(items, **kw)
        self._sync()
        return order, self._amazon_order(order["orderId"])

    def _sync(self, account=None, **kw):
        account = (account or self.amazon).with_context(amazon_pacing_speed=self.sim_speed)
        return account.env["amazon.order.sync"]._sync_for(account, **kw)

    def _amazon_order(self, order_id, account=None):
        return self.env["amazon.order"].search([
            ("account_id", "=", (account or self.amazon).id), ("name", "=", order_id)])

    def _invoices(self, amazon_order):
        return amazon_order.sale_order_id.invoice_ids.filtered(lambda m: m.move_type == "out_invoice")

    def _reserved(self, product, location=None):
        quants = self.env["stock.quant"].search([
            ("product_id", "=", product.id), ("location_id", "=", (location or self.stock_location).id)])
        return sum(quants.mapped("reserved_quantity"))

    def _on_hand(self, product, location):
        quants = self.env["stock.quant"].search([("product_id", "=", product.id), ("location_id", "=", location.id)])
        return sum(quants.mapped("quantity"))


@tagged("post_install", "-at_install")
class AmazonStockCommon(AmazonOrderCommon):
    """The stock tests: a third mapped product (a cap), the three listed at Amazon with ``amazon_quantity`` units."""

    amazon_quantity = 10

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.product_cap = cls._product("CAP-03", "Gorra")

    def setUp(self):
        super().setUp()
        self._reset_amazon(("MUG-01", "TEE-02", "CAP-03"), quantity=self.amazon_quantity)
