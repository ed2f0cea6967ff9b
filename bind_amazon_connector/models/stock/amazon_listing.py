"""What each listing shows about the stock Odoo sends to Amazon: the last quantity Amazon accepted, when,
the last error and the next attempt, and why a listing's quantity is never sent (FBA, unmapped, sold both
ways, not tracked in inventory)."""
from collections import defaultdict
from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL

from ..connection.access import AMAZON_USER, check_group

#: Sent when the listing's product type is not known: Amazon accepts it for offer-only attributes such as
#: the merchant quantity (and the product type is learned from Amazon when it refuses it).
DEFAULT_PRODUCT_TYPE = "PRODUCT"
#: Backoff of failed pushes: the first retry after RETRY_BASE when Amazon could not be used (throttled, no
#: answer, a server error: usually gone a minute later, and a stale quantity is what oversells) or after
#: REFUSED_BASE when Amazon refused the quantity; doubling at each failure, at most RETRY_MAX.
RETRY_BASE = timedelta(minutes=1)
REFUSED_BASE = timedelta(minutes=5)
RETRY_MAX = timedelta(hours=6)


class AmazonListing(models.Model):
    _inherit = "amazon.listing"

    amazon_product_type = fields.Char(
        string="Amazon Product Type", readonly=True, copy=False,
        help="Amazon's product type of the listing, sent with quantity updates. Empty: learned from Amazon when "
        "needed (the generic type PRODUCT is sent meanwhile).",
    )
    stock_sent_qty = fields.Integer(
        string="Quantity Sent", readonly=True, copy=False,
        help="The last quantity Amazon accepted from Odoo for this listing.",
    )
    stock_sent_date = fields.Datetime(string="Quantity Sent On", readonly=True, copy=False)
    stock_push_state = fields.Selection(
        [("done", "Sent"), ("retry", "Amazon unreachable: will retry"), ("refused", "Refused by Amazon")],
        string="Stock Sync", readonly=True, copy=False, index="btree_not_null",
        help="Outcome of the last attempt to send this listing's quantity to Amazon.",
    )
    stock_push_error = fields.Text(
        string="Last Stock Error", readonly=True, copy=False,
        help="Why Amazon did not take the last quantity sent; cleared when a quantity is accepted.",
    )
    stock_push_attempts = fields.Integer(
        string="Failed Attempts", readonly=True, copy=False,
        help="Failed attempts in a row; each one waits twice as long before the next.",
    )
    stock_push_next_date = fields.Datetime(
        string="Next Attempt", readonly=True, copy=False,
        help="A failed push is tried again from this moment, with the quantity available then.",
    )
    stock_push_pending = fields.Boolean(
        string="Waiting to Be Sent", compute="_compute_stock_push_pending",
        search="_search_stock_push_pending",
        help="A stock change of the product waits to be sent to Amazon by the next run.",
    )
    stock_both_ways = fields.Boolean(
        string="Sold Both Ways", compute="_compute_stock_both_ways", search="_search_stock_both_ways",
        help="The product is also sold through Fulfillment by Amazon on this connection and marketplace: "
        "Odoo does not send its quantity.",
    )
    stock_push_blocked = fields.Char(
        string="Quantity Not Sent", compute="_compute_stock_both_ways",
        help="Why Odoo never sends this listing's quantity to Amazon.",
    )

    # ------------------------------------------------------------------ computes

    def _compute_stock_push_pending(self):
        pending = set()
        ids = [i for i in self.ids if i]
        if ids:
            self.env["amazon.stock.push"].flush_model()
            self.env.cr.execute(SQL(
                "SELECT DISTINCT listing_id FROM amazon_stock_push WHERE listing_id = ANY(%s)", ids))
            pending = {r[0] for r in self.env.cr.fetchall()}
        for listing in self:
            listing.stock_push_pending = listing.id in pending

    def _search_stock_push_pending(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            return NotImplemented
        positive = (operator == "=") == value
        query = SQL("(SELECT listing_id FROM amazon_stock_push)")
        return [("id", "in" if positive else "not in", query)]

    @api.depends("product_id", "fulfillment_channel", "account_id", "marketplace_id", "active",
                 "product_id.is_storable")
    def _compute_stock_both_ways(self):
        both = self._stock_fba_twins()
        for listing in self:
            fba_skus = both.get(listing.id)
            listing.stock_both_ways = bool(fba_skus)
            listing.stock_push_blocked = listing._stock_blocked_reason(fba_skus)

    def _search_stock_both_ways(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            return NotImplemented
        positive = (operator == "=") == value
        query = SQL(
            """(SELECT m.id FROM amazon_listing m
                  JOIN amazon_listing f ON f.product_id = m.product_id AND f.account_id = m.account_id
                                       AND f.marketplace_id = m.marketplace_id AND f.fulfillment_channel = 'amazon'
                                       AND f.active
                 WHERE m.fulfillment_channel = 'merchant')""")
        return [("id", "in" if positive else "not in", query)]

    def _stock_fba_twins(self):
        """``{merchant listing id: [FBA SKUs]}``: merchant listings whose product the same connection also
        sells through Fulfillment by Amazon in the same marketplace."""
        merchant = self.filtered(lambda lst: lst.id and lst.fulfillment_channel == "merchant" and lst.product_id)
        if not merchant:
            return {}
        self.flush_model(["product_id", "fulfillment_channel", "account_id", "marketplace_id", "active"])
        self.env.cr.execute(SQL(
            """SELECT m.id, array_agg(f.seller_sku ORDER BY f.seller_sku)
                 FROM amazon_listing m
                 JOIN amazon_listing f ON f.product_id = m.product_id AND f.account_id = m.account_id
                                      AND f.marketplace_id = m.marketplace_id AND f.fulfillment_channel = 'amazon'
                                      AND f.active
                WHERE m.id = ANY(%s)
                GROUP BY m.id""",
            merchant.ids,
        ))
        return dict(self.env.cr.fetchall())

    def _stock_blocked_reason(self, fba_skus=None):
        """Why this listing's quantity is never sent to Amazon (False: it is sent)."""
        self.ensure_one()
        _ = self.env._
        if self.fulfillment_channel == "amazon":
            return _("Fulfillment by Amazon: Amazon counts the stock of its fulfillment centres itself.")
        if not self.product_id:
            return _("Not mapped to a product: map it to send its quantity.")
        if fba_skus:
            return _(
                "Sold both ways: the product is also sold through Fulfillment by Amazon here (%(skus)s). Odoo "
                "does not send its quantity, so that Amazon's FBA offer is never switched to merchant "
                "fulfillment nor shown the warehouse's stock; set this quantity on Seller Central, or map the "
                "FBA listing to a product of its own.",
                skus=", ".join(fba_skus),
            )
        if not self.product_id.is_storable:
            return _("The product is not tracked in inventory: Odoo has no quantity to send.")
        if not self.active:
            return _("Archived: Amazon no longer lists it.")
        if not self._stock_marketplace_read():
            return _("%(marketplace)s is not among the marketplaces of the connection: add it there to send "
                     "this listing's quantity.", marketplace=self.marketplace_id.name)
        return False

    def _stock_marketplace_read(self):
        """The connection works with this listing's marketplace (a marketplace removed from it is left alone)."""
        self.ensure_one()
        return self.marketplace_id in self.account_id._get_marketplaces()

    # ------------------------------------------------------------------ outcome of a push (sender only)

    def _stock_eligible(self):
        """Split into (listings whose quantity is sent, the others)."""
        twins = self._stock_fba_twins()
        eligible = self.filtered(lambda lst: lst.active and lst.fulfillment_channel == "merchant"
                                 and lst.product_id and lst.product_id.is_storable and lst.id not in twins
                                 and lst._stock_marketplace_read())
        return eligible, self - eligible

    def _stock_needs_push(self, quantity, forced=False):
        """False when Amazon already has ``quantity``: the last quantity it accepted from Odoo, unless a listings
        import since then reported another one (changed on Seller Central, or by Amazon's own sales). A listing
        never sent is compared with what the last import saw, except when a person asks to send it."""
        self.ensure_one()
        if self.stock_sent_date and self.synced_date and self.synced_date > self.stock_sent_date:
            return self.quantity != quantity
        if self.stock_sent_date:
            return self.stock_sent_qty != quantity
        if self.synced_date and not forced:
            return self.quantity != quantity
        return True

    def _stock_write(self, vals):
        res = self.sudo().write(vals)
        if "stock_push_state" in vals:
            self.env["amazon.account"].invalidate_model(["stock_push_failed_count"])
        return res

    def _stock_up_to_date(self):
        """Amazon already shows the quantity wanted: a pending error no longer matters."""
        todo = self.filtered(lambda lst: lst.stock_push_state != "done" and lst.stock_sent_date
                             or lst.stock_push_error or lst.stock_push_next_date)
        if todo:
            todo._stock_write({"stock_push_state": "done", "stock_push_error": False, "stock_push_attempts": 0,
                               "stock_push_next_date": False})

    def _stock_accepted(self, quantity, now):
        """Amazon took ``quantity``: it is what the listing offers now."""
        self._stock_write({
            "quantity": quantity, "stock_sent_qty": quantity, "stock_sent_date": now, "stock_push_state": "done",
            "stock_push_error": False, "stock_push_attempts": 0, "stock_push_next_date": False,
        })

    def _stock_failed(self, state, message, now, retry_after=None):
        """Record a failed push; it is tried again later, waiting longer after each failure."""
        for listing in self:
            attempts = listing.stock_push_attempts + 1
            base = REFUSED_BASE if state == "refused" else RETRY_BASE
            delay = min(base * 2 ** (attempts - 1), RETRY_MAX)
            if retry_after:
                delay = max(delay, timedelta(seconds=retry_after))
            listing._stock_write({
                "stock_push_state": state, "stock_push_error": message, "stock_push_attempts": attempts,
                "stock_push_next_date": now + delay,
            })

    # ------------------------------------------------------------------ actions

    def action_push_stock(self):
        """Send the quantity of the selected merchant-fulfilled listings now (the rest in the background)."""
        check_group(self.env, AMAZON_USER, message=self.env._("Only Amazon users can send stock to Amazon."))
        self.check_access("read")
        by_account = defaultdict(lambda: self.browse())
        for listing in self:
            by_account[listing.account_id] |= listing
        results = []
        for account, listings in by_account.items():
            results.append(account._stock_push_now(listings))
        return self.env["amazon.account"]._stock_push_notification(results)
