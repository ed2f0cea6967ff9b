"""Test connection, pasted refresh tokens, disconnecting, and the company's Integrations tab."""
from lxml import etree

from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, tagged

from ..spapi.auth import clear_token_cache
from .common import SIM_REFRESH_TOKEN, AmazonTestCommon


@tagged("post_install", "-at_install")
class TestAccountConnection(AmazonTestCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.draft = cls.env["amazon.account"].create(cls._amazon_account_vals(
            name="Amazon por autorizar", seller_id=False, refresh_token=False, state="draft",
        ))

    def _fast(self, account):
        return account.with_context(amazon_pacing_speed=self.sim_speed)

    # ---------------------------------------------------------------- test connection

    def test_test_connection_lists_marketplaces(self):
        expected = [p.marketplace_id for p in self._api().get_marketplace_participations() if p.is_participating]
        action = self._fast(self.amazon).action_test_connection()
        self.assertEqual(action["tag"], "display_notification")
        self.assertEqual(action["params"]["type"], "success")
        self.assertIn("Amazon.com.mx", action["params"]["message"])
        self.assertIn("A1AM78C64UM0Y8", expected)
        for marketplace_id in expected:
            self.assertIn(marketplace_id, self.amazon.participation_info)
        self.assertTrue(self.amazon.last_check_date)
        self.assertEqual(self.amazon.state, "authorized")

    def test_amazon_user_may_test_the_connection(self):
        action = self._fast(self.amazon.with_user(self.amazon_user)).action_test_connection()
        self.assertEqual(action["params"]["type"], "success")
        self.assertTrue(self.amazon.participation_info)

    def test_test_connection_revoked_token(self):
        clear_token_cache()  # no access token in cache: the next call asks LWA, which refuses
        self.addCleanup(self.sim.clear_faults)
        self.sim.inject_fault("token", "revoked_token")
        action = self._fast(self.amazon).action_test_connection()
        self.assertEqual(action["params"]["type"], "danger")
        self.assertEqual(self.amazon.state, "error")
        self.assertIn("Connection test failed", self.amazon.last_error)
        self.assertNotIn(SIM_REFRESH_TOKEN, self.amazon.last_error)
        self.assertNotIn(SIM_REFRESH_TOKEN, action["params"]["message"])

    def test_test_connection_amazon_down_keeps_state(self):
        self.addCleanup(self.sim.clear_faults)
        self.sim.inject_fault("getMarketplaceParticipations", "5xx", times=10)  # more than the retries
        action = self._fast(self.amazon).action_test_connection()
        self.assertEqual(action["params"]["type"], "danger")
        self.assertEqual(self.amazon.state, "authorized", "a temporary failure does not un-authorize")
        self.assertTrue(self.amazon.last_error)

    def test_test_connection_needs_authorization(self):
        with self.assertRaisesRegex(UserError, "Authorize the Amazon connection"):
            self.draft.action_test_connection()

    # ---------------------------------------------------------------- pasted refresh token

    def _paste(self, token, account=None, seller_id=None):
        return self.env["amazon.account.token.wizard"].with_context(amazon_pacing_speed=self.sim_speed).create({
            "account_id": (account or self.draft).id, "refresh_token": token, "seller_id": seller_id,
        })

    def assertDraftUnchanged(self):
        self.draft.invalidate_recordset()
        self.assertFalse(self.draft.refresh_token)
        self.assertEqual(self.draft.state, "draft")
        self.assertFalse(self.draft.seller_id)

    def test_paste_valid_token(self):
        wizard = self._paste(f"  {SIM_REFRESH_TOKEN}\n", seller_id="A3SIMSELLER0999")
        self.assertFalse(wizard.refresh_token, "the wizard never keeps the token")
        self.assertEqual(wizard.action_confirm()["type"], "ir.actions.act_window_close")
        self.assertEqual(self.draft.refresh_token, SIM_REFRESH_TOKEN)
        self.assertEqual(self.draft.state, "authorized")
        self.assertEqual(self.draft.seller_id, "A3SIMSELLER0999")
        self.assertTrue(self.draft._spapi())

    def test_paste_empty_token_refused(self):
        for empty in (False, "", "   \n"):
            with self.assertRaisesRegex(UserError, "The refresh token is empty"), self.env.cr.savepoint():
                self._paste(empty)
            self.assertDraftUnchanged()

    def test_paste_malformed_token_refused(self):
        for bad in ("sim-refresh-token", "Atzr|with space", "Bearer Atzr|x"):
            with self.assertRaisesRegex(UserError, "not an Amazon refresh token"), self.env.cr.savepoint():
                self._paste(bad)
            self.assertDraftUnchanged()
        self.assertFalse(self.env["amazon.account.token.wizard"].search([]))

    def test_paste_token_amazon_refuses(self):
        with self.assertRaisesRegex(UserError, "Amazon refused this refresh token"), self.env.cr.savepoint():
            self._paste("Atzr|not-a-token-amazon-knows")
        self.assertDraftUnchanged()

    def test_paste_token_needs_manager(self):
        with self.assertRaises(AccessError), self.env.cr.savepoint():
            self.env["amazon.account.token.wizard"].with_user(self.amazon_user).create({
                "account_id": self.draft.id, "refresh_token": SIM_REFRESH_TOKEN,
            })
        self.assertDraftUnchanged()

    def test_disconnect(self):
        self.amazon.action_disconnect()
        self.assertFalse(self.amazon.refresh_token)
        self.assertEqual(self.amazon.state, "draft")
        with self.assertRaisesRegex(UserError, "Authorize the Amazon connection"):
            self.amazon._spapi()

    # ---------------------------------------------------------------- where the user finds it

    def test_company_integrations_tab(self):
        self.assertIn(self.amazon, self.company.amazon_account_ids)
        arch = self.env["res.company"].get_views([(False, "form")])["views"]["form"]["arch"]
        page = etree.fromstring(arch).xpath("//page[@name='integrations']")
        self.assertTrue(page, "the company form has the Integrations page")
        self.assertTrue(page[0].xpath(".//field[@name='amazon_account_ids']"))
        self.assertTrue(page[0].xpath(".//button[@name='action_authorize']"))
        action = self.company.action_amazon_add_connection()
        self.assertEqual(action["res_model"], "amazon.account")
        self.assertEqual(action["context"]["default_company_id"], self.company.id)

    def test_connection_form_layout(self):
        arch = etree.fromstring(self.env["amazon.account"].get_views([(False, "form")])["views"]["form"]["arch"])
        notebook = arch.xpath("//notebook[@name='amazon_notebook']")
        self.assertTrue(notebook)
        self.assertEqual(notebook[0].xpath("./page")[0].get("name"), "settings")
        article = ["pricelist_id", "company_id", "warehouse_id", "fba_warehouse_id", "journal_id", "user_id",
                   "only_mapped_products", "update_stock_on_amazon"]
        settings = [f.get("name") for f in notebook[0].xpath("./page[@name='settings']//field")]
        # other features may add their own settings to the page: the article's come first, in its order
        # the Branch (company_id) is shown in multi-company databases only
        self.assertEqual(set(article) - set(settings), set() if "company_id" in settings else {"company_id"})
        shown = [f for f in article if f in settings]
        self.assertEqual([f for f in settings if f in article], shown, "the settings follow the article's order")
        self.assertEqual(settings[:len(shown)], shown)

    def test_new_connection_form(self):
        with Form(self.env["amazon.account"].with_context(default_company_id=self.company.id)) as form:
            self.assertEqual(form.marketplace_id, self.env.ref("bind_amazon_connector.marketplace_mx"))
            form.name = "Amazon nueva"
            form.pricelist_id = self.pricelist
            form.warehouse_id = self.warehouse
            form.journal_id = self.bank_journal
            form.only_mapped_products = True
        account = form.record
        self.assertEqual(account.state, "draft")
        self.assertTrue(account.is_configured)
        self.assertEqual(account.user_id, self.env.user)
        self.assertTrue(account.only_mapped_products)
