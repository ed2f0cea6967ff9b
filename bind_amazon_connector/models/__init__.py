# One folder per flow. Each folder holds the flow's own records, the connection's part of the flow
# (amazon_account.py) and the Odoo models the flow extends, one file per model.
from . import connection, listings, orders, stock, payouts, dashboard
