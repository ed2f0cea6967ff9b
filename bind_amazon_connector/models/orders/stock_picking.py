"""Deliveries of merchant-fulfilled Amazon orders: carrier and tracking checked before validation, the validated
package queued for its confirmation on Amazon, its state and a retry on the delivery."""
from collections import defaultdict

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..connection.access import AMAZON_USER, check_group
from .amazon_shipment import OPEN_STATES, STATES

#: Context key of the import validating a delivery because Amazon reported it shipped: nothing to confirm.
FROM_AMAZON = "amazon_shipped_on_amazon"


class StockPicking(models.Model):
    _inherit = "stock.picking"

    amazon_shipment_ids = fields.One2many("amazon.shipment", "picking_id", string="Amazon Confirmation")
    amazon_shipment_state = fields.Selection(
        STATES, string="Amazon Confirmation State", compute="_compute_amazon_shipment",
        search="_search_amazon_shipment_state")
    amazon_shipment_message = fields.Text(string="Amazon Confirmation Message", compute="_compute_amazon_shipment")

    @api.depends("amazon_shipment_ids.state", "amazon_shipment_ids.message")
    def _compute_amazon_shipment(self):
        for picking in self:
            shipment = picking.sudo().amazon_shipment_ids[:1]
            picking.amazon_shipment_state = shipment.state or False
            picking.amazon_shipment_message = shipment.message or False

    def _search_amazon_shipment_state(self, operator, value):
        if operator not in ("in", "not in"):
            return NotImplemented
        return [("amazon_shipment_ids", "any" if operator == "in" else "not any", [("state", "in", value)])]

    # ------------------------------------------------------------------ which deliveries are confirmed

    def _amazon_order_to_confirm(self):
        """The Amazon order whose package this delivery is, when Odoo must confirm it on Amazon; else empty."""
        self.ensure_one()
        empty = self.env["amazon.order"]
        if self.picking_type_code != "outgoing" or self.location_dest_id.usage != "customer":
            return empty  # an intermediate step (pick, pack) or a return
        amazon_order = self.sale_id.amazon_order_id
        if not amazon_order or amazon_order.fulfillment_channel != "merchant":
            return empty
        if amazon_order.account_id.fbm_shipment_mode != "odoo":
            return empty
        if amazon_order.state == "cancelled" or amazon_order.amazon_status in ("SHIPPED", "CANCELLED"):
            return empty
        if not any(m.sale_line_id.amazon_order_item_id for m in self.move_ids if not m.origin_returned_move_id):
            return empty
        return amazon_order

    def _amazon_package_items(self):
        """[[order item id, units]] of the done moves of this delivery, in the sale line's unit, never more
        than what is left of the line after the packages already queued."""
        self.ensure_one()
        units = defaultdict(float)
        lines = {}
        for move in self.move_ids:
            line = move.sale_line_id
            if move.state != "done" or move.origin_returned_move_id or not line.amazon_order_item_id:
                continue
            units[line.amazon_order_item_id] += move.product_uom._compute_quantity(move.quantity, line.product_uom_id)
            lines[line.amazon_order_item_id] = line
        queued = defaultdict(int)
        others = self.env["amazon.shipment"].sudo().search([
            ("amazon_order_id", "=", self.sale_id.amazon_order_id.id), ("picking_id", "!=", self.id),
            ("state", "!=", "cancelled")])
        for shipment in others:
            for item_id, qty in shipment.items or []:
                queued[item_id] += qty
        items = []
        for item_id, qty in units.items():
            qty = min(int(round(qty)), int(lines[item_id].product_uom_qty) - queued[item_id])
            if qty > 0:
                items.append([item_id, qty])
        return items

    # ------------------------------------------------------------------ validation

    def _pre_action_done_hook(self):
        if not self.env.context.get(FROM_AMAZON):
            self._amazon_check_shipping_details()
        return super()._pre_action_done_hook()

    def _amazon_check_shipping_details(self):
        """Amazon needs the carrier (and, unless the connection allows without, the tracking number) of a
        package Odoo confirms: ask for them before the delivery is validated."""
        problems = []
        for picking in self:
            amazon_order = picking.sudo()._amazon_order_to_confirm()
            if not amazon_order:
                continue
            missing = []
            carrier = picking.carrier_id
            if not carrier:
                missing.append(_("the carrier"))
            elif not carrier.sudo().amazon_carrier_code:
                missing.append(_("the Amazon carrier code of the carrier %s", carrier.name))
            if not (picking.carrier_tracking_ref or "").strip() and \
                    amazon_order.account_id.fbm_tracking_policy != "allow":
                missing.append(_("the tracking number"))
            if missing:
                problems.append(_("%(delivery)s (Amazon order %(order)s): %(missing)s",
                                  delivery=picking.name, order=amazon_order.name, missing=", ".join(missing)))
        if problems:
            raise UserError(_(
                "Amazon needs the carrier and tracking number of the package to confirm the shipment. Fill in "
                "the Additional Info tab, then validate again:\n%s", "\n".join(problems)))

    def _action_done(self):
        res = super()._action_done()
        if not self.env.context.get(FROM_AMAZON):
            self.env["amazon.shipment"]._enqueue(self.filtered(lambda p: p.state == "done"))
        return res

    # ------------------------------------------------------------------ user actions

    def action_amazon_retry_confirmation(self):
        """Send the refused confirmation of these deliveries again (after fixing the carrier or tracking)."""
        check_group(self.env, AMAZON_USER, message=_("Only Amazon users can retry shipment confirmations."))
        self.check_access("read")
        shipments = self.sudo().amazon_shipment_ids.filtered(lambda s: s.state in OPEN_STATES)
        retried = shipments._retry()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "info" if retried else "warning",
                "message": _("The confirmation is sent to Amazon in a moment.") if retried else
                _("Nothing to confirm on Amazon for these deliveries."),
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }
