"""The only code of the project that talks to Amazon's Selling Partner API. Plain Python: no Odoo."""
