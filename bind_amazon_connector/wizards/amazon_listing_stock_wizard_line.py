"""A line of "Set Stock from Amazon": one product in one warehouse, Odoo's quantity and Amazon's, and the
quants that make the warehouse hold Amazon's (inventory mode)."""
from odoo import api, fields, models


class AmazonListingStockWizardLine(models.TransientModel):
    _name = "amazon.listing.stock.wizard.line"
    _description = "Set Stock from Amazon: line"
    _order = "channel desc, id"

    wizard_id = fields.Many2one("amazon.listing.stock.wizard", required=True, ondelete="cascade")
    product_id = fields.Many2one("product.product", string="Product", required=True, readonly=True)
    warehouse_id = fields.Many2one("stock.warehouse", string="Warehouse", required=True, readonly=True)
    channel = fields.Selection(
        [("merchant", "Merchant"), ("amazon", "Amazon (FBA)")], string="Fulfillment", readonly=True)
    skus = fields.Char(string="Amazon SKUs", readonly=True)
    current_qty = fields.Float(string="In Odoo", digits="Product Unit", readonly=True)
    amazon_qty = fields.Float(string="On Amazon", digits="Product Unit", readonly=True)
    difference = fields.Float(digits="Product Unit", compute="_compute_difference")
    can_apply = fields.Boolean(readonly=True)
    apply = fields.Boolean(default=True)
    note = fields.Char(readonly=True)

    @api.depends("current_qty", "amazon_qty")
    def _compute_difference(self):
        for line in self:
            line.difference = line.amazon_qty - line.current_qty

    def _prepare_quants(self, Quant):
        """Quants set (inventory mode) so that the warehouse holds Amazon's quantity: a gain is added in the
        warehouse's stock location; a loss is taken from the quants that hold the product."""
        self.ensure_one()
        product, stock_location = self.product_id, self.warehouse_id.lot_stock_id
        held = self.env["stock.quant"].search([
            ("product_id", "=", product.id), ("location_id", "child_of", self.warehouse_id.view_location_id.id),
            ("location_id.usage", "=", "internal"), ("lot_id", "=", False), ("package_id", "=", False),
            ("owner_id", "=", False),
        ])
        # re-read Odoo's quantity now: the preview may be a few minutes old
        current = product.with_context(warehouse_id=self.warehouse_id.id).qty_available
        difference = self.amazon_qty - current
        if product.uom_id.compare(difference, 0) == 0:
            return Quant.browse()
        at_stock = held.filtered(lambda q: q.location_id == stock_location)[:1]
        targets = {}  # quant -> quantity it must hold
        if difference > 0:
            if not at_stock:
                return Quant.create({"product_id": product.id, "location_id": stock_location.id,
                                     "inventory_quantity": difference})
            targets[at_stock] = at_stock.quantity + difference
        else:
            remaining = -difference
            # take from the stock location first, then from its sub-locations
            for quant in held.filtered(lambda q: q.quantity > 0).sorted(
                    lambda q: (q.location_id != stock_location, q.id)):
                if product.uom_id.compare(remaining, 0) <= 0:
                    break
                take = min(remaining, quant.quantity)
                targets[quant] = quant.quantity - take
                remaining -= take
            if product.uom_id.compare(remaining, 0) > 0:
                # Odoo counts units its plain quants do not hold (packages, lots): the stock location goes negative
                if not at_stock:
                    return Quant.create({"product_id": product.id, "location_id": stock_location.id,
                                         "inventory_quantity": -remaining}) | self._set_targets(Quant, targets)
                targets[at_stock] = targets.get(at_stock, at_stock.quantity) - remaining
        return self._set_targets(Quant, targets)

    def _set_targets(self, Quant, targets):
        quants = Quant.browse()
        for quant, target in targets.items():
            quant = Quant.browse(quant.id)
            quant.write({"inventory_quantity": target})
            quants |= quant
        return quants
