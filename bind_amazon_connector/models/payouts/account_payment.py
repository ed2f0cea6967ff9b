from odoo import fields, models


class AccountPayment(models.Model):
    _inherit = "account.payment"

    amazon_settlement_id = fields.Many2one("amazon.settlement", string="Amazon Settlement", copy=False,
                                           index="btree_not_null", readonly=True, ondelete="set null")
