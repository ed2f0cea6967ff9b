from . import amazon_stock_push, stock_quant, stock_move, amazon_stock_sync
