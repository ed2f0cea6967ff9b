from . import amazon_token_wizard
from . import amazon_listing_stock_wizard
from . import amazon_listing_stock_wizard_line
from . import amazon_commission_invoice_wizard
from . import amazon_order_invoice_correction
