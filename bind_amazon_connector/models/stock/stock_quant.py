"""Any quant change (on hand or reserved) is noted for the "also after any stock change" toggle.

Every change of on-hand or reserved quantities in Odoo goes through ``_update_available_quantity``
(moves done, reservations, inventory adjustments). Only a note is taken here, in memory; which
connections care is decided once per transaction (see ``amazon_stock_push.py``).
"""
from odoo import api, models

from .amazon_stock_push import note_stock_changes


class StockQuant(models.Model):
    _inherit = "stock.quant"

    @api.model
    def _update_available_quantity(self, product_id, location_id, *args, **kwargs):
        res = super()._update_available_quantity(product_id, location_id, *args, **kwargs)
        if product_id.is_storable and location_id.usage == "internal":
            note_stock_changes(self.env, locations={(location_id.id, product_id.id)})
        return res
