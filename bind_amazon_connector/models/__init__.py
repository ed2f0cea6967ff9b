from . import amazon_account, amazon_marketplace
