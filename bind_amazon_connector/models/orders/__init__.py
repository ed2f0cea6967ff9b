from . import (
    amazon_order, amazon_order_import, amazon_order_mapping, amazon_order_fulfillment, amazon_order_correction,
    amazon_account, amazon_marketplace, sale_order, res_partner, account_tax,
    amazon_shipment, stock_picking, delivery_carrier, mail_thread, amazon_order_sync, amazon_buyer_data,
)
