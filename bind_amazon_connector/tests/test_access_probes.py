"""Nobody reaches beyond their role, company or host: the access matrix and each attack of the security review."""
import logging
from unittest.mock import patch

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from spapi_simulator import factory

from ..models.connection import access
from .common import AmazonOrderCommon

ADDON_MODULE = "odoo.addons.bind_amazon_connector."
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
class TestSecurityMatrix(AmazonOrderCommon):
    """Five people: an Amazon user, an Amazon administrator, an accountant without Amazon rights, an internal
    user without any of them, and the Amazon administrator of another company."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.other_company = cls.env["res.company"].create({"name": "Otra Empresa SA"})
        cls.people = {
            "user": cls._user("sec_amazon_user", "bind_amazon_connector.group_amazon_user"),
            "admin": cls._user("sec_amazon_admin", "bind_amazon_connector.group_amazon_manager"),
            "accountant": cls._user("sec_accountant", "account.group_account_invoice"),
            "internal": cls._user("sec_internal", "base.group_user"),
            "other_admin": cls._user("sec_other_admin", "bind_amazon_connector.group_amazon_manager",
                                     "account.group_account_invoice", company=cls.other_company),
        }
        cls.listing = cls._listing("MUG-01")
        cls.settlement = cls.env["amazon.settlement"].sudo().create({
            "name": "SEC-1", "account_id": cls.amazon.id, "currency_id": cls.env.ref("base.MXN").id,
        }) if "amazon.settlement" in cls.env else None

    # ---------------------------------------------------------------- access rights per model

    #: model: {person: the operations they may do on the model (read, write, create, unlink)}
    MATRIX = {
        "amazon.account": {"user": "r", "admin": "rwcu", "accountant": "r", "internal": "", "other_admin": "rwcu"},
        "amazon.marketplace": {"user": "r", "admin": "r", "accountant": "", "internal": "", "other_admin": "r"},
        "amazon.oauth.state": {"user": "", "admin": "", "accountant": "", "internal": "", "other_admin": ""},
        "amazon.order": {"user": "r", "admin": "ru", "accountant": "", "internal": "", "other_admin": "ru"},
        "amazon.listing": {"user": "rw", "admin": "rwcu", "accountant": "", "internal": "", "other_admin": "rwcu"},
        "amazon.stock.push": {"user": "r", "admin": "rwcu", "accountant": "", "internal": "",
                              "other_admin": "rwcu"},
        "amazon.settlement": {"user": "r", "admin": "r", "accountant": "rw", "internal": "",
                              "other_admin": "rw"},
        "amazon.settlement.transaction": {"user": "r", "admin": "r", "accountant": "r", "internal": "",
                                          "other_admin": "r"},
    }

    def test_access_rights_matrix(self):
        operations = {"r": "read", "w": "write", "c": "create", "u": "unlink"}
        for model, rows in self.MATRIX.items():
            if model not in self.env:
                continue
            for person, allowed in rows.items():
                Model = self.env[model].with_user(self.people[person])
                for letter, operation in operations.items():
                    with self.subTest(model=model, person=person, operation=operation):
                        self.assertEqual(Model.has_access(operation), letter in allowed)

    def test_another_company_sees_nothing(self):
        """Record rules: the other company's Amazon administrator reads no record of this company."""
        self._make_order()
        self._sync()
        self.env["amazon.stock.push"].sudo()._enqueue_listings(self.listing)
        outsider = self.people["other_admin"]
        for model in ("amazon.account", "amazon.order", "amazon.listing", "amazon.stock.push",
                      "amazon.settlement", "amazon.settlement.transaction", "amazon.settlement.line",
                      "amazon.fee.account"):
            if model not in self.env:
                continue
            mine = self.env[model].sudo().search([("account_id", "=", self.amazon.id)] if model not in (
                "amazon.account",) else [("id", "=", self.amazon.id)])
            with self.subTest(model=model):
                self.assertFalse(self.env[model].with_user(outsider).search([("id", "in", mine.ids)]))
                if mine:
                    with self.assertRaises(AccessError):
                        mine[:1].with_user(outsider).read(["id"])

    def test_stock_pushes_of_another_company_are_not_readable(self):
        self.env["amazon.stock.push"].sudo()._enqueue_listings(self.listing)
        pushes = self.env["amazon.stock.push"].sudo().search([("account_id", "=", self.amazon.id)])
        self.assertTrue(pushes)
        outsider = self.env["amazon.stock.push"].with_user(self.people["other_admin"])
        self.assertFalse(outsider.search([]))
        with self.assertRaises(AccessError):
            pushes.with_user(self.people["other_admin"]).read(["listing_id"])
        self.assertEqual(self.env["amazon.stock.push"].with_user(self.people["admin"]).search(
            [("id", "in", pushes.ids)]), pushes)

    # ---------------------------------------------------------------- public methods

    def _addon_public_methods(self):
        """(model, method name) of every ``action_*`` method the addon defines, on its own or inherited models."""
        found = []
        for model_name in sorted(self.env.registry):
            cls = type(self.env[model_name])
            for name in dir(cls):
                if not name.startswith("action_"):
                    continue
                owners = [klass for klass in cls.__mro__ if name in vars(klass)]
                if any(klass.__module__.startswith(ADDON_MODULE) for klass in owners):
                    found.append((model_name, name))
        return found

    def _any_record(self, model_name):
        record = self.env[model_name].sudo().search([], limit=1)
        return record or self.env[model_name].browse(987654321)

    def test_every_action_checks_its_group(self):
        """An internal user without Amazon or accounting rights runs no action of the addon, whatever it is
        (actions added later are covered too)."""
        methods = self._addon_public_methods()
        self.assertIn(("amazon.order", "action_retry"), methods)
        self.assertIn(("sale.order", "action_view_amazon_order"), methods)
        internal = self.people["internal"]
        for model_name, name in methods:
            record = self._any_record(model_name).with_user(internal).with_company(self.company)
            with self.subTest(model=model_name, method=name), mute_logger("odoo.addons.base.models.ir_rule"), \
                    self.assertRaises(AccessError):
                getattr(record, name)()

    def test_accountant_without_amazon_rights_syncs_nothing(self):
        account = self.amazon.with_user(self.people["accountant"])
        for name in ("action_import_listings", "action_sync_finances", "action_sync_orders", "action_push_stock_now",
                     "action_test_connection", "action_authorize", "action_disconnect"):
            if not hasattr(account, name):
                continue
            with self.subTest(method=name), self.assertRaises(AccessError):
                getattr(account, name)()

    def test_amazon_user_runs_syncs_but_not_administration(self):
        account = self.amazon.with_user(self.people["user"])
        for name in ("action_authorize", "action_paste_token", "action_disconnect", "action_set_stock_from_amazon",
                     "action_load_default_fee_accounts"):
            with self.subTest(method=name), self.assertRaises(AccessError):
                getattr(account, name)()
        # navigation is allowed
        self.assertEqual(account.action_view_amazon_orders()["res_model"], "amazon.order")
        self.assertEqual(account.action_view_listings()["res_model"], "amazon.listing")

    def test_settlement_is_closed_by_accountants_only(self):
        if self.settlement is None:
            return
        with self.assertRaises(AccessError):
            self.settlement.with_user(self.people["user"]).action_close()
        with self.assertRaises(AccessError):
            self.settlement.with_user(self.people["admin"]).action_close()
        # the accountant gets past the access check (to what the booking needs first)
        with self.assertRaisesRegex(UserError, "deposit"):
            self.settlement.with_user(self.people["accountant"]).action_close()

    def test_another_companys_admin_runs_no_action_here(self):
        outsider = self.people["other_admin"]
        order_id = self._make_order()["orderId"]
        self._sync()
        order = self._amazon_order(order_id)
        targets = [(self.amazon, ("action_sync_orders", "action_import_listings", "action_test_connection",
                                  "action_authorize", "action_view_amazon_orders", "action_view_listings",
                                  "action_open_form")),
                   (order, ("action_retry", "action_open", "action_view_invoices")),
                   (self.listing, ("action_push_stock", "action_auto_map", "action_refresh_from_amazon"))]
        for records, names in targets:
            for name in names:
                if not hasattr(records, name):
                    continue
                with self.subTest(model=records._name, method=name), \
                        mute_logger("odoo.addons.base.models.ir_rule"), self.assertRaises(AccessError):
                    getattr(records.with_user(outsider).with_company(self.other_company), name)()


@tagged("post_install", "-at_install")
class TestSecurityProbes(AmazonOrderCommon):
    """The attacks of the security review, each refused."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.admin = cls._user("probe_amazon_admin", "bind_amazon_connector.group_amazon_manager",
                              name="Amazon Admin (not system)")
        cls.user = cls._user("probe_amazon_user", "bind_amazon_connector.group_amazon_user",
                             "base.group_allow_export", name="Amazon User")
        cls.other_company = cls.env["res.company"].create({"name": "Competidor SA"})
        cls.other_admin = cls._user("probe_other_admin", "bind_amazon_connector.group_amazon_manager",
                                    name="Admin de otra empresa", company=cls.other_company)

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


@tagged("post_install", "-at_install")
class TestSecurityHosts(AmazonOrderCommon):
    """Where the server sends requests and credentials."""

    PARAM_ID = "bind_amazon_connector.lwa_client_id"
    PARAM_SECRET = "bind_amazon_connector.lwa_client_secret"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.admin = cls._user("host_amazon_admin", "bind_amazon_connector.group_amazon_manager",
                              name="Amazon Admin (not system)")
        cls.other_company = cls.env["res.company"].create({"name": "Competidor Hosts SA"})
        cls.other_admin = cls._user("host_other_admin", "bind_amazon_connector.group_amazon_manager",
                                    name="Admin de otra empresa", company=cls.other_company)

    def test_only_system_administrators_set_overrides(self):
        account = self.amazon.with_user(self.admin)
        for fname in ("endpoint_override", "token_url_override", "seller_central_override"):
            with self.subTest(field=fname):
                with self.assertRaises(AccessError):
                    account.write({fname: "https://sellingpartnerapi-na.amazon.com"})
                with self.assertRaises(AccessError):
                    account.read([fname])
        self.assertTrue(self.env.user._is_system())
        self.amazon.write({"endpoint_override": "https://sandbox.sellingpartnerapi-na.amazon.com"})

    def test_overrides_only_on_amazon_or_loopback_in_tests(self):
        bad = {
            "endpoint_override": ["http://169.254.169.254/latest/meta-data", "http://10.1.2.3:8080",
                                  "http://sellingpartnerapi-na.amazon.com", "https://attacker.example",
                                  "https://sellingpartnerapi-na.amazon.com.attacker.example"],
            "token_url_override": ["https://attacker.example/auth/o2/token", "http://api.amazon.com/auth/o2/token",
                                   "http://[fe80::1]/token", "https://api.amazon.com@attacker.example/auth/o2/token"],
            "seller_central_override": ["https://attacker.example", "http://sellercentral.amazon.com.mx"],
        }
        for fname, urls in bad.items():
            for url in urls:
                with self.subTest(field=fname, url=url), self.assertRaises(ValidationError):
                    self.amazon.write({fname: url})
        # loopback (the simulator) is fine in tests, refused outside development mode
        self.amazon.write({"endpoint_override": "http://127.0.0.1:9"})
        with patch("odoo.addons.bind_amazon_connector.models.connection.connection_spapi.loopback_allowed",
                   lambda: False), self.assertRaises(ValidationError):
            self.amazon.write({"endpoint_override": "http://127.0.0.2:9"})

    def test_stored_loopback_override_is_not_called_outside_development_mode(self):
        with patch("odoo.addons.bind_amazon_connector.models.connection.connection_spapi.loopback_allowed",
                   lambda: False), self.assertRaises(UserError):
            self.amazon._spapi_config()

    def test_system_secret_never_goes_to_an_overridden_url(self):
        params = self.env["ir.config_parameter"].sudo()
        params.set_param(self.PARAM_ID, "system-client-id")
        params.set_param(self.PARAM_SECRET, "system-client-secret")
        account = self.env["amazon.account"].create(self._amazon_account_vals(
            name="Sin credenciales propias", seller_id="A3SYS", lwa_client_id=False, lwa_client_secret=False))
        self.sim.reset_records()
        with self.assertRaises(UserError):
            account._spapi_config()
        with self.assertRaises(UserError):
            account.action_test_connection()
        self.assertEqual(self.sim.count("token"), 0, "no token request left with the system secret")
        # without overrides, the system credentials go to Amazon as before
        account.write({"endpoint_override": False, "token_url_override": False})
        config = account._spapi_config()
        self.assertEqual(config.lwa_client_secret, "system-client-secret")
        self.assertEqual(config.lwa_token_url, "https://api.amazon.com/auth/o2/token")

    def test_marketplaces_are_written_by_system_administrators_only(self):
        mx = self.env.ref("bind_amazon_connector.marketplace_mx")
        for person in (self.admin, self.other_admin):
            with self.subTest(person=person.login), self.assertRaises(AccessError):
                mx.with_user(person).write({"seller_central_host": "attacker.example"})
            with self.assertRaises(AccessError):
                self.env["amazon.marketplace"].with_user(person).create({
                    "name": "X", "marketplace_id": "AXXXX", "seller_central_host": "sellercentral.amazon.com",
                    "currency_id": self.env.ref("base.MXN").id, "country_id": self.env.ref("base.mx").id})
        for host in ("attacker.example", "http://sellercentral.amazon.com.mx", "sellercentral.amazon.attacker.io"):
            with self.subTest(host=host), self.assertRaises(ValidationError):
                mx.write({"seller_central_host": host})
        self.assertEqual(mx.seller_central_host, "sellercentral.amazon.com.mx")

    def test_consent_url_of_a_foreign_seller_central_is_refused(self):
        self.amazon.write({"application_id": "amzn1.sp.solution.x", "seller_central_override": False})
        # stored by a direct database change: still never used
        self.env.cr.execute("UPDATE amazon_marketplace SET seller_central_host = 'attacker.example' WHERE id = %s",
                            [self.amazon.marketplace_id.id])
        self.env.invalidate_all()
        with self.assertRaises(UserError):
            self.amazon.action_authorize()

