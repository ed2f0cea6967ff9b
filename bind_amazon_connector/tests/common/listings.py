"""Listings at Amazon as the tests and the listings benchmark make them: Amazon-shaped listings reports, and the
import that reads them. Imports no Odoo (the benchmark loads this file on its own)."""
import zlib

from spapi_simulator.reports import MERCHANT_LISTINGS_COLUMNS

REPORT_TYPE = "GET_MERCHANT_LISTINGS_ALL_DATA"


def report_row(sku, *, title=None, price="199.00", quantity="10", channel="DEFAULT", asin=None,
               product_id=None, product_id_type=None, status="Active", **extra):
    """One report row as a dict of column to text (merchant-fulfilled, priced, active by default)."""
    asin = asin if asin is not None else f"B0{zlib.crc32(sku.encode()) % 10**8:08d}"
    row = {
        "item-name": title if title is not None else f"Producto {sku}",
        "listing-id": f"0{zlib.crc32(b'listing' + sku.encode()):010d}",
        "seller-sku": sku,
        "price": price,
        "quantity": quantity,
        "open-date": "2025-01-15 10:00:00 UTC",
        "item-is-marketplace": "y",
        "product-id-type": product_id_type if product_id_type is not None else "1",
        "item-condition": "11",
        "asin1": asin,
        "product-id": product_id if product_id is not None else asin,
        "pending-quantity": "0",
        "fulfillment-channel": channel,
        "status": status,
    }
    row.update(extra)
    return row


def report_text(rows, columns=None):
    """The report as Amazon writes it: tab-separated, CRLF, a header line."""
    columns = columns or MERCHANT_LISTINGS_COLUMNS
    lines = ["\t".join(columns)]
    lines += ["\t".join(str(row.get(c, "") if row.get(c) is not None else "") for c in columns) for row in rows]
    return "\r\n".join(lines) + "\r\n"


def iter_report_lines(count, *, prefix="BENCH", columns=None):
    """Header then ``count`` generated rows, one text line at a time (for large benchmark reports)."""
    columns = columns or MERCHANT_LISTINGS_COLUMNS
    yield "\t".join(columns) + "\r\n"
    for n in range(count):
        sku = f"{prefix}-{n:06d}"
        row = report_row(
            sku, title=f"Artículo de prueba número {n}", price=f"{100 + n % 900}.{n % 100:02d}",
            quantity=str(n % 50), channel="AMAZON_NA" if n % 10 == 0 else "DEFAULT",
            asin=f"B0{n:08d}", product_id=f"7501{n:09d}", product_id_type="4",
        )
        yield "\t".join(str(row.get(c) or "") for c in columns) + "\r\n"


class ListingTestMixin:
    """Listings reports served by the simulator, products to map, and what the database really wrote."""

    def setUp(self):
        super().setUp()
        self.sim.set_report_outcome(REPORT_TYPE, "DONE")  # the simulator lives as long as the class

    def _set_report(self, rows, encoding="utf-8", bom=False, gzip=False):
        data = report_text(rows).encode(encoding)
        if bom:
            data = b"\xef\xbb\xbf" + data
        # Amazon often omits the charset: the encoding has to be detected from the bytes
        self.sim.set_report_document(REPORT_TYPE, data, gzip=gzip, content_type="text/plain")

    def _db_writes(self):
        """Rows inserted, updated or deleted so far in this transaction in listings and price list rules."""
        self.env.flush_all()
        self.env.cr.execute(
            """SELECT COALESCE(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) FROM pg_stat_xact_user_tables
                WHERE relname IN ('amazon_listing', 'product_pricelist_item', 'amazon_listing_conflict_product_rel')"""
        )
        return self.env.cr.fetchone()[0]

    def _product(self, code, barcode=None, **kw):
        vals = {"name": f"Product {code}", "default_code": code, "type": "consu", "is_storable": True}
        if barcode:
            vals["barcode"] = barcode
        vals.update(kw)
        return self.env["product.product"].create(vals)
