"""The addon's Odoo tests drive the SP-API simulator (``spapi_simulator``), which ``pip install .`` installs
beside the addon. Odoo imports this package in every test run of a database where the addon is installed,
whatever the tags: where the simulator is absent (the addon copied into an addons path), no test of the addon
is loaded and a warning says how to get it, so that nobody else's test run breaks."""
import importlib.util
import logging

if importlib.util.find_spec("spapi_simulator") is None:
    logging.getLogger(__name__).warning(
        "bind_amazon_connector: tests not loaded, the SP-API simulator is not installed "
        "(pip install the addon's repository: `pip install .`, or put its root on PYTHONPATH)")
else:
    from . import test_connection_settings
    from . import test_connection_validation
    from . import test_access_secrets
    from . import test_connection_lifecycle
    from . import test_oauth
    from . import test_listing_import
    from . import test_listing_stock
    from . import test_order_import
    from . import test_payouts
    from . import test_payouts_cfdi
    from . import test_payouts_settlement
    from . import test_order_totals
    from . import test_order_business_buyer
    from . import test_order_promotions
    from . import test_order_sync
    from . import test_payouts_order_invoices
    from . import test_stock_push
    from . import test_sync_jobs
    from . import test_order_concurrent_import
    from . import test_access_probes, test_access_hosts
    from . import test_order_shipments
    from . import test_connection_marketplaces
    from . import test_first_hour
    from . import test_translations
    from . import test_first_hour_tour
    from . import test_restart_safety
    from . import test_sync_cursor
    from . import test_flow_runner
    from . import test_order_buyer_data
    from . import test_access_money, test_access_company
    from . import test_access_matrix
    from . import test_connection_journals
    from . import test_payouts_grouping
    from . import test_returns, test_return_refunds
    from . import test_profit_report, test_profit_store
