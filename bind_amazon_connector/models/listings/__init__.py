from . import amazon_listing, amazon_listing_sync
