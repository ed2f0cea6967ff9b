from . import test_account_settings
