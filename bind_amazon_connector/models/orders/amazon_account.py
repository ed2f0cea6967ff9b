"""The orders settings and status of a connection (its "Sales" tab); the flow itself is ``amazon.order.sync``."""
from odoo import api, fields, models
from odoo.tools import SQL
from odoo.tools.sql import column_exists

from ..connection.access import AMAZON_USER, check_group
from .amazon_order_sync import ORDERS_PROGRESS

MANAGER = "bind_amazon_connector.group_amazon_manager"
#: The Sales tab lists the orders needing attention (up to this many), then this many latest orders.
TAB_ATTENTION_LIMIT = 200
TAB_RECENT_LIMIT = 80


class AmazonAccount(models.Model):
    _inherit = "amazon.account"

    # Where the orders sync stands lives in its own row (amazon.sync.cursor, flow "orders"): every page commits
    # it, and on the connection's row it collided with anyone else writing the connection at the same time.
    orders_cursor = fields.Datetime(
        string="Orders synchronized until", copy=False, tracking=True,
        compute="_compute_orders_progress", inverse="_inverse_orders_progress", compute_sudo=True,
        help="Orders updated on Amazon up to this moment are imported. Move it back to read a period again: "
        "orders already imported are not duplicated.",
    )
    # Where the reading in progress stands (resumed after a restart); internal.
    orders_window_start = fields.Datetime(copy=False, readonly=True, groups=MANAGER, compute="_compute_orders_progress",
                                          inverse="_inverse_orders_progress", compute_sudo=True)
    orders_window_end = fields.Datetime(copy=False, readonly=True, groups=MANAGER, compute="_compute_orders_progress",
                                        inverse="_inverse_orders_progress", compute_sudo=True)
    orders_next_token = fields.Char(copy=False, readonly=True, groups=MANAGER, compute="_compute_orders_progress",
                                    inverse="_inverse_orders_progress", compute_sudo=True)
    orders_last_sync = fields.Datetime(string="Last order sync", copy=False, readonly=True,
                                       compute="_compute_orders_progress", inverse="_inverse_orders_progress",
                                       compute_sudo=True)
    orders_sync_message = fields.Text(string="Order sync problem", copy=False, readonly=True,
                                      compute="_compute_orders_progress", inverse="_inverse_orders_progress",
                                      compute_sudo=True)
    amazon_order_ids = fields.One2many("amazon.order", "account_id", string="Amazon Orders")
    amazon_order_tab_ids = fields.Many2many(
        "amazon.order", compute="_compute_amazon_order_tab_ids", string="Orders to look at",
        help="Orders in error or skipped, then the latest ones (all orders: the Amazon Orders button).",
    )
    amazon_order_count = fields.Integer(compute="_compute_amazon_order_counts", string="Orders")
    amazon_order_imported_count = fields.Integer(compute="_compute_amazon_order_counts", string="Imported")
    amazon_order_error_count = fields.Integer(compute="_compute_amazon_order_counts", string="In error")
    amazon_order_skipped_count = fields.Integer(compute="_compute_amazon_order_counts", string="Skipped")
    amazon_order_cancelled_count = fields.Integer(compute="_compute_amazon_order_counts", string="Cancelled")
    fbm_shipment_mode = fields.Selection(
        [("odoo", "Odoo confirms on Amazon"), ("amazon", "Amazon tells Odoo")],
        string="Who ships merchant-fulfilled orders", default="odoo", required=True, tracking=True,
        help="Odoo confirms on Amazon: validating the delivery of a merchant-fulfilled order confirms the package "
        "on Amazon with its carrier and tracking number. Amazon tells Odoo: the seller confirms in Seller Central "
        "(or buys Amazon shipping) and the deliveries are validated when Amazon reports the order shipped.",
    )
    fbm_tracking_policy = fields.Selection(
        [("block", "Ask for carrier and tracking number"),
         ("allow", "Confirm without tracking number when there is none")],
        string="Deliveries without tracking number", default="block", required=True,
        help="Ask: a delivery of a merchant-fulfilled order is validated only with its carrier and tracking "
        "number. Confirm without: the carrier is still required; Amazon may refuse a confirmation without "
        "tracking number for some carriers, the refusal is then shown on the delivery.",
    )

    @api.depends("sync_cursor_ids.flow", "sync_cursor_ids.cursor", "sync_cursor_ids.window_start",
                 "sync_cursor_ids.window_end", "sync_cursor_ids.next_token", "sync_cursor_ids.last_sync",
                 "sync_cursor_ids.message")
    def _compute_orders_progress(self):
        for account in self:
            row = account.sync_cursor_ids.filtered(lambda c: c.flow == "orders")[:1]
            for field, column in ORDERS_PROGRESS.items():
                account[field] = row[column]

    def _inverse_orders_progress(self):
        for account in self:
            if account.id:
                self.env["amazon.sync.job"]._cursor(account, "orders").write({column: account[field]
                                                      for field, column in ORDERS_PROGRESS.items()})

    def _compute_amazon_order_counts(self):
        counts = {
            (account.id, state): count
            for account, state, count in self.env["amazon.order"]._read_group(
                [("account_id", "in", self.ids)], ["account_id", "state"], ["__count"])
        }
        for account in self:
            account.amazon_order_imported_count = counts.get((account.id, "imported"), 0)
            account.amazon_order_error_count = counts.get((account.id, "error"), 0)
            account.amazon_order_skipped_count = counts.get((account.id, "skipped"), 0)
            account.amazon_order_cancelled_count = counts.get((account.id, "cancelled"), 0)
            account.amazon_order_count = sum(c for (a, _s), c in counts.items() if a == account.id)

    def _compute_amazon_order_tab_ids(self):
        Order = self.env["amazon.order"]
        for account in self:
            if not account.id:
                account.amazon_order_tab_ids = Order
                continue
            attention = Order.search([("account_id", "=", account.id), ("state", "in", ("error", "skipped", "new"))],
                                     limit=TAB_ATTENTION_LIMIT)
            recent = Order.search([("account_id", "=", account.id), ("id", "not in", attention.ids)],
                                  limit=TAB_RECENT_LIMIT)
            account.amazon_order_tab_ids = attention | recent

    def _auto_init(self):
        # Connections that existed before Odoo could confirm shipments keep working as they did (Amazon tells
        # Odoo); only new ones default to Odoo confirming on Amazon.
        new_column = not column_exists(self.env.cr, self._table, "fbm_shipment_mode")
        res = super()._auto_init()
        if new_column:
            self.env.cr.execute(SQL("UPDATE amazon_account SET fbm_shipment_mode = 'amazon'"))
        return res

    def write(self, vals):
        if "orders_cursor" in vals and not (self.env.su and self.env.context.get("amazon_sync_internal")):
            # Moving the cursor (back) starts a new reading from there: forget the run in progress.
            vals = dict(vals, orders_window_start=False, orders_window_end=False, orders_next_token=False)
        return super().write(vals)

    # ------------------------------------------------------------------ actions

    def action_sync_orders(self):
        """Import the orders Amazon has for this connection now; a long backlog continues in the background."""
        check_group(self.env, AMAZON_USER, message=self.env._("Only Amazon users can synchronize orders."))
        self.ensure_one()
        self.check_access("read")
        return self.env["amazon.order.sync"]._sync_now(self)

    def action_view_amazon_orders(self):
        check_group(self.env, AMAZON_USER)
        self.ensure_one()
        self.check_access("read")
        action = self.env["ir.actions.act_window"]._for_xml_id("bind_amazon_connector.amazon_order_action")
        action["domain"] = [("account_id", "=", self.id)]
        action["context"] = {"default_account_id": self.id}
        state = self.env.context.get("amazon_order_state")
        if state:
            action["domain"].append(("state", "=", state))
        return action

    def _marketplace_settings_confirmed(self, marketplaces):
        super()._marketplace_settings_confirmed(marketplaces)
        self.env["amazon.order.sync"]._settings_confirmed(self, marketplaces)
