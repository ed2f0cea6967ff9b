from odoo import fields, models


class ResPartner(models.Model):
    _inherit = "res.partner"

    amazon_buyer_key = fields.Char(
        copy=False, readonly=True, index="btree_not_null", groups="base.group_system",
        help="Fingerprint (a hash, no personal data) of the Amazon buyer this contact was created for, "
        "so that a returning buyer reuses it.",
    )
