from decimal import Decimal
from unittest.mock import patch

from odoo.tests import tagged

from ..spapi import errors as spapi_errors
from ..spapi.transport import Transport
from ..utils.listing_rows import RowError, barcode_variants, parse_price, parse_quantity, parse_row
from .common import REPORT_TYPE, AmazonTestCommon, ListingTestMixin, report_row


@tagged("post_install", "-at_install")
class TestListingParsing(AmazonTestCommon):
    """The row rules, without Amazon."""

    def test_prices(self):
        self.assertEqual(parse_price("1299.00"), Decimal("1299.00"))
        self.assertEqual(parse_price("1,299.50"), Decimal("1299.50"))
        self.assertEqual(parse_price("1.299,50"), Decimal("1299.50"))
        self.assertEqual(parse_price("199,9"), Decimal("199.9"))
        self.assertEqual(parse_price("$1,299"), Decimal("1299"))
        self.assertIsNone(parse_price(""))
        for bad in ("abc", "12.3.4", "-5", "1,2,3", "12 pesos"):
            with self.assertRaises(RowError, msg=bad) as caught:
                parse_price(bad)
            self.assertEqual(caught.exception.code, "bad_price")

    def test_quantities(self):
        self.assertEqual(parse_quantity("7"), 7)
        self.assertIsNone(parse_quantity(""))
        self.assertEqual(parse_quantity("3.0"), 3)
        for bad in ("-1", "2.5", "muchos"):
            with self.assertRaises(RowError, msg=bad):
                parse_quantity(bad)

    def test_row(self):
        vals = parse_row(report_row("A-1", price="10.5", quantity="", channel="AMAZON_NA",
                                    product_id="750100000001", product_id_type="4"))
        self.assertEqual(vals["fulfillment_channel"], "amazon")
        self.assertIsNone(vals["quantity"], "an FBA row's empty quantity is unknown, not zero")
        self.assertEqual(parse_row(report_row("A-4", quantity=""))["quantity"], 0)
        self.assertEqual(vals["product_identifier_type"], "ean")
        self.assertEqual(parse_row(report_row("A-2"))["fulfillment_channel"], "merchant")
        with self.assertRaises(RowError) as caught:
            parse_row(report_row("A-3", channel="SHIPPED_BY_PIGEON"))
        self.assertEqual(caught.exception.code, "bad_channel")
        with self.assertRaises(RowError) as caught:
            parse_row(report_row("  "))
        self.assertEqual(caught.exception.code, "no_sku")

    def test_barcode_variants(self):
        self.assertEqual(barcode_variants("012345678905"), {"012345678905", "0012345678905"})
        self.assertEqual(barcode_variants("0012345678905"), {"0012345678905", "012345678905"})
        self.assertEqual(barcode_variants("7501234567893"), {"7501234567893"})


@tagged("post_install", "-at_install")
class TestListingImport(ListingTestMixin, AmazonTestCommon):

    def test_bad_rows_skipped_with_reasons(self):
        rows = [
            report_row("GOOD-1", title="Cafetera eléctrica", price="1,299.00", quantity="5"),
            report_row("", title="Sin SKU"),
            report_row("BAD-PRICE", price="gratis"),
            report_row("BAD-QTY", quantity="-3"),
            report_row("BAD-CHANNEL", channel="PIGEON"),
            report_row("DUP-1", price="100.00"),
            report_row("DUP-1", price="120.00"),
            report_row("GOOD-FBA", channel="AMAZON_NA", quantity=""),
        ]
        self._set_report(rows, bom=True)
        state = self._import_listings()
        self.assertEqual(state, "warning")
        listings = self._listings()
        self.assertEqual(listings.mapped("seller_sku"), ["DUP-1", "GOOD-1", "GOOD-FBA"])
        good = self._listing("GOOD-1")
        # the BOM did not end up in the first column's name: titles were read
        self.assertEqual(good.name, "Cafetera eléctrica")
        self.assertEqual(good.price, 1299.0)
        self.assertEqual(good.quantity, 5)
        self.assertEqual(good.fulfillment_channel, "merchant")
        self.assertEqual(good.currency_id, self.env.ref("base.MXN"))
        self.assertEqual(good.company_id, self.company)
        self.assertEqual(self._listing("GOOD-FBA").fulfillment_channel, "amazon")
        self.assertEqual(self._listing("DUP-1").price, 100.0, "the first row of a duplicated SKU is kept")
        account = self.amazon
        self.assertEqual(account.listing_import_rows, 8)
        self.assertEqual(account.listing_import_created, 3)
        self.assertEqual(account.listing_import_skipped, 5)
        summary = str(account.listing_import_summary)
        for reason in ("No seller SKU", "Unparsable price: “gratis”", "Unparsable quantity: “-3”",
                       "Unknown fulfillment channel: “PIGEON”", "Duplicate SKU (the row of line 7 was kept)"):
            self.assertIn(reason, summary)
        self.assertIn("BAD-QTY", summary)

    def test_cp1252_report(self):
        rows = [report_row("ACENTO-1", title="Sartén de aluminio, 24 cm – señorial"),
                report_row("ACENTO-2", title="Juego de té ÁÉÍÓÚ ñ ü")]
        self._set_report(rows, encoding="cp1252", gzip=True)
        self.assertEqual(self._import_listings(), "done")
        self.assertEqual(self._listing("ACENTO-1").name, "Sartén de aluminio, 24 cm – señorial")
        self.assertEqual(self._listing("ACENTO-2").name, "Juego de té ÁÉÍÓÚ ñ ü")

    def test_reimport_is_idempotent_and_writes_nothing(self):
        self._product("MAP-1")
        rows = [report_row(f"SKU-{n}", price=f"{100 + n}.00", quantity=str(n)) for n in range(30)]
        rows.append(report_row("MAP-1", price="250.00"))
        self._set_report(rows)
        self._import_listings()
        listings = self._listings()
        self.assertEqual(len(listings), 31)
        snapshot = listings.read(["seller_sku", "price", "quantity", "product_id", "write_date"])
        before = self._db_writes()
        self.assertEqual(self._import_listings(), "done")
        self.assertEqual(self._db_writes(), before, "a second import of the same report writes nothing")
        self.assertEqual(self.amazon.listing_import_writes, 0)
        self.assertEqual(self.amazon.listing_import_created, 0)
        self.assertEqual(self.amazon.listing_import_updated, 0)
        self.env.invalidate_all()
        self.assertEqual(self._listings().read(["seller_sku", "price", "quantity", "product_id", "write_date"]),
                         snapshot)
        self.assertTrue(self._listing("SKU-3").last_seen)

    def test_changes_are_written(self):
        self._set_report([report_row("CH-1", price="100.00", quantity="1"), report_row("CH-2")])
        self._import_listings()
        self._set_report([report_row("CH-1", price="90.00", quantity="4"), report_row("CH-2")])
        before = self._db_writes()
        self._import_listings()
        self.assertEqual(self._db_writes() - before, 1, "only the changed listing is written")
        self.assertEqual(self.amazon.listing_import_updated, 1)
        listing = self._listing("CH-1")
        self.assertEqual((listing.price, listing.quantity), (90.0, 4))

    def test_gone_listings_archived_then_back(self):
        self._set_report([report_row("STAY"), report_row("GONE")])
        self._import_listings()
        self._set_report([report_row("STAY")])
        self._import_listings()
        gone = self._listing("GONE")
        self.assertFalse(gone.active)
        self.assertTrue(gone.gone_date)
        self.assertTrue(self._listing("STAY").active)
        self.assertEqual(self.amazon.listing_import_archived, 1)
        self._set_report([report_row("STAY"), report_row("GONE")])
        self._import_listings()
        self.assertTrue(gone.active)
        self.assertFalse(gone.gone_date)

    def test_empty_report_archives_nothing(self):
        self._set_report([report_row("KEEP")])
        self._import_listings()
        self._set_report([report_row("", title="only a bad row")])
        self._import_listings()
        self.assertTrue(self._listing("KEEP").active)
        self.assertIn("no listing was archived", str(self.amazon.listing_import_summary))

    def _assert_failed_run(self, outcome, message):
        self._set_report([report_row("FIRST")])
        self._import_listings()
        self._set_report([report_row("FIRST", price="1.00"), report_row("SECOND")])
        self.sim.set_report_outcome(REPORT_TYPE, outcome)
        before = self._db_writes()
        state = self._import_listings(wait=0.5)
        self.assertEqual(self._db_writes(), before, "a failed run writes no listing and no price")
        self.assertEqual(self._listings().mapped("seller_sku"), ["FIRST"])
        self.assertEqual(self._listing("FIRST").price, 199.0)
        self.assertIn(message, str(self.amazon.listing_import_summary))
        self.assertIn("Nothing was changed", str(self.amazon.listing_import_summary))
        return state

    def test_cancelled_report(self):
        state = self._assert_failed_run("CANCELLED", "cancelled report")
        self.assertEqual(state, "failed")
        self.assertEqual(self.amazon.listing_import_state, "failed")
        self.assertFalse(self.amazon.listing_report_id)

    def test_fatal_report(self):
        self.assertEqual(self._assert_failed_run("FATAL", "could not produce report"), "failed")

    def test_report_never_finishing(self):
        state = self._assert_failed_run("IN_PROGRESS_FOREVER", "has not finished the listings report")
        self.assertEqual(state, "waiting")
        # the next run waits for the same report instead of asking Amazon for another one
        self.assertTrue(self.amazon.listing_report_id)

    def test_lost_report_request_is_looked_for_not_asked_again(self):
        """Amazon takes the listings report request but its answer is lost (a timeout after sending): the run
        waits, remembering when it asked, and the next run finds Amazon's report instead of asking again."""
        self._set_report([report_row("FIRST", price="199.00")])
        with self.sim.state.lock:
            self.sim.state.reports.clear()  # the reports of the class's earlier tests are as recent
        real_call = Transport._call

        def answer_lost(api, operation, *args, **kwargs):
            if operation == "createReport":
                raise spapi_errors.RetryLater("Amazon did not answer within 0.2 seconds", operation=operation,
                                              maybe_done=True)
            return real_call(api, operation, *args, **kwargs)

        with patch.object(Transport, "_call", answer_lost):
            self.assertEqual(self._import_listings(), "waiting")
        self.assertFalse(self.amazon.listing_report_id)
        self.assertTrue(self.amazon.listing_report_date)
        # Amazon did make that report, later than the lost answer
        late = self.amazon.with_context(amazon_pacing_speed=self.sim_speed)._spapi().create_report(
            REPORT_TYPE, marketplace_ids=[self.amazon.marketplace_id.marketplace_id])
        asked = self.sim.count("createReport")
        self.assertEqual(self._import_listings(), "done")
        self.assertEqual(self.sim.count("createReport"), asked, "a second report was asked for")
        self.assertEqual(self._listing("FIRST").price, 199.0)
        self.assertTrue(any(r.operation == "getReport" and late in r.path for r in self.sim.requests))
        self.assertFalse(self.amazon.listing_report_date)

    def test_failure_while_reading_rolls_back(self):
        """An error after some chunks were written undoes them all."""
        from ..models.listings import listing_importer as module

        self._set_report([report_row(f"ROLL-{n}") for n in range(12)])
        original = module.ListingImporter._flush
        calls = []

        def flaky_flush(importer, chunk):
            calls.append(len(chunk))
            if len(calls) == 3:
                from ..spapi.errors import RetryLater
                raise RetryLater("the report download stalled")
            return original(importer, chunk)

        with patch.object(module, "CHUNK_SIZE", 4), patch.object(module.ListingImporter, "_flush", flaky_flush):
            state = self._import_listings()
        self.assertEqual(state, "failed")
        self.assertEqual(len(calls), 3)
        self.assertFalse(self._listings(), "the two chunks written before the error are rolled back")
        self.assertIn("the report download stalled", str(self.amazon.listing_import_summary))

    def test_one_import_per_connection_at_a_time(self):
        from odoo.sql_db import db_connect

        from ..models.connection.amazon_sync_job import SYNC_LOCK_KEYS

        self._set_report([report_row("LOCKED")])
        with db_connect(self.env.cr.dbname).cursor() as other:
            other.execute("SELECT pg_advisory_xact_lock(%s, %s)", [SYNC_LOCK_KEYS["listings"], self.amazon.id])
            self.assertEqual(self._import_listings(), "busy")
            self.assertFalse(self._listings())
            other.rollback()
        self.assertEqual(self._import_listings(), "done")
        self.assertTrue(self._listings())

    def test_chunks_and_cross_chunk_duplicates(self):
        from ..models.listings import listing_importer as module

        rows = [report_row(f"CK-{n:02d}") for n in range(10)] + [report_row("CK-01", price="5.00")]
        self._set_report(rows)
        with patch.object(module, "CHUNK_SIZE", 3):
            self._import_listings()
        self.assertEqual(len(self._listings()), 10)
        self.assertEqual(self._listing("CK-01").price, 199.0)
        self.assertIn("Duplicate SKU (the row of line 3 was kept)", str(self.amazon.listing_import_summary))

    def test_cron_dispatches_per_connection(self):
        other = self.env["amazon.account"].create(self._amazon_account_vals(
            name="Amazon MX 2", seller_id="A3SIMSELLER0002", pricelist_id=False, warehouse_id=False,
            fba_warehouse_id=False))
        self._set_report([report_row("CRON-1")])
        results = self._run_scheduled("listings", amazon_report_poll_interval=0.01, amazon_report_wait=5)
        # one job per connection, each run on its own (by whichever Odoo server is free)
        self.assertEqual(set(results), {self.amazon, other})
        self.assertEqual(len(self.env["amazon.sync.job"].search([("flow", "=", "listings")]).cron_id), 2)
        self.assertEqual(self._listing("CRON-1").mapped("account_id"), self.amazon)
        self.assertEqual(self._listing("CRON-1", other).account_id, other)
        self.assertIn("No price list", str(other.listing_import_summary))
        # ran today: the next run leaves both alone
        self.assertEqual(self._run_scheduled("listings"), {})

    def test_button_and_views(self):
        from lxml import etree

        self._set_report([report_row("BTN-1")])
        action = self.amazon.with_context(
            amazon_pacing_speed=self.sim_speed, amazon_report_poll_interval=0.01).action_import_listings()
        self.assertEqual(action["params"]["type"], "success")
        self.assertEqual(self.amazon.listing_count, 1)
        form = etree.fromstring(self.env["amazon.account"].get_views([(False, "form")])["views"]["form"]["arch"])
        pages = [p.get("name") for p in form.xpath("//notebook[@name='amazon_notebook']/page")]
        self.assertIn("listings", pages[pages.index("settings") + 1:])
        self.assertTrue(form.xpath("//button[@name='action_import_listings']"))
        search = etree.fromstring(self.env["amazon.listing"].get_views([(False, "search")])["views"]["search"]["arch"])
        filters = {f.get("name") for f in search.xpath("//filter")}
        self.assertTrue({"filter_unmapped", "filter_conflict", "filter_mapped", "filter_merchant",
                         "filter_fba"} <= filters)
        listings = self.amazon.action_view_listings()
        self.assertEqual(self.env["amazon.listing"].search(listings["domain"]), self._listings())

    # ------------------------------------------------------------------ mapping

    def test_mapping_by_sku_then_barcode_and_conflicts(self):
        by_sku = self._product("MAP-SKU")
        by_barcode = self._product("INTERNAL-EAN", barcode="7501000000017")
        upc = self._product("INTERNAL-UPC", barcode="0012345678905")  # EAN-13 form of a UPC-A
        self._product("TWIN", name="Twin A")
        self._product("TWIN", name="Twin B")
        rows = [
            report_row("MAP-SKU", product_id="7501000000017", product_id_type="4"),  # SKU wins over barcode
            report_row("AMZ-EAN", product_id="7501000000017", product_id_type="4"),
            report_row("AMZ-UPC", product_id="012345678905", product_id_type="3"),
            report_row("TWIN"),
            report_row("AMZ-ASIN", product_id="7501000000017", product_id_type="1"),  # an ASIN is no barcode
            report_row("NOTHING"),
        ]
        self._set_report(rows)
        self._import_listings()
        self.assertEqual(self._listing("MAP-SKU").product_id, by_sku)
        self.assertEqual(self._listing("AMZ-EAN").product_id, by_barcode)
        self.assertEqual(self._listing("AMZ-UPC").product_id, upc)
        twin = self._listing("TWIN")
        self.assertFalse(twin.product_id, "several matches are never guessed")
        self.assertEqual(twin.mapping_state, "conflict")
        self.assertEqual(len(twin.conflict_product_ids), 2)
        self.assertEqual(self._listing("AMZ-ASIN").mapping_state, "unmapped")
        self.assertEqual(self._listing("NOTHING").mapping_state, "unmapped")
        self.assertEqual(self.amazon.listing_unmapped_count, 2)
        self.assertEqual(self.amazon.listing_conflict_count, 1)

    def test_unmapped_listing_mapped_at_next_import(self):
        self._set_report([report_row("LATE")])
        self._import_listings()
        self.assertEqual(self._listing("LATE").mapping_state, "unmapped")
        product = self._product("LATE")
        with patch.object(type(self.env["amazon.listing.sync"]), "_retry_orders_waiting_for_skus",
                          autospec=True) as hook:
            self._import_listings()
        self.assertEqual(self._listing("LATE").product_id, product)
        hook.assert_called_once_with(self.env["amazon.listing.sync"], self.amazon, ["LATE"])

    def test_manual_mapping_recomputes_state_prices_and_retries_orders(self):
        self._product("TWIN")
        self._product("TWIN")
        self._set_report([report_row("TWIN", price="321.00")])
        self._import_listings()
        listing = self._listing("TWIN")
        self.assertEqual(listing.mapping_state, "conflict")
        chosen = listing.conflict_product_ids[0]
        with patch.object(type(self.env["amazon.listing.sync"]), "_retry_orders_waiting_for_skus",
                          autospec=True) as hook:
            listing.with_user(self.amazon_user).write({"product_id": chosen.id})
        self.assertEqual(listing.mapping_state, "mapped")
        self.assertFalse(listing.conflict_product_ids)
        hook.assert_called_once_with(self.env["amazon.listing.sync"], self.amazon, ["TWIN"])
        item = self.pricelist.item_ids.filtered(lambda i: i.product_id == chosen)
        self.assertEqual(item.fixed_price, 321.0)
        listing.product_id = False
        self.assertEqual(listing.mapping_state, "unmapped")

    def test_mapping_asks_for_the_orders_job_and_calls_no_orders_code(self):
        """Listings and orders meet through records: a mapping asks for the orders job of the connection (its
        run imports the orders whose SKUs are all mapped now); nothing of the orders flow runs here."""
        self.env["ir.cron.trigger"].sudo().search([]).unlink()
        target = type(self.env["amazon.order"])
        with patch.object(target, "_retry_waiting_for_skus", side_effect=AssertionError("orders code ran")), \
                patch.object(target, "_import_orders", side_effect=AssertionError("orders code ran")):
            self.env["amazon.listing.sync"]._retry_orders_waiting_for_skus(self.amazon, ["A", "B"])
        job = self.env["amazon.sync.job"].search([("account_id", "=", self.amazon.id), ("flow", "=", "orders")])
        self.assertTrue(self.env["ir.cron.trigger"].sudo().search_count([("cron_id", "=", job.cron_id.id)]))

    def test_create_products(self):
        # an archived product holds NEW-2's barcode: no match (archived), but the barcode is not free
        self._product("OLD", barcode="7501000000024").product_tmpl_id.active = False
        mapped = self._product("MAPPED")
        rows = [
            report_row("NEW-1", title="Licuadora", price="899.00", product_id="7501000000031", product_id_type="4"),
            report_row("NEW-2", title="Tostador", price="499.00", product_id="7501000000024", product_id_type="4"),
            report_row("NEW-3", title="Batidora", price="650.00"),
            report_row("MAPPED"),
        ]
        self._set_report(rows)
        self._import_listings()
        self.assertEqual(self._listing("NEW-2").mapping_state, "unmapped")
        self._listings().action_create_products()
        self.assertEqual(self._listing("MAPPED").product_id, mapped, "mapped listings keep their product")
        new1 = self._listing("NEW-1").product_id
        self.assertEqual(new1.default_code, "NEW-1")
        self.assertEqual(new1.name, "Licuadora")
        self.assertEqual(new1.list_price, 899.0)
        self.assertTrue(new1.is_storable)
        self.assertEqual(new1.barcode, "7501000000031")
        new2 = self._listing("NEW-2").product_id
        self.assertEqual(new2.default_code, "NEW-2")
        self.assertFalse(new2.barcode, "a barcode already used is not given twice")
        self.assertEqual(self._listing("NEW-3").product_id.default_code, "NEW-3")
        self.assertEqual(set(self._listings().mapped("mapping_state")), {"mapped"})
        prices = {i.product_id.default_code: i.fixed_price for i in self.pricelist.item_ids}
        self.assertEqual(prices["NEW-1"], 899.0)

    # ------------------------------------------------------------------ prices

    def test_price_list_rules_equal_amazon_prices(self):
        p1, p2, p3 = self._product("PR-1"), self._product("PR-2"), self._product("PR-3")
        # an existing rule of the seller for PR-2 is reused, not duplicated
        self.env["product.pricelist.item"].create({
            "pricelist_id": self.pricelist.id, "applied_on": "0_product_variant", "product_id": p2.id,
            "product_tmpl_id": p2.product_tmpl_id.id, "compute_price": "fixed", "fixed_price": 1.0,
        })
        rows = [report_row("PR-1", price="1,499.90"), report_row("PR-2", price="249.00"),
                report_row("PR-3", price=""), report_row("UNMAPPED", price="10.00")]
        self._set_report(rows)
        self._import_listings()
        items = self.pricelist.item_ids
        self.assertEqual({(i.product_id, i.fixed_price, i.compute_price, i.applied_on) for i in items}, {
            (p1, 1499.9, "fixed", "0_product_variant"),
            (p2, 249.0, "fixed", "0_product_variant"),
        })
        self.assertEqual(self.pricelist.currency_id, self.amazon.marketplace_id.currency_id)
        self.assertEqual(self.pricelist._get_product_price(p1, 1.0), 1499.9)
        self.assertFalse(items.filtered(lambda i: i.product_id == p3), "no price on Amazon, no rule")
        # a price change on Amazon updates the rule in place
        rows[0] = report_row("PR-1", price="1,399.90")
        self._set_report(rows)
        self._import_listings()
        self.assertEqual(len(self.pricelist.item_ids), 2)
        self.assertEqual(self.pricelist.item_ids.filtered(lambda i: i.product_id == p1).fixed_price, 1399.9)

    def test_prices_not_copied_into_other_currency(self):
        self.pricelist.currency_id = self.env.ref("base.USD")
        self._product("CUR-1")
        self._set_report([report_row("CUR-1", price="10.00")])
        self._import_listings()
        self.assertFalse(self.pricelist.item_ids)
        self.assertIn("prices were not copied", str(self.amazon.listing_import_summary))

    # ------------------------------------------------------------------ single refresh

    def test_refresh_from_listings_items_api(self):
        from spapi_simulator.factory import make_listing

        self._set_report([report_row("REF-1", price="100.00", quantity="1"), report_row("REF-GONE")])
        self._import_listings()
        self.sim.add_listing(make_listing("REF-1", price="150.00", quantity=7, title="Nuevo título"))
        listing, gone = self._listing("REF-1"), self._listing("REF-GONE")
        (listing | gone).with_context(amazon_pacing_speed=self.sim_speed).action_refresh_from_amazon()
        self.assertEqual((listing.price, listing.quantity, listing.name), (150.0, 7, "Nuevo título"))
        self.assertFalse(gone.active, "a SKU Amazon does not know any more is archived")
