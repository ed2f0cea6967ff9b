"""The attacks of the security review, each refused: orders rewritten or retried, links across companies,
what users may write, payloads and buyer data kept from the log, context keys sent by RPC."""
import logging
from unittest.mock import patch

from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged
from odoo.tools import mute_logger

from spapi_simulator import factory

from ..models.connection import access
from .common import AMAZON_ADMIN, AMAZON_USER, AmazonOrderCommon

ACCESS = "odoo.addons.bind_amazon_connector.models.connection.access"
SPAPI_ACCESS = "odoo.addons.bind_amazon_connector.models.connection.connection_spapi"


class _Capture(logging.Handler):
    """Every log line of INFO and above, as the server log would show it."""

    def __init__(self):
        super().__init__(logging.INFO)
        self.lines = []

    def emit(self, record):
        self.lines.append(f"{record.name}: {record.getMessage()}")
        if record.exc_info:
            self.lines.append(logging.Formatter().formatException(record.exc_info))


@tagged("post_install", "-at_install")
class TestSecurityProbes(AmazonOrderCommon):
    """The attacks of the security review, each refused."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.admin = cls._user("probe_amazon_admin", AMAZON_ADMIN, name="Amazon Admin (not system)")
        cls.user = cls._user("probe_amazon_user", AMAZON_USER, "base.group_allow_export", name="Amazon User")
        cls.other_company, cls.other_admin = cls._other_company_admin("Competidor SA", "probe_other_admin")

    def _imported(self, **kw):
        order, rec = self._synced_order(**kw)
        self.assertEqual(rec.state, "imported")
        return order, rec

    # ---------------------------------------------------------------- orders: rewrite and retry

    def test_administrator_cannot_rewrite_an_amazon_order(self):
        _order, rec = self._imported()
        victim = self.env["sale.order"].create({"partner_id": self.partner_a.id})
        as_admin = rec.with_user(self.admin)
        for vals in ({"payload": {"orderId": rec.name, "fulfillment": {"fulfillmentStatus": "CANCELLED"}}},
                     {"name": "999-0000000-0000000"}, {"state": "error"}, {"sale_order_id": victim.id}):
            with self.subTest(vals=list(vals)), self.assertRaises(AccessError):
                as_admin.write(vals)
        # nor point a sale order at the Amazon order (the link retry acts on)
        with self.assertRaises(AccessError):
            victim.with_user(self.admin).write({"amazon_order_id": rec.id})
        with self.assertRaises(AccessError):
            self.env["sale.order"].with_user(self.admin).create(
                {"partner_id": self.partner_a.id, "amazon_order_id": rec.id})
        rec.invalidate_recordset()
        self.assertEqual(rec.sale_order_id.amazon_order_id, rec)
        self.assertNotEqual(rec.sale_order_id, victim)

    def test_sale_order_link_stays_in_the_company(self):
        _order, rec = self._imported()
        foreign_so = self.env["sale.order"].sudo().with_company(self.other_company).create({
            "partner_id": self.partner_a.id, "company_id": self.other_company.id,
        })
        rec.sale_order_id.sudo().amazon_order_id = False
        # even the import (superuser) cannot link a sale order of another company: Odoo's company check
        with self.assertRaisesRegex(UserError, "company inconsistencies"):
            foreign_so.sudo().write({"amazon_order_id": rec.id})
        # in the database (the refused write leaves its values in the ORM cache: read the table itself)
        self.env.cr.execute("SELECT amazon_order_id FROM sale_order WHERE id = %s", [foreign_so.id])
        self.assertEqual(self.env.cr.fetchone(), (None,))

    def test_link_is_derived_from_the_sale_order(self):
        _order, rec = self._imported()
        so = rec.sale_order_id
        self.assertEqual(so.amazon_order_id, rec)
        self.assertFalse(rec._fields["sale_order_id"].store, "one stored side: sale.order.amazon_order_id")
        self.assertEqual(self.env["amazon.order"].search([("sale_order_id", "=", so.id)]), rec)
        self.assertEqual(self.env["amazon.order"].search([("id", "=", rec.id), ("sale_order_id", "!=", False)]),
                         rec)
        self.assertFalse(self.env["amazon.order"].search([("id", "=", rec.id), ("sale_order_id", "=", False)]))
        so.sudo().amazon_order_id = False
        self.assertFalse(rec.sale_order_id)
        self.assertEqual(self.env["amazon.order"].search([("id", "=", rec.id), ("sale_order_id", "=", False)]), rec)

    def test_retry_never_acts_on_a_stored_copy_amazon_disowns(self):
        order, rec = self._imported()
        so = rec.sale_order_id
        # the stored copy says cancelled; Amazon answers 404 (it does not know the order)
        payload = dict(rec.sudo().payload)
        payload["fulfillment"] = dict(payload["fulfillment"], fulfillmentStatus="CANCELLED")
        rec.sudo().write({"payload": payload})
        with self.sim.state.lock:
            self.sim.state.orders.pop(order["orderId"])
        result = rec.with_user(self.amazon_user).action_retry()
        self.assertEqual(result["params"]["type"], "warning")
        rec.invalidate_recordset()
        self.assertEqual(so.state, "sale", "the sale order was not cancelled on the word of the stored copy")
        self.assertEqual(rec.state, "imported")

    def test_retry_of_another_companys_order_is_refused(self):
        _order, rec = self._imported()
        with self.assertRaises(AccessError), mute_logger("odoo.addons.base.models.ir_rule"):
            rec.with_user(self.other_admin).with_company(self.other_company).action_retry()
        self.assertEqual(rec.state, "imported")

    # ---------------------------------------------------------------- listings

    def test_user_maps_products_only(self):
        listing = self._listing("MUG-01").with_user(self.user)
        for vals in ({"price": 1.0}, {"quantity": 500}, {"seller_sku": "OTHER"}, {"name": "x"},
                     {"account_id": self.amazon.id}, {"price": 1.0, "product_id": self.product_tee.id}):
            with self.subTest(vals=list(vals)), self.assertRaises(AccessError):
                listing.write(vals)
        with self.assertRaises(AccessError):
            self.env["amazon.listing"].with_user(self.admin).create({
                "account_id": self.amazon.id, "marketplace_id": self.amazon.marketplace_id.id, "seller_sku": "NEW",
                "currency_id": self.amazon.marketplace_id.currency_id.id, "fulfillment_channel": "merchant",
                "price": 1.0, "product_id": self.product_tee.id,
            })
        # mapping is what users do
        listing.write({"product_id": self.product_tee.id})
        self.assertEqual(listing.sudo().product_id, self.product_tee)

    def test_import_summary_is_sanitized_and_written_by_the_import_only(self):
        with self.assertRaises(AccessError):
            self.amazon.with_user(self.admin).write({"listing_import_summary": "<p>hi</p>"})
        self.amazon.sudo().write({"listing_import_summary": '<p>ok</p><img src="x" onerror="alert(1)"/>'
                                                           "<script>alert(2)</script>"})
        stored = str(self.amazon.listing_import_summary)
        self.assertIn("ok", stored)
        self.assertNotIn("onerror", stored)
        self.assertNotIn("<script", stored)

    # ---------------------------------------------------------------- buyer data

    def test_payload_is_for_administrators_only(self):
        _order, rec = self._imported()
        as_user = rec.with_user(self.user)
        for fname in ("payload", "payload_text"):
            with self.subTest(field=fname):
                with self.assertRaises(AccessError):
                    as_user.read([fname])
                with self.assertRaises(AccessError):
                    as_user.export_data([fname])
                with self.assertRaises(AccessError):
                    self.env["amazon.order"].with_user(self.user).search([(fname, "ilike", "ana")])
                self.assertNotIn(fname, as_user.fields_get())
        everything = repr(as_user.read()) + repr(as_user.export_data(["name", "sale_order_id", "reason"]))
        self.assertNotIn(factory.DEFAULT_BUYER["email"], everything)
        self.assertIn(factory.DEFAULT_BUYER["email"], rec.with_user(self.admin).payload_text)

    def test_buyer_data_never_reaches_the_log(self):
        secrets = [factory.DEFAULT_BUYER["email"], factory.DEFAULT_ADDRESS["phone"],
                   factory.DEFAULT_ADDRESS["addressLine1"], factory.DEFAULT_ADDRESS["addressLine2"]]
        self._make_order()  # imported
        self._make_order(items=[{"sku": "NOPE-1", "quantity": 1, "unit_price": "10.00"}])  # unmapped: error
        self._make_order(status="SHIPPED")
        capture = _Capture()
        loggers = [logging.getLogger(name) for name in ("", "odoo", "httpx", "sp_api", "werkzeug")]
        for logger in loggers:
            logger.addHandler(capture)
        try:
            logging.getLogger(__name__).info("full sync starts")
            self._sync()
            self.env["amazon.order"].search([("account_id", "=", self.amazon.id)]).with_user(
                self.amazon_user).action_retry()
        finally:
            for logger in loggers:
                logger.removeHandler(capture)
        text = "\n".join(capture.lines)
        self.assertIn("Amazon order", text, "the sync's own INFO lines are captured")
        self.assertIn("full sync starts", text)
        for secret in secrets:
            self.assertNotIn(secret, text)

    # ---------------------------------------------------------------- context keys from RPC

    def test_context_keys_are_ignored_from_rpc(self):
        account = self.amazon.with_context(amazon_pacing_speed=1e9)
        self.assertEqual(account._spapi_config().pacing_speed, 1e9, "honoured in tests and the shell")
        with patch(f"{ACCESS}.request", object()), patch(f"{ACCESS}.in_test", lambda: False), \
                patch(f"{SPAPI_ACCESS}.loopback_allowed", lambda: True):
            self.assertEqual(account._spapi_config().pacing_speed, 1.0)
            self.assertIsNone(access.internal_context(
                self.env(context=dict(self.env.context, amazon_report_poll_interval=0.0)),
                "amazon_report_poll_interval"))
            if hasattr(self.env["amazon.account"], "_amazon_accounts_of_invoices"):
                other = self.env["amazon.account"].create(self._amazon_account_vals(
                    name="Otra conexión", seller_id="A3OTHER", journal_id=self.bank_journal.id))
                _order, rec = self._imported(status="SHIPPED")
                invoices = rec.sale_order_id.invoice_ids
                self.assertTrue(invoices)
                chosen = self.env["amazon.account"].with_context(amazon_account_id=other.id) \
                    ._amazon_accounts_of_invoices(invoices)
                self.assertEqual(list(chosen), [self.amazon], "the invoice's own connection, not the caller's")
