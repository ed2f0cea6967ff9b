from . import test_account_settings
from . import test_account_validation
from . import test_account_security
from . import test_account_connection
from . import test_oauth
from . import test_listing_import
from . import test_listing_stock
from . import test_order_import
from . import test_finance
from . import test_cfdi
from . import test_finance_settlement
from . import test_order_totals
from . import test_order_sync
from . import test_finance_orders
from . import test_stock_push
from . import test_sync_jobs
from . import test_concurrent_import
from . import test_security, test_security_oauth
from . import test_order_shipments
from . import test_marketplaces
from . import test_first_hour
from . import test_translations
from . import test_tour
from . import test_restart_safety
from . import test_sync_cursor
from . import test_access_money, test_access_company
from . import test_access_matrix
