from odoo import api, fields, models
from odoo.exceptions import AccessError, ValidationError

MANAGER = "bind_amazon_connector.group_amazon_manager"


def check_pricelist_currency(pricelist, marketplace):
    """Refuse a price list in another currency than the marketplace's (a connection's or a marketplace line's)."""
    currency = marketplace.currency_id
    if pricelist and currency and pricelist.currency_id != currency:
        raise ValidationError(pricelist.env._(
            "The price list “%(pricelist)s” is in %(pricelist_currency)s but %(marketplace)s sells in "
            "%(currency)s: choose a price list in %(currency)s.",
            pricelist=pricelist.display_name, pricelist_currency=pricelist.currency_id.name,
            marketplace=marketplace.name, currency=currency.name,
        ))


class AmazonConnectionMarketplace(models.Model):
    """What a connection needs to sell in one of its marketplaces: a price list in the marketplace's currency
    and the fiscal position of its sales.

    One line per marketplace the connection reads. The main marketplace may leave its price list empty: it
    then uses the connection's. Another marketplace's line starts with proposals (a price list in its
    currency, the company's foreign-customer fiscal position) that a person confirms: until then its orders
    wait in error, so a wrong currency or Mexican IVA never reaches a foreign sale unnoticed.
    """

    _name = "amazon.account.marketplace"
    _description = "Amazon Connection Marketplace"
    _order = "account_id, sequence, id"
    _inherit = ["amazon.company.guard"]
    _check_company_auto = True

    account_id = fields.Many2one("amazon.account", string="Connection", required=True, index=True,
                                 ondelete="cascade")
    company_id = fields.Many2one(related="account_id.company_id", store=True, index=True)
    marketplace_id = fields.Many2one("amazon.marketplace", string="Marketplace", required=True, readonly=True,
                                     ondelete="restrict")
    sequence = fields.Integer(related="marketplace_id.sequence", store=True)
    currency_id = fields.Many2one(related="marketplace_id.currency_id", string="Currency")
    is_main = fields.Boolean(string="Main", compute="_compute_is_main")
    pricelist_id = fields.Many2one(
        "product.pricelist", string="Price List", check_company=True,
        domain="[('currency_id', '=', currency_id)]",
        help="Price list of this marketplace's sales, in its currency; it also receives the prices of its "
        "listings. Empty on the main marketplace: the connection's price list.",
    )
    fiscal_position_id = fields.Many2one(
        "account.fiscal.position", string="Fiscal Position", check_company=True,
        help="Applied to every sale of this marketplace (e.g. a foreign customer: no Mexican IVA). Empty: the "
        "fiscal position Odoo picks for each customer.",
    )
    confirmed = fields.Boolean(
        help="A person checked the price list and fiscal position: the orders of this marketplace are imported. "
        "Proposed settings of a new marketplace wait for this.",
    )
    # The listings report Amazon still prepares for this marketplace (the main one's is on the connection).
    listing_report_id = fields.Char(string="Pending Listings Report", readonly=True, copy=False)
    listing_report_date = fields.Datetime(string="Listings Report Requested", readonly=True, copy=False)

    _account_marketplace_unique = models.Constraint(
        "UNIQUE(account_id, marketplace_id)", "A marketplace has one line of settings per connection.",
    )

    @api.depends("marketplace_id", "account_id.marketplace_id")
    def _compute_is_main(self):
        for line in self:
            line.is_main = line.marketplace_id == line.account_id.marketplace_id

    @api.constrains("pricelist_id", "marketplace_id")
    def _check_pricelist_currency(self):
        for line in self:
            check_pricelist_currency(line.pricelist_id, line.marketplace_id)

    def _effective_pricelist(self):
        """The price list the marketplace's sales use (the connection's for the main marketplace)."""
        self.ensure_one()
        if self.pricelist_id:
            return self.pricelist_id
        account = self.account_id
        if self.is_main and account.pricelist_id.currency_id == self.marketplace_id.currency_id:
            return account.pricelist_id
        return self.env["product.pricelist"]

    def _missing_text(self):
        """What a person must still set before this marketplace's orders are imported (False: nothing)."""
        self.ensure_one()
        _ = self.env._
        names = {"marketplace": self.marketplace_id.name, "connection": self.account_id.name,
                 "currency": self.marketplace_id.currency_id.name}
        if self.is_main and not self.pricelist_id:
            return False  # the connection's price list applies, as on a connection with one marketplace
        if not self._effective_pricelist():
            return _("Orders of %(marketplace)s need a price list in %(currency)s: set it in the Marketplaces "
                     "tab of the connection “%(connection)s”, then confirm it.", **names)
        if not (self.confirmed or self.is_main):
            return _("The settings of %(marketplace)s on the connection “%(connection)s” are proposals: check "
                     "its price list and fiscal position in the Marketplaces tab, then confirm them.", **names)
        return False

    def action_confirm(self):
        """Confirm the settings, then import the marketplace's orders that waited for them."""
        if not self.env.user.has_group(MANAGER):
            raise AccessError(self.env._("Only Amazon administrators can change the marketplaces of a connection."))
        for line in self:
            if not line.is_main and not line._effective_pricelist():
                raise ValidationError(line._missing_text())
        self.write({"confirmed": True})
        for account, lines in self.grouped("account_id").items():
            account.sudo()._marketplace_settings_confirmed(lines.marketplace_id)
        return True

    # ------------------------------------------------------------------ the lines of a connection

    @api.model
    def _ensure_for(self, accounts):
        """One settings line per marketplace each connection reads (proposals for a new one); the lines of
        marketplaces no longer read are dropped."""
        for account in accounts.sudo():
            wanted = account._get_marketplaces()
            lines = account.marketplace_setting_ids
            stale = lines.filtered(lambda line, w=wanted: line.marketplace_id not in w)
            stale.unlink()
            missing = wanted - (lines - stale).marketplace_id
            if missing:
                self.sudo().create([self._proposal(account, mkt) for mkt in missing])

    @api.model
    def _proposal(self, account, marketplace):
        """Values of a new settings line. The main marketplace keeps today's behaviour (the connection's price
        list, Odoo's fiscal position per customer) and needs no confirmation; another marketplace gets a price
        list in its currency and, when it sells abroad, the company's foreign-customer fiscal position, both
        to be confirmed by a person."""
        vals = {"account_id": account.id, "marketplace_id": marketplace.id}
        if marketplace == account.marketplace_id:
            return dict(vals, confirmed=True)
        vals["pricelist_id"] = self._propose_pricelist(account, marketplace).id
        if marketplace.country_id and marketplace.country_id != account.company_id.country_id:
            fpos = self.env["account.chart.template"].with_company(account.company_id).ref(
                "account_fiscal_position_foreign", raise_if_not_found=False)
            vals["fiscal_position_id"] = fpos.id if fpos else False
        return vals

    @api.model
    def _propose_pricelist(self, account, marketplace):
        """A price list of the company in the marketplace's currency: an existing one, else a new one."""
        currency = marketplace.currency_id
        if account.pricelist_id and account.pricelist_id.currency_id == currency:
            return account.pricelist_id
        Pricelist = self.env["product.pricelist"].sudo()
        pricelist = Pricelist.search([
            ("currency_id", "=", currency.id), ("company_id", "in", (False, account.company_id.id)),
        ], order="company_id desc, id", limit=1)
        if pricelist:
            return pricelist
        if not currency.active:
            currency.sudo().active = True
        return Pricelist.create({
            "name": self.env._("Amazon %s", marketplace.name),
            "currency_id": currency.id,
            "company_id": account.company_id.id,
        })

    @api.model
    def _for(self, account, marketplace):
        """The settings line of ``marketplace`` on ``account`` (empty when it has none)."""
        account.ensure_one()
        return account.marketplace_setting_ids.filtered(lambda line: line.marketplace_id == marketplace)[:1]

    @api.model
    def _pricelist_for(self, account, marketplace):
        """The price list of ``marketplace``'s sales and listing prices on ``account`` (empty when none is set)."""
        line = self._for(account, marketplace)
        if line:
            return line._effective_pricelist()
        if marketplace == account.marketplace_id and account.pricelist_id.currency_id == marketplace.currency_id:
            return account.pricelist_id
        return self.env["product.pricelist"]

    @api.model
    def _missing_text_for(self, account, marketplace):
        """Why orders of ``marketplace`` cannot be imported yet, naming what to set (False: they can)."""
        line = self._for(account, marketplace)
        if line:
            return line._missing_text()
        if marketplace == account.marketplace_id:
            return False
        return self.env._(
            "Orders of %(marketplace)s need a price list in %(currency)s: add %(marketplace)s to the marketplaces "
            "of the connection “%(connection)s” (Advanced tab), then set and confirm its settings.",
            marketplace=marketplace.name, currency=marketplace.currency_id.name, connection=account.name,
        )
