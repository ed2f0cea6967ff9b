"""The Test connection button: ask Amazon which marketplaces the seller participates in, and say so."""
from odoo import fields
from odoo.exceptions import ValidationError

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


def settings_missing(account):
    """Names of the settings fields a connection still needs: the fulfillment warehouse too once the seller has
    FBA listings (FBA orders go there), not when the first FBA order fails."""
    account.ensure_one()
    missing = [fname for fname in ("pricelist_id", "warehouse_id", "journal_id", "user_id") if not account[fname]]
    account_id = account._origin.id  # also in the form being edited (a new id there)
    if not account.fba_warehouse_id and account_id and account.env["amazon.listing"].search_count(
            [("account_id", "=", account_id), ("fulfillment_channel", "=", "amazon")], limit=1):
        missing.append("fba_warehouse_id")
    return missing


def set_is_configured(accounts):
    """Compute ``is_configured`` and ``missing_settings`` (the settings' labels, in the user's language)."""
    for account in accounts:
        missing = account._settings_missing()
        account.is_configured = not missing
        account.missing_settings = ", ".join(
            account._fields[fname]._description_string(account.env) for fname in missing)


def check_settings_company(accounts):
    """Same rule as Odoo's company check (`check_company=True`), with a message naming the setting.

    Branches follow Odoo's own rules: a branch connection may use its parent company's bank and cash journals
    (branches share their parent's accounting), while its warehouses and price list must be the branch's own
    (or a price list shared by every company), as on a sales order of that branch.
    """
    env = accounts.env
    for account in accounts:
        company = account.company_id
        for fname in ("pricelist_id", "warehouse_id", "fba_warehouse_id", "journal_id", "sales_journal_id",
                      "clearing_journal_id", "cash_basis_journal_id", "user_id", "return_location_id"):
            value = account.sudo()[fname]
            if value and not value.filtered_domain(value._check_company_domain(company)):
                raise ValidationError(env._(
                    "The %(setting)s “%(value)s” belongs to another company than %(company)s, the "
                    "branch of the Amazon connection “%(connection)s”. Choose one of %(company)s.",
                    setting=account._fields[fname]._description_string(env),
                    value=value.display_name, company=company.display_name, connection=account.name,
                ))


def check_settings(accounts):
    """What a connection's settings must satisfy, each refusal naming the setting to change."""
    # imported here: the marketplace lines' module imports the connection's
    from .amazon_account_marketplace import check_pricelist_currency
    from .connection_journals import check_cash_basis_journal, check_sales_journal
    from .connection_spapi import check_overrides

    env = accounts.env
    check_settings_company(accounts)
    region_names = dict(accounts._fields["region"]._description_selection(env))
    for account in accounts:
        if account.warehouse_id and account.warehouse_id == account.fba_warehouse_id:
            raise ValidationError(env._(
                "The fulfillment warehouse must differ from the merchant warehouse: Amazon manages the "
                "stock of its fulfillment centres, you manage the stock of your own warehouse."
            ))
        if account.journal_id and account.journal_id.type not in ("bank", "cash"):
            raise ValidationError(env._(
                "The account “%(journal)s” must be a bank or cash journal: it receives the payments of "
                "Amazon sales.", journal=account.journal_id.display_name,
            ))
        if account.clearing_journal_id and account.clearing_journal_id == account.journal_id:
            raise ValidationError(env._(
                "The settlement journal of %s must not be its bank account: the deposits go to the bank, "
                "everything else stays inside Amazon's balance.", account.name))
        if not 0 <= account.buyer_data_retention_days <= 30:
            raise ValidationError(env._(
                "Amazon allows keeping a buyer's contact data up to 30 days after delivery: choose from 0 to 30."))
        if account.return_wait_days < 1:
            raise ValidationError(env._(
                "Days to Wait for Returned Goods: choose at least one day after the refund."))
        wrong = (account.marketplace_id | account.marketplace_ids).filtered_domain([("region", "!=", account.region)])
        if wrong:
            raise ValidationError(env._(
                "%(marketplaces)s belong to another Amazon region than %(region)s: choose the region of "
                "the marketplace (one authorization covers one region).",
                marketplaces=", ".join(wrong.mapped("name")), region=region_names[account.region],
            ))
        check_pricelist_currency(account.pricelist_id, account.marketplace_id)
    check_sales_journal(accounts)
    check_cash_basis_journal(accounts)
    check_overrides(accounts)

