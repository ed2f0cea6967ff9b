"""Where the server sends requests and credentials: only system administrators point a connection elsewhere
than Amazon, and only at Amazon or (in tests) loopback; the system's secret never leaves for another host."""
from unittest.mock import patch

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged

from .common import AMAZON_ADMIN, AmazonOrderCommon


@tagged("post_install", "-at_install")
class TestSecurityHosts(AmazonOrderCommon):
    """Where the server sends requests and credentials."""

    PARAM_ID = "bind_amazon_connector.lwa_client_id"
    PARAM_SECRET = "bind_amazon_connector.lwa_client_secret"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.admin = cls._user("host_amazon_admin", AMAZON_ADMIN, name="Amazon Admin (not system)")
        cls.other_company, cls.other_admin = cls._other_company_admin("Competidor Hosts SA", "host_other_admin")

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
