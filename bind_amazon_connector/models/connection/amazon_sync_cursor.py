"""Where each flow of a connection stands: one row per connection and flow, apart from the connection's row.

A flow's run commits its progress at every page (cursor, window in progress, next page token, last sync,
problem). Written on the connection's row, that made every page collide with whatever else wrote the
connection at the same time (a person editing it, another flow, another server): in PostgreSQL's repeatable
read, the second writer of a row fails with a serialization error. Here each flow writes only its own row.
The connection shows these values through computed fields (see the flow's ``amazon_account.py``).
"""
from odoo import api, fields, models
from odoo.tools import SQL

from .amazon_sync_job import SYNC_FLOWS


class AmazonSyncCursor(models.Model):
    _name = "amazon.sync.cursor"
    _description = "Amazon Connection Sync Progress"
    _rec_name = "flow"

    account_id = fields.Many2one("amazon.account", string="Connection", required=True, ondelete="cascade", index=True,
                                 readonly=True)
    flow = fields.Selection(SYNC_FLOWS, required=True, readonly=True)
    cursor = fields.Datetime(string="Synchronized until", readonly=True)
    window_start = fields.Datetime(readonly=True)
    window_end = fields.Datetime(readonly=True)
    next_token = fields.Char(readonly=True)
    last_sync = fields.Datetime(readonly=True)
    message = fields.Text(readonly=True)

    _flow_unique = models.Constraint("UNIQUE(account_id, flow)", "A connection has one progress row per flow.")

    @api.model
    def _for(self, account, flow):
        """The progress row of ``flow`` for ``account`` (created on first use)."""
        account.ensure_one()
        row = self.sudo().search([("account_id", "=", account.id), ("flow", "=", flow)], limit=1)
        if row:
            return row
        # Two transactions may create it at once: the second one waits for the first and, when that one
        # committed, fails with a concurrency error the page loop retries in a fresh transaction.
        self.env.flush_all()
        self.env.cr.execute(SQL(
            """INSERT INTO amazon_sync_cursor (account_id, flow, create_uid, write_uid, create_date, write_date)
               VALUES (%(account)s, %(flow)s, %(uid)s, %(uid)s, now() at time zone 'UTC', now() at time zone 'UTC')
               ON CONFLICT (account_id, flow) DO NOTHING""",
            account=account.id, flow=flow, uid=self.env.uid))
        account.invalidate_recordset(["sync_cursor_ids"])
        return self.sudo().search([("account_id", "=", account.id), ("flow", "=", flow)], limit=1)
