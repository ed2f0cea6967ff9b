from . import amazon_profit_report
