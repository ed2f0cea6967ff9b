"""The connection's stock settings and status (the work is ``amazon.stock.sync``'s)."""
from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from ..connection.access import AMAZON_USER, check_group


class AmazonAccount(models.Model):
    _inherit = "amazon.account"

    push_stock_on_any_change = fields.Boolean(
        string="Also after any stock change",
        help="Besides Amazon sales, send the quantity after every other stock change of a mapped product in "
        "the warehouse: receipts, inventory adjustments, other channels' sales and deliveries.",
    )
    stock_buffer = fields.Integer(
        string="Safety Buffer",
        help="Units kept back from Amazon: each listing gets the available quantity minus this (never below 0).",
    )
    # on the flow's own progress row (amazon.sync.cursor): written on the connection's row it failed whenever
    # another flow or a person wrote the connection at the same time
    stock_push_message = fields.Text(
        string="Stock Sync Problem", copy=False, readonly=True, compute="_compute_stock_push_message",
        compute_sudo=True,
        help="Why the last sending of quantities to Amazon stopped; cleared by the next run that works.",
    )
    stock_last_sent_date = fields.Datetime(
        string="Last Quantity Sent", compute="_compute_stock_push_counts",
        help="When Amazon last accepted a quantity of this connection's listings.",
    )
    stock_push_pending_count = fields.Integer(
        string="Waiting to Be Sent", compute="_compute_stock_push_counts",
        help="Listings with a stock change not sent to Amazon yet.",
    )
    stock_push_failed_count = fields.Integer(
        string="Not Taken by Amazon", compute="_compute_stock_push_counts",
        help="Listings whose last quantity Amazon refused or could not receive: tried again with backoff.",
    )

    _stock_buffer_positive = models.Constraint(
        "CHECK(stock_buffer >= 0)", "The safety buffer cannot be negative."
    )

    def _compute_stock_push_counts(self):
        pending, failed, last_sent = {}, {}, {}
        ids = [i for i in self.ids if i]
        if ids:
            self.env["amazon.stock.push"].flush_model()
            self.env.cr.execute(SQL(
                "SELECT account_id, count(DISTINCT listing_id) FROM amazon_stock_push WHERE account_id = ANY(%s) "
                "GROUP BY account_id", ids))
            pending = dict(self.env.cr.fetchall())
            failed = {
                account.id: count for account, count in self.env["amazon.listing"].sudo()._read_group(
                    [("account_id", "in", ids), ("stock_push_state", "in", ("retry", "refused"))],
                    ["account_id"], ["__count"])
            }
            last_sent = {
                account.id: date for account, date in self.env["amazon.listing"].sudo()._read_group(
                    [("account_id", "in", ids), ("stock_sent_date", "!=", False)],
                    ["account_id"], ["stock_sent_date:max"])
            }
        for account in self:
            account.stock_push_pending_count = pending.get(account.id, 0)
            account.stock_push_failed_count = failed.get(account.id, 0)
            account.stock_last_sent_date = last_sent.get(account.id, False)

    @api.depends("sync_cursor_ids.flow", "sync_cursor_ids.message")
    def _compute_stock_push_message(self):
        for account in self:
            account.stock_push_message = account.sync_cursor_ids.filtered(lambda c: c.flow == "stock")[:1].message

    def write(self, vals):
        # A new buffer or warehouse changes every quantity: send them all (when sending is on).
        watched = {"stock_buffer", "warehouse_id"} & set(vals)
        before = {a.id: (a.stock_buffer, a.warehouse_id.id) for a in self} if watched else {}
        res = super().write(vals)
        if watched:
            self.env["amazon.stock.sync"]._settings_changed(
                self.filtered(lambda a: before[a.id] != (a.stock_buffer, a.warehouse_id.id)))
        return res

    def action_push_stock_now(self):
        """"Push stock now": every mapped merchant-fulfilled listing; a few now, the rest in the background."""
        check_group(self.env, AMAZON_USER, message=_("Only Amazon users can send stock to Amazon."))
        self.ensure_one()
        self.check_access("read")
        if not self.warehouse_id:
            raise UserError(_("Choose the connection's warehouse first: its stock is what Amazon is sent."))
        Sync = self.env["amazon.stock.sync"]
        return Sync._push_notification([Sync._push_now(self, Sync._listings_to_push(self))])

    def action_view_stock_failures(self):
        check_group(self.env, AMAZON_USER)
        self.ensure_one()
        self.check_access("read")
        action = self.env["ir.actions.act_window"]._for_xml_id("bind_amazon_connector.amazon_listing_action")
        action["domain"] = [("account_id", "=", self.id), ("stock_push_state", "in", ("retry", "refused"))]
        action["context"] = {"default_account_id": self.id}
        return action
