"""The Amazon connection (``amazon.account``): one seller in one region, the settings the seller sets on its
form for every flow, and each flow's status as the form and the overview show it.
The flows' work is their owners' (``amazon.sync.job.FLOW_MODELS``): the buttons check who asks and hand over;
counts and status read what the flows recorded, through the plain modules ``connection_*.py`` beside this file.
"""
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import SQL
from odoo.tools.sql import column_exists

from . import connection_check, connection_journals, connection_progress, connection_setup, connection_spapi
from . import connection_overview as overview
from .access import ACCOUNTANT, AMAZON_MANAGER, AMAZON_USER, SYSTEM, check_group, is_trusted_writer
from .spapi_messages import spapi_error_message

PARAM_APPLICATION_ID = "bind_amazon_connector.application_id"

SECRET_GROUPS = "bind_amazon_connector.group_amazon_manager"  # noqa: S105 - a group, not a secret
# Where the server and the seller's browser are sent is a developer's setting (sandbox, simulator).
OVERRIDE_GROUPS = SYSTEM

#: A new connection brings this much history: a seller sees last month's sales and payouts after the first sync.
HISTORY_DAYS = 30
#: The Sales tab lists the orders needing attention (up to this many), then this many latest orders.
TAB_ATTENTION_LIMIT = 200
TAB_RECENT_LIMIT = 80
MAPPINGS = ("unmapped", "conflict")  # the listings' filters a smart button may open


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
    return_location_id = fields.Many2one(
        "stock.location", string="Returns Location", check_company=True, domain="[('usage', '=', 'internal')]",
        help="Merchant-fulfilled returns delivered back to you are received here (empty: the warehouse's stock).")
    validate_returns = fields.Boolean(
        string="Receive returns automatically", help="On: the return of goods Amazon reports delivered to you is "
        "validated at once. Off: it waits, ready, for the warehouse to check the goods and validate it.")
    return_wait_days = fields.Integer(string="Days to Wait for Returned Goods", default=30, help="Amazon refunded "
        "and the goods have not come back after these days: the connection's user gets a To-Do on the return.")
    journal_id = fields.Many2one(
        "account.journal", string="Account", check_company=True, domain="[('type', 'in', ('bank', 'cash'))]",
        help="Bank or petty-cash account receiving the payments of Amazon sales (they show in receivables).")
    sales_journal_id = fields.Many2one(
        "account.journal", string="Sales journal", check_company=True, domain="[('type', '=', 'sale')]",
        help="The invoices and credit notes of the Amazon orders number in it (their series). A new connection "
        "gets its own; choose a shared one to number with other channels. Empty: the company's Sales journal.")
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

    # Orders ("Sales" tab); where the sync stands is on its own amazon.sync.cursor row (pages commit it often)
    orders_cursor = fields.Datetime(
        string="Orders synchronized until", copy=False, tracking=True,
        compute="_compute_progress", inverse="_inverse_orders_progress", compute_sudo=True,
        help="Orders updated on Amazon up to this moment are imported. Move it back to read a period again: "
        "orders already imported are not duplicated.")
    # where the reading in progress stands (resumed after a restart); internal
    orders_window_start = fields.Datetime(copy=False, readonly=True, groups=AMAZON_MANAGER, compute_sudo=True,
                                          compute="_compute_progress", inverse="_inverse_orders_progress")
    orders_window_end = fields.Datetime(copy=False, readonly=True, groups=AMAZON_MANAGER, compute_sudo=True,
                                        compute="_compute_progress", inverse="_inverse_orders_progress")
    orders_next_token = fields.Char(copy=False, readonly=True, groups=AMAZON_MANAGER, compute_sudo=True,
                                    compute="_compute_progress", inverse="_inverse_orders_progress")
    orders_last_sync = fields.Datetime(string="Last order sync", copy=False, readonly=True, compute_sudo=True,
                                       compute="_compute_progress", inverse="_inverse_orders_progress")
    orders_sync_message = fields.Text(string="Order sync problem", copy=False, readonly=True, compute_sudo=True,
                                      compute="_compute_progress", inverse="_inverse_orders_progress")
    amazon_order_ids = fields.One2many("amazon.order", "account_id", string="Amazon Orders")
    amazon_order_tab_ids = fields.Many2many(
        "amazon.order", compute="_compute_amazon_order_tab_ids", string="Orders to look at",
        help="Orders in error or skipped, then the latest ones (all orders: the Amazon Orders button).")
    amazon_order_count = fields.Integer(compute="_compute_amazon_order_counts", string="Orders")
    amazon_order_imported_count = fields.Integer(compute="_compute_amazon_order_counts", string="Imported")
    amazon_order_error_count = fields.Integer(compute="_compute_amazon_order_counts", string="In error")
    amazon_order_skipped_count = fields.Integer(compute="_compute_amazon_order_counts", string="Skipped")
    amazon_order_cancelled_count = fields.Integer(compute="_compute_amazon_order_counts", string="Cancelled")
    fbm_shipment_mode = fields.Selection(
        [("odoo", "Odoo confirms on Amazon"), ("amazon", "Amazon tells Odoo")],
        string="Who ships merchant-fulfilled orders", default="odoo", required=True, tracking=True,
        help="Odoo confirms on Amazon: validating the delivery of a merchant-fulfilled order confirms the package "
        "on Amazon with its carrier and tracking number. Amazon tells Odoo: the seller confirms in Seller Central "
        "(or buys Amazon shipping) and the deliveries are validated when Amazon reports the order shipped.")
    fbm_tracking_policy = fields.Selection(
        [("block", "Ask for carrier and tracking number"),
         ("allow", "Confirm without tracking number when there is none")],
        string="Deliveries without tracking number", default="block", required=True,
        help="Ask: a delivery of a merchant-fulfilled order is validated only with its carrier and tracking "
        "number. Confirm without: the carrier is still required; Amazon may refuse a confirmation without "
        "tracking number for some carriers, the refusal is then shown on the delivery.")

    # Listings: what the last import did, written by the import only (listing_report_*: the pending report)
    listing_ids = fields.One2many("amazon.listing", "account_id", string="Listings")
    listing_count = fields.Integer(compute="_compute_listing_counts")
    listing_unmapped_count = fields.Integer(string="Unmapped Listings", compute="_compute_listing_counts")
    listing_conflict_count = fields.Integer(string="Listing Conflicts", compute="_compute_listing_counts")
    listing_import_date = fields.Datetime(string="Last Listing Import", readonly=True, copy=False)
    listing_import_success_date = fields.Datetime(
        string="Last Complete Listing Import", readonly=True, copy=False,
        help="The last import that read Amazon's whole listings report.")
    listing_import_state = fields.Selection(
        [("done", "Done"), ("warning", "Done, with skipped rows"), ("waiting", "Waiting for Amazon"),
         ("failed", "Failed")], string="Listing Import Result", readonly=True, copy=False)
    listing_import_summary = fields.Html(string="Listing Import Summary", readonly=True, copy=False)
    listing_import_rows = fields.Integer(string="Rows Read", readonly=True, copy=False)
    listing_import_created = fields.Integer(string="Listings Created", readonly=True, copy=False)
    listing_import_updated = fields.Integer(string="Listings Updated", readonly=True, copy=False)
    listing_import_archived = fields.Integer(string="Listings Archived", readonly=True, copy=False)
    listing_import_skipped = fields.Integer(string="Rows Skipped", readonly=True, copy=False)
    listing_import_writes = fields.Integer(
        string="Records Written", readonly=True, copy=False,
        help="Listings and price list rules created or changed by the last import (0 when nothing changed).")
    listing_report_id = fields.Char(string="Pending Listings Report", readonly=True, copy=False)
    listing_report_date = fields.Datetime(string="Listings Report Requested", readonly=True, copy=False)

    # Stock (the problem on the flow's own progress row, amazon.sync.cursor)
    push_stock_on_any_change = fields.Boolean(
        string="Also after any stock change",
        help="Besides Amazon sales, send the quantity after every other stock change of a mapped product in "
        "the warehouse: receipts, inventory adjustments, other channels' sales and deliveries.")
    stock_buffer = fields.Integer(
        string="Safety Buffer",
        help="Units kept back from Amazon: each listing gets the available quantity minus this (never below 0).")
    stock_push_message = fields.Text(
        string="Stock Sync Problem", copy=False, readonly=True, compute="_compute_progress", compute_sudo=True,
        help="Why the last sending of quantities to Amazon stopped; cleared by the next run that works.")
    stock_last_sent_date = fields.Datetime(
        string="Last Quantity Sent", compute="_compute_stock_push_counts",
        help="When Amazon last accepted a quantity of this connection's listings.")
    stock_push_pending_count = fields.Integer(
        string="Waiting to Be Sent", compute="_compute_stock_push_counts",
        help="Listings with a stock change not sent to Amazon yet.")
    stock_push_failed_count = fields.Integer(
        string="Not Taken by Amazon", compute="_compute_stock_push_counts",
        help="Listings whose last quantity Amazon refused or could not receive: tried again with backoff.")
    stock_push_ids = fields.One2many("amazon.stock.push", "account_id", string="Quantities to Send", readonly=True)

    # Payouts (the article's "Cuenta" is journal_id above); the accounts they are booked on are an accountant's
    register_payment_on_post = fields.Boolean(
        string="Register payment when invoiced",
        help="Pay Amazon invoices into the account as soon as they are posted, without waiting for Amazon to "
        "release the money (simpler, but the receivables no longer show what Amazon still owes).")
    payout_payments = fields.Selection(
        [("sale", "One per sale"), ("batch", "One per buyer and batch")], string="Payments of released sales",
        default="sale", required=True,
        help="One per sale: each sale Amazon releases is a payment of its invoice. One per buyer and batch: the "
        "sales of one buyer booked together are one payment reconciling their invoices: fewer entries, the same "
        "balances, open items and cash-basis IVA.")
    amazon_partner_id = fields.Many2one(
        "res.partner", string="Amazon Partner",
        default=lambda self: self.env.ref("bind_amazon_connector.partner_amazon_mx", raise_if_not_found=False),
        help="Vendor of the fee bills and commission invoices (Servicios Comerciales Amazon México).")
    fee_account_ids = fields.One2many("amazon.fee.account", "account_id", string="Fee accounts")
    withholding_iva_account_id = fields.Many2one(
        "account.account", string="IVA withheld account", check_company=True,
        help="Creditable IVA that Amazon withheld from the sales (to credit against the IVA due).")
    withholding_isr_account_id = fields.Many2one(
        "account.account", string="ISR withheld account", check_company=True,
        help="ISR that Amazon withheld (creditable against the provisional ISR payments).")
    clearing_account_id = fields.Many2one(
        "account.account", string="Settlement clearing account", check_company=True,
        help="What Amazon owes the seller until it deposits a settlement: sales paid, less refunds, fees and "
        "withholdings, less the deposits. Its balance is the money Amazon still holds (deferred sales too).")
    clearing_journal_id = fields.Many2one(
        "account.journal", string="Settlement journal", check_company=True,
        domain="[('type', 'in', ('bank', 'cash'))]",
        help="Journal of the payments made inside Amazon's balance (sales, refunds, fees, withholdings); they "
        "go to the clearing account, so the bank journal only receives the deposits.")
    cash_basis_journal_id = fields.Many2one(
        "account.journal", string="Cash-basis journal", check_company=True, domain="[('type', '=', 'general')]",
        help="The cash-basis IVA entries of the payments of this connection's sales number in it. A new connection "
        "gets its own; empty: the company's cash-basis journal.")
    suspense_account_id = fields.Many2one(
        "account.account", string="Suspense account", check_company=True,
        help="Receives the amounts of types the connection does not know, until the accountant moves them.")
    finance_start_date = fields.Datetime(
        string="Read payouts from", default=default_history_start,
        help="The first payout synchronisation reads Amazon's transactions posted since this date (by default "
        "the last 30 days).")
    finance_sync_date = fields.Datetime(string="Payouts read until", copy=False, readonly=True, compute_sudo=True,
                                        compute="_compute_progress", inverse="_inverse_payouts_progress")
    finance_last_error = fields.Text(string="Last payout error", copy=False, readonly=True, compute_sudo=True,
                                     compute="_compute_progress", inverse="_inverse_payouts_progress")
    settlement_ids = fields.One2many("amazon.settlement", "account_id", string="Settlements")
    settlement_count = fields.Integer(compute="_compute_settlement_count")
    unreconciled_count = fields.Integer(compute="_compute_settlement_count")

    # The overview's card (connection_overview.py): read from what the flows recorded, never stored
    dashboard_today_count = fields.Integer(string="Imported today", compute="_compute_dashboard")
    dashboard_shipment_count = fields.Integer(
        string="Shipments to confirm", compute="_compute_dashboard",
        help="Merchant-fulfilled deliveries done in Odoo whose shipment Amazon has not confirmed yet.")
    dashboard_sync_age = fields.Char(string="Last successful sync", compute="_compute_dashboard")
    dashboard_sync_late = fields.Boolean(string="Sync is late", compute="_compute_dashboard")
    authorization_lost = fields.Boolean(
        string="Authorization lost", compute="_compute_dashboard",
        help="Amazon no longer accepts this connection's authorization: authorize it again.")
    invoice_count = fields.Integer(string="Invoices", compute="_compute_dashboard_documents")
    profit_card = fields.Json(string="Last 30 days' profitability", compute="_compute_profit_card")
    fee_bill_count = fields.Integer(string="Fee Bills", compute="_compute_dashboard_documents")

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
    _stock_buffer_positive = models.Constraint("CHECK(stock_buffer >= 0)", "The safety buffer cannot be negative.")

    # ------------------------------------------------------------------ computes

    @api.depends("refresh_token", "lwa_client_id", "lwa_client_secret")
    def _compute_has_secrets(self):
        connection_spapi.set_has_secrets(self)

    @api.depends("sync_cursor_ids.flow", "sync_cursor_ids.cursor", "sync_cursor_ids.window_start",
                 "sync_cursor_ids.window_end", "sync_cursor_ids.next_token", "sync_cursor_ids.last_sync",
                 "sync_cursor_ids.message")
    def _compute_progress(self):
        connection_progress.set_progress(self)

    def _inverse_orders_progress(self):
        connection_progress.write_orders_progress(self)

    def _inverse_payouts_progress(self):
        connection_progress.write_payouts_progress(self)

    # counts and the overview card: what the flows recorded (connection_overview.py says how it is read)
    def _compute_amazon_order_counts(self):
        overview.set_order_counts(self)

    def _compute_amazon_order_tab_ids(self):
        overview.set_orders_to_look_at(self, TAB_ATTENTION_LIMIT, TAB_RECENT_LIMIT)

    def _compute_listing_counts(self):
        overview.set_listing_counts(self)

    def _compute_stock_push_counts(self):
        overview.set_stock_push_counts(self)

    @api.depends("settlement_ids.is_reconciled", "settlement_ids.deposit_date")
    def _compute_settlement_count(self):
        overview.set_settlement_counts(self)

    @api.depends("state", "authorized_date", "orders_last_sync")
    @api.depends_context("uid", "tz")
    def _compute_dashboard(self):
        overview.set_card(self)

    def _compute_dashboard_documents(self):
        overview.set_document_counts(self)

    @api.depends_context("uid", "tz", "lang", "allowed_company_ids")
    def _compute_profit_card(self):
        overview.set_profit_card(self)

    @api.depends("pricelist_id", "warehouse_id", "fba_warehouse_id", "journal_id", "user_id")
    def _compute_is_configured(self):
        connection_check.set_is_configured(self)

    def _settings_missing(self):
        """Names of the settings fields this connection still needs (connection_check.py)."""
        return connection_check.settings_missing(self)

    @api.onchange("region")
    def _onchange_region(self):
        if self.marketplace_id and self.marketplace_id.region != self.region:
            self.marketplace_id = self.env["amazon.marketplace"].search([("region", "=", self.region)], limit=1)
        self.marketplace_ids = self.marketplace_ids.filtered(lambda m: m.region == self.region)

    @api.onchange("company_id")
    def _onchange_company_id(self):
        connection_setup.propose_company_settings(self)

    # ------------------------------------------------------------------ validation

    @api.constrains("company_id", "pricelist_id", "warehouse_id", "fba_warehouse_id", "journal_id", "user_id",
                    "return_location_id", "clearing_journal_id", "sales_journal_id", "cash_basis_journal_id",
                    "buyer_data_retention_days", "region", "marketplace_id", "marketplace_ids", "endpoint_override",
                    "token_url_override", "seller_central_override", "return_wait_days")
    def _check_settings(self):
        """What the settings must satisfy; each message names the setting to change (connection_check.py)."""
        connection_check.check_settings(self)

    def _get_marketplaces(self):
        self.ensure_one()
        return self.marketplace_ids or self.marketplace_id

    @api.model_create_multi
    def create(self, vals_list):
        from ..payouts import payout_settings

        accounts = super().create(vals_list)
        self.env["amazon.account.marketplace"]._ensure_for(accounts)
        connection_journals.apply_sales_journal(accounts)  # its own series, unless a shared journal was chosen
        connection_journals.apply_cash_basis_journal(accounts)  # its payments' cash-basis IVA, the same way
        payout_settings.apply_defaults(accounts)
        return accounts

    def _auto_init(self):
        # connections older than shipment confirmation keep "Amazon tells Odoo"; new ones default to Odoo confirming
        new_column = not column_exists(self.env.cr, self._table, "fbm_shipment_mode")
        res = super()._auto_init()
        if new_column:
            self.env.cr.execute(SQL("UPDATE amazon_account SET fbm_shipment_mode = 'amazon'"))
        return res

    def unlink(self):
        crons = self.env["amazon.sync.job"].sudo().search([("account_id", "in", self.ids)]).cron_id
        res = super().unlink()
        crons.unlink()
        return res

    def write(self, vals):
        # What the last listings import did is written by the import, never typed in (it is shown as HTML).
        if not is_trusted_writer(self.env) and any(f.startswith(("listing_import_", "listing_report_")) for f in vals):
            raise AccessError(self.env._("The listings import results are written by the import only."))
        if "orders_cursor" in vals and not (self.env.su and self.env.context.get("amazon_sync_internal")):
            # Moving the cursor (back) starts a new reading from there: forget the run in progress.
            vals = dict(vals, orders_window_start=False, orders_window_end=False, orders_next_token=False)
        # A new buffer or warehouse changes every quantity: send them all (when sending is on).
        stock_watched = {"stock_buffer", "warehouse_id"} & set(vals)
        before = {a.id: (a.stock_buffer, a.warehouse_id.id) for a in self} if stock_watched else {}
        res = super().write(vals)
        if {"marketplace_id", "marketplace_ids", "company_id"} & set(vals):
            self.env["amazon.account.marketplace"]._ensure_for(self)
        if stock_watched:
            self.env["amazon.stock.sync"]._settings_changed(
                self.filtered(lambda a: before[a.id] != (a.stock_buffer, a.warehouse_id.id)))
        return res

    def _marketplace_settings_confirmed(self, marketplaces):
        """A person confirmed the settings of ``marketplaces``: the orders that waited for them go on."""
        self.env["amazon.order.sync"]._settings_confirmed(self, marketplaces)

    # ------------------------------------------------------------------ SP-API access

    def _spapi_config(self, interactive=False):
        """Connection settings for the SP-API layer (connection_spapi.py); ``interactive``: a person waits."""
        self.ensure_one()
        return connection_spapi.spapi_config(self, interactive)

    def _spapi(self, interactive=False, deadline=None):
        """The one way the models reach Amazon (``deadline``: when a scheduled job's time budget ends)."""
        self.ensure_one()
        return connection_spapi.spapi_client(self, interactive, deadline)

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

    # Orders, listings, stock and payouts: each flow's owner does the work (amazon_sync_job.FLOW_MODELS)

    def action_sync_orders(self):
        """Import the orders Amazon has for this connection now; a long backlog continues in the background."""
        self._check_user(self.env._("Only Amazon users can synchronize orders."))
        return self.env["amazon.order.sync"]._sync_now(self)

    def action_import_listings(self):
        """Import the whole catalogue now (waits a minute for Amazon, then leaves it to the scheduled job)."""
        self._check_user()
        return self.env["amazon.listing.sync"]._import_now(self)

    def action_push_stock_now(self):
        """Every mapped merchant-fulfilled listing's quantity: a few now, the rest in the background."""
        self._check_user(_("Only Amazon users can send stock to Amazon."))
        return self.env["amazon.stock.sync"]._push_all_now(self)

    def action_sync_finances(self):
        """Read Amazon's transactions and settlement reports now, and book them."""
        self._check_user()
        check_group(self.env, ACCOUNTANT, message=self.env._("Only accountants book Amazon payouts."))
        return self.env["amazon.payout.sync"]._sync_now(self)

    def action_load_default_fee_accounts(self):
        """Add the fee types of the Mexican defaults that the connection does not have yet."""
        from ..payouts import payout_settings

        check_group(self.env, AMAZON_MANAGER)
        self.check_access("write")
        return payout_settings.load_default_fee_accounts(self)

    def action_set_stock_from_amazon(self):
        return self.env["amazon.listing.stock.wizard"]._open_for(self)

    def action_open_commission_wizard(self, settlement=None):
        return self.env["amazon.commission.invoice.wizard"]._open_for(self, settlement)

    # ------------------------------------------------------------------ navigation (connection_overview.py)

    def _check_user(self, message=None):
        """Only an Amazon user who may read this one connection goes on."""
        check_group(self.env, AMAZON_USER, message=message)
        self.ensure_one()
        self.check_access("read")

    def action_view_amazon_orders(self):
        state = self.env.context.get("amazon_order_state")
        return overview.records_action(self, "amazon_order_action", [("state", "=", state)] if state else [])

    def action_view_orders_today(self):
        return overview.records_action(self, "amazon_order_action", [
            ("state", "=", "imported"), ("create_date", ">=", overview.today_start(self.env))])

    def action_view_orders_in_error(self):
        return overview.records_action(self, "amazon_order_action", [("state", "=", "error")])

    def action_view_shipments_to_confirm(self):
        """The Amazon orders with a package Amazon has not confirmed yet."""
        return overview.records_action(self, "amazon_order_action", [("shipment_unconfirmed", "=", True)])

    def action_view_listings(self):
        mapping = self.env.context.get("listing_filter")
        return overview.records_action(self, "amazon_listing_action", filters=[mapping] * (mapping in MAPPINGS))

    def action_view_unmapped_listings(self):
        return overview.records_action(self, "amazon_listing_action", filters=["unmapped"])

    def action_view_stock_failures(self):
        return overview.records_action(self, "amazon_listing_action",
                                       [("stock_push_state", "in", ("retry", "refused"))])

    def action_view_settlements(self):
        return overview.records_action(self, "amazon_settlement_action", groups=(AMAZON_USER, ACCOUNTANT))

    def action_view_invoices(self):
        return overview.documents_action(self, "invoices")

    def action_view_fee_bills(self):
        return overview.documents_action(self, "fee_bills")

    def action_view_profit(self):
        return overview.profit_action(self, self.env.context.get("profit_product_id"))

    def _get_form_url(self):
        self.ensure_one()
        return f"/odoo/amazon-connections/{self.id}"

    def action_open_form(self):
        self._check_user()
        return {"type": "ir.actions.act_window", "res_model": "amazon.account", "res_id": self.id, "view_mode": "form",
                "target": "current"}
