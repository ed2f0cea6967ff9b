from odoo import fields, models


class ResPartner(models.Model):
    _inherit = "res.partner"

    amazon_buyer_key = fields.Char(
        copy=False, readonly=True, index="btree_not_null", groups="base.group_system",
        help="Fingerprint (a hash, no personal data) of the Amazon buyer, or of the buyer's delivery address, "
        "this contact was created for, so that a returning buyer reuses it.",
    )

    # Two importers meeting the same new buyer at once: the second one's insert waits for the first and fails,
    # and its page is tried again in a fresh transaction that finds the contact (one contact per buyer).
    _amazon_buyer_key_unique = models.UniqueIndex(
        "(amazon_buyer_key, COALESCE(company_id, 0)) WHERE amazon_buyer_key IS NOT NULL")
