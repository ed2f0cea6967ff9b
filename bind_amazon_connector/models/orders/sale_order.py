from odoo import fields, models


class SaleOrder(models.Model):
    _inherit = "sale.order"

    amazon_order_id = fields.Many2one(
        "amazon.order", string="Amazon Order", copy=False, readonly=True, index="btree_not_null",
        ondelete="set null",
    )

    # One sale order per Amazon order, whatever runs the import (a second cron worker, a retry, a rerun).
    _amazon_order_unique = models.UniqueIndex(
        "(amazon_order_id) WHERE amazon_order_id IS NOT NULL",
        "This Amazon order already has a sale order.",
    )

    def _prepare_confirmation_values(self):
        values = super()._prepare_confirmation_values()
        if self.env.context.get("amazon_keep_date_order"):
            # An Amazon sale is dated when the buyer placed it, not when Odoo imported it.
            values.pop("date_order", None)
        return values

    def action_view_amazon_order(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "amazon.order",
            "res_id": self.amazon_order_id.id,
            "view_mode": "form",
            "views": [(False, "form")],
        }


class SaleOrderLine(models.Model):
    _inherit = "sale.order.line"

    amazon_order_item_id = fields.Char(
        string="Amazon Order Item", copy=False, readonly=True,
        help="Amazon's identifier of the order item this line comes from.",
    )
