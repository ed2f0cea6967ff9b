from odoo import fields, models


class AmazonMarketplace(models.Model):
    _name = "amazon.marketplace"
    _description = "Amazon Marketplace"
    _order = "sequence, name"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    marketplace_id = fields.Char(
        string="Marketplace ID", required=True, help="Amazon's identifier, e.g. A1AM78C64UM0Y8."
    )
    region = fields.Selection(
        [("NA", "North America"), ("EU", "Europe"), ("FE", "Far East")], required=True, default="NA"
    )
    seller_central_host = fields.Char(required=True, help="Host of Seller Central, where sellers authorize apps.")
    currency_id = fields.Many2one("res.currency", required=True)
    country_id = fields.Many2one("res.country", required=True)
    prices_include_tax = fields.Boolean(
        help="Amazon's prices in this marketplace include sales tax (IVA in Mexico)."
    )
    active = fields.Boolean(default=True)

    _marketplace_id_unique = models.Constraint(
        "UNIQUE(marketplace_id)", "An Amazon marketplace is defined only once."
    )
