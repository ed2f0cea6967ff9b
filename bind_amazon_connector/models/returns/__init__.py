from . import amazon_return, amazon_return_sync
