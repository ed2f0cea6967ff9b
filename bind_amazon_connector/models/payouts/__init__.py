from . import (
    amazon_settlement, amazon_settlement_transaction, amazon_settlement_line, amazon_fee_account,
    account_move, account_payment, amazon_payout_sync,
)
