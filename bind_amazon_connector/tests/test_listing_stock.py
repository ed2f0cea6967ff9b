from odoo.exceptions import UserError
from odoo.tests import tagged

from spapi_simulator.factory import make_inventory_summary

from .common import AmazonTestCommon, ListingTestMixin, report_row


@tagged("post_install", "-at_install")
class TestListingStock(ListingTestMixin, AmazonTestCommon):
    """"Set stock from Amazon": merchant quantities into the warehouse, FBA into the fulfillment warehouse."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.user.group_ids |= cls.env.ref("stock.group_stock_manager")

    def setUp(self):
        super().setUp()
        self.up = self._product("UP")  # Odoo 4, Amazon 10: +6
        self.down = self._product("DOWN")  # Odoo 5 (3 in stock, 2 in a sub-location), Amazon 1: -4
        self.same = self._product("SAME")  # Odoo 3, Amazon 3: nothing to do
        self.fba = self._product("FBA-P")  # FBA only: 7 fulfillable at Amazon
        self.both = self._product("BOTH")  # merchant 2 and FBA 5 (another SKU)
        self.service = self._product("SRV", is_storable=False)
        self.asleep = self._product("ASLEEP")  # only an inactive offer on Amazon: proposed, not ticked
        stock = self.warehouse.lot_stock_id
        self.shelf = self.env["stock.location"].create({"name": "Shelf 1", "location_id": stock.id})
        Quant = self.env["stock.quant"]
        Quant._update_available_quantity(self.up, stock, 4)
        Quant._update_available_quantity(self.down, stock, 3)
        Quant._update_available_quantity(self.down, self.shelf, 2)
        Quant._update_available_quantity(self.same, stock, 3)
        Quant._update_available_quantity(self.fba, self.fba_warehouse.lot_stock_id, 2)
        self._set_report([
            report_row("UP", quantity="10"),
            report_row("DOWN", quantity="1"),
            report_row("SAME", quantity="3"),
            report_row("SRV", quantity="9"),
            report_row("ASLEEP", quantity="", status="Inactive"),
            report_row("BOTH", quantity="2"),
            report_row("FBA-P", channel="AMAZON_NA", quantity=""),
            report_row("BOTH-FBA", channel="AMAZON_NA", quantity=""),
        ])
        self._import_listings()
        self._listing("BOTH-FBA").product_id = self.both
        for summary in (make_inventory_summary("FBA-P", fulfillable=7, inbound_shipped=4, reserved=1),
                        make_inventory_summary("BOTH-FBA", fulfillable=5),
                        make_inventory_summary("NOT-IN-ODOO", fulfillable=99)):
            self.sim.add_inventory(summary)

    def _wizard(self):
        action = self.amazon.with_context(amazon_pacing_speed=self.sim_speed).action_set_stock_from_amazon()
        return self.env["amazon.listing.stock.wizard"].browse(action["res_id"])

    def _qty(self, product, warehouse):
        return product.with_context(warehouse_id=warehouse.id).qty_available

    def _line(self, wizard, product, channel):
        return wizard.line_ids.filtered(lambda line: line.product_id == product and line.channel == channel)

    def test_preview(self):
        wizard = self._wizard()
        up = self._line(wizard, self.up, "merchant")
        self.assertEqual((up.current_qty, up.amazon_qty, up.difference), (4, 10, 6))
        self.assertTrue(up.apply)
        down = self._line(wizard, self.down, "merchant")
        self.assertEqual((down.current_qty, down.amazon_qty, down.difference), (5, 1, -4))
        self.assertEqual(self._line(wizard, self.same, "merchant").difference, 0)
        srv = self._line(wizard, self.service, "merchant")
        self.assertFalse(srv.can_apply)
        self.assertIn("not storable", srv.note)
        asleep = self._line(wizard, self.asleep, "merchant")
        self.assertTrue(asleep.can_apply)
        self.assertFalse(asleep.apply)
        self.assertIn("No active offer", asleep.note)
        fba = self._line(wizard, self.fba, "amazon")
        self.assertEqual((fba.warehouse_id, fba.current_qty, fba.amazon_qty), (self.fba_warehouse, 2, 7))
        self.assertFalse(self._line(wizard, self.fba, "merchant"))
        self.assertEqual(self._line(wizard, self.both, "amazon").amazon_qty, 5)
        self.assertEqual(self._line(wizard, self.both, "merchant").amazon_qty, 2)
        self.assertIn("1 FBA SKUs have no mapped listing", wizard.note)

    def test_apply_makes_inventory_moves_equal_to_the_difference(self):
        wizard = self._wizard()
        self._line(wizard, self.both, "merchant").apply = False  # left as it is by the user
        before = self.env["stock.move"].search([]).ids
        wizard.action_apply()
        moves = self.env["stock.move"].search([("id", "not in", before)])
        self.assertTrue(all(moves.mapped("is_inventory")))
        self.assertEqual(set(moves.mapped("state")), {"done"})
        self.assertTrue(all(name.startswith("Stock set from Amazon") for name in moves.mapped("inventory_name")))
        stock, fba_stock = self.warehouse.lot_stock_id, self.fba_warehouse.lot_stock_id

        def net(product, warehouse):
            view = warehouse.view_location_id
            moved = moves.filtered(lambda m: m.product_id == product)
            into = sum(m.quantity for m in moved if m.location_dest_id._child_of(view))
            out = sum(m.quantity for m in moved if m.location_id._child_of(view))
            return into - out

        self.assertEqual(net(self.up, self.warehouse), 6)
        self.assertEqual(net(self.down, self.warehouse), -4)
        self.assertEqual(net(self.fba, self.fba_warehouse), 5)
        self.assertEqual(net(self.both, self.fba_warehouse), 5)
        self.assertFalse(moves.filtered(lambda m: m.product_id in (self.same, self.service)))
        self.assertFalse(moves.filtered(lambda m: m.product_id == self.both and (
            m.location_id._child_of(self.warehouse.view_location_id)
            or m.location_dest_id._child_of(self.warehouse.view_location_id))), "unticked line left alone")
        self.assertEqual(self._qty(self.up, self.warehouse), 10)
        self.assertEqual(self._qty(self.down, self.warehouse), 1)
        self.assertEqual(self.env["stock.quant"]._get_available_quantity(self.down, stock, strict=True), 0)
        self.assertEqual(self.env["stock.quant"]._get_available_quantity(self.down, self.shelf, strict=True), 1)
        # FBA quantities land only in the fulfillment warehouse
        self.assertEqual(self._qty(self.fba, self.fba_warehouse), 7)
        self.assertEqual(self._qty(self.fba, self.warehouse), 0)
        self.assertEqual(self._qty(self.both, self.fba_warehouse), 5)
        self.assertEqual(self._qty(self.both, self.warehouse), 0)
        self.assertEqual(self._qty(self.up, self.fba_warehouse), 0)
        self.assertEqual(self.env["stock.quant"]._get_available_quantity(self.fba, fba_stock, strict=True), 7)
        # a new preview has nothing left to do but the line the user left alone
        again = self._wizard()
        self.assertEqual(again.line_ids.filtered(lambda line: line.difference and line.can_apply).product_id,
                         self.both)
        self._line(again, self.both, "merchant").apply = False
        with self.assertRaises(UserError):
            again.action_apply()

    def test_fba_stock_of_every_confirmed_marketplace_counted_once(self):
        """The FBA mirror reads each confirmed marketplace of the connection. North America's unified account
        shows its pooled units in Mexico and in the US alike: counted once; Brazil's own network adds its units;
        a marketplace whose settings are not confirmed yet is not read."""
        ref = self.env.ref
        mx, us, ca, br = (ref(f"bind_amazon_connector.marketplace_{c}") for c in ("mx", "us", "ca", "br"))
        self.amazon.marketplace_ids = mx | us | ca | br
        lines = self.amazon.marketplace_setting_ids
        lines.filtered(lambda line: line.marketplace_id in us | br).confirmed = True
        self.assertFalse(lines.filtered(lambda line: line.marketplace_id == ca).confirmed)
        self.sim.add_inventory(make_inventory_summary("FBA-P", fulfillable=3), marketplace_id=br.marketplace_id)
        self.sim.add_inventory(make_inventory_summary("BOTH-FBA", fulfillable=50), marketplace_id=ca.marketplace_id)
        self.sim.reset_records()
        try:
            wizard = self._wizard()
        finally:
            with self.sim.state.lock:
                self.sim.state.marketplace_inventory.clear()
        asked = {r.query.get("granularityId", [None])[0] for r in self.sim.requests
                 if r.operation == "getInventorySummaries"}
        self.assertTrue({mx.marketplace_id, us.marketplace_id, br.marketplace_id} <= asked)
        self.assertNotIn(ca.marketplace_id, asked)
        fba = self._line(wizard, self.fba, "amazon")
        self.assertEqual(fba.amazon_qty, 7 + 3, fba.skus)  # the pool once (not 7 per marketplace), and Brazil's
        self.assertIn("FBA-P NA (7)", fba.skus)
        self.assertIn("FBA-P BR (3)", fba.skus)
        self.assertEqual(self._line(wizard, self.both, "amazon").amazon_qty, 5)

    def test_fba_mirror_without_fulfillment_warehouse(self):
        self.amazon.fba_warehouse_id = False
        wizard = self._wizard()
        self.assertFalse(wizard.line_ids.filtered(lambda line: line.channel == "amazon"))
        self.assertIn("No fulfillment warehouse", wizard.note)
