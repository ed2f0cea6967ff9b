"""What a new seller meets in the first hour: history by default, one click set-up, clean names, the taxes
the connector adds, and the payout sync telling when Amazon will have data."""
from datetime import timedelta

from odoo import Command, fields
from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import AmazonFinanceCommon, AmazonOrderCommon, AmazonTestCommon, ListingTestMixin, report_row


@tagged("post_install", "-at_install")
class TestFirstHour(ListingTestMixin, AmazonTestCommon):

    def _new_connection(self, **vals):
        return self.env["amazon.account"].create({
            "name": "Amazon nueva", "company_id": self.company.id, **vals})

    def test_new_connection_brings_the_last_30_days(self):
        account = self._new_connection()
        month_ago = fields.Datetime.now() - timedelta(days=30)
        for fname in ("import_start_date", "finance_start_date"):
            self.assertAlmostEqual(account[fname], month_ago, delta=timedelta(minutes=5), msg=fname)
        # the first order window starts there, not at the creation of the connection
        start, _end, _token = self.env["amazon.order.sync"]._window(account)
        self.assertAlmostEqual(start, month_ago, delta=timedelta(minutes=5))

    def test_create_what_is_missing(self):
        account = self._new_connection(warehouse_id=self.warehouse.id)
        self.assertFalse(account.is_configured)
        self.assertIn("Price List", account.missing_settings)
        account.action_create_missing_settings()
        pricelist, fba = account.pricelist_id, account.fba_warehouse_id
        self.assertEqual(pricelist.currency_id, self.env.ref("base.MXN"))
        self.assertEqual(pricelist.company_id, self.company)
        # the company's existing "Amazon FBA" warehouse is used, not a second one
        self.assertEqual(fba, self.fba_warehouse)
        self.assertEqual(account.warehouse_id, self.warehouse, "the merchant warehouse chosen stays")
        body = account.message_ids[:1].body
        self.assertIn(pricelist.name, body)
        # a second connection of the company reuses them instead of creating duplicates
        other = self._new_connection(name="Amazon segunda", warehouse_id=self.warehouse.id)
        other.action_create_missing_settings()
        self.assertEqual(other.pricelist_id, pricelist)
        self.assertEqual(other.fba_warehouse_id, fba)

    def test_create_what_is_missing_for_a_branch_without_warehouse(self):
        branch = self.env["res.company"].create({"name": "Sucursal Guadalajara", "parent_id": self.company.id})
        # Odoo gives a new company a warehouse only in tests (and to the first company): not a real branch
        self.env["stock.warehouse"].search([("company_id", "=", branch.id)]).action_archive()
        self.env.user.company_ids |= branch
        account = self.env["amazon.account"].create({"name": "Amazon sucursal", "company_id": branch.id})
        account.action_create_missing_settings()
        merchant, fba = account.warehouse_id, account.fba_warehouse_id
        # named after the branch (the archived warehouse has its name: the code tells them apart)
        self.assertEqual(merchant.company_id, branch)
        self.assertIn("Sucursal Guadalajara", merchant.name)
        self.assertEqual(fba.company_id, branch)
        self.assertNotEqual(merchant, fba)
        self.assertNotIn("warehouse_id", account._settings_missing())
        self.assertIn(merchant.code, account.message_ids[:1].body)

    def test_fba_warehouse_name_taken_gets_another_code(self):
        # the test company already has an "Amazon FBA" warehouse (code FBA): chosen as merchant warehouse here
        account = self._new_connection(warehouse_id=self.fba_warehouse.id)
        account.action_create_missing_settings()
        fba = account.fba_warehouse_id
        self.assertNotEqual(fba, self.fba_warehouse)
        self.assertEqual((fba.code, fba.company_id), ("FBA2", self.company))
        self.assertIn("Amazon FBA", fba.name)
        self.assertIn(fba.name, account.message_ids[:1].body)

    def test_create_what_is_missing_needs_a_manager(self):
        account = self._new_connection()
        with self.assertRaises(AccessError):
            account.with_user(self.amazon_user).action_create_missing_settings()
        self.assertFalse(account.pricelist_id)

    def test_configured_asks_for_the_fba_warehouse_once_there_are_fba_listings(self):
        self.amazon.fba_warehouse_id = False
        self.assertTrue(self.amazon.is_configured, "a merchant-only seller needs no fulfillment warehouse")
        self._set_report([report_row("MFN-1"), report_row("FBA-1", channel="AMAZON_NA", quantity="")])
        self._import_listings()
        self.amazon.invalidate_recordset(["is_configured", "missing_settings"])
        self.assertFalse(self.amazon.is_configured)
        self.assertEqual(self.amazon.missing_settings, "Fulfillment Warehouse")
        self.amazon.fba_warehouse_id = self.fba_warehouse
        self.assertTrue(self.amazon.is_configured)

    def test_titles_are_plain_text_and_amazon_title_kept(self):
        raw = "Sombrero charro bordado <b>hecho a mano</b> &amp; pintado"
        self._set_report([report_row("HAT-1", title=raw)])
        self._import_listings()
        listing = self._listing("HAT-1")
        self.assertEqual(listing.name, "Sombrero charro bordado hecho a mano & pintado")
        self.assertEqual(listing.amazon_title, raw)
        action = listing.action_create_products()
        product = self.env["product.product"].browse(action["domain"][0][2])
        self.assertEqual(product.name, "Sombrero charro bordado hecho a mano & pintado")
        # listings imported before (with their tags) are cleaned by the next import
        listing.with_context(amazon_listing_import=True).write({"name": raw})
        self._import_listings()
        self.assertEqual(listing.name, "Sombrero charro bordado hecho a mano & pintado")

    def test_listing_status_shown_translated(self):
        self._set_report([report_row("ON-1"), report_row("ODD-1", status="Suppressed")])
        self._import_listings()
        listing = self._listing("ON-1")
        self.assertEqual(listing.amazon_status, "Active", "Amazon's code is kept as sent")
        self.assertEqual(listing.amazon_status_label, "Active listing")
        # a status the connector does not know is shown as Amazon wrote it, never hidden
        self.assertEqual(self._listing("ODD-1").amazon_status_label, "Suppressed")

    def test_added_taxes_are_announced_on_the_connection(self):
        tax = self.env["account.tax"].create({
            "name": "IVA 8% frontera", "amount": 8.0, "type_tax_use": "sale", "company_id": self.company.id,
            "tax_group_id": self.company.account_sale_tax_id.tax_group_id.id,
            "country_id": self.company.account_fiscal_country_id.id,
        })
        before = self.amazon.message_ids
        twin = tax._amazon_price_included_twin()
        self.assertNotEqual(twin, tax)
        posted = self.amazon.message_ids - before
        self.assertEqual(len(posted), 1)
        self.assertIn(twin.name, posted.body)
        # found again later: announced once
        self.assertEqual(tax._amazon_price_included_twin(), twin)
        self.assertEqual(self.amazon.message_ids - before, posted)


@tagged("post_install", "-at_install")
class TestFirstHourPayouts(AmazonFinanceCommon):

    def test_empty_payout_sync_says_when_amazon_will_have_data(self):
        cron = self.env.ref("bind_amazon_connector.ir_cron_amazon_sync_finances")
        cron.write({"active": True, "nextcall": "2030-01-02 15:00:00"})
        self.env.user.tz = "UTC"
        action = self.amazon.with_context(amazon_pacing_speed=self.sim_speed).action_sync_finances()
        message = action["params"]["message"]
        self.assertNotIn("0 transactions", message)
        self.assertIn("up to 48 h later", message)
        self.assertIn("Next check at", message)
        self.assertIn("2030", message)

    def test_payout_sync_with_transactions_keeps_the_counts(self):
        group = self._group()
        self._other(group, "ServiceFee", -10.0)
        action = self.amazon.with_context(amazon_pacing_speed=self.sim_speed).action_sync_finances()
        self.assertIn("Transactions read: 1 ", action["params"]["message"])
        self.assertIn("up to 48 h later", action["params"]["message"])
        txn = self.env["amazon.settlement.transaction"].search([("account_id", "=", self.amazon.id)])
        self.assertEqual((txn.transaction_type, txn.status), ("ServiceFee", "RELEASED"))
        self.assertEqual((txn.transaction_type_label, txn.status_label), ("Service fee", "Released"))



@tagged("post_install", "-at_install")
class TestDashboard(AmazonOrderCommon):
    """The connection's card and smart buttons count what the other flows recorded."""

    def test_card_counts_and_buttons(self):
        self.amazon.only_mapped_products = False
        self._put_stock(self.product_mug, 5)
        shipped = self._make_order(status="SHIPPED", items=[
            {"sku": "MUG-01", "quantity": 1, "unit_price": "199.00",
             "title": "Taza de cerámica <b>Talavera</b> &amp; plato"}])
        self._product("CAP-03", "Gorra", mapped=False)
        failed = self._make_order([{"sku": "CAP-03", "quantity": 1, "unit_price": "120.00"}])
        self._sync()
        account = self.amazon
        self.assertEqual(self._amazon_order(failed["orderId"]).state, "error")
        rec = self._amazon_order(shipped["orderId"])
        # the order line of an Amazon title with markup is plain text too
        self.assertIn("Taza de cerámica Talavera & plato", rec.sale_order_id.order_line.mapped("name")[0])
        account.invalidate_recordset()
        self.assertEqual(account.dashboard_today_count, 1)
        self.assertEqual(account.amazon_order_error_count, 1)
        self.assertEqual(account.listing_unmapped_count, 1)
        self.assertEqual(account.dashboard_shipment_count, 0)
        self.assertEqual(account.dashboard_sync_age, "just now")
        self.assertFalse(account.dashboard_sync_late)
        self.assertFalse(account.authorization_lost)
        Orders = self.env["amazon.order"]
        self.assertEqual(Orders.search(account.action_view_orders_today()["domain"]), rec)
        self.assertEqual(Orders.search(account.action_view_orders_in_error()["domain"]).name, failed["orderId"])
        # smart buttons: the connection's invoices and Amazon's fee bills
        invoice = self._invoices(rec)
        self.assertEqual(account.invoice_count, 1)
        self.assertEqual(self.env["account.move"].search(account.action_view_invoices()["domain"]), invoice)
        settlement = self.env["amazon.settlement"].create({"name": "FEG-DASH", "account_id": account.id})
        bill = self.env["account.move"].create({
            "move_type": "in_invoice", "partner_id": account.amazon_partner_id.id, "amazon_fee_bill": True,
            "amazon_settlement_id": settlement.id, "invoice_date": fields.Date.today(),
            "invoice_line_ids": [Command.create({"name": "Comisión", "price_unit": 10.0, "tax_ids": False})],
        })
        account.invalidate_recordset()
        self.assertEqual(account.fee_bill_count, 1)
        self.assertEqual(self.env["account.move"].search(account.action_view_fee_bills()["domain"]), bill)

    def test_card_warns_when_authorization_is_lost_or_sync_is_late(self):
        account = self.amazon
        account.orders_last_sync = fields.Datetime.now() - timedelta(hours=30)
        self.assertEqual(account.dashboard_sync_age, "30 h ago")
        self.assertTrue(account.dashboard_sync_late)
        account._set_error("Amazon refused this connection's authorization")
        self.assertTrue(account.authorization_lost)

    def test_dashboard_buttons_need_an_amazon_user(self):
        outsider = self._user("contadora_dash", "account.group_account_invoice", name="Contadora")
        with self.assertRaises(AccessError):
            self.amazon.with_user(outsider).action_view_invoices()
