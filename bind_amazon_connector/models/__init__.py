# One folder per flow: the flow's owner (amazon_<flow>_sync.py), its records, and the Odoo models it extends,
# one file per model; plain modules beside them hold logic too large for one model's file. The connection
# (connection/amazon_account.py) holds every flow's settings and status.
from . import connection, listings, orders, stock, payouts, returns, reporting
