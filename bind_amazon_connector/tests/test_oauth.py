"""Amazon's website authorization flow, end to end against the simulator through the real HTTP route; and the
callback under attack: errors during the exchange, doubled parameters, long texts, POST, and a seller id that
Amazon does not stand behind."""
import logging
from datetime import timedelta
from unittest.mock import patch
from urllib.parse import parse_qs, urlencode, urlsplit

from odoo import fields
from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger

from .common import AMAZON_ADMIN, SIM_REFRESH_TOKEN, AmazonTestCommon

APP_ID = "amzn1.sp.solution.sim-app"
CALLBACK = "/amazon/oauth/callback"
OAUTH_MODULE = "odoo.addons.bind_amazon_connector.models.connection.amazon_oauth_state"


class OAuthCase(AmazonTestCommon, HttpCase):
    """A connection waiting for Amazon's authorization (``cls.account``), its administrator logged in."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # accountman, the test user, is an Amazon administrator of the Mexican company (see common)
        cls.login = cls.env.user.login
        # the simulator's consent page authorizes its seller A3SIMSELLER0001: not yet connected in these tests
        cls.amazon.seller_id = "A3SIMSELLER0002"
        cls.account = cls.env["amazon.account"].create(cls._amazon_account_vals(
            name="Amazon por autorizar", seller_id=False, refresh_token=False, state="draft",
            application_id=APP_ID,
        ))

    def setUp(self):
        super().setUp()
        self.authenticate(self.login, self.login)


@tagged("post_install", "-at_install")
class TestOAuthFlow(OAuthCase):
    # ---------------------------------------------------------------- helpers

    def _authorize(self, account=None):
        """Click Authorize; return the consent URL's query parameters."""
        action = (account or self.account).action_authorize()
        self.assertEqual(action["type"], "ir.actions.act_url")
        url = urlsplit(action["url"])
        params = {k: v[0] for k, v in parse_qs(url.query).items()}
        return url, params

    def _callback(self, **params):
        response = self.url_open(f"{CALLBACK}?{urlencode(params)}", allow_redirects=False)
        self.env.invalidate_all()
        return response

    def assertNothingStored(self, account=None, last_error=False):
        account = account or self.account
        account.invalidate_recordset()
        self.assertFalse(account.refresh_token)
        self.assertFalse(account.seller_id)
        self.assertEqual(account.state, "error" if last_error else "draft")
        if last_error:
            self.assertTrue(account.last_error)
        else:
            self.assertFalse(account.last_error)

    # ---------------------------------------------------------------- round trip

    def test_consent_url(self):
        url, params = self._authorize()
        self.assertEqual(url.scheme, "https")
        self.assertEqual(url.netloc, "sellercentral.amazon.com.mx")
        self.assertEqual(url.path, "/apps/authorize/consent")
        self.assertEqual(params["application_id"], APP_ID)
        self.assertEqual(params["redirect_uri"], self.account.get_base_url() + CALLBACK)
        self.assertNotIn("version", params)
        self.assertGreaterEqual(len(params["state"]), 40, "the state is a long random token")
        # stored hashed, tied to the connection and the user, expiring within ten minutes
        request = self.env["amazon.oauth.state"].sudo().search([("account_id", "=", self.account.id)])
        self.assertEqual(len(request), 1)
        self.assertNotEqual(request.token_hash, params["state"])
        self.assertNotIn(params["state"], request.token_hash)
        self.assertEqual(request.user_id, self.env.user)
        self.assertLessEqual(request.expires_at, fields.Datetime.now() + timedelta(minutes=10, seconds=1))
        # a second click gives another state
        _url, again = self._authorize()
        self.assertNotEqual(again["state"], params["state"])

    def test_consent_url_draft_app_and_public_app_parameter(self):
        self.account.write({"application_id": False, "app_is_draft": True})
        self.env["ir.config_parameter"].set_param("bind_amazon_connector.application_id", "amzn1.sp.solution.public")
        _url, params = self._authorize()
        self.assertEqual(params["application_id"], "amzn1.sp.solution.public")
        self.assertEqual(params["version"], "beta")

    def test_full_round_trip(self):
        _url, params = self._authorize()
        code = self.sim.issue_auth_code()
        response = self._callback(state=params["state"], spapi_oauth_code=code, selling_partner_id="A3SIMSELLER0001")
        self.assertEqual(response.status_code, 303)
        self.assertTrue(response.headers["Location"].endswith(f"/odoo/amazon-connections/{self.account.id}"))
        self.assertEqual(self.account.state, "authorized")
        self.assertEqual(self.account.seller_id, "A3SIMSELLER0001")
        self.assertTrue(self.account.refresh_token.startswith("Atzr|"))
        self.assertFalse(self.account.last_error)
        self.assertEqual(self.account.authorized_uid, self.env.user)
        self.assertTrue(self.account.message_ids.filtered(lambda m: "authorized" in str(m.body)))
        self.assertNotIn(self.account.refresh_token, " ".join(str(m.body) for m in self.account.message_ids))
        # the stored token works: the connection can now reach Amazon
        participations = self.account.with_context(amazon_pacing_speed=self.sim_speed)._spapi(
            interactive=True).get_marketplace_participations()
        self.assertIn("A1AM78C64UM0Y8", [p.marketplace_id for p in participations])

    def test_consent_on_the_simulator(self):
        """The seller side too: the simulator's consent page redirects back with a code."""
        if not hasattr(self.sim, "consent_url") and not getattr(self.sim, "serves_consent", False):
            self.skipTest("the simulator has no consent page")
        self.account.seller_central_override = self.sim.url
        url, params = self._authorize()
        self.assertTrue(url.geturl().startswith(self.sim.url))
        back = self.url_open(url.geturl(), allow_redirects=False)
        self.assertIn(back.status_code, (301, 302, 303))
        location = urlsplit(back.headers["Location"])
        self.assertEqual(location.path, CALLBACK)
        response = self.url_open(f"{location.path}?{location.query}", allow_redirects=False)
        self.env.invalidate_all()
        self.assertEqual(response.status_code, 303)
        self.assertEqual(self.account.state, "authorized")
        self.assertTrue(self.account.refresh_token)

    # ---------------------------------------------------------------- refused states

    def test_forged_state_refused(self):
        self._authorize()
        response = self._callback(state="forged-state-value", spapi_oauth_code=self.sim.issue_auth_code(),
                                  selling_partner_id="A3FORGED")
        self.assertEqual(response.status_code, 400)
        self.assertIn("not valid", response.text)
        self.assertNothingStored()

    def test_missing_state_refused(self):
        response = self._callback(spapi_oauth_code=self.sim.issue_auth_code(), selling_partner_id="A3FORGED")
        self.assertEqual(response.status_code, 400)
        self.assertNothingStored()

    def test_replayed_state_refused(self):
        _url, params = self._authorize()
        first = self._callback(state=params["state"], spapi_oauth_code=self.sim.issue_auth_code(),
                               selling_partner_id="A3SIMSELLER0001")
        self.assertEqual(first.status_code, 303)
        token = self.account.refresh_token
        replay = self._callback(state=params["state"], spapi_oauth_code=self.sim.issue_auth_code(),
                                selling_partner_id="A3ATTACKER")
        self.assertEqual(replay.status_code, 400)
        self.assertIn("already used", replay.text)
        self.assertEqual(self.account.refresh_token, token)
        self.assertEqual(self.account.seller_id, "A3SIMSELLER0001")
        self.assertFalse(self.account.last_error)

    def test_expired_state_refused(self):
        _url, params = self._authorize()
        request = self.env["amazon.oauth.state"].sudo().search([("account_id", "=", self.account.id)])
        request.expires_at = fields.Datetime.now() - timedelta(seconds=1)
        response = self._callback(state=params["state"], spapi_oauth_code=self.sim.issue_auth_code(),
                                  selling_partner_id="A3SIMSELLER0001")
        self.assertEqual(response.status_code, 400)
        self.assertIn("expired", response.text)
        self.assertNothingStored()

    def test_state_of_another_user_refused(self):
        _url, params = self._authorize()
        other = self._user("other_admin", AMAZON_ADMIN, "base.group_user",
                           name="Otro administrador", password="other_admin_pw")
        self.authenticate("other_admin", "other_admin_pw")
        response = self._callback(state=params["state"], spapi_oauth_code=self.sim.issue_auth_code(),
                                  selling_partner_id="A3SIMSELLER0001")
        self.assertEqual(response.status_code, 400)
        self.assertIn("another user", response.text)
        self.assertNothingStored()
        self.assertTrue(other)
        # the user who clicked Authorize can still finish
        self.authenticate(self.login, self.login)
        response = self._callback(state=params["state"], spapi_oauth_code=self.sim.issue_auth_code(),
                                  selling_partner_id="A3SIMSELLER0001")
        self.assertEqual(response.status_code, 303)
        self.assertEqual(self.account.state, "authorized")

    def test_callback_needs_a_logged_in_user(self):
        _url, params = self._authorize()
        self.logout()
        response = self._callback(state=params["state"], spapi_oauth_code=self.sim.issue_auth_code())
        self.assertIn(response.status_code, (302, 303))
        self.assertIn("/web/login", response.headers["Location"])
        self.assertNothingStored()

    # ---------------------------------------------------------------- failed exchanges

    def test_invalid_code_shown_as_error_nothing_stored(self):
        _url, params = self._authorize()
        response = self._callback(state=params["state"], spapi_oauth_code="not-a-code",
                                  selling_partner_id="A3SIMSELLER0001")
        self.assertEqual(response.status_code, 400)
        self.assertIn("Amazon authorization failed", response.text)
        self.assertNothingStored(last_error=True)
        self.assertIn("Amazon authorization failed", self.account.last_error)

    def test_amazon_down_during_exchange(self):
        _url, params = self._authorize()
        code = self.sim.issue_auth_code()
        self.addCleanup(self.sim.clear_faults)
        self.sim.inject_fault("token", "5xx")
        response = self._callback(state=params["state"], spapi_oauth_code=code, selling_partner_id="A3SIMSELLER0001")
        self.assertEqual(response.status_code, 400)
        self.assertNothingStored(last_error=True)
        # the state was spent: the same link cannot be replayed once Amazon is back
        again = self._callback(state=params["state"], spapi_oauth_code=code, selling_partner_id="A3SIMSELLER0001")
        self.assertEqual(again.status_code, 400)
        self.assertIn("already used", again.text)

    def test_seller_refused_on_amazon(self):
        _url, params = self._authorize()
        response = self._callback(state=params["state"], error="access_denied")
        self.assertEqual(response.status_code, 400)
        self.assertIn("access_denied", response.text)
        self.assertNothingStored(last_error=True)

    def test_seller_already_connected(self):
        self.amazon.seller_id = self.sim.seller_id  # the seller the simulator authorizes
        _url, params = self._authorize()
        response = self._callback(state=params["state"], spapi_oauth_code=self.sim.issue_auth_code(),
                                  selling_partner_id=self.amazon.seller_id)
        self.assertEqual(response.status_code, 400)
        self.assertIn("already connected", response.text)
        self.assertFalse(self.account.refresh_token)
        self.assertFalse(self.account.seller_id)
        self.assertEqual(self.amazon.refresh_token, SIM_REFRESH_TOKEN)

    def test_access_log_hides_code_and_state(self):
        """Odoo logs every request line: the one-time code and the state must not reach the log."""
        record = logging.LogRecord(
            "werkzeug", logging.INFO, __file__, 1, '%s - - [%s] "%s" %s %s',
            ("127.0.0.1", "now", f"GET {CALLBACK}?state=abc123&selling_partner_id=A3X&spapi_oauth_code=RHxyz "
             "HTTP/1.1", "303", "-"), None,
        )
        for log_filter in logging.getLogger("werkzeug").filters:
            log_filter.filter(record)
        line = record.getMessage()
        self.assertNotIn("RHxyz", line)
        self.assertNotIn("abc123", line)
        self.assertIn("spapi_oauth_code=***", line)
        self.assertIn("selling_partner_id=A3X", line)

    def test_refusal_page_in_spanish(self):
        """The article's readers work in Spanish: a refused callback speaks their language."""
        self.env["res.lang"]._activate_lang("es_MX")
        self.env["ir.module.module"]._load_module_terms(["bind_amazon_connector"], ["es_MX"], overwrite=True)
        self.env.user.lang = "es_MX"
        self.authenticate(self.login, self.login)  # the session takes the user's language at login
        self._authorize()
        response = self._callback(state="forged-state-value", spapi_oauth_code="x")
        self.assertEqual(response.status_code, 400)
        self.assertIn("La autorización de Amazon no se completó", response.text)
        self.assertIn("no es válido", response.text)
        # and an Amazon failure is explained in Spanish, Amazon's own (English) detail kept after it
        _url, params = self._authorize()
        response = self._callback(state=params["state"], spapi_oauth_code="not-a-code")
        self.assertIn("La autorización de Amazon falló", response.text)
        self.assertIn("Amazon no aceptó el código de autorización", response.text)
        self.assertIn("invalid_grant", self.account.last_error)


@tagged("post_install", "-at_install")
class TestOAuthSecurity(OAuthCase):
    """The callback under attack."""

    def _state(self):
        action = self.account.action_authorize()
        return parse_qs(urlsplit(action["url"]).query)["state"][0]

    def _callback(self, query, method="GET"):
        if method == "GET":
            response = self.url_open(f"{CALLBACK}?{query}", allow_redirects=False)
        else:
            response = self.url_open(CALLBACK, data=query, allow_redirects=False)
        self.env.invalidate_all()
        return response

    def _query(self, **params):
        return urlencode(params)

    def assertNothingStored(self):
        self.account.invalidate_recordset()
        self.assertFalse(self.account.refresh_token)
        self.assertFalse(self.account.seller_id)
        self.assertNotEqual(self.account.state, "authorized")

    def test_unexpected_error_during_exchange_spends_the_state(self):
        state = self._state()
        calls = []
        real = __import__(OAUTH_MODULE, fromlist=["exchange_authorization_code"]).exchange_authorization_code

        def exchange_once_broken(*args, **kwargs):
            calls.append(1)
            if len(calls) == 1:
                raise RuntimeError("connection pool exploded")
            return real(*args, **kwargs)

        with patch(f"{OAUTH_MODULE}.exchange_authorization_code", exchange_once_broken), \
                mute_logger(OAUTH_MODULE, "odoo.http"):
            first = self._callback(self._query(state=state, spapi_oauth_code=self.sim.issue_auth_code(),
                                               selling_partner_id=self.sim.seller_id))
            self.assertEqual(first.status_code, 400)
            self.assertIn("unexpected error", first.text)
            self.assertNotIn("connection pool exploded", first.text, "no internal detail shown")
            self.assertNothingStored()
            replay = self._callback(self._query(state=state, spapi_oauth_code=self.sim.issue_auth_code(),
                                                selling_partner_id=self.sim.seller_id))
        self.assertEqual(replay.status_code, 400)
        self.assertIn("already used", replay.text)
        self.assertNothingStored()
        self.assertEqual(len(calls), 1)

    def test_state_given_twice_is_refused(self):
        state = self._state()
        other = self._state()
        code = self.sim.issue_auth_code()
        response = self._callback(f"state={state}&state={other}&spapi_oauth_code={code}"
                                  f"&selling_partner_id={self.sim.seller_id}")
        self.assertEqual(response.status_code, 400)
        self.assertNothingStored()
        response = self._callback(f"state={state}&spapi_oauth_code={code}&spapi_oauth_code=other"
                                  f"&selling_partner_id={self.sim.seller_id}")
        self.assertEqual(response.status_code, 400)
        self.assertNothingStored()

    def test_very_long_error_description_is_cut(self):
        state = self._state()
        text = "access_denied " + "A" * 6000
        response = self._callback(self._query(state=state, error="access_denied", error_description=text))
        self.assertEqual(response.status_code, 400)
        self.account.invalidate_recordset()
        self.assertLess(len(self.account.last_error), 1000)
        self.assertNotIn("A" * 400, response.text)
        self.assertNothingStored()

    def test_post_on_the_callback_is_refused(self):
        state = self._state()
        response = self._callback({"state": state, "spapi_oauth_code": self.sim.issue_auth_code(),
                                   "selling_partner_id": self.sim.seller_id}, method="POST")
        self.assertIn(response.status_code, (400, 403, 405))
        self.assertNothingStored()

    def test_seller_id_amazon_does_not_confirm_is_refused(self):
        state = self._state()
        response = self._callback(self._query(state=state, spapi_oauth_code=self.sim.issue_auth_code(),
                                              selling_partner_id="A3ATTACKERSELLER"))
        self.assertEqual(response.status_code, 400)
        self.assertIn("did not confirm", response.text)
        self.assertNothingStored()

    def test_confirmed_seller_id_is_stored(self):
        state = self._state()
        response = self._callback(self._query(state=state, spapi_oauth_code=self.sim.issue_auth_code(),
                                              selling_partner_id=self.sim.seller_id))
        self.assertEqual(response.status_code, 303)
        self.assertEqual(self.account.seller_id, self.sim.seller_id)
        self.assertEqual(self.account.state, "authorized")
