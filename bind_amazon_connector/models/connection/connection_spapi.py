"""How a connection reaches Amazon: the SP-API layer's settings from the connection, and the addresses a
system administrator may point it at instead of Amazon's (sandbox, simulator). Plain functions (no model).
"""
import dataclasses

from odoo.exceptions import UserError, ValidationError

from ...spapi import SpApi, SpApiConfig, errors
from ...spapi.config import check_url
from .access import internal_context, loopback_allowed

# System parameters holding a public app's credentials, used when a connection has none of its own.
PARAM_CLIENT_ID = "bind_amazon_connector.lwa_client_id"
PARAM_CLIENT_SECRET = "bind_amazon_connector.lwa_client_secret"  # noqa: S105 - a parameter name, not a secret
OVERRIDE_KINDS = {"endpoint_override": "api", "token_url_override": "lwa", "seller_central_override": "seller_central"}
# Calls made while a person waits in front of the screen (test connection, code exchange, pasted token):
# fail fast instead of pacing or retrying for minutes like the background synchronisations may.
INTERACTIVE_LIMITS = {"timeout": 20.0, "max_retries": 1, "max_wait": 10.0}


def spapi_config(account, interactive=False):
    """The SP-API layer's settings of ``account``. Secrets are read with sudo, never exposed.

    ``interactive``: a person is waiting (buttons, the authorization callback): short timeouts, no long
    pacing waits.
    """
    env = account.env
    rec = account.sudo()
    params = env["ir.config_parameter"].sudo()
    own_credentials = bool(rec.lwa_client_id and rec.lwa_client_secret)
    client_id = rec.lwa_client_id if own_credentials else params.get_param(PARAM_CLIENT_ID)
    client_secret = rec.lwa_client_secret if own_credentials else params.get_param(PARAM_CLIENT_SECRET)
    if not client_id or not client_secret:
        raise UserError(env._(
            "The Amazon app credentials (LWA client id and secret) are missing on %s: a manager fills them in "
            "the Advanced tab of the connection, or as system parameters for a public app.", account.name,
        ))
    if not own_credentials and (rec.endpoint_override or rec.token_url_override):
        # The shared app's secret goes to Amazon only, never to an address typed on one connection.
        raise UserError(env._(
            "The connection %s sends its calls to another address than Amazon's: it needs its own app "
            "credentials (LWA client id and secret); the system-wide ones are only sent to Amazon.", account.name,
        ))
    try:
        config = SpApiConfig(
            lwa_client_id=client_id,
            lwa_client_secret=client_secret,
            refresh_token=rec.refresh_token or None,
            region=account.region,
            marketplace_id=account.marketplace_id.marketplace_id,
            seller_id=account.seller_id or None,
            endpoint=rec.endpoint_override or None,
            token_url=rec.token_url_override or None,
            pacing_speed=float(internal_context(env, "amazon_pacing_speed", 1.0)),
            allow_loopback=loopback_allowed(),
        )
    except errors.SpApiError as exc:
        raise UserError(account._spapi_error_message(exc)) from exc
    if interactive:
        config = dataclasses.replace(config, **INTERACTIVE_LIMITS)
    return config


def spapi_client(account, interactive=False, deadline=None):
    """The SP-API client of an authorized ``account``; ``deadline``: ``time.monotonic()`` value the caller must
    be done by (a scheduled job's time budget): the SP-API layer waits for Amazon no longer than that and says
    when to try again instead."""
    if not account.sudo().refresh_token or account.state == "draft":
        raise UserError(account.env._(
            "Authorize the Amazon connection “%s” before synchronizing: click Authorize on the connection "
            "(or paste a refresh token).", account.name,
        ))
    return SpApi(account._spapi_config(interactive=interactive), deadline=deadline)


def check_overrides(accounts):
    """Only Amazon's own https hosts, or this machine when Odoo runs in development mode or tests."""
    env = accounts.env
    for account in accounts.sudo():
        for fname, kind in OVERRIDE_KINDS.items():
            url = account[fname]
            if not url:
                continue
            if kind == "seller_central" and not url.startswith(("http://", "https://")):
                url = "https://" + url
            try:
                check_url(url, kind, loopback_allowed())
            except errors.SpApiError as exc:
                raise ValidationError(env._(
                    "%(field)s of “%(connection)s” is refused: %(reason)s",
                    field=account._fields[fname]._description_string(env), connection=account.name,
                    reason=str(exc),
                )) from None


def set_has_secrets(accounts):
    """Whether each connection has Amazon's authorization, and app credentials (its own or the system's)."""
    params = accounts.env["ir.config_parameter"].sudo()
    param_credentials = bool(params.get_param(PARAM_CLIENT_ID) and params.get_param(PARAM_CLIENT_SECRET))
    for account in accounts:
        account.has_refresh_token = bool(account.refresh_token)
        account.has_app_credentials = param_credentials or bool(account.lwa_client_id and account.lwa_client_secret)
