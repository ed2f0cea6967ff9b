"""How a connection gets (and loses) Amazon's authorization: the website flow and its single-use states.

The Authorize button creates one `amazon.oauth.state` per click: a random token (``secrets``) sent to Seller
Central and back to the callback route, tied to the connection and the user who clicked, valid for ten
minutes. Only its SHA-256 hash is stored, so reading the table (or a backup of it) gives nothing to replay.
The model's ``@api.model`` methods carry the flow for a connection: consent URL, callback, keeping the
seller's refresh token (also a pasted one, see the token wizard) and forgetting it. Every entry point checks
that the user is an Amazon administrator allowed to change the connection before anything runs as sudo.
"""
import dataclasses
import hashlib
import logging
import secrets
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError

from ...spapi import SpApi, errors
from ...spapi.auth import build_consent_url, exchange_authorization_code
from .access import loopback_allowed
from .amazon_account import PARAM_APPLICATION_ID

_logger = logging.getLogger(__name__)

OAUTH_CALLBACK_PATH = "/amazon/oauth/callback"
STATE_LIFETIME = timedelta(minutes=10)
STATE_MAX_LENGTH = 256


class AmazonAuthorizationRefused(UserError):
    """The authorization callback was refused; ``account`` is the connection when it is known."""

    def __init__(self, message, account=None):
        super().__init__(message)
        self.account = account


class AmazonOAuthState(models.Model):
    _name = "amazon.oauth.state"
    _description = "Amazon Authorization Request"
    _order = "id desc"

    account_id = fields.Many2one("amazon.account", string="Connection", required=True, ondelete="cascade",
                                 index=True)
    user_id = fields.Many2one("res.users", required=True, ondelete="cascade")
    token_hash = fields.Char(required=True, index=True)
    redirect_uri = fields.Char(required=True, help="Sent to Amazon with the consent and again with the code.")
    expires_at = fields.Datetime(required=True)
    used_at = fields.Datetime()

    _token_hash_unique = models.Constraint("UNIQUE(token_hash)", "An authorization state is used only once.")

    @staticmethod
    def _hash(token):
        return hashlib.sha256(token.encode()).hexdigest()

    @api.model
    def _issue(self, account, redirect_uri):
        """A fresh state for ``account`` and the current user; returns the token (shown to Amazon only)."""
        token = secrets.token_urlsafe(32)
        self.sudo().create({
            "account_id": account.id,
            "user_id": self.env.uid,
            "token_hash": self._hash(token),
            "redirect_uri": redirect_uri,
            "expires_at": fields.Datetime.now() + STATE_LIFETIME,
        })
        return token

    @api.model
    def _consume(self, token):
        """The live request issued to the current user for ``token``, marked used; refuse anything else."""
        refused = self.env._(
            "This Amazon authorization link is not valid. Nothing was saved: open the Amazon connection and "
            "click Authorize again."
        )
        if not token or not isinstance(token, str) or len(token) > STATE_MAX_LENGTH:
            raise AmazonAuthorizationRefused(refused)
        # Spent in its own transaction, committed before Amazon is called: whatever fails afterwards (even an
        # unexpected error that rolls the request back), the same state never works twice. The row lock makes
        # two callbacks racing with the same state wait for each other.
        with self.env.registry.cursor() as cr:
            cr.execute(
                "SELECT id, user_id, used_at, expires_at FROM amazon_oauth_state WHERE token_hash = %s FOR UPDATE",
                [self._hash(token)],
            )
            row = cr.fetchone()
            if not row:
                raise AmazonAuthorizationRefused(refused)
            request_id, user_id, used_at, expires_at = row
            if user_id != self.env.uid:
                raise AmazonAuthorizationRefused(self.env._(
                    "This Amazon authorization was started by another user. Nothing was saved: log in as that "
                    "user, or click Authorize yourself."
                ))
            if used_at:
                raise AmazonAuthorizationRefused(self.env._(
                    "This Amazon authorization link was already used. Nothing was saved: click Authorize again."
                ))
            if expires_at < fields.Datetime.now():
                raise AmazonAuthorizationRefused(self.env._(
                    "This Amazon authorization link expired (it is valid for 10 minutes). Nothing was saved: "
                    "click Authorize again."
                ))
            cr.execute("UPDATE amazon_oauth_state SET used_at = %s WHERE id = %s",
                       [fields.Datetime.now(), request_id])
        request = self.sudo().browse(request_id)
        request.invalidate_recordset(["used_at"])
        return request

    @api.autovacuum
    def _gc_old_states(self):
        self.sudo().search([("expires_at", "<", fields.Datetime.now() - timedelta(days=1))]).unlink()

    # ------------------------------------------------------------------ the website flow

    @api.model
    def _application_id(self, account):
        """The SP-API app the seller authorizes: the connection's own, else the public app's parameter."""
        return account.sudo().application_id or self.env["ir.config_parameter"].sudo().get_param(PARAM_APPLICATION_ID)

    @api.model
    def _authorize_action(self, account):
        """Send the seller to Seller Central to accept the app; Amazon comes back to the callback route."""
        account._check_manager()
        account.ensure_one()
        application_id = self._application_id(account)
        if not application_id:
            raise UserError(self.env._(
                "The SP-API Application ID is missing: fill it in the Advanced tab (or the system parameter "
                "bind_amazon_connector.application_id), or paste a refresh token of a self-authorized app."
            ))
        account._spapi_config()  # app credentials present and region/marketplace consistent, before leaving
        redirect_uri = account.get_base_url().rstrip("/") + OAUTH_CALLBACK_PATH
        token = self._issue(account, redirect_uri)
        try:
            url = build_consent_url(
                account.sudo().seller_central_override or account.marketplace_id.seller_central_host,
                application_id, token, redirect_uri=redirect_uri, beta=account.sudo().app_is_draft,
                allow_loopback=loopback_allowed(),
            )
        except errors.SpApiError as exc:
            raise UserError(account._spapi_error_message(exc)) from exc
        return {"type": "ir.actions.act_url", "url": url, "target": "self"}

    @api.model
    def _complete(self, token, code, selling_partner_id=None, amazon_error=None):
        """Finish the website flow for the current user (the callback route); return the authorized connection.

        Raises `AmazonAuthorizationRefused` (nothing stored) when the state is not a live one issued to this
        user, and when Amazon or the code exchange fails (then only ``last_error`` is recorded).
        """
        issued = self._consume(token)
        account = issued.account_id.with_env(self.env)
        try:
            if account.sudo().company_id not in self.env.user.company_ids:
                raise AccessError(self.env._("You no longer have access to the company of this Amazon connection."))
            # the callback may arrive with another company selected in the browser: act in the connection's
            account = account.with_company(account.sudo().company_id)
            account._check_manager()
        except AccessError as exc:
            raise AmazonAuthorizationRefused(str(exc)) from exc

        def refused(message):
            account._set_error(message, state=None if account.has_refresh_token else "error")
            return AmazonAuthorizationRefused(message, account=account)

        if amazon_error:
            raise refused(self.env._("Amazon did not authorize the app: %s", amazon_error))
        if not code:
            message = self.env._("Amazon did not send an authorization code back: authorize again.")
            raise AmazonAuthorizationRefused(message, account=account)
        seller_id = None
        try:
            config = account._spapi_config(interactive=True)
            grant = exchange_authorization_code(config, code, issued.redirect_uri)
            if selling_partner_id:
                seller_id = self._verified_seller_id(account, config, grant.refresh_token, selling_partner_id)
                self._check_seller_free(account, seller_id)
        except (UserError, errors.SpApiError) as exc:
            reason = (account._spapi_error_message(exc, authorization_code=True)
                      if isinstance(exc, errors.SpApiError) else exc.args[0])
            raise refused(self.env._("Amazon authorization failed: %s", reason)) from exc
        except Exception as exc:
            # Refused like the others (the state stays spent), with the trace in the server log only.
            _logger.exception("Amazon authorization of connection %s failed unexpectedly", account.id)
            raise refused(self.env._("Amazon authorization failed on an unexpected error (%s): nothing was saved. "
                                     "Click Authorize again.", type(exc).__name__)) from exc
        self._store_authorization(account, grant.refresh_token, seller_id=seller_id, how=self.env._(
            "Connection authorized on Amazon Seller Central by %(user)s (seller %(seller)s).",
            user=self.env.user.name, seller=seller_id or account.seller_id or "?",
        ))
        return account

    @api.model
    def _verified_seller_id(self, account, config, refresh_token, seller_id):
        """``seller_id`` once Amazon confirmed, with the new authorization, that it is the authorizing seller.

        The redirect's ``selling_partner_id`` travels in the browser's address bar: it is only a claim.
        """
        config = dataclasses.replace(config, refresh_token=refresh_token, seller_id=seller_id)
        with SpApi(config) as api:
            if api.seller_id_matches(seller_id):
                return seller_id
        raise UserError(self.env._(
            "Amazon did not confirm that the seller %s gave this authorization: nothing was saved. Click "
            "Authorize again from the Seller Central account of this connection.", seller_id[:64],
        ))

    # ------------------------------------------------------------------ keeping and forgetting the authorization

    @api.model
    def _check_seller_free(self, account, seller_id):
        """A seller is connected once per company and region: say which connection already has it."""
        account.ensure_one()
        if not seller_id:
            return
        other = account.sudo().with_context(active_test=False).search([
            ("id", "!=", account.id), ("company_id", "=", account.company_id.id),
            ("region", "=", account.region), ("seller_id", "=", seller_id),
        ], limit=1)
        if other:
            raise UserError(self.env._(
                "The Amazon seller %(seller)s is already connected as “%(other)s” in %(company)s: authorize "
                "that connection instead of creating a second one.",
                seller=seller_id, other=other.name, company=account.company_id.display_name,
            ))

    @api.model
    def _store_authorization(self, account, refresh_token, seller_id=None, how=None):
        """Keep a new refresh token (the caller checked the user): the connection is authorized. Nothing
        secret goes to the chatter."""
        account.ensure_one()
        vals = {
            "refresh_token": refresh_token,
            "state": "authorized",
            "last_error": False,
            "authorized_date": fields.Datetime.now(),
            "authorized_uid": self.env.user.id,
        }
        if seller_id:
            vals["seller_id"] = seller_id
        account.sudo().write(vals)
        account.sudo().message_post(body=how or self.env._("Connection authorized with Amazon."))
        _logger.info("Amazon connection %s (id %s) authorized by user %s", account.name, account.id, self.env.uid)

    @api.model
    def _disconnect(self, accounts):
        """Forget the seller's authorization (Amazon-side revocation is done in Seller Central)."""
        accounts._check_manager()
        accounts.sudo().write({"refresh_token": False, "state": "draft", "participation_info": False})
        for account in accounts:
            account.message_post(body=self.env._("Authorization removed by %s.", self.env.user.name))
        return True
