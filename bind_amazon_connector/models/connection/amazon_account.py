import dataclasses
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from ...spapi import SpApi, SpApiConfig, errors
from ...spapi.config import check_url
from . import connection_check, connection_setup
from .access import AMAZON_USER, SYSTEM, check_group, internal_context, loopback_allowed
from .amazon_account_marketplace import check_pricelist_currency
from .spapi_messages import spapi_error_message

# System parameters holding a public app's credentials, used when a connection has none of its own.
PARAM_CLIENT_ID = "bind_amazon_connector.lwa_client_id"
PARAM_CLIENT_SECRET = "bind_amazon_connector.lwa_client_secret"  # noqa: S105 - a parameter name, not a secret
PARAM_APPLICATION_ID = "bind_amazon_connector.application_id"

SECRET_GROUPS = "bind_amazon_connector.group_amazon_manager"  # noqa: S105 - a group, not a secret
# Where the server and the seller's browser are sent is a developer's setting (sandbox, simulator).
OVERRIDE_GROUPS = SYSTEM
OVERRIDE_KINDS = {"endpoint_override": "api", "token_url_override": "lwa", "seller_central_override": "seller_central"}

# Calls made while a person waits in front of the screen (test connection, code exchange, pasted token):
# fail fast instead of pacing or retrying for minutes like the background synchronisations may.
INTERACTIVE_LIMITS = {"timeout": 20.0, "max_retries": 1, "max_wait": 10.0}
#: A new connection brings this much history: a seller sees last month's sales and payouts after the first sync.
HISTORY_DAYS = 30


def default_history_start(_records=None):
    """Default of the "from" dates of a new connection: ``HISTORY_DAYS`` ago."""
    return fields.Datetime.now() - timedelta(days=HISTORY_DAYS)


class AmazonConnection(models.Model):
    """An Amazon connection: one seller in one region, and the settings of its synchronisations."""

    _name = "amazon.account"
    _description = "Amazon Connection"
    _inherit = ["mail.thread", "amazon.company.guard"]
    _check_company_auto = True
    _order = "company_id, name"

    name = fields.Char(required=True, tracking=True, default=lambda self: self.env._("Amazon Mexico"))
    active = fields.Boolean(default=True)
    # "Sucursal": the company or branch the integration belongs to.
    company_id = fields.Many2one(
        "res.company", string="Branch", required=True, default=lambda self: self.env.company, tracking=True,
        help="Company or branch whose books, stock and sales receive what comes from Amazon.")
    region = fields.Selection(
        [("NA", "North America"), ("EU", "Europe"), ("FE", "Far East")], required=True, default="NA",
        help="One authorization covers every marketplace of the region.")
    marketplace_id = fields.Many2one(
        "amazon.marketplace", string="Marketplace", required=True,
        default=lambda self: self.env.ref("bind_amazon_connector.marketplace_mx", raise_if_not_found=False),
        domain="[('region', '=', region)]",
        help="Main marketplace: its currency is used for prices and sales.")
    marketplace_ids = fields.Many2many(
        "amazon.marketplace", string="Marketplaces", domain="[('region', '=', region)]",
        help="Marketplaces whose orders are imported (default: the main one).")
    marketplace_setting_ids = fields.One2many(
        "amazon.account.marketplace", "account_id", string="Marketplace Settings",
        help="Price list and fiscal position of each marketplace the connection reads.")
    seller_id = fields.Char(
        string="Seller ID", copy=False, tracking=True,
        help="Amazon's selling partner id (merchant token). Filled in by the authorization.")

    # Authorization and app credentials (secrets readable by managers only, never tracked nor copied).
    application_id = fields.Char(
        string="SP-API Application ID", groups=SECRET_GROUPS,
        help="Application id of the SP-API app (amzn1.sp.solution...), used by the Authorize button. "
        "Empty: the system parameter bind_amazon_connector.application_id.")
    app_is_draft = fields.Boolean(
        string="Draft app", groups=SECRET_GROUPS,
        help="The SP-API app is still in draft: Amazon authorizes it only with version=beta.")
    lwa_client_id = fields.Char(
        string="LWA Client ID", groups=SECRET_GROUPS, copy=False,
        help="Login with Amazon client id of the SP-API app. Empty: the system parameter "
        "bind_amazon_connector.lwa_client_id.")
    lwa_client_secret = fields.Char(
        string="LWA Client Secret", groups=SECRET_GROUPS, copy=False,
        help="Login with Amazon client secret of the SP-API app. Empty: the system parameter "
        "bind_amazon_connector.lwa_client_secret.")
    refresh_token = fields.Char(
        groups=SECRET_GROUPS, copy=False,
        help="The seller's authorization, given by Amazon when the seller authorizes the app.")
    endpoint_override = fields.Char(
        string="API endpoint override", groups=OVERRIDE_GROUPS, copy=False,
        help="Advanced: Amazon's sandbox or the project's simulator, e.g. http://127.0.0.1:8070.")
    token_url_override = fields.Char(
        string="Token URL override", groups=OVERRIDE_GROUPS, copy=False,
        help="Advanced: Login with Amazon token URL of a sandbox or simulator.")
    seller_central_override = fields.Char(
        string="Seller Central override", groups=OVERRIDE_GROUPS, copy=False,
        help="Advanced: where the Authorize button sends the seller instead of the marketplace's Seller Central "
        "(a simulator's consent page, e.g. http://127.0.0.1:8070).")
    has_refresh_token = fields.Boolean(
        string="Has Authorization", compute="_compute_has_secrets", compute_sudo=True,
        help="Amazon gave (or a manager pasted) a refresh token for this connection.")
    has_app_credentials = fields.Boolean(
        string="Has App Credentials", compute="_compute_has_secrets", compute_sudo=True)
    state = fields.Selection(
        [("draft", "Not authorized"), ("authorized", "Authorized"), ("error", "Error")],
        default="draft", required=True, copy=False, tracking=True, readonly=True)
    last_error = fields.Text(copy=False, readonly=True)
    authorized_date = fields.Datetime(string="Authorized on", copy=False, readonly=True)
    authorized_uid = fields.Many2one("res.users", string="Authorized by", copy=False, readonly=True)
    participation_info = fields.Text(
        string="Seller's Marketplaces", copy=False, readonly=True,
        help="Marketplaces Amazon reported for this seller at the last connection test.")
    last_check_date = fields.Datetime(string="Last Connection Test", copy=False, readonly=True)

    # The article's settings.
    pricelist_id = fields.Many2one(
        "product.pricelist", string="Price List", check_company=True,
        help="Receives Amazon's prices when listings are imported; Amazon stays the source of prices.")
    warehouse_id = fields.Many2one(
        "stock.warehouse", string="Warehouse", check_company=True,
        help="Merchant-fulfilled sales and their stock are recorded here. Update its stock with what is "
        "available on Amazon before the first synchronisation.")
    fba_warehouse_id = fields.Many2one(
        "stock.warehouse", string="Fulfillment Warehouse", check_company=True,
        help="Stands for Amazon's fulfillment centres: its stock is Amazon's to manage and is not sent to "
        "Amazon.")
    journal_id = fields.Many2one(
        "account.journal", string="Account", check_company=True, domain="[('type', 'in', ('bank', 'cash'))]",
        help="Bank or petty-cash account receiving the payments of Amazon sales (they show in receivables).")
    user_id = fields.Many2one(
        "res.users", string="User", default=lambda self: self.env.user, check_company=True,
        domain="[('share', '=', False)]",
        help="Salesperson and author of what the integration records.")
    only_mapped_products = fields.Boolean(
        string="Sync sales of mapped products only",
        help="On: only sales whose products are mapped are recorded. Off: every sale comes in, and those with "
        "unmapped products wait as errors in the Sales tab until the product is mapped.")
    update_stock_on_amazon = fields.Boolean(
        string="Update stock on Amazon",
        help="After a sale is recorded, send the product's available quantity to its Amazon listings.")
    import_start_date = fields.Datetime(
        string="Import orders from", default=default_history_start,
        help="The first order import reads the orders updated on Amazon since this date (by default the last "
        "30 days). Set it before the first synchronisation; orders already imported are never duplicated.")
    buyer_data_retention_days = fields.Integer(
        string="Keep buyer data (days)", default=30,
        help="Days after delivery the buyers' contact data (name, e-mail, phone, street) is kept; then it is "
        "erased, as Amazon's Data Protection Policy asks (30 days at most). A business buyer keeps its RFC, legal "
        "name and postal code, which its CFDI needs.")
    # where each flow stands, in its own rows (amazon_sync_cursor.py): the flows' pages never write this row
    sync_cursor_ids = fields.One2many("amazon.sync.cursor", "account_id", string="Sync Progress", readonly=True,
                                      groups="bind_amazon_connector.group_amazon_manager")
    is_configured = fields.Boolean(
        compute="_compute_is_configured",
        help="The settings every synchronisation needs are filled in.")
    missing_settings = fields.Char(
        string="Missing settings", compute="_compute_is_configured",
        help="The settings this connection still needs, by name.")

    _seller_region_unique = models.Constraint(
        "UNIQUE(company_id, seller_id, region)", "This Amazon seller is already connected for this region.")

    # ------------------------------------------------------------------ computes

    @api.depends("refresh_token", "lwa_client_id", "lwa_client_secret")
    def _compute_has_secrets(self):
        params = self.env["ir.config_parameter"].sudo()
        param_credentials = bool(params.get_param(PARAM_CLIENT_ID) and params.get_param(PARAM_CLIENT_SECRET))
        for account in self:
            account.has_refresh_token = bool(account.refresh_token)
            account.has_app_credentials = param_credentials or bool(account.lwa_client_id and account.lwa_client_secret)

    @api.depends("pricelist_id", "warehouse_id", "fba_warehouse_id", "journal_id", "user_id")
    def _compute_is_configured(self):
        for account in self:
            missing = account._settings_missing()
            account.is_configured = not missing
            account.missing_settings = ", ".join(
                account._fields[fname]._description_string(self.env) for fname in missing)

    def _settings_missing(self):
        """Hook: names of the settings fields this connection still needs. Other flows add theirs (the
        listings flow asks for the fulfillment warehouse once the seller has FBA listings)."""
        self.ensure_one()
        return [fname for fname in ("pricelist_id", "warehouse_id", "journal_id", "user_id") if not self[fname]]

    @api.onchange("region")
    def _onchange_region(self):
        if self.marketplace_id and self.marketplace_id.region != self.region:
            self.marketplace_id = self.env["amazon.marketplace"].search([("region", "=", self.region)], limit=1)
        self.marketplace_ids = self.marketplace_ids.filtered(lambda m: m.region == self.region)

    @api.onchange("company_id")
    def _onchange_company_id(self):
        """Offer the branch's own warehouse and bank journal instead of another company's."""
        company = self.company_id
        if not company:
            return
        if self.warehouse_id.company_id != company:
            self.warehouse_id = self.env["stock.warehouse"].search([("company_id", "=", company.id)], limit=1)
        if self.fba_warehouse_id and self.fba_warehouse_id.company_id != company:
            self.fba_warehouse_id = False
        if self.pricelist_id.company_id and self.pricelist_id.company_id != company:
            self.pricelist_id = False
        if self.journal_id and not self.journal_id.filtered_domain(self.journal_id._check_company_domain(company)):
            self.journal_id = False

    # ------------------------------------------------------------------ validation

    @api.constrains("company_id", "pricelist_id", "warehouse_id", "fba_warehouse_id", "journal_id", "user_id")
    def _check_settings_company(self):
        """Same rule as Odoo's company check (`check_company=True`), with a message naming the setting.

        Branches follow Odoo's own rules: a branch connection may use its parent company's bank and cash
        journals (branches share their parent's accounting), while its warehouses and price list must be the
        branch's own (or a price list shared by every company), as on a sales order of that branch.
        """
        for account in self:
            company = account.company_id
            for fname in ("pricelist_id", "warehouse_id", "fba_warehouse_id", "journal_id", "user_id"):
                value = account.sudo()[fname]
                if value and not value.filtered_domain(value._check_company_domain(company)):
                    raise ValidationError(self.env._(
                        "The %(setting)s “%(value)s” belongs to another company than %(company)s, the "
                        "branch of the Amazon connection “%(connection)s”. Choose one of %(company)s.",
                        setting=account._fields[fname]._description_string(self.env),
                        value=value.display_name, company=company.display_name, connection=account.name,
                    ))

    @api.constrains("warehouse_id", "fba_warehouse_id")
    def _check_warehouses(self):
        for account in self:
            if account.warehouse_id and account.warehouse_id == account.fba_warehouse_id:
                raise ValidationError(self.env._(
                    "The fulfillment warehouse must differ from the merchant warehouse: Amazon manages the "
                    "stock of its fulfillment centres, you manage the stock of your own warehouse."
                ))

    @api.constrains("journal_id")
    def _check_journal(self):
        for account in self:
            if account.journal_id and account.journal_id.type not in ("bank", "cash"):
                raise ValidationError(self.env._(
                    "The account “%(journal)s” must be a bank or cash journal: it receives the payments of "
                    "Amazon sales.", journal=account.journal_id.display_name,
                ))

    @api.constrains("buyer_data_retention_days")
    def _check_buyer_data_retention(self):
        if any(not 0 <= account.buyer_data_retention_days <= 30 for account in self):
            raise ValidationError(self.env._(
                "Amazon allows keeping a buyer's contact data up to 30 days after delivery: choose from 0 to 30."))

    @api.constrains("region", "marketplace_id", "marketplace_ids")
    def _check_region(self):
        region_names = dict(self._fields["region"]._description_selection(self.env))
        for account in self:
            marketplaces = account.marketplace_id | account.marketplace_ids
            wrong = marketplaces.filtered_domain([("region", "!=", account.region)])
            if wrong:
                raise ValidationError(self.env._(
                    "%(marketplaces)s belong to another Amazon region than %(region)s: choose the region of "
                    "the marketplace (one authorization covers one region).",
                    marketplaces=", ".join(wrong.mapped("name")), region=region_names[account.region],
                ))

    @api.constrains("pricelist_id", "marketplace_id")
    def _check_pricelist_currency(self):
        for account in self:
            check_pricelist_currency(account.pricelist_id, account.marketplace_id)

    @api.constrains("endpoint_override", "token_url_override", "seller_central_override")
    def _check_overrides(self):
        """Only Amazon's own https hosts, or this machine when Odoo runs in development mode or tests."""
        for account in self.sudo():
            for fname, kind in OVERRIDE_KINDS.items():
                url = account[fname]
                if not url:
                    continue
                if kind == "seller_central" and not url.startswith(("http://", "https://")):
                    url = "https://" + url
                try:
                    check_url(url, kind, loopback_allowed())
                except errors.SpApiError as exc:
                    raise ValidationError(self.env._(
                        "%(field)s of “%(connection)s” is refused: %(reason)s",
                        field=account._fields[fname]._description_string(self.env), connection=account.name,
                        reason=str(exc),
                    )) from None

    # ------------------------------------------------------------------ marketplaces

    def _get_marketplaces(self):
        self.ensure_one()
        return self.marketplace_ids or self.marketplace_id

    @api.model_create_multi
    def create(self, vals_list):
        accounts = super().create(vals_list)
        self.env["amazon.account.marketplace"]._ensure_for(accounts)
        return accounts

    def unlink(self):
        crons = self.env["amazon.sync.job"].sudo().search([("account_id", "in", self.ids)]).cron_id
        res = super().unlink()
        crons.unlink()
        return res

    def write(self, vals):
        res = super().write(vals)
        if {"marketplace_id", "marketplace_ids", "company_id"} & set(vals):
            self.env["amazon.account.marketplace"]._ensure_for(self)
        return res

    # The settings line, price list and missing settings of one marketplace (amazon_account_marketplace.py).
    def _marketplace_setting(self, marketplace):
        return self.env["amazon.account.marketplace"]._for(self, marketplace)

    def _marketplace_pricelist(self, marketplace):
        return self.env["amazon.account.marketplace"]._pricelist_for(self, marketplace)

    def _marketplace_missing_text(self, marketplace):
        return self.env["amazon.account.marketplace"]._missing_text_for(self, marketplace)

    def _marketplace_settings_confirmed(self, marketplaces):
        """Hook: a person confirmed the settings of ``marketplaces`` (the flows pick up what waited)."""

    # ------------------------------------------------------------------ SP-API access

    def _spapi_config(self, interactive=False):
        """Connection settings for the SP-API layer. Secrets are read with sudo, never exposed.

        ``interactive``: a person is waiting (buttons, the authorization callback): short timeouts, no long
        pacing waits.
        """
        self.ensure_one()
        rec = self.sudo()
        params = self.env["ir.config_parameter"].sudo()
        own_credentials = bool(rec.lwa_client_id and rec.lwa_client_secret)
        client_id = rec.lwa_client_id if own_credentials else params.get_param(PARAM_CLIENT_ID)
        client_secret = rec.lwa_client_secret if own_credentials else params.get_param(PARAM_CLIENT_SECRET)
        if not client_id or not client_secret:
            raise UserError(self.env._(
                "The Amazon app credentials (LWA client id and secret) are missing on %s: a manager fills them in "
                "the Advanced tab of the connection, or as system parameters for a public app.", self.name,
            ))
        if not own_credentials and (rec.endpoint_override or rec.token_url_override):
            # The shared app's secret goes to Amazon only, never to an address typed on one connection.
            raise UserError(self.env._(
                "The connection %s sends its calls to another address than Amazon's: it needs its own app "
                "credentials (LWA client id and secret); the system-wide ones are only sent to Amazon.", self.name,
            ))
        try:
            config = SpApiConfig(
                lwa_client_id=client_id,
                lwa_client_secret=client_secret,
                refresh_token=rec.refresh_token or None,
                region=self.region,
                marketplace_id=self.marketplace_id.marketplace_id,
                seller_id=self.seller_id or None,
                endpoint=rec.endpoint_override or None,
                token_url=rec.token_url_override or None,
                pacing_speed=float(internal_context(self.env, "amazon_pacing_speed", 1.0)),
                allow_loopback=loopback_allowed(),
            )
        except errors.SpApiError as exc:
            raise UserError(self._spapi_error_message(exc)) from exc
        if interactive:
            config = dataclasses.replace(config, **INTERACTIVE_LIMITS)
        return config

    def _spapi(self, interactive=False, deadline=None):
        """The one way the models reach Amazon. Refuses a connection that is not authorized.

        ``deadline``: ``time.monotonic()`` value the caller must be done by (a scheduled job's time budget):
        the SP-API layer waits for Amazon no longer than that and says when to try again instead."""
        self.ensure_one()
        if not self.sudo().refresh_token or self.state == "draft":
            raise UserError(self.env._(
                "Authorize the Amazon connection “%s” before synchronizing: click Authorize on the connection "
                "(or paste a refresh token).", self.name,
            ))
        return SpApi(self._spapi_config(interactive=interactive), deadline=deadline)

    # ------------------------------------------------------------------ status bookkeeping

    def _check_manager(self):
        """Only an Amazon administrator who may change this connection goes on (before anything runs as sudo)."""
        check_group(self.env, SECRET_GROUPS,
                    message=self.env._("Only Amazon administrators can authorize Amazon connections."))
        self.check_access("write")

    def _set_error(self, message, state="error"):
        """Record a failure on the connection (status fields only; Amazon users may trigger it)."""
        vals = {"last_error": message}
        if state:
            vals["state"] = state
        self.sudo().write(vals)

    def _spapi_error_message(self, exc, authorization_code=False):
        """A translated sentence saying what to do about an SP-API error, then its detail (spapi_messages.py)."""
        return spapi_error_message(self.env, exc, authorization_code=authorization_code)

    # ------------------------------------------------------------------ buttons (each module says what they do)

    def action_create_missing_settings(self):
        """Create the price list and warehouses a new seller would otherwise create by hand (connection_setup.py)."""
        return connection_setup.create_missing_settings(self)

    def action_authorize(self):
        """Send the seller to Seller Central to accept the app (amazon_oauth_state.py)."""
        return self.env["amazon.oauth.state"]._authorize_action(self)

    def action_paste_token(self):
        """Open the wizard where a manager pastes the refresh token of a self-authorized app."""
        return self.env["amazon.account.token.wizard"]._open_for(self)

    def action_disconnect(self):
        """Forget the seller's authorization (Amazon-side revocation is done in Seller Central)."""
        return self.env["amazon.oauth.state"]._disconnect(self)

    def action_test_connection(self):
        """Call the Sellers API and show the marketplaces the seller participates in (connection_check.py)."""
        return connection_check.check_connection(self)

    # ------------------------------------------------------------------ navigation

    def _get_form_url(self):
        self.ensure_one()
        return f"/odoo/amazon-connections/{self.id}"

    def action_open_form(self):
        check_group(self.env, AMAZON_USER)
        self.ensure_one()
        self.check_access("read")
        return {"type": "ir.actions.act_window", "res_model": "amazon.account", "res_id": self.id, "view_mode": "form",
                "target": "current"}
