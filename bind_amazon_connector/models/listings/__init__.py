from . import amazon_listing, amazon_account
