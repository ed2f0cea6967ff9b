from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ...spapi import errors
from ...spapi.config import check_url
from .access import loopback_allowed


class AmazonMarketplace(models.Model):
    """Shared by every company: written by system administrators only (see the access rights)."""

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
    generic_partner_id = fields.Many2one(
        "res.partner", string="Generic Customer",
        help="Customer of the sales whose buyer Amazon does not disclose (Mexico: Público en General).",
    )

    _marketplace_id_unique = models.Constraint(
        "UNIQUE(marketplace_id)", "An Amazon marketplace is defined only once."
    )

    @api.constrains("seller_central_host")
    def _check_seller_central_host(self):
        """Sellers log in there and the authorization state travels there: Amazon's Seller Central only."""
        for marketplace in self:
            host = (marketplace.seller_central_host or "").strip()
            try:
                check_url(host if host.startswith(("http://", "https://")) else "https://" + host,
                          "seller_central", loopback_allowed())
            except errors.SpApiError as exc:
                raise ValidationError(self.env._(
                    "The Seller Central host of %(marketplace)s is refused: %(reason)s",
                    marketplace=marketplace.name, reason=str(exc),
                )) from None

    def _get_generic_partner(self):
        """The marketplace's generic customer, created the first time it is needed."""
        self.ensure_one()
        if not self.generic_partner_id:
            self.sudo().generic_partner_id = self.env["res.partner"].sudo().create({
                "name": self.env._("%s customer", self.name),
                "is_company": True,
                "country_id": self.country_id.id,
                "comment": self.env._("Generic customer of Amazon sales whose buyer is not known."),
            })
        return self.generic_partner_id
