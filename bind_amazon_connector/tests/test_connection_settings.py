from odoo.exceptions import ValidationError
from odoo.tests import tagged

from .common import AmazonTestCommon


@tagged("post_install", "-at_install")
class TestAccountSettings(AmazonTestCommon):
    def test_company_is_mexican(self):
        self.assertEqual(self.company.currency_id, self.env.ref("base.MXN"))
        self.assertEqual(self.company.chart_template, "mx")

    def test_marketplaces_data(self):
        mx = self.env.ref("bind_amazon_connector.marketplace_mx")
        self.assertEqual(mx.marketplace_id, "A1AM78C64UM0Y8")
        self.assertEqual(mx.currency_id.name, "MXN")
        self.assertTrue(mx.prices_include_tax)
        self.assertEqual(
            set(self.env["amazon.marketplace"].search([]).mapped("marketplace_id")),
            {"A1AM78C64UM0Y8", "ATVPDKIKX0DER", "A2EUQ1WTGCTBG2", "A2Q3Y263D00KWC"},
        )

    def test_fulfillment_warehouse_differs(self):
        with self.assertRaisesRegex(ValidationError, "fulfillment warehouse must differ"):
            self.amazon.fba_warehouse_id = self.warehouse

    def test_journal_must_be_bank_or_cash(self):
        with self.assertRaises(ValidationError):
            self.amazon.journal_id = self.company_data["default_journal_sale"]
