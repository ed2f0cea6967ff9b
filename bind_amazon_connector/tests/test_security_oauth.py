"""The authorization callback under attack: errors during the exchange, doubled parameters, long texts, POST,
and a seller id that Amazon does not stand behind."""
from unittest.mock import patch
from urllib.parse import parse_qs, urlencode, urlsplit

from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger

from .common import AmazonTestCommon

APP_ID = "amzn1.sp.solution.sim-app"
CALLBACK = "/amazon/oauth/callback"
OAUTH_MODULE = "odoo.addons.bind_amazon_connector.models.connection.amazon_oauth_state"


@tagged("post_install", "-at_install")
class TestOAuthSecurity(AmazonTestCommon, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.login = cls.env.user.login
        cls.amazon.seller_id = "A3SIMSELLER0002"  # the simulator's seller (0001) is not connected yet
        cls.account = cls.env["amazon.account"].create(cls._amazon_account_vals(
            name="Amazon por autorizar", seller_id=False, refresh_token=False, state="draft",
            application_id=APP_ID,
        ))

    def setUp(self):
        super().setUp()
        self.authenticate(self.login, self.login)

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
