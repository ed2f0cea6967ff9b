import dataclasses
import logging
from datetime import timedelta

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

from ...spapi import SpApi, SpApiConfig, errors
from ...spapi.auth import build_consent_url, exchange_authorization_code
from ...spapi.config import check_url
from .access import AMAZON_USER, SYSTEM, check_group, internal_context, loopback_allowed
from .amazon_oauth_state import AmazonAuthorizationRefused

_logger = logging.getLogger(__name__)

# System parameters holding a public app's credentials, used when a connection has none of its own.
PARAM_CLIENT_ID = "bind_amazon_connector.lwa_client_id"
PARAM_CLIENT_SECRET = "bind_amazon_connector.lwa_client_secret"  # noqa: S105 - a parameter name, not a secret
PARAM_APPLICATION_ID = "bind_amazon_connector.application_id"

SECRET_GROUPS = "bind_amazon_connector.group_amazon_manager"  # noqa: S105 - a group, not a secret
# Where the server and the seller's browser are sent is a developer's setting (sandbox, simulator).
OVERRIDE_GROUPS = SYSTEM
OVERRIDE_KINDS = {"endpoint_override": "api", "token_url_override": "lwa", "seller_central_override": "seller_central"}
OAUTH_CALLBACK_PATH = "/amazon/oauth/callback"

# Calls made while a person waits in front of the screen (test connection, code exchange, pasted token):
# fail fast instead of pacing or retrying for minutes like the background synchronisations may.
INTERACTIVE_LIMITS = {"timeout": 20.0, "max_retries": 1, "max_wait": 10.0}
#: Name of the warehouse standing for Amazon's fulfillment centres created by the set-up button.
FBA_WAREHOUSE_NAME = "Amazon FBA"
#: A new connection brings this much history: a seller sees last month's sales and payouts after the first sync.
HISTORY_DAYS = 30


def default_history_start(_records=None):
    """Default of the "from" dates of a new connection: ``HISTORY_DAYS`` ago."""
    return fields.Datetime.now() - timedelta(days=HISTORY_DAYS)


class AmazonAccount(models.Model):
    """One Amazon seller account in one region: the article's integration settings."""

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
        help="Company or branch whose books, stock and sales receive what comes from Amazon.",
    )
    region = fields.Selection(
        [("NA", "North America"), ("EU", "Europe"), ("FE", "Far East")], required=True, default="NA",
        help="One authorization covers every marketplace of the region.",
    )
    marketplace_id = fields.Many2one(
        "amazon.marketplace", string="Marketplace", required=True,
        default=lambda self: self.env.ref("bind_amazon_connector.marketplace_mx", raise_if_not_found=False),
        domain="[('region', '=', region)]",
        help="Main marketplace: its currency is used for prices and sales.",
    )
    marketplace_ids = fields.Many2many(
        "amazon.marketplace", string="Marketplaces", domain="[('region', '=', region)]",
        help="Marketplaces whose orders are imported (default: the main one).",
    )
    marketplace_setting_ids = fields.One2many(
        "amazon.account.marketplace", "account_id", string="Marketplace Settings",
        help="Price list and fiscal position of each marketplace the connection reads.",
    )
    seller_id = fields.Char(
        string="Seller ID", copy=False, tracking=True,
        help="Amazon's selling partner id (merchant token). Filled in by the authorization.",
    )

    # Authorization and app credentials (secrets readable by managers only, never tracked nor copied).
    application_id = fields.Char(
        string="SP-API Application ID", groups=SECRET_GROUPS,
        help="Application id of the SP-API app (amzn1.sp.solution...), used by the Authorize button. "
        "Empty: the system parameter bind_amazon_connector.application_id.",
    )
    app_is_draft = fields.Boolean(
        string="Draft app", groups=SECRET_GROUPS,
        help="The SP-API app is still in draft: Amazon authorizes it only with version=beta.",
    )
    lwa_client_id = fields.Char(
        string="LWA Client ID", groups=SECRET_GROUPS, copy=False,
        help="Login with Amazon client id of the SP-API app. Empty: the system parameter "
        "bind_amazon_connector.lwa_client_id.",
    )
    lwa_client_secret = fields.Char(
        string="LWA Client Secret", groups=SECRET_GROUPS, copy=False,
        help="Login with Amazon client secret of the SP-API app. Empty: the system parameter "
        "bind_amazon_connector.lwa_client_secret.",
    )
    refresh_token = fields.Char(
        groups=SECRET_GROUPS, copy=False,
        help="The seller's authorization, given by Amazon when the seller authorizes the app.",
    )
    endpoint_override = fields.Char(
        string="API endpoint override", groups=OVERRIDE_GROUPS, copy=False,
        help="Advanced: Amazon's sandbox or the project's simulator, e.g. http://127.0.0.1:8070.",
    )
    token_url_override = fields.Char(
        string="Token URL override", groups=OVERRIDE_GROUPS, copy=False,
        help="Advanced: Login with Amazon token URL of a sandbox or simulator.",
    )
    seller_central_override = fields.Char(
        string="Seller Central override", groups=OVERRIDE_GROUPS, copy=False,
        help="Advanced: where the Authorize button sends the seller instead of the marketplace's Seller Central "
        "(a simulator's consent page, e.g. http://127.0.0.1:8070).",
    )
    has_refresh_token = fields.Boolean(
        string="Has Authorization", compute="_compute_has_secrets", compute_sudo=True,
        help="Amazon gave (or a manager pasted) a refresh token for this connection.",
    )
    has_app_credentials = fields.Boolean(
        string="Has App Credentials", compute="_compute_has_secrets", compute_sudo=True,
    )
    state = fields.Selection(
        [("draft", "Not authorized"), ("authorized", "Authorized"), ("error", "Error")],
        default="draft", required=True, copy=False, tracking=True, readonly=True,
    )
    last_error = fields.Text(copy=False, readonly=True)
    authorized_date = fields.Datetime(string="Authorized on", copy=False, readonly=True)
    authorized_uid = fields.Many2one("res.users", string="Authorized by", copy=False, readonly=True)
    participation_info = fields.Text(
        string="Seller's Marketplaces", copy=False, readonly=True,
        help="Marketplaces Amazon reported for this seller at the last connection test.",
    )
    last_check_date = fields.Datetime(string="Last Connection Test", copy=False, readonly=True)

    # The article's settings.
    pricelist_id = fields.Many2one(
        "product.pricelist", string="Price List", check_company=True,
        help="Receives Amazon's prices when listings are imported; Amazon stays the source of prices.",
    )
    warehouse_id = fields.Many2one(
        "stock.warehouse", string="Warehouse", check_company=True,
        help="Merchant-fulfilled sales and their stock are recorded here. Update its stock with what is "
        "available on Amazon before the first synchronisation.",
    )
    fba_warehouse_id = fields.Many2one(
        "stock.warehouse", string="Fulfillment Warehouse", check_company=True,
        help="Stands for Amazon's fulfillment centres: its stock is Amazon's to manage and is not sent to "
        "Amazon.",
    )
    journal_id = fields.Many2one(
        "account.journal", string="Account", check_company=True, domain="[('type', 'in', ('bank', 'cash'))]",
        help="Bank or petty-cash account receiving the payments of Amazon sales (they show in receivables).",
    )
    user_id = fields.Many2one(
        "res.users", string="User", default=lambda self: self.env.user, check_company=True,
        domain="[('share', '=', False)]",
        help="Salesperson and author of what the integration records.",
    )
    only_mapped_products = fields.Boolean(
        string="Sync sales of mapped products only",
        help="On: only sales whose products are mapped are recorded. Off: every sale comes in, and those with "
        "unmapped products wait as errors in the Sales tab until the product is mapped.",
    )
    update_stock_on_amazon = fields.Boolean(
        string="Update stock on Amazon",
        help="After a sale is recorded, send the product's available quantity to its Amazon listings.",
    )
    import_start_date = fields.Datetime(
        string="Import orders from", default=default_history_start,
        help="The first order import reads the orders updated on Amazon since this date (by default the last "
        "30 days). Set it before the first synchronisation; orders already imported are never duplicated.",
    )
    # where each flow stands, in its own rows (amazon_sync_cursor.py): the flows' pages never write this row
    sync_cursor_ids = fields.One2many("amazon.sync.cursor", "account_id", string="Sync Progress", readonly=True,
                                      groups="bind_amazon_connector.group_amazon_manager")
    is_configured = fields.Boolean(
        compute="_compute_is_configured",
        help="The settings every synchronisation needs are filled in.",
    )
    missing_settings = fields.Char(
        string="Missing settings", compute="_compute_is_configured",
        help="The settings this connection still needs, by name.",
    )

    _seller_region_unique = models.Constraint(
        "UNIQUE(company_id, seller_id, region)", "This Amazon seller is already connected for this region."
    )

    # ------------------------------------------------------------------ computes

    @api.depends("refresh_token", "lwa_client_id", "lwa_client_secret")
    def _compute_has_secrets(self):
        params = self.env["ir.config_parameter"].sudo()
        param_credentials = bool(params.get_param(PARAM_CLIENT_ID) and params.get_param(PARAM_CLIENT_SECRET))
        for account in self:
            account.has_refresh_token = bool(account.refresh_token)
            account.has_app_credentials = param_credentials or bool(
                account.lwa_client_id and account.lwa_client_secret
            )

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

    # ------------------------------------------------------------------ one click set-up

    def action_create_missing_settings(self):
        """Create what a new seller would otherwise create by hand before saving: a price list in the
        marketplace's currency and an "Amazon FBA" warehouse, both in the connection's company, and its
        first warehouse when the company (a new branch) has none."""
        self._check_manager()
        for account in self:
            company = account.company_id
            if company not in self.env.user.company_ids:
                raise AccessError(self.env._("You have no access to the company %s.", company.display_name))
            # the person may create connections, not necessarily price lists or warehouses: the group was checked
            created = []
            vals = {}
            if not account.pricelist_id:
                vals["pricelist_id"] = account._find_or_create_pricelist(created).id
            if not account.warehouse_id:
                warehouse = self.env["stock.warehouse"].search(
                    [("company_id", "=", company.id), ("id", "!=", account.fba_warehouse_id.id)], limit=1)
                # a new branch has no warehouse at all (Odoo creates one only for the first company)
                vals["warehouse_id"] = (warehouse or account._create_merchant_warehouse(created)).id
            if not account.fba_warehouse_id:
                vals["fba_warehouse_id"] = account._find_or_create_fba_warehouse(
                    vals.get("warehouse_id") or account.warehouse_id.id, created).id
            if vals:
                account.write(vals)
            if created:
                account.message_post(body=Markup("%s<ul>%s</ul>") % (
                    self.env._("Created for this connection:"),
                    Markup().join(Markup("<li>%s</li>") % line for line in created),
                ))
        return True

    def _find_or_create_pricelist(self, created):
        self.ensure_one()
        currency = self.marketplace_id.currency_id or self.company_id.currency_id
        # Odoo shows a price list with its currency: "Amazon México (MXN)"
        name = self.env._("Amazon %s", self.marketplace_id.country_id.name or self.marketplace_id.name)
        Pricelist = self.env["product.pricelist"].sudo()
        pricelist = Pricelist.search([("name", "=", name), ("currency_id", "=", currency.id),
                                      ("company_id", "in", (self.company_id.id, False))], limit=1)
        if not pricelist:
            if not currency.active:
                currency.sudo().active = True
            pricelist = Pricelist.create({"name": name, "currency_id": currency.id, "company_id": self.company_id.id})
            created.append(self.env._("the price list “%s”", pricelist.display_name))
        return pricelist.with_env(self.env)

    def _create_merchant_warehouse(self, created):
        """The warehouse of the orders the seller ships, for a company that has none, named after it."""
        self.ensure_one()
        company = self.company_id
        Warehouse = self.env["stock.warehouse"].sudo().with_context(active_test=False)
        # name and short name are unique per company, archived warehouses included
        existing = Warehouse.search([("company_id", "=", company.id)])
        codes = set(existing.mapped("code"))
        stem = "".join(ch for ch in company.name.upper() if ch.isalnum())[:4] or "WH"
        code = next(c for c in [stem] + [f"{stem}{n}" for n in range(2, 10)] if c not in codes)
        name = company.name if company.name not in existing.mapped("name") else f"{company.name} {code}"
        warehouse = Warehouse.create({"name": name, "code": code, "company_id": company.id,
                                      "partner_id": company.partner_id.id})
        created.append(self.env._("the warehouse “%(name)s” (%(code)s) for the orders you ship",
                                  name=warehouse.name, code=warehouse.code))
        return warehouse.with_env(self.env)

    def _find_or_create_fba_warehouse(self, merchant_warehouse_id, created):
        self.ensure_one()
        name = FBA_WAREHOUSE_NAME
        Warehouse = self.env["stock.warehouse"].sudo().with_context(active_test=False)
        company_warehouses = Warehouse.search([("company_id", "=", self.company_id.id)])
        warehouse = company_warehouses.filtered(
            lambda w: w.name == name and w.active and w.id != merchant_warehouse_id)[:1]
        if not warehouse:
            # name and short name are unique per company: FBA, then FBA2, FBA3...
            codes = set(company_warehouses.mapped("code"))
            code = next(c for c in ["FBA"] + [f"FBA{n}" for n in range(2, 100)] if c not in codes)
            if name in company_warehouses.mapped("name"):
                name = f"{name} {code}"
            warehouse = Warehouse.create({"name": name, "code": code, "company_id": self.company_id.id})
            created.append(self.env._("the warehouse “%(name)s” (%(code)s), standing for Amazon's fulfillment "
                                      "centres", name=warehouse.name, code=warehouse.code))
        return warehouse.with_env(self.env)

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
            pricelist, marketplace = account.pricelist_id, account.marketplace_id
            if pricelist and marketplace.currency_id and pricelist.currency_id != marketplace.currency_id:
                raise ValidationError(self.env._(
                    "The price list “%(pricelist)s” is in %(pricelist_currency)s but %(marketplace)s sells in "
                    "%(currency)s: choose a price list in %(currency)s.",
                    pricelist=pricelist.display_name, pricelist_currency=pricelist.currency_id.name,
                    marketplace=marketplace.name, currency=marketplace.currency_id.name,
                ))

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
        accounts._ensure_marketplace_settings()
        return accounts

    def unlink(self):
        crons = self.env["amazon.sync.job"].sudo().search([("account_id", "in", self.ids)]).cron_id
        res = super().unlink()
        crons.unlink()
        return res

    def write(self, vals):
        res = super().write(vals)
        if {"marketplace_id", "marketplace_ids", "company_id"} & set(vals):
            self._ensure_marketplace_settings()
        return res

    def _ensure_marketplace_settings(self):
        """One settings line per marketplace the connection reads (proposals for a new one); the lines of
        marketplaces no longer read are dropped."""
        Line = self.env["amazon.account.marketplace"].sudo()
        for account in self.sudo():
            wanted = account._get_marketplaces()
            lines = account.marketplace_setting_ids
            stale = lines.filtered(lambda line, w=wanted: line.marketplace_id not in w)
            stale.unlink()
            missing = wanted - (lines - stale).marketplace_id
            if missing:
                Line.create([account._propose_marketplace_settings(mkt) for mkt in missing])

    def _propose_marketplace_settings(self, marketplace):
        """Values of a new settings line. The main marketplace keeps today's behaviour (the connection's price
        list, Odoo's fiscal position per customer) and needs no confirmation; another marketplace gets a price
        list in its currency and, when it sells abroad, the company's foreign-customer fiscal position, both
        to be confirmed by a person."""
        self.ensure_one()
        vals = {"account_id": self.id, "marketplace_id": marketplace.id}
        if marketplace == self.marketplace_id:
            return dict(vals, confirmed=True)
        vals["pricelist_id"] = self._propose_pricelist(marketplace).id
        if marketplace.country_id and marketplace.country_id != self.company_id.country_id:
            fpos = self.env["account.chart.template"].with_company(self.company_id).ref(
                "account_fiscal_position_foreign", raise_if_not_found=False)
            vals["fiscal_position_id"] = fpos.id if fpos else False
        return vals

    def _propose_pricelist(self, marketplace):
        """A price list of the company in the marketplace's currency: an existing one, else a new one."""
        currency = marketplace.currency_id
        if self.pricelist_id and self.pricelist_id.currency_id == currency:
            return self.pricelist_id
        Pricelist = self.env["product.pricelist"].sudo()
        pricelist = Pricelist.search([
            ("currency_id", "=", currency.id), ("company_id", "in", (False, self.company_id.id)),
        ], order="company_id desc, id", limit=1)
        if pricelist:
            return pricelist
        if not currency.active:
            currency.sudo().active = True
        return Pricelist.create({
            "name": self.env._("Amazon %s", marketplace.name),
            "currency_id": currency.id,
            "company_id": self.company_id.id,
        })

    def _marketplace_setting(self, marketplace):
        """The settings line of ``marketplace`` on this connection (empty when it has none)."""
        self.ensure_one()
        return self.marketplace_setting_ids.filtered(lambda line: line.marketplace_id == marketplace)[:1]

    def _marketplace_pricelist(self, marketplace):
        """The price list of ``marketplace``'s sales and listing prices (empty when none is set)."""
        self.ensure_one()
        line = self._marketplace_setting(marketplace)
        if line:
            return line._effective_pricelist()
        if marketplace == self.marketplace_id and self.pricelist_id.currency_id == marketplace.currency_id:
            return self.pricelist_id
        return self.env["product.pricelist"]

    def _marketplace_missing_text(self, marketplace):
        """Why orders of ``marketplace`` cannot be imported yet, naming what to set (False: they can)."""
        self.ensure_one()
        line = self._marketplace_setting(marketplace)
        if line:
            return line._missing_text()
        if marketplace == self.marketplace_id:
            return False
        return self.env._(
            "Orders of %(marketplace)s need a price list in %(currency)s: add %(marketplace)s to the marketplaces "
            "of the connection “%(connection)s” (Advanced tab), then set and confirm its settings.",
            marketplace=marketplace.name, currency=marketplace.currency_id.name, connection=self.name,
        )

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
        """A translated sentence saying what to do about an SP-API error, then the layer's (English) detail.

        The SP-API layer is plain Python and speaks English; the person reading this speaks Spanish first.
        Its messages never hold secrets, so they are kept as the technical detail.
        """
        if isinstance(exc, errors.RetryLater):
            text = self.env._("Amazon is not answering right now (busy, down or unreachable): try again in a few "
                              "minutes.")
        elif isinstance(exc, errors.AuthorizationError) and authorization_code:
            text = self.env._("Amazon did not accept the authorization code: a code works once and for five "
                              "minutes. Click Authorize again.")
        elif isinstance(exc, errors.AuthorizationError):
            text = self.env._("Amazon refused this connection's authorization (revoked or expired): authorize the "
                              "connection again.")
        elif isinstance(exc, errors.ConfigurationError):
            text = self.env._("Amazon does not accept the connection's settings: check the app credentials, the "
                              "region and the addresses in the Advanced tab.")
        elif isinstance(exc, errors.BadData):
            text = self.env._("Amazon answered with data the connector does not understand.")
        else:
            text = self.env._("Amazon returned an error.")
        detail = str(exc)
        return self.env._("%(text)s\nDetail: %(detail)s", text=text, detail=detail) if detail else text

    def _store_authorization(self, refresh_token, seller_id=None, how=None):
        """Keep a new refresh token: the connection is authorized. Nothing secret goes to the chatter."""
        self.ensure_one()
        vals = {
            "refresh_token": refresh_token,
            "state": "authorized",
            "last_error": False,
            "authorized_date": fields.Datetime.now(),
            "authorized_uid": self.env.user.id,
        }
        if seller_id:
            vals["seller_id"] = seller_id
        self.sudo().write(vals)
        self.sudo().message_post(body=how or self.env._("Connection authorized with Amazon."))
        _logger.info("Amazon connection %s (id %s) authorized by user %s", self.name, self.id, self.env.uid)

    def _check_seller_free(self, seller_id):
        """A seller is connected once per company and region: say which connection already has it."""
        self.ensure_one()
        if not seller_id:
            return
        other = self.sudo().with_context(active_test=False).search([
            ("id", "!=", self.id), ("company_id", "=", self.company_id.id),
            ("region", "=", self.region), ("seller_id", "=", seller_id),
        ], limit=1)
        if other:
            raise UserError(self.env._(
                "The Amazon seller %(seller)s is already connected as “%(other)s” in %(company)s: authorize "
                "that connection instead of creating a second one.",
                seller=seller_id, other=other.name, company=self.company_id.display_name,
            ))

    # ------------------------------------------------------------------ authorization (OAuth website flow)

    def _get_application_id(self):
        self.ensure_one()
        return self.sudo().application_id or self.env["ir.config_parameter"].sudo().get_param(PARAM_APPLICATION_ID)

    def _oauth_redirect_uri(self):
        return self.get_base_url().rstrip("/") + OAUTH_CALLBACK_PATH

    def _get_consent_url(self, state, redirect_uri):
        self.ensure_one()
        try:
            return build_consent_url(
                self.sudo().seller_central_override or self.marketplace_id.seller_central_host,
                self._get_application_id(),
                state,
                redirect_uri=redirect_uri,
                beta=self.sudo().app_is_draft,
                allow_loopback=loopback_allowed(),
            )
        except errors.SpApiError as exc:
            raise UserError(self._spapi_error_message(exc)) from exc

    def action_authorize(self):
        """Send the seller to Seller Central to accept the app; Amazon comes back to the callback route."""
        self._check_manager()
        self.ensure_one()
        if not self._get_application_id():
            raise UserError(self.env._(
                "The SP-API Application ID is missing: fill it in the Advanced tab (or the system parameter "
                "bind_amazon_connector.application_id), or paste a refresh token of a self-authorized app."
            ))
        self._spapi_config()  # app credentials present and region/marketplace consistent, before leaving
        redirect_uri = self._oauth_redirect_uri()
        state = self.env["amazon.oauth.state"]._issue(self, redirect_uri)
        return {
            "type": "ir.actions.act_url",
            "url": self._get_consent_url(state, redirect_uri),
            "target": "self",
        }

    def _oauth_complete(self, state, code, selling_partner_id=None, amazon_error=None):
        """Finish the website flow for the current user; return the authorized connection.

        Raises `AmazonAuthorizationRefused` (nothing stored) when the state is not a live one issued to this
        user, and when Amazon or the code exchange fails (then only ``last_error`` is recorded).
        """
        request = self.env["amazon.oauth.state"]._consume(state)
        account = request.account_id.with_env(self.env)
        try:
            if account.sudo().company_id not in self.env.user.company_ids:
                raise AccessError(self.env._("You no longer have access to the company of this Amazon connection."))
            # the callback may arrive with another company selected in the browser: act in the connection's
            account = account.with_company(account.sudo().company_id)
            account._check_manager()
        except AccessError as exc:
            raise AmazonAuthorizationRefused(str(exc)) from exc
        if amazon_error:
            message = self.env._("Amazon did not authorize the app: %s", amazon_error)
            account._set_error(message, state=None if account.has_refresh_token else "error")
            raise AmazonAuthorizationRefused(message, account=account)
        if not code:
            message = self.env._("Amazon did not send an authorization code back: authorize again.")
            raise AmazonAuthorizationRefused(message, account=account)
        seller_id = None
        try:
            config = account._spapi_config(interactive=True)
            grant = exchange_authorization_code(config, code, request.redirect_uri)
            if selling_partner_id:
                seller_id = account._verified_seller_id(config, grant.refresh_token, selling_partner_id)
                account._check_seller_free(seller_id)
        except (UserError, errors.SpApiError) as exc:
            reason = (account._spapi_error_message(exc, authorization_code=True)
                      if isinstance(exc, errors.SpApiError) else exc.args[0])
            message = self.env._("Amazon authorization failed: %s", reason)
            account._set_error(message, state=None if account.has_refresh_token else "error")
            raise AmazonAuthorizationRefused(message, account=account) from exc
        except Exception as exc:
            # Refused like the others (the state stays spent), with the trace in the server log only.
            _logger.exception("Amazon authorization of connection %s failed unexpectedly", account.id)
            message = self.env._("Amazon authorization failed on an unexpected error (%s): nothing was saved. "
                                 "Click Authorize again.", type(exc).__name__)
            account._set_error(message, state=None if account.has_refresh_token else "error")
            raise AmazonAuthorizationRefused(message, account=account) from exc
        account._store_authorization(
            grant.refresh_token,
            seller_id=seller_id,
            how=self.env._(
                "Connection authorized on Amazon Seller Central by %(user)s (seller %(seller)s).",
                user=self.env.user.name, seller=seller_id or account.seller_id or "?",
            ),
        )
        return account

    def _verified_seller_id(self, config, refresh_token, seller_id):
        """``seller_id`` once Amazon confirmed, with the new authorization, that it is the authorizing seller.

        The redirect's ``selling_partner_id`` travels in the browser's address bar: it is only a claim.
        """
        self.ensure_one()
        config = dataclasses.replace(config, refresh_token=refresh_token, seller_id=seller_id)
        with SpApi(config) as api:
            if api.seller_id_matches(seller_id):
                return seller_id
        raise UserError(self.env._(
            "Amazon did not confirm that the seller %s gave this authorization: nothing was saved. Click "
            "Authorize again from the Seller Central account of this connection.", seller_id[:64],
        ))

    def action_paste_token(self):
        self._check_manager()
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Paste a refresh token"),
            "res_model": "amazon.account.token.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_account_id": self.id, "default_seller_id": self.seller_id},
        }

    def action_disconnect(self):
        """Forget the seller's authorization (Amazon-side revocation is done in Seller Central)."""
        self._check_manager()
        self.sudo().write({"refresh_token": False, "state": "draft", "participation_info": False})
        for account in self:
            account.message_post(body=self.env._("Authorization removed by %s.", self.env.user.name))
        return True

    # ------------------------------------------------------------------ test connection

    def _format_participations(self, participations):
        lines = []
        for part in participations:
            status = self.env._("participating") if part.is_participating else self.env._("not participating")
            lines.append(f"{part.name} ({part.country_code}, {part.currency}, {part.marketplace_id}): {status}")
        return "\n".join(lines)

    def action_test_connection(self):
        """Call the Sellers API and show the marketplaces the seller participates in."""
        check_group(self.env, AMAZON_USER)
        self.ensure_one()
        self.check_access("read")
        api = self._spapi(interactive=True)
        try:
            participations = api.get_marketplace_participations()
        except errors.SpApiError as exc:
            retryable = isinstance(exc, errors.RetryLater)
            message = self.env._("Connection test failed: %s", self._spapi_error_message(exc))
            self._set_error(message, state=None if retryable else "error")
            return self.env["amazon.sync.job"]._notification(message, "danger", title=self.env._("Amazon connection test failed"),
                                           sticky=True)
        info = self._format_participations(participations)
        self.sudo().write({
            "participation_info": info or self.env._("Amazon reported no marketplace for this seller."),
            "last_check_date": fields.Datetime.now(),
            "state": "authorized",
            "last_error": False,
        })
        participating = [p.name for p in participations if p.is_participating]
        known = set(self._get_marketplaces().mapped("marketplace_id"))
        missing = known - {p.marketplace_id for p in participations if p.is_participating}
        message = self.env._("The seller participates in: %s.", ", ".join(participating) or "-")
        if missing:
            names = ", ".join(self.env["amazon.marketplace"].search([("marketplace_id", "in", list(missing))])
                              .mapped("name"))
            message += " " + self.env._("Not participating in the connection's marketplace(s): %s.", names)
        return self.env["amazon.sync.job"]._notification(message, "warning" if missing else "success",
                                       title=self.env._("Amazon connection works"), sticky=False)

    # ------------------------------------------------------------------ navigation

    def _get_form_url(self):
        self.ensure_one()
        return f"/odoo/amazon-connections/{self.id}"

    def action_open_form(self):
        check_group(self.env, AMAZON_USER)
        self.ensure_one()
        self.check_access("read")
        return {
            "type": "ir.actions.act_window",
            "res_model": "amazon.account",
            "res_id": self.id,
            "view_mode": "form",
            "target": "current",
        }
