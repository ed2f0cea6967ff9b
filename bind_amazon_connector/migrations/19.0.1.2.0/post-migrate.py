"""Where the orders sync stood was stored on the connection's row: move it to its own progress row
(``amazon.sync.cursor``, flow "orders") and drop the old columns, so that nothing reads a stale copy."""
from odoo.tools import SQL
from odoo.tools.sql import column_exists

OLD_COLUMNS = {
    "orders_cursor": "cursor",
    "orders_window_start": "window_start",
    "orders_window_end": "window_end",
    "orders_next_token": "next_token",
    "orders_last_sync": "last_sync",
    "orders_sync_message": "message",
}


def migrate(cr, version):
    present = {old: new for old, new in OLD_COLUMNS.items() if column_exists(cr, "amazon_account", old)}
    if not present:
        return
    cr.execute(SQL(
        """INSERT INTO amazon_sync_cursor (account_id, flow, %(new)s, create_uid, write_uid, create_date, write_date)
           SELECT id, 'orders', %(old)s, 1, 1, now() at time zone 'UTC', now() at time zone 'UTC'
             FROM amazon_account
           ON CONFLICT (account_id, flow) DO UPDATE SET %(update)s""",
        new=SQL(", ").join(SQL.identifier(new) for new in present.values()),
        old=SQL(", ").join(SQL.identifier(old) for old in present),
        update=SQL(", ").join(SQL("%s = EXCLUDED.%s", SQL.identifier(new), SQL.identifier(new))
                              for new in present.values()),
    ))
    for old in present:
        cr.execute(SQL("ALTER TABLE amazon_account DROP COLUMN %s", SQL.identifier(old)))
