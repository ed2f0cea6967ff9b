"""The shared set-up of the addon's Odoo tests, one module per concept, mirroring the code's packages:

- ``connection``: the Mexican company, the simulator and the authorized connection every test starts from; the
  scheduler and its commits as the tests play them (``AmazonTestCommon``, ``Commits``, ``run_migration``);
- ``listings``: Amazon-shaped listings reports and their import (``ListingTestMixin``, ``report_row``);
- ``orders``: mapped products, orders at Amazon and the orders sync (``AmazonOrderCommon``); the stock tests'
  listings at Amazon (``AmazonStockCommon``);
- ``payouts``: Amazon's transactions and settlement reports, invoices of Amazon orders, CFDI documents
  (``AmazonFinanceCommon``, ``build_cfdi``);
- ``tours``: the browser tests' screenshots (``screenshot_console``, ``screenshots_dir``).

Test modules import from here: ``from .common import AmazonOrderCommon``."""
from .connection import (
    AMAZON_ADMIN, AMAZON_USER, SIM_CLIENT_ID, SIM_CLIENT_SECRET, SIM_REFRESH_TOKEN, AmazonTestCommon, Commits,
    run_migration,
)
from .listings import REPORT_TYPE, ListingTestMixin, iter_report_lines, report_row, report_text
from .orders import AmazonOrderCommon, AmazonStockCommon
from .payouts import AMAZON_RFC, CFDI_NS, COMPANY_RFC, SETTLEMENT_REPORT, AmazonFinanceCommon, build_cfdi
from .tours import screenshot_console, screenshots_dir

__all__ = [
    "AMAZON_ADMIN", "AMAZON_USER", "AMAZON_RFC", "CFDI_NS", "COMPANY_RFC", "REPORT_TYPE", "SETTLEMENT_REPORT",
    "SIM_CLIENT_ID", "SIM_CLIENT_SECRET", "SIM_REFRESH_TOKEN", "AmazonFinanceCommon", "AmazonOrderCommon",
    "AmazonStockCommon", "AmazonTestCommon", "Commits", "ListingTestMixin", "build_cfdi", "iter_report_lines",
    "report_row", "report_text", "run_migration", "screenshot_console", "screenshots_dir",
]
