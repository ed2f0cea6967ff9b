from . import amazon_listing, amazon_account, amazon_account_marketplace, amazon_listing_sync
