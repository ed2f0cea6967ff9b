from odoo import fields, models


class AccountMove(models.Model):
    _inherit = "account.move"

    amazon_settlement_id = fields.Many2one("amazon.settlement", string="Amazon Settlement", copy=False,
                                           index="btree_not_null", readonly=True, ondelete="set null")
    amazon_fee_bill = fields.Boolean(string="Amazon fee bill", copy=False, readonly=True,
                                     help="Vendor bill of Amazon's fees of a settlement.")
    amazon_cfdi_uuid = fields.Char(string="CFDI Fiscal Folio", copy=False, index="btree_not_null",
                                   help="UUID of the supplier's CFDI loaded with the commission invoice wizard.")

    _amazon_cfdi_uuid_unique = models.Constraint(
        "UNIQUE(amazon_cfdi_uuid)", "This CFDI (fiscal folio) is already recorded on another bill."
    )
