"""The carrier a delivery leaves with, as Amazon names it in shipment confirmations."""
from odoo import fields, models


class DeliveryCarrier(models.Model):
    _inherit = "delivery.carrier"

    amazon_carrier_code = fields.Char(
        string="Amazon Carrier Code",
        help="The carrier's code in Amazon's carrier list (e.g. Estafeta, DHL, FedEx, UPS, Redpack, Paquetexpress, "
        "99minutos), spelled exactly as Amazon does. For a carrier missing from the list use Other: its name is "
        "sent with it.",
    )
    amazon_carrier_name = fields.Char(
        string="Carrier Name on Amazon",
        help="With the code Other: the carrier's name the buyer sees (the delivery method's name when empty).",
    )
    amazon_shipping_method = fields.Char(
        string="Amazon Shipping Method", help="The service sent to Amazon, e.g. Día siguiente, Terrestre.",
    )
