"""Kept for the imports of the models until the lead updates them: the parsers now live beside each API's calls."""
from .finances import (  # noqa: F401
    parse_breakdown,
    parse_transaction,
    parse_transaction_context,
    parse_transactions_page,
)
from .inventory import parse_inventory_page, parse_inventory_summary  # noqa: F401
from .listings import (  # noqa: F401
    parse_listing_issue,
    parse_listings_item,
    parse_listings_search,
    parse_patch_result,
)
from .orders import (  # noqa: F401
    parse_address,
    parse_get_order,
    parse_order,
    parse_order_item,
    parse_orders_page,
    parse_package,
    parse_proceeds_breakdown,
)
from .reports import parse_create_report, parse_report, parse_report_document, parse_reports_page  # noqa: F401
from .sellers import parse_marketplace_participation, parse_marketplace_participations  # noqa: F401
from .values import parse_money, to_datetime, to_decimal  # noqa: F401
