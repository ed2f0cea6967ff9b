"""A new connection numbers its invoices in a sales journal of its own; the connections made before keep numbering
where they did: their sales journal is set to the one Odoo used for them, the company's Sales journal (the first
by sequence), so nothing changes for them until an accountant chooses another.
"""
from odoo import SUPERUSER_ID, api

from odoo.addons.bind_amazon_connector.models.connection.connection_journals import company_sales_journal


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    for account in env["amazon.account"].with_context(active_test=False).search([("sales_journal_id", "=", False)]):
        journal = company_sales_journal(env, account.company_id)
        if journal:
            account.write({"sales_journal_id": journal.id})
