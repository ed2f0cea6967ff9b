"""Earlier versions stored their own sum as "Charged by Amazon": read Amazon's totals again from the stored
payloads, so the order list's "Invoice differs from Amazon" filter and the "Correct Invoice Totals" action
find the invoices to correct."""
from odoo import SUPERUSER_ID, api
from odoo.tools import split_every


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    Order = env["amazon.order"].with_context(active_test=False)
    for ids in split_every(500, Order.search([("state", "=", "imported")]).ids):
        Order.browse(ids)._refresh_amazon_totals()
