from . import (
    amazon_order, amazon_account, amazon_marketplace, sale_order, res_partner, account_tax,
    amazon_shipment, stock_picking, delivery_carrier, stock_quant, mail_thread, amazon_order_sync,
)
