from odoo import fields, models


class SaleOrderLine(models.Model):
    _inherit = "sale.order.line"

    amazon_order_item_id = fields.Char(
        string="Amazon Order Item", copy=False, readonly=True,
        help="Amazon's identifier of the order item this line comes from.",
    )
