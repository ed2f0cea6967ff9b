"""The state of a connection at a glance (the Amazon menu's first screen) and its smart buttons.

Reads what the other flows record (orders, listings, payouts); writes nothing. Counts are computed on
demand, never stored: a card shows what the database holds when it is opened.
"""
from datetime import datetime, time, timedelta

import pytz

from odoo import api, fields, models
from odoo.exceptions import AccessError

from ..orders.amazon_shipment import OPEN_STATES as SHIPMENT_OPEN_STATES

USER_GROUP = "bind_amazon_connector.group_amazon_user"
#: A connection whose orders were last read longer ago than this is shown as late.
SYNC_LATE_AFTER = timedelta(hours=6)


class AmazonAccount(models.Model):
    _inherit = "amazon.account"

    dashboard_today_count = fields.Integer(string="Imported today", compute="_compute_dashboard")
    dashboard_shipment_count = fields.Integer(
        string="Shipments to confirm", compute="_compute_dashboard",
        help="Merchant-fulfilled deliveries done in Odoo whose shipment Amazon has not confirmed yet.",
    )
    dashboard_sync_age = fields.Char(string="Last successful sync", compute="_compute_dashboard")
    dashboard_sync_late = fields.Boolean(string="Sync is late", compute="_compute_dashboard")
    authorization_lost = fields.Boolean(
        string="Authorization lost", compute="_compute_dashboard",
        help="Amazon no longer accepts this connection's authorization: authorize it again.",
    )
    invoice_count = fields.Integer(string="Invoices", compute="_compute_dashboard_documents")
    fee_bill_count = fields.Integer(string="Fee Bills", compute="_compute_dashboard_documents")

    def _dashboard_today_start(self):
        """Midnight of the user's day, as naive UTC."""
        tz = pytz.timezone(self.env.user.tz or "UTC")
        midnight = tz.localize(datetime.combine(fields.Datetime.context_timestamp(self, fields.Datetime.now())
                                                .date(), time.min))
        return midnight.astimezone(pytz.utc).replace(tzinfo=None)

    def _dashboard_shipments_to_confirm_count(self):
        """{connection id: packages validated in Odoo that Amazon has not confirmed yet (waiting or refused)}."""
        groups = self.env["amazon.shipment"].sudo()._read_group(
            [("account_id", "in", self.ids), ("state", "in", SHIPMENT_OPEN_STATES)], ["account_id"], ["__count"])
        return {account.id: count for account, count in groups}

    @api.depends("state", "authorized_date", "orders_last_sync")
    @api.depends_context("uid", "tz")
    def _compute_dashboard(self):
        today = self._dashboard_today_start()
        # _origin: also in a form being edited, where the record has a new id
        ids = [account._origin.id for account in self if account._origin.id]
        today_counts = {account.id: count for account, count in self.env["amazon.order"]._read_group(
            [("account_id", "in", ids), ("state", "=", "imported"), ("create_date", ">=", today)],
            ["account_id"], ["__count"])} if ids else {}
        shipments = self.browse(ids)._dashboard_shipments_to_confirm_count() if ids else {}
        now = fields.Datetime.now()
        for account in self:
            account.dashboard_today_count = today_counts.get(account._origin.id, 0)
            account.dashboard_shipment_count = shipments.get(account._origin.id, 0)
            last = account.orders_last_sync
            account.dashboard_sync_age = account._dashboard_age(now - last) if last else self.env._("never")
            account.dashboard_sync_late = account.state == "authorized" and (not last or now - last > SYNC_LATE_AFTER)
            # refused by Amazon (revoked, expired) or removed after having been authorized
            account.authorization_lost = account.state == "error" or (
                account.state == "draft" and bool(account.authorized_date))

    def _dashboard_age(self, delta):
        minutes = int(delta.total_seconds() // 60)
        if minutes < 1:
            return self.env._("just now")
        if minutes < 60:
            return self.env._("%s min ago", minutes)
        if minutes < 48 * 60:
            return self.env._("%s h ago", minutes // 60)
        return self.env._("%s days ago", minutes // (24 * 60))

    # ------------------------------------------------------------------ invoices and fee bills

    def _invoice_domain(self):
        return [("move_type", "in", ("out_invoice", "out_refund")),
                ("line_ids.sale_line_ids.order_id.amazon_order_id.account_id", "in", self.ids)]

    def _fee_bill_domain(self):
        return [("amazon_fee_bill", "=", True), ("amazon_settlement_id.account_id", "in", self.ids)]

    def _compute_dashboard_documents(self):
        Move = self.env["account.move"]
        can_read = Move.has_access("read")
        for account in self:
            origin = account._origin
            if not origin.id or not can_read:
                account.invoice_count = account.fee_bill_count = 0
                continue
            account.invoice_count = Move.search_count(origin._invoice_domain())
            account.fee_bill_count = Move.search_count(origin._fee_bill_domain())

    def _check_amazon_user(self):
        if not self.env.user.has_group(USER_GROUP):
            raise AccessError(self.env._("Only Amazon users can open the Amazon connections."))

    def action_view_invoices(self):
        self.ensure_one()
        self._check_amazon_user()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Invoices of %s", self.name),
            "res_model": "account.move",
            "view_mode": "list,form",
            "views": [(self.env.ref("account.view_out_invoice_tree").id, "list"), (False, "form")],
            "domain": self._invoice_domain(),
            "context": {"create": False, "default_move_type": "out_invoice"},
        }

    def action_view_fee_bills(self):
        self.ensure_one()
        self._check_amazon_user()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Amazon fee bills of %s", self.name),
            "res_model": "account.move",
            "view_mode": "list,form",
            "views": [(self.env.ref("account.view_in_invoice_bill_tree").id, "list"), (False, "form")],
            "domain": self._fee_bill_domain(),
            "context": {"create": False, "default_move_type": "in_invoice"},
        }

    def action_view_orders_today(self):
        self.ensure_one()
        self._check_amazon_user()
        action = self.action_view_amazon_orders()
        action["domain"] += [("state", "=", "imported"), ("create_date", ">=", self._dashboard_today_start())]
        return action

    def action_view_orders_in_error(self):
        self.ensure_one()
        self._check_amazon_user()
        return self.with_context(amazon_order_state="error").action_view_amazon_orders()

    def action_view_unmapped_listings(self):
        self.ensure_one()
        self._check_amazon_user()
        return self.with_context(listing_filter="unmapped").action_view_listings()

    def action_view_shipments_to_confirm(self):
        """The Amazon orders with a package Amazon has not confirmed yet."""
        self.ensure_one()
        self._check_amazon_user()
        action = self.action_view_amazon_orders()
        action["domain"].append(("shipment_unconfirmed", "=", True))
        return action
