"""Where the orders sync stands lives in its own row (``amazon.sync.cursor``), not on the connection's row."""
import importlib.util
from pathlib import Path

from odoo.tools import SQL

from .common import AmazonOrderCommon

MIGRATION = Path(__file__).resolve().parent.parent / "migrations" / "19.0.1.2.0" / "post-migrate.py"


class TestSyncCursor(AmazonOrderCommon):

    def _row_version(self, account):
        """The physical version of the connection's row: any UPDATE of the row gives it a new one."""
        self.env.flush_all()
        self.env.cr.execute(SQL("SELECT ctid::text FROM amazon_account WHERE id = %s", account.id))
        return self.env.cr.fetchone()[0]

    def test_an_orders_page_does_not_write_the_connection(self):
        self._make_order(status="SHIPPED")
        before = self._row_version(self.amazon)
        result = self._sync()
        self.assertEqual(result["counts"].get("imported"), 1)
        self.assertEqual(self._row_version(self.amazon), before, "the connection's row was not written")
        row = self.env["amazon.sync.cursor"].search([("account_id", "=", self.amazon.id), ("flow", "=", "orders")])
        self.assertEqual(len(row), 1)
        self.assertTrue(row.cursor and row.last_sync)
        # the connection shows it
        self.assertEqual(self.amazon.orders_cursor, row.cursor)
        self.assertEqual(self.amazon.orders_last_sync, row.last_sync)

    def test_a_person_moving_the_cursor_writes_the_progress_row(self):
        self._make_order(status="SHIPPED")
        self._sync()
        row = self.env["amazon.sync.job"]._cursor(self.amazon, "orders")
        row.write({"window_start": row.cursor, "window_end": row.cursor, "next_token": "token-of-a-page"})
        self.amazon.orders_cursor = self.amazon.import_start_date
        self.assertEqual(row.cursor, self.amazon.import_start_date)
        self.assertFalse(row.next_token or row.window_start or row.window_end, "the reading in progress is reset")
        self.assertEqual(len(self.env["amazon.sync.cursor"].search([("account_id", "=", self.amazon.id)])), 1)

    def test_migration_moves_the_old_columns_to_the_progress_row(self):
        cr = self.env.cr
        cr.execute(SQL("""ALTER TABLE amazon_account ADD COLUMN orders_cursor timestamp,
                          ADD COLUMN orders_next_token varchar, ADD COLUMN orders_sync_message text"""))
        cr.execute(SQL("""UPDATE amazon_account SET orders_cursor = '2026-01-02 03:04:05',
                          orders_next_token = 'next-page', orders_sync_message = 'Amazon said no' WHERE id = %s""",
                       self.amazon.id))
        spec = importlib.util.spec_from_file_location("bac_migration_19_0_1_2_0", MIGRATION)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        module.migrate(cr, "19.0.1.1.0")
        self.env.invalidate_all()
        row = self.env["amazon.sync.cursor"].search([("account_id", "=", self.amazon.id), ("flow", "=", "orders")])
        self.assertEqual(str(row.cursor), "2026-01-02 03:04:05")
        self.assertEqual(row.next_token, "next-page")
        self.assertEqual(row.message, "Amazon said no")
        self.assertEqual(self.amazon.orders_sync_message, "Amazon said no")
        cr.execute(SQL("SELECT count(*) FROM information_schema.columns WHERE table_name = 'amazon_account' "
                       "AND column_name IN %s", ("orders_cursor", "orders_next_token", "orders_sync_message")))
        self.assertEqual(cr.fetchone()[0], 0, "the old columns are gone")

    def test_a_manager_of_another_company_does_not_see_the_progress(self):
        self._make_order(status="SHIPPED")
        self._sync()
        _other, manager = self._other_company_admin("Otra empresa", "other_amazon_manager", name="Other manager")
        Cursor = self.env["amazon.sync.cursor"]
        self.assertTrue(Cursor.search([("account_id", "=", self.amazon.id)]))
        self.assertFalse(Cursor.with_user(manager).search([("account_id", "=", self.amazon.id)]))
