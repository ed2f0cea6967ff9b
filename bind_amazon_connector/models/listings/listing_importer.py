"""Bringing Amazon's listings report into `amazon.listing`, chunk by chunk, and what follows from it:
automatic mapping to products and the Amazon prices in the connection's price list.

Memory and atomicity (the choice made here)
--------------------------------------------
The report is read as a stream of rows (``SpApi.iter_report_rows``) and handled in chunks of
``CHUNK_SIZE`` rows: for each chunk the existing listings of those SKUs are read with one query,
compared, and only new or changed rows are created (one ``create([...])`` per chunk) or written.
The seller SKUs already met in this report go to a PostgreSQL temporary table, not to a Python set:
it finds duplicate SKUs across chunks and, at the end, the listings gone from Amazon (archived).
Python memory thus depends on the chunk size, not on the report size.

The whole import runs inside one savepoint of the caller's transaction (the cron commits once per
connection, after the import): an error at any row, in the download or in the database rolls every
listing and price written by this run back, so a run either writes everything or nothing.
A report Amazon cancels, fails or does not finish in time ends the run before the first write.
"""
import logging
from collections import Counter
from decimal import Decimal

from markupsafe import Markup, escape

from odoo import Command, fields
from odoo.tools import SQL, LazyTranslate

from ...utils.crashpoints import crashpoint
from ...utils.listing_rows import BARCODE_ID_TYPES, RowError, _text, barcode_variants, parse_row

_logger = logging.getLogger(__name__)
_lt = LazyTranslate(__name__)

REPORT_TYPE = "GET_MERCHANT_LISTINGS_ALL_DATA"
CHUNK_SIZE = 500
#: Rows created or archived from which the listings table's statistics are refreshed at the end.
ANALYZE_THRESHOLD = 5000
#: Skipped rows described one by one in the summary (all are counted).
MAX_SKIPPED_DETAILS = 100

#: Fields compared between the report and the database (writes happen only when one differs).
COMPARED_FIELDS = (
    "name", "amazon_title", "asin", "amazon_listing_ref", "product_identifier", "product_identifier_type",
    "price", "quantity", "fulfillment_channel", "amazon_status",
)

SKIP_REASONS = {
    "no_sku": _lt("No seller SKU"),
    "bad_price": _lt("Unparsable price"),
    "bad_quantity": _lt("Unparsable quantity"),
    "bad_channel": _lt("Unknown fulfillment channel"),
    "duplicate": _lt("Duplicate SKU (the row of line %(first)s was kept)"),
}


# ---------------------------------------------------------------- the importer (Odoo)

class ListingImporter:
    """Imports listings report rows for one connection (see the module docstring)."""

    def __init__(self, account, marketplace=None):
        account.ensure_one()
        self.account = account
        self.env = account.env
        self.cr = account.env.cr
        self.Listing = account.env["amazon.listing"].with_context(active_test=False, amazon_listing_import=True)
        # one report, one marketplace: its listings, its currency, its price list
        self.marketplace = marketplace or account.marketplace_id
        self.currency = self.marketplace.currency_id
        self.company = account.company_id
        self.stats = Counter()
        self.skipped = []  # (line, sku, reason text), at most MAX_SKIPPED_DETAILS
        self.notes = []  # plain-language remarks for the summary

    # ------------------------------------------------------------ whole report

    def run(self, rows):
        """Import an iterable of report rows (dicts). Call inside a savepoint: nothing is committed here."""
        self._create_temp_table()
        chunk = {}  # sku -> (line, vals), in report order
        for line, row in enumerate(rows, start=2):  # line 1 is the header
            self.stats["read"] += 1
            try:
                vals = parse_row(row)
            except RowError as exc:
                self._skip(line, _text(row, "seller-sku"), exc.code, value=exc.value)
                continue
            sku = vals["seller_sku"]
            if sku in chunk:
                self._skip(line, sku, "duplicate", first=chunk[sku][0])
                continue
            chunk[sku] = (line, vals)
            if len(chunk) >= CHUNK_SIZE:
                self._flush(chunk)
                crashpoint("listings.chunk")
                chunk = {}
        if chunk:
            self._flush(chunk)
        self._archive_gone()
        if self.stats["created"] + self.stats["archived"] >= ANALYZE_THRESHOLD:
            # fresh statistics for the planner (this transaction's own rows are counted)
            self.cr.execute("ANALYZE amazon_listing")
        self.sync_prices()
        return self.stats

    def _create_temp_table(self):
        self.cr.execute("DROP TABLE IF EXISTS amazon_listing_import_seen")
        self.cr.execute(
            "CREATE TEMPORARY TABLE amazon_listing_import_seen (sku varchar PRIMARY KEY, line integer NOT NULL, "
            "newly_mapped boolean NOT NULL DEFAULT false) ON COMMIT DROP"
        )

    def drop_temp_table(self):
        self.cr.execute("DROP TABLE IF EXISTS amazon_listing_import_seen")

    def newly_mapped_skus(self, batch_size=1000):
        """Batches of the SKUs whose listing became mapped during this run."""
        last = ""
        while True:
            self.cr.execute(
                "SELECT sku FROM amazon_listing_import_seen WHERE newly_mapped AND sku > %s ORDER BY sku LIMIT %s",
                [last, batch_size],
            )
            skus = [r[0] for r in self.cr.fetchall()]
            if not skus:
                return
            yield skus
            last = skus[-1]

    def _skip(self, line, sku, code, value="", **args):
        self.stats["skipped"] += 1
        self.stats["skipped_" + code] += 1
        if len(self.skipped) < MAX_SKIPPED_DETAILS:
            reason = self.env._(SKIP_REASONS[code])
            if args:
                reason = reason % args
            if value:
                reason = f"{reason}: “{value}”"
            self.skipped.append((line, sku, reason))

    # ------------------------------------------------------------ one chunk

    def _flush(self, chunk):
        cr = self.cr
        skus = list(chunk)
        cr.execute(
            "INSERT INTO amazon_listing_import_seen (sku, line) SELECT * FROM unnest(%s::varchar[], %s::integer[]) "
            "ON CONFLICT (sku) DO NOTHING RETURNING sku",
            [skus, [chunk[s][0] for s in skus]],
        )
        fresh = {r[0] for r in cr.fetchall()}
        if len(fresh) < len(skus):
            dupes = [s for s in skus if s not in fresh]
            cr.execute("SELECT sku, line FROM amazon_listing_import_seen WHERE sku = ANY(%s)", [dupes])
            first_lines = dict(cr.fetchall())
            for sku in dupes:
                self._skip(chunk[sku][0], sku, "duplicate", first=first_lines[sku])
                del chunk[sku]
            skus = list(chunk)
        if not skus:
            return
        cr.execute(
            """SELECT seller_sku, id, name, amazon_title, asin, amazon_listing_ref, product_identifier,
                      product_identifier_type, price, quantity, fulfillment_channel, amazon_status, active,
                      gone_date IS NOT NULL, product_id, mapping_state
                 FROM amazon_listing
                WHERE account_id = %s AND marketplace_id = %s AND seller_sku = ANY(%s)""",
            [self.account.id, self.marketplace.id, skus],
        )
        existing = {r[0]: r[1:] for r in cr.fetchall()}
        now = fields.Datetime.now()
        digits = self.currency.decimal_places
        quant = Decimal(1).scaleb(-digits)

        to_create, to_write, to_match = [], [], []
        for sku in skus:
            _line, vals = chunk[sku]
            vals["price"] = vals["price"].quantize(quant)
            row = existing.get(sku)
            if row is None:
                to_create.append(vals)
                to_match.append(vals)
                continue
            (listing_id, name, amazon_title, asin, ref, pid, pid_type, price, qty, channel, status, active, gone,
             product_id, mapping_state) = row
            current = {
                "name": name, "amazon_title": amazon_title, "asin": asin, "amazon_listing_ref": ref,
                "product_identifier": pid, "product_identifier_type": pid_type,
                "price": Decimal(price or 0).quantize(quant), "quantity": qty or 0,
                "fulfillment_channel": channel, "amazon_status": status,
            }
            changes = {
                f: vals[f] for f in COMPARED_FIELDS
                if (current[f] or None) != (vals[f] or None) and not (f == "quantity" and vals[f] is None)
            }
            if not active and gone:
                # archived because Amazon had dropped it: Amazon lists it again
                changes.update(active=True, gone_date=False)
                self.stats["reactivated"] += 1
            if changes:
                to_write.append((listing_id, changes))
            else:
                self.stats["unchanged"] += 1
            if mapping_state != "mapped":
                to_match.append(dict(vals, id=listing_id, product_id=product_id))

        matches = self.match_products(to_match) if to_match else {}
        newly_mapped = []

        if to_create:
            vals_list = []
            for vals in to_create:
                product_id, conflict_ids = matches.get(vals["seller_sku"], (None, ()))
                vals_list.append(dict(
                    vals,
                    price=float(vals["price"]),
                    quantity=vals["quantity"] or 0,
                    account_id=self.account.id,
                    marketplace_id=self.marketplace.id,
                    currency_id=self.currency.id,
                    product_id=product_id or False,
                    conflict_product_ids=[Command.set(conflict_ids)] if conflict_ids else False,
                    synced_date=now,
                ))
                if product_id:
                    newly_mapped.append(vals["seller_sku"])
            self.Listing.create(vals_list)
            self.stats["created"] += len(vals_list)
            self.stats["writes"] += len(vals_list)

        # matching results on existing, not yet mapped listings
        writes = dict(to_write)
        stale = [v for v in to_match if "id" in v]
        if stale:
            cr.execute(
                "SELECT listing_id, array_agg(product_id ORDER BY product_id) FROM amazon_listing_conflict_product_rel "
                "WHERE listing_id = ANY(%s) GROUP BY listing_id",
                [[v["id"] for v in stale]],
            )
            current_conflicts = dict(cr.fetchall())
            for vals in stale:
                product_id, conflict_ids = matches.get(vals["seller_sku"], (None, ()))
                change = {}
                if product_id:
                    change = {"product_id": product_id, "conflict_product_ids": [Command.clear()]}
                    newly_mapped.append(vals["seller_sku"])
                elif sorted(conflict_ids) != (current_conflicts.get(vals["id"]) or []):
                    change = {"conflict_product_ids": [Command.set(conflict_ids)]}
                if change:
                    if vals["id"] not in writes:
                        self.stats["unchanged"] -= 1
                        writes[vals["id"]] = {}
                    writes[vals["id"]].update(change)
        for listing_id, changes in writes.items():
            if any(f in changes for f in COMPARED_FIELDS):
                changes["synced_date"] = now
                self.stats["updated"] += 1
            else:
                self.stats["remapped"] += 1
            if "price" in changes:
                changes["price"] = float(changes["price"])
            self.Listing.browse(listing_id).write(changes)
            self.stats["writes"] += 1
        self._mark_mapped(newly_mapped)
        # keep memory flat: nothing of this chunk needs to stay in the ORM cache
        self.env.flush_all()
        self.env.invalidate_all()

    def _mark_mapped(self, skus):
        if not skus:
            return
        self.stats["mapped"] += len(skus)
        self.cr.execute("UPDATE amazon_listing_import_seen SET newly_mapped = true WHERE sku = ANY(%s)", [skus])

    # ------------------------------------------------------------ mapping

    def match_products(self, rows):
        """{sku: (product id or None, conflict product ids)} for dicts with seller_sku and product_identifier.

        First the SKU against the products' internal reference, then a UPC/EAN against their barcode;
        one candidate maps, several are a conflict (never guessed), none leaves the listing unmapped.
        """
        Product = self.env["product.product"].sudo().with_context(active_test=True)
        # shared products, and those of the company or of a parent company (Odoo branches)
        company_domain = ["|", ("company_id", "=", False), ("company_id", "parent_of", self.company.id)]
        skus = list({r["seller_sku"] for r in rows})
        by_code = {}
        for p in Product.search_read([("default_code", "in", skus)] + company_domain, ["default_code"]):
            by_code.setdefault(p["default_code"], []).append(p["id"])
        result = {}
        need_barcode = []
        for r in rows:
            found = by_code.get(r["seller_sku"], [])
            if len(found) == 1:
                result[r["seller_sku"]] = (found[0], ())
            elif len(found) > 1:
                result[r["seller_sku"]] = (None, tuple(sorted(found)))
            elif r.get("product_identifier") and r.get("product_identifier_type") in BARCODE_ID_TYPES:
                need_barcode.append(r)
        if need_barcode:
            codes = set()
            for r in need_barcode:
                codes |= barcode_variants(r["product_identifier"])
            by_barcode = {}
            for p in Product.search_read([("barcode", "in", list(codes))] + company_domain, ["barcode"]):
                by_barcode.setdefault(p["barcode"], set()).add(p["id"])
            for r in need_barcode:
                found = set()
                for code in barcode_variants(r["product_identifier"]):
                    found |= by_barcode.get(code, set())
                if len(found) == 1:
                    result[r["seller_sku"]] = (found.pop(), ())
                elif len(found) > 1:
                    result[r["seller_sku"]] = (None, tuple(sorted(found)))
        return result

    def rematch(self, listings):
        """Run the automatic matching on existing listings (manual action); write only what changes."""
        listings = listings.filtered(lambda lst: lst.mapping_state != "mapped")
        rows = [{"seller_sku": lst.seller_sku, "product_identifier": lst.product_identifier,
                 "product_identifier_type": lst.product_identifier_type} for lst in listings]
        matches = self.match_products(rows) if rows else {}
        mapped = listings.browse()
        for listing in listings:
            product_id, conflict_ids = matches.get(listing.seller_sku, (None, ()))
            if product_id:
                listing.with_context(amazon_listing_import=True).write(
                    {"product_id": product_id, "conflict_product_ids": [Command.clear()]})
                mapped |= listing
            elif sorted(conflict_ids) != sorted(listing.conflict_product_ids.ids):
                listing.with_context(amazon_listing_import=True).write(
                    {"conflict_product_ids": [Command.set(conflict_ids)]})
        if mapped:
            for marketplace, group in mapped.grouped("marketplace_id").items():
                ListingImporter(self.account, marketplace).sync_prices(product_ids=group.product_id.ids)
            self.env["amazon.listing.sync"]._retry_orders_waiting_for_skus(
                self.account, mapped.mapped("seller_sku"))
        return mapped

    # ------------------------------------------------------------ gone listings

    def _archive_gone(self):
        valid = self.stats["read"] - self.stats["skipped"]
        if not valid:
            # An empty report is far more likely a glitch than a seller without a single offer.
            self.cr.execute(
                "SELECT count(*) FROM amazon_listing WHERE account_id = %s AND marketplace_id = %s AND active",
                [self.account.id, self.marketplace.id],
            )
            if self.cr.fetchone()[0]:
                self.notes.append(self.env._(
                    "The report had no usable listing: no listing was archived. Check the catalogue in "
                    "Seller Central and import again."))
            return
        now = fields.Datetime.now()
        while True:
            self.cr.execute(
                """SELECT l.id FROM amazon_listing l
                     WHERE l.account_id = %s AND l.marketplace_id = %s AND l.active
                       AND NOT EXISTS (SELECT 1 FROM amazon_listing_import_seen s WHERE s.sku = l.seller_sku)
                     LIMIT %s""",
                [self.account.id, self.marketplace.id, CHUNK_SIZE],
            )
            ids = [r[0] for r in self.cr.fetchall()]
            if not ids:
                break
            self.Listing.browse(ids).write({"active": False, "gone_date": now})
            self.stats["archived"] += len(ids)
            self.stats["writes"] += len(ids)
            self.env.flush_all()
            self.env.invalidate_all()

    # ------------------------------------------------------------ prices

    def sync_prices(self, product_ids=None):
        """One fixed-price rule per mapped product in the connection's price list, equal to Amazon's price.

        Only missing or different rules are written. When several active listings of the connection sell the
        same product, the merchant-fulfilled one's price wins (then the oldest listing).
        """
        pricelist = self._pricelist()
        if not pricelist:
            self.notes.append(self.env._("No price list on the connection: Amazon's prices were not copied."))
            return
        if pricelist.currency_id != self.currency:
            self.notes.append(self.env._(
                "The price list %(pricelist)s is in %(currency)s but %(marketplace)s sells in %(amazon_currency)s: "
                "Amazon's prices were not copied.",
                pricelist=pricelist.display_name, currency=pricelist.currency_id.name,
                marketplace=self.marketplace.name, amazon_currency=self.currency.name,
            ))
            return
        self.env.flush_all()
        product_filter = SQL("AND l.product_id = ANY(%s)", list(product_ids)) if product_ids is not None else SQL()
        # The rule of each product is found by an index lookup (LATERAL): the plan stays linear even when
        # the tables' statistics are stale right after a large import.
        self.cr.execute(SQL(
            """WITH wanted AS MATERIALIZED (
                    SELECT DISTINCT ON (l.product_id) l.product_id, l.price
                      FROM amazon_listing l
                     WHERE l.account_id = %(account)s AND l.marketplace_id = %(marketplace)s AND l.active
                       AND l.product_id IS NOT NULL AND l.price > 0 %(product_filter)s
                  ORDER BY l.product_id, (l.fulfillment_channel = 'merchant') DESC, l.id
                )
                SELECT w.product_id, w.price, e.id
                  FROM wanted w
                  LEFT JOIN LATERAL (
                        SELECT i.id, i.fixed_price, i.compute_price
                          FROM product_pricelist_item i
                         WHERE i.product_id = w.product_id AND i.pricelist_id = %(pricelist)s
                           AND i.applied_on = '0_product_variant' AND COALESCE(i.min_quantity, 0) <= 1
                           AND i.date_start IS NULL AND i.date_end IS NULL
                      ORDER BY i.id
                         LIMIT 1
                  ) e ON TRUE
                 WHERE e.id IS NULL OR e.compute_price != 'fixed'
                    OR round(e.fixed_price::numeric, %(digits)s) != round(w.price, %(digits)s)""",
            account=self.account.id, marketplace=self.marketplace.id, pricelist=pricelist.id,
            product_filter=product_filter, digits=self.currency.decimal_places,
        ))
        rows = self.cr.fetchall()
        if product_ids is None:
            self._note_price_conflicts()
        if not rows:
            return
        Item = self.env["product.pricelist.item"].sudo()
        to_create = [(pid, price) for pid, price, item_id in rows if not item_id]
        by_price = {}
        for _pid, price, item_id in rows:
            if item_id:
                by_price.setdefault(float(price), []).append(item_id)
        for start in range(0, len(to_create), CHUNK_SIZE):
            batch = to_create[start:start + CHUNK_SIZE]
            templates = dict(self._templates_of([pid for pid, _p in batch]))
            Item.create([{
                "pricelist_id": pricelist.id,
                "applied_on": "0_product_variant",
                "product_id": pid,
                "product_tmpl_id": templates[pid],
                "compute_price": "fixed",
                "fixed_price": float(price),
            } for pid, price in batch])
            self.stats["prices_created"] += len(batch)
            self.stats["writes"] += len(batch)
        for price, item_ids in by_price.items():
            Item.browse(item_ids).write({"compute_price": "fixed", "fixed_price": price})
            self.stats["prices_updated"] += len(item_ids)
            self.stats["writes"] += len(item_ids)
        self.env.flush_all()
        self.env.invalidate_all()

    def _pricelist(self):
        """The price list receiving this marketplace's prices: its own on the connection, else (main
        marketplace) the connection's, even in another currency (then the prices are not copied, with a note)."""
        Line = self.account.env["amazon.account.marketplace"]
        if self.marketplace == self.account.marketplace_id:
            return Line._for(self.account, self.marketplace).pricelist_id or self.account.pricelist_id
        return Line._pricelist_for(self.account, self.marketplace)

    def _templates_of(self, product_ids):
        self.cr.execute("SELECT id, product_tmpl_id FROM product_product WHERE id = ANY(%s)", [product_ids])
        return self.cr.fetchall()

    def _note_price_conflicts(self):
        self.cr.execute(
            """SELECT count(*) FROM (
                   SELECT l.product_id FROM amazon_listing l
                    WHERE l.account_id = %s AND l.marketplace_id = %s AND l.active AND l.product_id IS NOT NULL
                      AND l.price > 0
                 GROUP BY l.product_id HAVING count(DISTINCT l.price) > 1) t""",
            [self.account.id, self.marketplace.id],
        )
        count = self.cr.fetchone()[0]
        if count:
            self.notes.append(self.env._(
                "%(count)s products are sold by several listings at different prices: the price list takes the "
                "merchant-fulfilled listing's price.", count=count))

    # ------------------------------------------------------------ summary

    def summary_html(self):
        _ = self.env._
        s = self.stats
        parts = [Markup("<p>%s</p>") % _(
            "%(read)s rows read: %(created)s listings created, %(updated)s updated, %(unchanged)s unchanged, "
            "%(archived)s archived (gone from Amazon), %(skipped)s rows skipped.",
            read=s["read"], created=s["created"], updated=s["updated"], unchanged=s["unchanged"],
            archived=s["archived"], skipped=s["skipped"])]
        parts.append(Markup("<p>%s</p>") % _(
            "%(mapped)s listings newly mapped to products; price list rules: %(pc)s created, %(pu)s updated.",
            mapped=s["mapped"], pc=s["prices_created"], pu=s["prices_updated"]))
        for note in self.notes:
            parts.append(Markup("<p>%s</p>") % note)
        if self.skipped:
            rows = Markup("").join(
                Markup("<tr><td>%s</td><td>%s</td><td>%s</td></tr>") % (line, sku or "", reason)
                for line, sku, reason in self.skipped
            )
            parts.append(
                Markup("<table class='table table-sm'><thead><tr><th>%s</th><th>%s</th><th>%s</th></tr></thead>"
                       "<tbody>%s</tbody></table>") % (_("Line"), _("Seller SKU"), _("Reason"), rows)
            )
            if s["skipped"] > len(self.skipped):
                parts.append(Markup("<p>%s</p>") % _(
                    "… and %(count)s more skipped rows.", count=s["skipped"] - len(self.skipped)))
        return Markup("").join(parts)


def failure_html(message):
    return Markup("<p class='text-danger'>%s</p>") % escape(message)
