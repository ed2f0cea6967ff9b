from . import amazon_account
