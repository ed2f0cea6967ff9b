"""Who may read the connection and its secrets, multi-company isolation, chatter hygiene, neutralize."""
from odoo.exceptions import AccessError
from odoo.modules.neutralize import get_installed_modules, get_neutralization_queries
from odoo.tests import tagged

from .common import AMAZON_ADMIN, SIM_CLIENT_SECRET, SIM_REFRESH_TOKEN, AmazonTestCommon

SECRET_FIELDS = ("refresh_token", "lwa_client_secret", "lwa_client_id", "endpoint_override", "token_url_override")


@tagged("post_install", "-at_install")
class TestAccountSecurity(AmazonTestCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.amazon_manager = cls._user("amazon_admin", AMAZON_ADMIN, name="Amazon Admin")
    def test_user_reads_connection_but_not_secrets(self):
        account = self.amazon.with_user(self.amazon_user)
        account.invalidate_recordset()
        self.assertEqual(account.name, "Amazon MX")
        self.assertEqual(account.state, "authorized")
        self.assertTrue(account.has_refresh_token, "users see that the connection is authorized")
        for fname in SECRET_FIELDS:
            with self.assertRaises(AccessError, msg=f"an Amazon user must not read {fname}"):
                account.read([fname])
        # and the secrets are not even part of the fields the web client may ask for
        fields_for_user = account.fields_get()
        self.assertNotIn("refresh_token", fields_for_user)
        self.assertNotIn("lwa_client_secret", fields_for_user)
        # a plain read of every readable field leaks nothing
        values = account.read()[0]
        self.assertNotIn(SIM_REFRESH_TOKEN, repr(values))
        self.assertNotIn(SIM_CLIENT_SECRET, repr(values))

    def test_user_cannot_write_nor_authorize(self):
        account = self.amazon.with_user(self.amazon_user)
        with self.assertRaises(AccessError):
            account.write({"name": "Renamed"})
        with self.assertRaises(AccessError):
            account.action_authorize()
        with self.assertRaises(AccessError):
            account.action_paste_token()
        with self.assertRaises(AccessError):
            account.action_disconnect()
        self.amazon.invalidate_recordset()
        self.assertEqual(self.amazon.name, "Amazon MX")
        self.assertEqual(self.amazon.state, "authorized")

    def test_manager_reads_and_writes_secrets(self):
        account = self.amazon.with_user(self.amazon_manager)
        self.assertEqual(account.refresh_token, SIM_REFRESH_TOKEN)
        self.assertEqual(account.lwa_client_secret, SIM_CLIENT_SECRET)
        account.write({"lwa_client_secret": "new-secret"})
        self.assertEqual(self.amazon.lwa_client_secret, "new-secret")
        self.assertIn("refresh_token", account.fields_get())

    def test_user_of_another_company_cannot_see_the_connection(self):
        _other, outsider = self._other_company_admin("Otra Empresa", "other_amazon_admin",
                                                     name="Gerente de otra empresa")
        Account = self.env["amazon.account"].with_user(outsider)
        self.assertFalse(Account.search([("id", "=", self.amazon.id)]))
        with self.assertRaises(AccessError):
            Account.browse(self.amazon.id).read(["name"])
        with self.assertRaises(AccessError):
            Account.browse(self.amazon.id).refresh_token  # noqa: B018
        # the same kind of user in the connection's company sees it
        self.assertEqual(self.env["amazon.account"].with_user(self.amazon_manager).search(
            [("id", "=", self.amazon.id)]), self.amazon)

    def test_secrets_never_reach_the_chatter(self):
        account = self.amazon.with_context(tracking_disable=False, mail_notrack=False)
        account.write({"state": "error", "refresh_token": "Atzr|brand-new-token",
                       "lwa_client_secret": "super-secret"})
        self.env.flush_all()
        self.env.cr.precommit.run()  # tracking values are written when the transaction commits
        self.env["amazon.oauth.state"]._store_authorization(account, "Atzr|another-token", seller_id="A3SIMSELLER0001")
        self.env.flush_all()
        self.env.cr.precommit.run()
        messages = self.env["mail.message"].search([("model", "=", "amazon.account"), ("res_id", "=", account.id)])
        trackings = messages.tracking_value_ids
        self.assertIn("state", trackings.field_id.mapped("name"), "tracking is on: the state change is tracked")
        self.assertFalse({"refresh_token", "lwa_client_secret"} & set(trackings.field_id.mapped("name")))
        everything = " ".join(
            [str(m.body) for m in messages]
            + [str(v) for t in trackings for v in (t.old_value_char, t.new_value_char)]
        )
        for secret in ("Atzr|brand-new-token", "Atzr|another-token", "super-secret", SIM_REFRESH_TOKEN):
            self.assertNotIn(secret, everything)

    def test_copy_keeps_no_credentials(self):
        copy = self.amazon.copy({"name": "Copia", "seller_id": "A3COPY"})
        self.assertFalse(copy.refresh_token)
        self.assertFalse(copy.lwa_client_secret)
        self.assertEqual(copy.state, "draft")

    def test_neutralize_blanks_credentials(self):
        self.assertIn("bind_amazon_connector", get_installed_modules(self.env.cr))
        queries = list(get_neutralization_queries(["bind_amazon_connector"]))
        self.assertTrue(queries, "data/neutralize.sql is found by Odoo's neutralize mechanism")
        self.env["ir.config_parameter"].set_param("bind_amazon_connector.lwa_client_secret", "param-secret")
        self.env["ir.config_parameter"].set_param("bind_amazon_connector.lwa_client_id", "param-client")
        self.amazon.seller_central_override = self.sim.url
        self.env["amazon.oauth.state"]._issue(self.amazon, "http://localhost/amazon/oauth/callback")
        self.env.flush_all()
        for query in queries:
            self.env.cr.execute(query)
        self.env.invalidate_all()
        self.assertFalse(self.amazon.refresh_token)
        self.assertFalse(self.amazon.lwa_client_secret)
        self.assertFalse(self.amazon.endpoint_override)
        self.assertFalse(self.amazon.token_url_override)
        self.assertFalse(self.amazon.seller_central_override)
        self.assertEqual(self.amazon.state, "draft")
        self.assertFalse(self.env["amazon.oauth.state"].sudo().search([]))
        params = self.env["ir.config_parameter"].sudo()
        self.assertFalse(params.get_param("bind_amazon_connector.lwa_client_secret"))
        self.assertEqual(params.get_param("bind_amazon_connector.lwa_client_id"), "param-client")
        # settings are kept: the copy can be re-authorized against a sandbox
        self.assertEqual(self.amazon.warehouse_id, self.warehouse)
        self.assertEqual(self.amazon.lwa_client_id, "sim-client-id")
