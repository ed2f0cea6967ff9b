from . import amazon_account, amazon_marketplace
from . import amazon_oauth_state
from . import res_company
from . import amazon_listing, amazon_account_listings
from . import amazon_order, amazon_account_orders, amazon_marketplace_orders, sale_order, res_partner
from . import amazon_settlement, amazon_account_finance, amazon_cfdi
from . import amazon_stock_push, amazon_listing_stock, amazon_account_stock, stock_quant, stock_move
from . import account_tax
