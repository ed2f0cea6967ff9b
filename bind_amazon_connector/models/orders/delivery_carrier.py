"""The carrier a delivery leaves with, as Amazon names it in shipment confirmations."""
from odoo import fields, models
from odoo.exceptions import AccessError


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

    def write(self, vals):
        """The Amazon names of a carrier shared by every company are what every company's shipments send:
        only system administrators change them (a company's own carrier, its users with write access)."""
        amazon = {"amazon_carrier_code", "amazon_carrier_name", "amazon_shipping_method"} & set(vals)
        if amazon and not self.env.su and not self.env.user._is_system() and \
                self.filtered(lambda carrier: not carrier.company_id):
            raise AccessError(self.env._(
                "Only system administrators change the Amazon carrier code, name or shipping method of a carrier "
                "shared by every company."))
        return super().write(vals)
