from odoo import _, fields, models


class AmazonMarketplace(models.Model):
    _inherit = "amazon.marketplace"

    generic_partner_id = fields.Many2one(
        "res.partner", string="Generic Customer",
        help="Customer of the sales whose buyer Amazon does not disclose (Mexico: Público en General).",
    )

    def _get_generic_partner(self):
        """The marketplace's generic customer, created the first time it is needed."""
        self.ensure_one()
        if not self.generic_partner_id:
            self.sudo().generic_partner_id = self.env["res.partner"].sudo().create({
                "name": _("%s customer", self.name),
                "is_company": True,
                "country_id": self.country_id.id,
                "comment": _("Generic customer of Amazon sales whose buyer is not known."),
            })
        return self.generic_partner_id
