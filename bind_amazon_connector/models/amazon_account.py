from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError

from ..spapi import SpApi, SpApiConfig

# System parameters holding a public app's credentials, used when a connection has none of its own.
PARAM_CLIENT_ID = "bind_amazon_connector.lwa_client_id"
PARAM_CLIENT_SECRET = "bind_amazon_connector.lwa_client_secret"  # noqa: S105 - a parameter name, not a secret
PARAM_APPLICATION_ID = "bind_amazon_connector.application_id"

SECRET_GROUPS = "bind_amazon_connector.group_amazon_manager"


class AmazonAccount(models.Model):
    """One Amazon seller account in one region: the article's integration settings."""

    _name = "amazon.account"
    _description = "Amazon Connection"
    _inherit = ["mail.thread"]
    _check_company_auto = True
    _order = "company_id, name"

    name = fields.Char(required=True, tracking=True)
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
        help="Main marketplace: its currency is used for prices and sales.",
    )
    marketplace_ids = fields.Many2many(
        "amazon.marketplace", string="Marketplaces", help="Marketplaces whose orders are imported (default: the main one)."
    )
    seller_id = fields.Char(string="Seller ID", copy=False, tracking=True, help="Amazon's selling partner id.")

    # Authorization and app credentials (readable by managers only).
    lwa_client_id = fields.Char(
        string="LWA Client ID", groups=SECRET_GROUPS, copy=False,
        help="Login with Amazon client id of the SP-API app. Empty: the system parameter %s." % PARAM_CLIENT_ID,
    )
    lwa_client_secret = fields.Char(string="LWA Client Secret", groups=SECRET_GROUPS, copy=False)
    refresh_token = fields.Char(groups=SECRET_GROUPS, copy=False)
    endpoint_override = fields.Char(
        string="API endpoint override", groups=SECRET_GROUPS,
        help="Advanced: Amazon's sandbox or the project's simulator, e.g. http://127.0.0.1:8070.",
    )
    token_url_override = fields.Char(string="Token URL override", groups=SECRET_GROUPS)
    state = fields.Selection(
        [("draft", "Not authorized"), ("authorized", "Authorized"), ("error", "Error")],
        default="draft", required=True, copy=False, tracking=True,
    )
    last_error = fields.Text(copy=False, readonly=True)

    # The article's settings.
    pricelist_id = fields.Many2one(
        "product.pricelist", string="Price List", check_company=True,
        help="Receives Amazon's prices when listings are imported; Amazon stays the source of prices.",
    )
    warehouse_id = fields.Many2one(
        "stock.warehouse", string="Warehouse", check_company=True,
        help="Merchant-fulfilled sales and their stock are recorded here.",
    )
    fba_warehouse_id = fields.Many2one(
        "stock.warehouse", string="Fulfillment Warehouse", check_company=True,
        help="Stands for Amazon's fulfillment centres: its stock is Amazon's to manage.",
    )
    journal_id = fields.Many2one(
        "account.journal", string="Account", check_company=True, domain="[('type', 'in', ('bank', 'cash'))]",
        help="Bank or petty-cash account receiving the payments of Amazon sales.",
    )
    user_id = fields.Many2one(
        "res.users", string="User", default=lambda self: self.env.user,
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
        string="Import orders from", default=fields.Datetime.now,
        help="The first order import reads orders updated since this date.",
    )

    _seller_region_unique = models.Constraint(
        "UNIQUE(company_id, seller_id, region)", "This Amazon seller is already connected for this region."
    )

    @api.constrains("warehouse_id", "fba_warehouse_id")
    def _check_warehouses(self):
        for account in self:
            if account.warehouse_id and account.warehouse_id == account.fba_warehouse_id:
                raise ValidationError(_("The fulfillment warehouse must differ from the merchant warehouse."))

    @api.constrains("journal_id")
    def _check_journal(self):
        for account in self:
            if account.journal_id and account.journal_id.type not in ("bank", "cash"):
                raise ValidationError(_("The account must be a bank or cash journal."))

    @api.constrains("region", "marketplace_id", "marketplace_ids")
    def _check_region(self):
        for account in self:
            wrong = (account.marketplace_id | account.marketplace_ids).filtered(lambda m: m.region != account.region)
            if wrong:
                raise ValidationError(
                    _("%(marketplaces)s belong to another Amazon region than %(region)s.",
                      marketplaces=", ".join(wrong.mapped("name")), region=account.region)
                )

    # ------------------------------------------------------------------ SP-API access

    def _get_marketplaces(self):
        self.ensure_one()
        return self.marketplace_ids or self.marketplace_id

    def _spapi_config(self):
        """Connection settings for the SP-API layer. Secrets are read with sudo, never exposed."""
        self.ensure_one()
        rec = self.sudo()
        params = self.env["ir.config_parameter"].sudo()
        client_id = rec.lwa_client_id or params.get_param(PARAM_CLIENT_ID)
        client_secret = rec.lwa_client_secret or params.get_param(PARAM_CLIENT_SECRET)
        if not client_id or not client_secret:
            raise UserError(_("The Amazon app credentials (LWA client id and secret) are missing on %s.", self.name))
        return SpApiConfig(
            lwa_client_id=client_id,
            lwa_client_secret=client_secret,
            refresh_token=rec.refresh_token or None,
            region=self.region,
            marketplace_id=self.marketplace_id.marketplace_id,
            seller_id=self.seller_id or None,
            endpoint=rec.endpoint_override or None,
            token_url=rec.token_url_override or None,
            pacing_speed=float(self.env.context.get("amazon_pacing_speed", 1.0)),
        )

    def _spapi(self):
        """The one way the models reach Amazon."""
        self.ensure_one()
        if not self.sudo().refresh_token:
            raise UserError(_("Authorize the Amazon connection %s before synchronizing.", self.name))
        return SpApi(self._spapi_config())
