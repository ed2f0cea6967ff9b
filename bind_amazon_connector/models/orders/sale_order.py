from odoo import api, fields, models
from odoo.exceptions import AccessError

from ..connection.access import AMAZON_USER, check_group, is_trusted_writer


class SaleOrder(models.Model):
    _inherit = "sale.order"

    # The one stored link between an Amazon order and its sale order (amazon.order.sale_order_id reads it):
    # set by the import only, to an Amazon order of the same company.
    amazon_order_id = fields.Many2one(
        "amazon.order", string="Amazon Order", copy=False, readonly=True, index="btree_not_null",
        ondelete="restrict", check_company=True,
    )

    # One sale order per Amazon order, whatever runs the import (a second cron worker, a retry, a rerun).
    _amazon_order_unique = models.UniqueIndex(
        "(amazon_order_id) WHERE amazon_order_id IS NOT NULL",
        "This Amazon order already has a sale order.",
    )

    @api.model_create_multi
    def create(self, vals_list):
        if any(vals.get("amazon_order_id") for vals in vals_list):
            self._check_amazon_link_writer()
        return super().create(vals_list)

    def write(self, vals):
        if "amazon_order_id" in vals:
            self._check_amazon_link_writer()
        return super().write(vals)

    def _check_amazon_link_writer(self):
        # Retrying or cancelling an Amazon order acts on its sale order as superuser: whoever could point a
        # sale order at an Amazon order could have any sale order changed.
        if not is_trusted_writer(self.env):
            raise AccessError(self.env._("Only the Amazon order import links a sale order to an Amazon order."))

    def _prepare_confirmation_values(self):
        values = super()._prepare_confirmation_values()
        if self.env.context.get("amazon_keep_date_order"):
            # An Amazon sale is dated when the buyer placed it, not when Odoo imported it.
            values.pop("date_order", None)
        return values

    def action_view_amazon_order(self):
        check_group(self.env, AMAZON_USER)
        self.ensure_one()
        self.check_access("read")
        return {
            "type": "ir.actions.act_window",
            "res_model": "amazon.order",
            "res_id": self.amazon_order_id.id,
            "view_mode": "form",
            "views": [(False, "form")],
        }
