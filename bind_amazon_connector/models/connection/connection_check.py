"""The Test connection button: ask Amazon which marketplaces the seller participates in, and say so."""
from odoo import fields

from ...spapi import errors
from .access import AMAZON_USER, check_group


def participations_text(env, participations):
    """One line per marketplace Amazon reported: name, country, currency, id and whether the seller sells."""
    lines = []
    for part in participations:
        status = env._("participating") if part.is_participating else env._("not participating")
        lines.append(f"{part.name} ({part.country_code}, {part.currency}, {part.marketplace_id}): {status}")
    return "\n".join(lines)


def check_connection(account):
    """Call the Sellers API, keep what it reported on the connection, return the notification to show."""
    env = account.env
    check_group(env, AMAZON_USER)
    account.ensure_one()
    account.check_access("read")
    Job = env["amazon.sync.job"]
    api = account._spapi(interactive=True)
    try:
        participations = api.get_marketplace_participations()
    except errors.SpApiError as exc:
        message = env._("Connection test failed: %s", account._spapi_error_message(exc))
        account._set_error(message, state=None if isinstance(exc, errors.RetryLater) else "error")
        return Job._notification(message, "danger", title=env._("Amazon connection test failed"), sticky=True)
    account.sudo().write({
        "participation_info": participations_text(env, participations)
        or env._("Amazon reported no marketplace for this seller."),
        "last_check_date": fields.Datetime.now(),
        "state": "authorized",
        "last_error": False,
    })
    participating = [p.name for p in participations if p.is_participating]
    known = set(account._get_marketplaces().mapped("marketplace_id"))
    missing = known - {p.marketplace_id for p in participations if p.is_participating}
    message = env._("The seller participates in: %s.", ", ".join(participating) or "-")
    if missing:
        names = ", ".join(env["amazon.marketplace"].search([("marketplace_id", "in", list(missing))]).mapped("name"))
        message += " " + env._("Not participating in the connection's marketplace(s): %s.", names)
    return Job._notification(message, "warning" if missing else "success", title=env._("Amazon connection works"),
                             sticky=False)
