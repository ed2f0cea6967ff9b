from . import (
    amazon_company_guard,
    amazon_marketplace, amazon_account, amazon_oauth_state, amazon_account_marketplace, res_company, ir_cron,
    amazon_sync_job, amazon_sync_cursor,
)
