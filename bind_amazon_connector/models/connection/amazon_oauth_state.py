"""Single-use `state` values of Amazon's website authorization flow.

The Authorize button creates one per click: a random token (``secrets``) sent to Seller Central and back to
the callback route, tied to the connection and the user who clicked, valid for ten minutes. Only its SHA-256
hash is stored, so reading the table (or a backup of it) gives nothing to replay.
"""
import hashlib
import secrets
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError

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

    account_id = fields.Many2one("amazon.account", required=True, ondelete="cascade", index=True)
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
