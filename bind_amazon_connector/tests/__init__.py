from . import test_account_settings
from . import test_account_validation
from . import test_account_security
from . import test_account_connection
from . import test_oauth
from . import test_listing_import, test_listing_stock
from . import test_order_import
from . import test_finance, test_cfdi
from . import test_order_sync
from . import test_finance_orders
from . import test_stock_push
from . import test_restart_safety
