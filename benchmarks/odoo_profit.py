"""Profitability report benchmark, Odoo side: run inside `odoo-bin shell` by tools/bench_profit.py.

``setup``: a connection, PRODUCTS storable products, and one Amazon order made through the ORM (a product line
and a shipping line, confirmed, delivered, invoiced, and a payout transaction with its commission and
fulfilment fee), then copied in SQL (every table the report reads: the Amazon order, the sale order and its
lines, the invoice and its lines with their links, the delivery's stock move, the payout transaction and its
amounts) until the report has ROWS rows, spread over PRODUCTS products and twelve months.
``store``: the scheduled action stores the rows of the generated orders (timed).
``measure``: the pivot's query
(read_group by product and month of every measure, with the default filter "Fees known") on the stored rows,
timed REPEAT times (best and median), then with 1,000 orders listed as changed; the same aggregate worked out
from the ledgers alone (the report before its rows were stored) and whether both give the same figures; the
overview card's figures of the connection's last 30 days (best of REPEAT). One ``BENCH_RESULT {json}`` line.
"""
import json
import os
import statistics
import time
from datetime import timedelta

from odoo import Command, fields
from odoo.tools import SQL

from odoo.addons.bind_amazon_connector.models.reporting import profit_store
from odoo.addons.bind_amazon_connector.models.reporting.profit_query import (
    DIRTY_TABLE,
    live_report_query,
    profit_report_query,
)

MEASURES = ["units:sum", "net_sales:sum", "promotion_amount:sum", "refund_amount:sum", "fee_referral:sum",
            "fee_fulfillment:sum", "fee_shipping:sum", "fee_other:sum", "fee_total:sum", "cogs:sum",
            "margin:sum", "margin_percent:avg"]

#: orders listed as changed for ``changed_best`` (a bulk import between two runs of the scheduled action)
CHANGED = 1000


def _clone(cr, table, seed_ids, copies, bases, overrides):
    """Insert ``copies`` copies of the rows ``seed_ids`` of ``table``: copy ``g`` (1..copies) of seed row ``s``
    gets the id ``bases[table] + (g - 1) * len(seed) + index of s``; a foreign key to a copied table points at
    the same copy of its row; ``overrides``: {column: SQL expression of ``s`` (the seed row) and ``g``}."""
    cr.execute("""SELECT column_name FROM information_schema.columns
                   WHERE table_name = %s AND table_schema = current_schema() AND is_generated = 'NEVER'
                   ORDER BY ordinal_position""", [table])
    columns = [c for (c,) in cr.fetchall()]
    cr.execute("""
        SELECT a.attname, cl.relname FROM pg_constraint k
          JOIN pg_class t ON t.oid = k.conrelid JOIN pg_class cl ON cl.oid = k.confrelid
          JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = k.conkey[1]
         WHERE k.contype = 'f' AND t.relname = %s""", [table])
    foreign = {col: ref for col, ref in cr.fetchall() if ref in bases}
    seed_of = {name: ids for name, (ids, _base) in bases.items()}
    exprs = []
    for col in columns:
        if col == "id":
            exprs.append(f"{bases[table][1]} + (g - 1) * {len(seed_ids)} + array_position(ARRAY{seed_ids}, s.id) - 1")
        elif col in overrides:
            exprs.append(overrides[col])
        elif col in foreign:
            ref = foreign[col]
            ids, base = seed_of[ref], bases[ref][1]
            exprs.append(f"CASE WHEN s.{col} = ANY(ARRAY{ids}) THEN {base} + (g - 1) * {len(ids)} "
                         f"+ array_position(ARRAY{ids}, s.{col}) - 1 ELSE s.{col} END")
        else:
            exprs.append(f"s.{col}")
    column_list = ", ".join(f'"{c}"' for c in columns)
    cr.execute(f"""INSERT INTO "{table}" ({column_list})
                   SELECT {", ".join(exprs)} FROM "{table}" s, generate_series(1, {copies}) g
                    WHERE s.id = ANY(ARRAY{seed_ids})""")  # noqa: S608 - the benchmark's own SQL


def setup(env, rows, products_count):
    company = env.company
    mxn = env.ref("base.MXN")
    mxn.active = True
    warehouse = env["stock.warehouse"].search([("company_id", "=", company.id)], limit=1)
    journal = env["account.journal"].search([("company_id", "=", company.id), ("type", "=", "bank")], limit=1)
    account = env["amazon.account"].create({
        "name": "Amazon MX (profit benchmark)", "company_id": company.id, "region": "NA",
        "marketplace_id": env.ref("bind_amazon_connector.marketplace_mx").id, "seller_id": "A3BENCHPROFIT",
        "warehouse_id": warehouse.id, "journal_id": journal.id,
    })
    iva = company.account_sale_tax_id._amazon_price_included_twin()
    products = env["product.product"].create([{
        "name": f"Producto rentabilidad {n}", "default_code": f"BENCH-{n:04d}", "type": "consu",
        "is_storable": True, "standard_price": 50.0 + n % 50, "taxes_id": [Command.set(iva.ids)],
    } for n in range(products_count)])
    product = products[0]
    env["stock.quant"]._update_available_quantity(product, warehouse.lot_stock_id, 10)
    customer = env["res.partner"].create({"name": "Comprador Amazon"})
    record = env["amazon.order"].create({"name": "702-0000000-0000000", "account_id": account.id,
                                         "marketplace_id": account.marketplace_id.id,
                                         "fulfillment_channel": "merchant", "amazon_status": "SHIPPED",
                                         "currency_id": mxn.id})
    shipping = env.ref("bind_amazon_connector.product_amazon_shipping")
    order = env["sale.order"].create({
        "partner_id": customer.id, "amazon_order_id": record.id, "warehouse_id": warehouse.id,
        "order_line": [
            Command.create({"product_id": product.id, "name": f"[{product.default_code}] bench", "price_unit": 348.0,
                            "product_uom_qty": 1, "tax_ids": [Command.set(iva.ids)],
                            "amazon_order_item_id": "BENCH-ITEM", "sequence": 10}),
            Command.create({"product_id": shipping.id, "name": "Envío", "price_unit": 58.0, "product_uom_qty": 1,
                            "tax_ids": [Command.set(iva.ids)], "sequence": 11}),
        ],
    })
    order.action_confirm()
    picking = order.picking_ids
    picking.move_ids.quantity = 1
    picking.button_validate()
    invoice = order._create_invoices()
    invoice.action_post()
    txn = env["amazon.settlement.transaction"].create({
        "name": "BENCH-TXN", "account_id": account.id, "transaction_type": "Shipment", "kind": "sale",
        "status": "RELEASED", "state": "done", "amazon_order_id": record.name, "currency_id": mxn.id,
        "total_amount": 406.0 - 60.9 - 40.0, "posted_date": fields.Datetime.now(),
        "line_ids": [Command.create({"category": "sale", "amazon_type": "ProductCharges", "amount": 406.0,
                                     "sku": product.default_code, "charge": "product"}),
                     Command.create({"category": "fee", "amazon_type": "Commission", "amount": -60.9,
                                     "sku": product.default_code}),
                     Command.create({"category": "fee", "amazon_type": "FBAPerUnitFulfillmentFee", "amount": -40.0,
                                     "sku": product.default_code})],
    })
    env.flush_all()
    cr = env.cr
    seeds = {
        "amazon_order": record.ids,
        "sale_order": order.ids,
        "sale_order_line": order.order_line.ids,
        "account_move": invoice.ids,
        "account_move_line": invoice.line_ids.ids,
        "stock_move": order.order_line.move_ids.ids,
        "amazon_settlement_transaction": txn.ids,
        "amazon_settlement_line": txn.line_ids.ids,
    }
    bases = {}
    for table, ids in seeds.items():
        cr.execute(f'SELECT COALESCE(MAX(id), 0) + 1 FROM "{table}"')  # noqa: S608 - the benchmark's own SQL
        bases[table] = (sorted(ids), cr.fetchone()[0])
    copies = rows - 1
    product_ids = products.ids
    pick = f"(ARRAY{product_ids})[1 + g % {len(product_ids)}]"
    sku = f"'BENCH-' || lpad((g % {len(product_ids)})::text, 4, '0')"
    item_line = order.order_line.filtered("amazon_order_item_id").id
    started = time.time()
    overrides = {
        "amazon_order": {"name": "s.name || '-' || g"},
        "sale_order": {"name": "s.name || '-' || g",
                       "date_order": "s.date_order - make_interval(days => (g % 365))"},
        "sale_order_line": {"product_id": f"CASE WHEN s.id = {item_line} THEN {pick} ELSE s.product_id END",
                            "name": f"CASE WHEN s.id = {item_line} THEN '[' || {sku} || '] bench' ELSE s.name END"},
        "account_move": {"name": "s.name || '-' || g"},
        "account_move_line": {"product_id": f"CASE WHEN s.product_id = {product.id} THEN {pick} ELSE s.product_id END"},
        "stock_move": {"product_id": pick},
        "amazon_settlement_transaction": {"name": "s.name || '-' || g",
                                          "amazon_order_id": "s.amazon_order_id || '-' || g"},
        "amazon_settlement_line": {"sku": f"CASE WHEN s.sku IS NULL THEN NULL ELSE {sku} END"},
    }
    for table, ids in seeds.items():
        _clone(cr, table, sorted(ids), copies, bases, overrides.get(table, {}))
        cr.execute(f'ANALYZE "{table}"')  # as autovacuum does between the pages of a real import
    # the links between invoice lines and sale lines, copy by copy
    cr.execute("SELECT invoice_line_id, order_line_id FROM sale_order_line_invoice_rel "
               "WHERE invoice_line_id = ANY(%s)", [invoice.line_ids.ids])
    rel_seed = cr.fetchall()
    for inv_line, sale_line in rel_seed:
        invoice_line = _mapped(bases, "account_move_line", inv_line)
        sale_order_line = _mapped(bases, "sale_order_line", sale_line)
        cr.execute(f"""INSERT INTO sale_order_line_invoice_rel (invoice_line_id, order_line_id)
                       SELECT {invoice_line}, {sale_order_line} FROM generate_series(1, {copies}) g""")  # noqa: S608
    for table, (ids, base) in bases.items():
        cr.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {base + copies * len(ids)})")
    for table in [*bases, "sale_order_line_invoice_rel"]:
        cr.execute(f'ANALYZE "{table}"')
    env.cr.commit()
    return {"account_id": account.id, "rows": rows, "generate_seconds": round(time.time() - started, 1)}


def _mapped(bases, table, seed_id):
    ids, base = bases[table]
    return f"{base} + (g - 1) * {len(ids)} + {ids.index(seed_id)}"


def _best(repeat, run):
    timings = []
    for _n in range(repeat):
        started = time.perf_counter()
        run()
        timings.append(time.perf_counter() - started)
    return timings


def store(env):
    """The scheduled action's run after such a load: every generated order is listed."""
    started = time.perf_counter()
    stored = profit_store.store_changed(env.cr)
    seconds = time.perf_counter() - started
    env.cr.commit()
    return {"stored_orders": stored, "store_seconds": seconds}


def measure(env, repeat):
    """The pivot on the stored rows (the headline), with some orders listed as changed, and worked out from the
    ledgers alone (the report before its rows were stored); what storing them costs; the overview card."""
    Report = env["amazon.profit.report"]
    cr = env.cr
    count = Report.search_count([])
    groups = []

    def pivot():
        env.invalidate_all()
        groups[:] = Report._read_group([("fees_pending", "=", False)], ["product_id", "date:month"], MEASURES)

    timings = _best(repeat, pivot)
    out = {"rows": count, "groups": len(groups), "best": min(timings), "median": statistics.median(timings),
           "timings": [round(t, 3) for t in timings]}
    # orders changed since the scheduled action's last run (a day's import between two runs is a few hundred)
    cr.execute(SQL("INSERT INTO %s (order_id) SELECT id FROM sale_order WHERE amazon_order_id IS NOT NULL "
                   "ORDER BY id DESC LIMIT %s", SQL.identifier(DIRTY_TABLE), CHANGED))
    out["changed_best"] = min(_best(repeat, pivot))
    started = time.perf_counter()
    profit_store.store_changed(cr)
    out["store_changed_seconds"] = time.perf_counter() - started
    cr.commit()
    # the same aggregate worked out from the ledgers alone, and over the report's query, in SQL
    sums = ", ".join(f"SUM(q.{m.split(':')[0]})" for m in MEASURES if m.endswith(":sum"))

    def aggregate(query):
        cr.execute(SQL(f"SELECT q.product_id, date_trunc('month', q.date), {sums}, "  # noqa: S608
                       "100.0 * SUM(q.margin) / NULLIF(SUM(q.net_sales), 0) "
                       "FROM (%s) q WHERE NOT q.fees_pending GROUP BY 1, 2 ORDER BY 1, 2", query))
        return cr.fetchall()

    out["live_best"] = min(_best(repeat, lambda: aggregate(live_report_query())))
    out["same_figures"] = aggregate(live_report_query()) == aggregate(profit_report_query())
    # the overview card: the connection's last 30 days (the report's query on those orders only)
    account = env["amazon.account"].search([], limit=1)
    since = fields.Datetime.now() - timedelta(days=30)

    def card():
        env.invalidate_all()
        Report._overview_figures(account, since)

    out["overview_best"] = min(_best(repeat, card))
    return out


def main(env):
    action = os.environ["BENCH_ACTION"]
    if action == "setup":
        out = setup(env, int(os.environ["BENCH_ROWS"]), int(os.environ["BENCH_PRODUCTS"]))
    elif action == "store":
        out = store(env)
    else:
        out = measure(env, int(os.environ.get("BENCH_REPEAT", "3")))
    print("BENCH_RESULT " + json.dumps(out))  # pylint: disable=print-used

