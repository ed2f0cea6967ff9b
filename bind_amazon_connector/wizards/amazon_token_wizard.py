"""Self-authorization of a private app: a manager pastes the refresh token Seller Central showed them.

The token is checked and stored on the connection while the wizard is saved (the Confirm button saves it
first), and never kept on the wizard itself: a refused token leaves no trace in the database.
"""
import dataclasses
import re

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..models.connection.access import AMAZON_MANAGER, check_group
from ..spapi import SpApi, errors

# Amazon's LWA refresh tokens: "Atzr|" followed by printable characters, no blanks.
REFRESH_TOKEN_RE = re.compile(r"^Atzr\|\S+$")


class AmazonConnectionTokenWizard(models.TransientModel):
    _name = "amazon.account.token.wizard"
    _description = "Paste an Amazon Refresh Token"

    account_id = fields.Many2one("amazon.account", string="Connection", required=True, ondelete="cascade")
    refresh_token = fields.Char(
        help="Seller Central, Partner Network, Develop Apps, Authorize app: the refresh token starts with Atzr|.",
    )
    seller_id = fields.Char(
        string="Seller ID", help="Merchant token of the seller (Seller Central, Settings, Account Info).",
    )

    @api.model
    def _open_for(self, account):
        """The wizard on ``account`` (its Paste token button)."""
        account._check_manager()
        account.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Paste a refresh token"),
            "res_model": self._name,
            "view_mode": "form",
            "target": "new",
            "context": {"default_account_id": account.id, "default_seller_id": account.seller_id},
        }

    @api.model_create_multi
    def create(self, vals_list):
        tokens = [vals.pop("refresh_token", None) for vals in vals_list]
        wizards = super().create(vals_list)
        for wizard, token in zip(wizards, tokens, strict=True):
            wizard._apply_token(token)
        return wizards

    def write(self, vals):
        if "refresh_token" in vals:
            token = vals.pop("refresh_token")
            for wizard in self:
                wizard._apply_token(token)
        return super().write(vals)

    def _apply_token(self, token):
        """Check ``token`` (format, then with Amazon) and store it on the connection; refuse otherwise."""
        self.ensure_one()
        account = self.account_id
        account._check_manager()
        token = (token or "").strip()
        if not token:
            raise UserError(self.env._(
                "The refresh token is empty. Paste the token Seller Central shows when you authorize your app "
                "(it starts with Atzr|). Nothing was changed."
            ))
        if not REFRESH_TOKEN_RE.match(token):
            raise UserError(self.env._(
                "This is not an Amazon refresh token: it must start with Atzr| and contain no spaces. Nothing "
                "was changed."
            ))
        seller_id = (self.seller_id or "").strip() or False
        OAuth = self.env["amazon.oauth.state"]
        OAuth._check_seller_free(account, seller_id)
        # Check the token with Amazon before keeping it: a wrong or revoked token is refused here, not at
        # the first synchronisation.
        config = dataclasses.replace(account._spapi_config(interactive=True), refresh_token=token)
        try:
            SpApi(config).get_marketplace_participations()
        except errors.AuthorizationError as exc:
            raise UserError(self.env._(
                "Amazon refused this refresh token (wrong, revoked, or of another app): check it and paste it "
                "again. Nothing was changed.\nDetail: %s", exc,
            )) from exc
        except errors.RetryLater:
            pass  # Amazon is unreachable right now: keep the token; "Test connection" tells more later.
        except errors.SpApiError as exc:
            raise UserError(
                self.env._("The refresh token could not be checked: %s\nNothing was changed.",
                           account._spapi_error_message(exc))
            ) from exc
        OAuth._store_authorization(
            account, token, seller_id=seller_id,
            how=self.env._("Refresh token of a self-authorized app pasted by %s.", self.env.user.name),
        )

    def action_confirm(self):
        """The token was applied when the wizard was saved (just before this button runs)."""
        check_group(self.env, AMAZON_MANAGER)
        return {"type": "ir.actions.act_window_close"}
