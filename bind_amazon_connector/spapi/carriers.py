"""Carrier codes for shipment confirmations of merchant-fulfilled orders.

Amazon requires a carrier code on every confirmation (Mexico since 2022) and accepts only the values of its
carrier list; a carrier missing from the list is sent as ``Other`` with its name. These are the codes of the
carriers Mexican sellers commonly use, as Amazon spells them (the code is case- and accent-sensitive), plus
``Other``. Plain data: the addon prefills its carriers from it, the simulator accepts these codes in Mexico.
"""
from .shipments import CARRIER_OTHER

#: Amazon carrier code -> the carrier's usual name.
MEXICAN_CARRIERS = {
    "Estafeta": "Estafeta",
    "DHL": "DHL",
    "FedEx": "FedEx",
    "UPS": "UPS",
    "Redpack": "Redpack",
    "Paquetexpress": "Paquetexpress",
    "99minutos": "99minutos",
    "Correos de Mexico": "Correos de México",
    CARRIER_OTHER: "Other",
}
