"""The payouts flow's cursor and problem were stored on the connection's row, and the payouts job wrote them
there after each read: move them to the flow's progress row (``amazon.sync.cursor``, flow "money") and drop
the old columns, so that nothing reads a stale copy."""
from odoo.tools import SQL
from odoo.tools.sql import column_exists


def migrate(cr, version):
    if not column_exists(cr, "amazon_account", "finance_sync_date"):
        return
    cr.execute(SQL(
        """INSERT INTO amazon_sync_cursor (account_id, flow, cursor, last_sync, message,
                                           create_uid, write_uid, create_date, write_date)
           SELECT id, 'money', finance_sync_date, finance_sync_date, finance_last_error,
                  1, 1, now() at time zone 'UTC', now() at time zone 'UTC'
             FROM amazon_account
            WHERE finance_sync_date IS NOT NULL OR finance_last_error IS NOT NULL
           ON CONFLICT (account_id, flow) DO UPDATE SET cursor = EXCLUDED.cursor, last_sync = EXCLUDED.last_sync,
                                                      message = EXCLUDED.message"""))
    cr.execute(SQL("ALTER TABLE amazon_account DROP COLUMN finance_sync_date, DROP COLUMN finance_last_error"))
