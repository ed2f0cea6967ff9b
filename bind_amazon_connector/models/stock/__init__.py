from . import amazon_stock_push, amazon_account, stock_quant, stock_move, amazon_stock_sync
