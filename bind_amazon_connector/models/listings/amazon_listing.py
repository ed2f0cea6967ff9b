"""One offer of the seller on Amazon: what the listings import reads (title, price, quantity, status), the
product it sells (mapped by SKU or barcode, or by hand), and what the stock flow shows about it: the last
quantity Amazon accepted, the last error and the next attempt, and why a quantity is never sent (FBA,
unmapped, sold both ways, not tracked in inventory)."""
import logging

from odoo import Command, _, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL
from odoo.tools.translate import LazyTranslate

from ...spapi import errors as spapi_errors
from ...utils.listing_rows import BARCODE_ID_TYPES, barcode_variants, listing_values_from_item
from ..connection.access import AMAZON_USER, check_group, is_trusted_writer
from .listing_importer import ListingImporter

_logger = logging.getLogger(__name__)
_lt = LazyTranslate(__name__)

#: The report's listing statuses as people read them (another value is shown as Amazon wrote it). "Active"
#: alone would share its translation with the archive field's "Active", which Spanish genders differently.
STATUS_LABELS = {
    "active": _lt("Active listing"),
    "inactive": _lt("Inactive listing"),
    "incomplete": _lt("Incomplete listing"),
}

#: Listings refreshed through the Listings Items API per click (5 calls a second at most).
REFRESH_LIMIT = 50
#: What people change on a listing: the product it sells. Prices, quantities, SKUs and the connection come
#: from Amazon only (the price goes to the price list as superuser).
USER_FIELDS = frozenset({"product_id"})


class AmazonListing(models.Model):
    """One offer of the seller on Amazon: (connection, marketplace, seller SKU)."""

    _name = "amazon.listing"
    _description = "Amazon Listing"
    _order = "account_id, seller_sku, id"
    _rec_names_search = ["seller_sku", "name", "asin"]
    _inherit = ["amazon.company.guard"]
    _check_company_auto = True

    account_id = fields.Many2one(
        "amazon.account", string="Connection", required=True, index=True, ondelete="cascade", readonly=True
    )
    marketplace_id = fields.Many2one("amazon.marketplace", string="Marketplace", required=True, readonly=True)
    company_id = fields.Many2one(related="account_id.company_id", store=True, index=True)
    seller_sku = fields.Char(string="Seller SKU", required=True, readonly=True)
    name = fields.Char(string="Title", readonly=True, help="Amazon's title as plain text (tags removed).")
    amazon_title = fields.Char(string="Amazon's Title", readonly=True,
                               help="The title exactly as Amazon sent it, markup included.")
    asin = fields.Char(string="ASIN", index="btree_not_null", readonly=True)
    amazon_listing_ref = fields.Char(string="Listing ID", readonly=True, help="Amazon's listing-id in the report.")
    product_identifier = fields.Char(
        string="Product ID", readonly=True, help="The product identifier Amazon gives (UPC, EAN, ISBN or ASIN)."
    )
    product_identifier_type = fields.Selection(
        [("asin", "ASIN"), ("isbn", "ISBN"), ("upc", "UPC"), ("ean", "EAN"), ("gtin", "GTIN"), ("other", "Other")],
        string="Product ID Type", readonly=True,
    )
    currency_id = fields.Many2one("res.currency", string="Currency", required=True, readonly=True)
    price = fields.Monetary(readonly=True, help="Amazon's price (empty on Amazon: zero).")
    quantity = fields.Integer(readonly=True, help="Quantity available on Amazon for this offer.")
    fulfillment_channel = fields.Selection(
        [("merchant", "Merchant"), ("amazon", "Amazon (FBA)")], string="Fulfillment", required=True,
        readonly=True, index=True,
        help="Merchant: shipped by the seller from the connection's warehouse. Amazon: Fulfillment by Amazon.",
    )
    amazon_status = fields.Char(string="Amazon Status Code", readonly=True)
    amazon_status_label = fields.Char(string="Amazon Status", compute="_compute_amazon_status_label")
    product_id = fields.Many2one(
        "product.product", string="Product", index="btree_not_null", check_company=True,
        help="The Odoo product this listing sells. Set by matching SKU or barcode, or by hand.",
    )
    conflict_product_ids = fields.Many2many(
        "product.product", "amazon_listing_conflict_product_rel", "listing_id", "product_id",
        string="Candidate Products", readonly=True,
        help="Several products match this listing: choose the right one by hand.",
    )
    mapping_state = fields.Selection(
        [("mapped", "Mapped"), ("unmapped", "Unmapped"), ("conflict", "Conflict")],
        string="Mapping", compute="_compute_mapping_state", store=True, index=True,
    )
    synced_date = fields.Datetime(
        string="Last Change", readonly=True, help="When Amazon's data for this listing last changed in Odoo."
    )
    gone_date = fields.Datetime(
        string="Gone Since", readonly=True, help="When the listing was missing from Amazon's report and archived."
    )
    last_seen = fields.Datetime(
        compute="_compute_last_seen",
        help="The last import in which Amazon reported this listing (its last change, for a single refresh).",
    )
    active = fields.Boolean(default=True)

    # the stock flow's status of the listing (written by amazon.stock.sync only)
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

    _account_marketplace_sku_unique = models.Constraint(
        "UNIQUE(account_id, marketplace_id, seller_sku)",
        "A seller SKU is listed once per connection and marketplace.",
    )

    @api.depends("product_id", "conflict_product_ids")
    def _compute_mapping_state(self):
        for listing in self:
            if listing.product_id:
                listing.mapping_state = "mapped"
            elif listing.conflict_product_ids:
                listing.mapping_state = "conflict"
            else:
                listing.mapping_state = "unmapped"

    @api.depends("amazon_status")
    @api.depends_context("lang")
    def _compute_amazon_status_label(self):
        for listing in self:
            label = STATUS_LABELS.get((listing.amazon_status or "").strip().lower())
            listing.amazon_status_label = self.env._(label) if label else listing.amazon_status

    @api.depends("synced_date", "gone_date", "account_id.listing_import_success_date")
    def _compute_last_seen(self):
        # Not stored on purpose: storing it would rewrite every listing at every import.
        for listing in self:
            if listing.gone_date:
                seen = listing.synced_date
            else:
                dates = [d for d in (listing.synced_date, listing.account_id.listing_import_success_date) if d]
                seen = max(dates) if dates else False
            listing.last_seen = seen

    @api.depends("seller_sku", "name")
    def _compute_display_name(self):
        for listing in self:
            listing.display_name = (
                f"[{listing.seller_sku}] {listing.name}" if listing.name else listing.seller_sku or ""
            )

    # ------------------------------------------------------------------ stock: pending, never sent

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
        if not self._in_connection_marketplaces():
            return _("%(marketplace)s is not among the marketplaces of the connection: add it there to send "
                     "this listing's quantity.", marketplace=self.marketplace_id.name)
        return False

    def _in_connection_marketplaces(self):
        """The connection works with this listing's marketplace (a marketplace removed from it is left alone)."""
        self.ensure_one()
        return self.marketplace_id in self.account_id._get_marketplaces()

    # ------------------------------------------------------------------ manual mapping

    @api.model_create_multi
    def create(self, vals_list):
        if not is_trusted_writer(self.env):
            raise AccessError(self.env._("Amazon listings are created by the listings import only."))
        return super().create(vals_list)

    def write(self, vals):
        if not is_trusted_writer(self.env) and set(vals) - USER_FIELDS:
            raise AccessError(self.env._(
                "On an Amazon listing you choose the product only: %(fields)s come from Amazon.",
                fields=", ".join(self._fields[f]._description_string(self.env) for f in sorted(set(vals) - USER_FIELDS)
                                 if f in self._fields),
            ))
        if "product_id" not in vals or (is_trusted_writer(self.env) and self.env.context.get("amazon_listing_import")):
            return super().write(vals)
        # Manual mapping from the list or the form: a chosen product settles any conflict.
        if vals.get("product_id"):
            vals = dict(vals, conflict_product_ids=[Command.clear()])
        was_mapped = {listing.id: listing.product_id for listing in self}
        res = super().write(vals)
        changed = self.filtered(lambda lst: lst.product_id != was_mapped[lst.id])
        if changed:
            changed._after_mapping_changed()
        return res

    def _after_mapping_changed(self):
        """Prices of the products now mapped, and orders that waited for these SKUs."""
        for account in self.account_id:
            listings = self.filtered(lambda lst, a=account: lst.account_id == a)
            for marketplace, group in listings.grouped("marketplace_id").items():
                if group.product_id:
                    ListingImporter(account.sudo(), marketplace).sync_prices(product_ids=group.product_id.ids)
            mapped = listings.filtered("product_id")
            if mapped:
                self.env["amazon.listing.sync"]._retry_orders_waiting_for_skus(account, mapped.mapped("seller_sku"))

    def action_auto_map(self):
        """Run the automatic matching again on the selected unmapped listings."""
        check_group(self.env, AMAZON_USER)
        self.check_access("write")
        todo = self.filtered(lambda lst: lst.mapping_state != "mapped")
        for account in todo.account_id:
            listings = todo.filtered(lambda lst, a=account: lst.account_id == a)
            importer = ListingImporter(account.sudo())
            importer.rematch(listings.sudo())
        return self.env["amazon.sync.job"]._notification(
            _("Matching done: %(mapped)s of %(total)s listings are now mapped.",
              mapped=len(todo.filtered(lambda lst: lst.mapping_state == "mapped")), total=len(todo))
        )

    def action_push_stock(self):
        """Send the quantity of the selected merchant-fulfilled listings now (the rest in the background)."""
        check_group(self.env, AMAZON_USER, message=self.env._("Only Amazon users can send stock to Amazon."))
        self.check_access("read")
        Sync = self.env["amazon.stock.sync"]
        return Sync._push_notification([Sync._push_now(account, listings)
                                        for account, listings in self.grouped("account_id").items()])

    # ------------------------------------------------------------------ create products

    def action_create_products(self):
        """Create a storable product for each selected unmapped listing (SKU as internal reference)."""
        check_group(self.env, AMAZON_USER)
        self.check_access("write")
        todo = self.filtered(lambda lst: lst.mapping_state == "unmapped")
        if not todo:
            raise UserError(_("Select unmapped listings: mapped listings and conflicts get no new product."))
        # Products created since the last import may match already: map those instead of duplicating.
        for account in todo.account_id:
            ListingImporter(account.sudo()).rematch(todo.filtered(lambda lst, a=account: lst.account_id == a).sudo())
        todo = todo.filtered(lambda lst: lst.mapping_state == "unmapped")
        Product = self.env["product.product"]
        created = Product
        by_sku = {}
        for listing in todo:
            by_sku.setdefault((listing.company_id.id, listing.seller_sku), []).append(listing.id)
        # Barcodes already used by products of the company (or shared ones) are not given again.
        wanted_barcodes = {
            listing.product_identifier
            for listing in todo
            if listing.product_identifier and listing.product_identifier_type in BARCODE_ID_TYPES
        }
        used = set()
        if wanted_barcodes:
            candidates = set()
            for code in wanted_barcodes:
                candidates.update(barcode_variants(code))
            used = {
                p["barcode"]
                for p in Product.with_context(active_test=False).search_read(
                    [("barcode", "in", list(candidates))], ["barcode"]
                )
            }
        vals_list, groups = [], []
        for (_company_id, sku), listing_ids in by_sku.items():
            listings = self.browse(listing_ids)
            first = listings.sorted(lambda lst: (lst.fulfillment_channel != "merchant", lst.id))[0]
            vals = {
                "name": first.name or sku,
                "default_code": sku,
                "type": "consu",
                "is_storable": True,
                "list_price": first.price,
            }
            code = first.product_identifier
            if code and first.product_identifier_type in BARCODE_ID_TYPES and not used.intersection(
                barcode_variants(code)
            ):
                vals["barcode"] = code
                used.update(barcode_variants(code))
            vals_list.append(vals)
            groups.append(listings)
        created = Product.create(vals_list)
        for product, listings in zip(created, groups, strict=True):
            listings.sudo().with_context(amazon_listing_import=True).write({"product_id": product.id})
        todo._after_mapping_changed()  # prices and waiting orders, once for all
        return {
            "type": "ir.actions.act_window",
            "name": _("Created Products"),
            "res_model": "product.product",
            "view_mode": "list,form",
            "domain": [("id", "in", created.ids)],
        }

    # ------------------------------------------------------------------ single refresh

    def action_refresh_from_amazon(self):
        """Refresh the selected listings one by one through the Listings Items API."""
        check_group(self.env, AMAZON_USER)
        self.check_access("read")
        if len(self) > REFRESH_LIMIT:
            raise UserError(
                _("Refresh at most %(limit)s listings at a time; the daily import refreshes the whole catalogue.",
                  limit=REFRESH_LIMIT)
            )
        gone = self.browse()
        for account in self.account_id:
            api = account._spapi()
            for listing in self.filtered(lambda lst, a=account: lst.account_id == a):
                try:
                    item = api.for_marketplace(listing.marketplace_id.marketplace_id).get_listings_item(
                        listing.seller_sku)
                except spapi_errors.NotFound:
                    gone |= listing
                    continue
                except spapi_errors.BadData as exc:
                    raise UserError(_("Amazon refused the refresh of %(sku)s: %(error)s",
                                      sku=listing.seller_sku, error=exc)) from exc
                except spapi_errors.SpApiError as exc:
                    raise UserError(_("Amazon could not be reached for %(sku)s: %(error)s",
                                      sku=listing.seller_sku, error=exc)) from exc
                vals = listing_values_from_item(item, listing.marketplace_id.marketplace_id)
                listing._apply_refresh(vals)
        if gone:
            gone.sudo().with_context(amazon_listing_import=True).write(
                {"active": False, "gone_date": fields.Datetime.now()})
        message = _("%(count)s listings refreshed from Amazon.", count=len(self) - len(gone))
        if gone:
            message += " " + _("Amazon no longer has %(skus)s: archived.", skus=", ".join(gone.mapped("seller_sku")))
        return self.env["amazon.sync.job"]._notification(message)

    def _apply_refresh(self, vals):
        self.ensure_one()
        changes = {}
        for key, value in vals.items():
            if value is None:
                continue  # the Listings Items API did not say: keep what the report gave
            current = self[key]
            if key == "price":
                if self.currency_id.compare_amounts(current, value) != 0:
                    changes[key] = value
            elif (current or False) != (value or False):
                changes[key] = value
        if not self.active:
            changes.update(active=True, gone_date=False)
        if changes:
            changes["synced_date"] = fields.Datetime.now()
            self.sudo().with_context(amazon_listing_import=True).write(changes)
            if "price" in changes and self.product_id:
                ListingImporter(self.account_id.sudo(), self.marketplace_id).sync_prices(
                    product_ids=self.product_id.ids)
