"""The stock flow's problem was stored on the connection's row: move it to the flow's progress row
(``amazon.sync.cursor``, flow "stock") and drop the old column, so that nothing reads a stale copy."""
from odoo.tools import SQL
from odoo.tools.sql import column_exists


def migrate(cr, version):
    if not column_exists(cr, "amazon_account", "stock_push_message"):
        return
    cr.execute(SQL(
        """INSERT INTO amazon_sync_cursor (account_id, flow, message, create_uid, write_uid, create_date, write_date)
           SELECT id, 'stock', stock_push_message, 1, 1, now() at time zone 'UTC', now() at time zone 'UTC'
             FROM amazon_account
            WHERE stock_push_message IS NOT NULL
           ON CONFLICT (account_id, flow) DO UPDATE SET message = EXCLUDED.message"""))
    cr.execute(SQL("ALTER TABLE amazon_account DROP COLUMN stock_push_message"))
