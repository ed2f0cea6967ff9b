from odoo import fields, models


class AmazonAccountMarketplace(models.Model):
    _inherit = "amazon.account.marketplace"

    # The listings report Amazon still prepares for this marketplace (the main one's is on the connection).
    listing_report_id = fields.Char(string="Pending Listings Report", readonly=True, copy=False)
    listing_report_date = fields.Datetime(string="Listings Report Requested", readonly=True, copy=False)
