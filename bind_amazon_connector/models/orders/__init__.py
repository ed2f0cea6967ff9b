from . import (
    amazon_order, sale_order, sale_order_line, res_partner, account_tax,
    amazon_shipment, stock_picking, delivery_carrier, mail_thread, amazon_order_sync, amazon_buyer_data,
)
