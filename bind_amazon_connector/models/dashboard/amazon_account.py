"""The state of a connection at a glance (the Amazon menu's first screen) and its smart buttons.

Reads what the other flows record; writes nothing. Counts are computed on demand, never stored: a card shows
what the database holds when it is opened (connection/connection_overview.py says how).
"""
from odoo import api, fields, models

from ..connection import connection_overview as overview


class AmazonConnection(models.Model):
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

    @api.depends("state", "authorized_date", "orders_last_sync")
    @api.depends_context("uid", "tz")
    def _compute_dashboard(self):
        ids = [account._origin.id for account in self if account._origin.id]  # _origin: also in a form edited
        today = overview.count_by_connection(self.env["amazon.order"], ids, [
            ("state", "=", "imported"), ("create_date", ">=", overview.today_start(self.env))])
        shipments = overview.shipments_to_confirm(self.env, ids)
        now = fields.Datetime.now()
        for account in self:
            account.dashboard_today_count = today.get(account._origin.id, 0)
            account.dashboard_shipment_count = shipments.get(account._origin.id, 0)
            last = account.orders_last_sync
            account.dashboard_sync_age = overview.age_text(self.env, now - last) if last else self.env._("never")
            late = not last or now - last > overview.SYNC_LATE_AFTER
            account.dashboard_sync_late = account.state == "authorized" and late
            # refused by Amazon (revoked, expired) or removed after having been authorized
            account.authorization_lost = account.state == "error" or (
                account.state == "draft" and bool(account.authorized_date))

    def _compute_dashboard_documents(self):
        Move = self.env["account.move"]
        can_read = Move.has_access("read")
        for account in self:
            origin = account._origin if can_read else self.browse()
            account.invoice_count = origin.id and Move.search_count(overview.documents_domain(origin, "invoices"))
            account.fee_bill_count = origin.id and Move.search_count(overview.documents_domain(origin, "fee_bills"))

    def action_view_invoices(self):
        return overview.documents_action(self, "invoices")

    def action_view_fee_bills(self):
        return overview.documents_action(self, "fee_bills")

    # the cards' buttons narrow the orders and listings flows' own actions (which check the Amazon user group)
    def action_view_orders_today(self):
        action = self.action_view_amazon_orders()
        action["domain"] += [("state", "=", "imported"), ("create_date", ">=", overview.today_start(self.env))]
        return action

    def action_view_orders_in_error(self):
        return self.with_context(amazon_order_state="error").action_view_amazon_orders()

    def action_view_unmapped_listings(self):
        return self.with_context(listing_filter="unmapped").action_view_listings()

    def action_view_shipments_to_confirm(self):
        """The Amazon orders with a package Amazon has not confirmed yet."""
        action = self.action_view_amazon_orders()
        action["domain"].append(("shipment_unconfirmed", "=", True))
        return action
