"""Soak test, the Odoo side (run inside ``odoo-bin shell`` by ``tools/soak.py``).

``setup(env, sellers=[...], skus=[...], initial_stock=...)`` creates the connections to the simulators, the
products of every SKU with their stock, and makes every scheduled action of the addon run each minute: the
servers then do all the work through them. ``report(env)`` prints what Odoo ended with, as one
``BENCH_RESULT {json}`` line, for the host to compare with the scenario.
"""
import json
import random
from collections import Counter
from datetime import datetime, timedelta

from odoo import Command, fields
from odoo.service.model import retrying

#: Each Amazon order of a connection with its sale orders (linked or carrying its number) and posted invoices.
ORDERS_SQL = """
    WITH inv AS (
        SELECT DISTINCT sl.order_id, m.id AS move_id, m.amount_total, m.amount_residual
          FROM sale_order_line sl
          JOIN sale_order_line_invoice_rel r ON r.order_line_id = sl.id
          JOIN account_move_line l ON l.id = r.invoice_line_id
          JOIN account_move m ON m.id = l.move_id
         WHERE m.state = 'posted' AND m.move_type = 'out_invoice'),
    inv_by_so AS (SELECT order_id, count(*) AS n, sum(amount_total) AS total, sum(amount_residual) AS residual
                    FROM inv GROUP BY order_id),
    so_by_amazon AS (SELECT amazon_order_id, count(*) AS n FROM sale_order
                      WHERE amazon_order_id IS NOT NULL GROUP BY amazon_order_id),
    so_by_ref AS (SELECT client_order_ref, count(*) AS n FROM sale_order WHERE company_id = %s
                   GROUP BY client_order_ref),
    -- the first sale order of each Amazon order, joined by hash (a LATERAL subquery here made PostgreSQL
    -- aggregate the invoices again for every order: about 18 s a connection at 3,000 orders)
    first_so AS (SELECT DISTINCT ON (amazon_order_id) amazon_order_id, id, amount_total FROM sale_order
                  WHERE amazon_order_id IS NOT NULL ORDER BY amazon_order_id, id)
    SELECT o.name, o.state, o.reason, COALESCE(a.n, 0), so.amount_total, COALESCE(r.n, 0), COALESCE(i.n, 0),
           i.total, i.residual
      FROM amazon_order o
      LEFT JOIN first_so so ON so.amazon_order_id = o.id
      LEFT JOIN so_by_amazon a ON a.amazon_order_id = o.id
      LEFT JOIN so_by_ref r ON r.client_order_ref = o.name
      LEFT JOIN inv_by_so i ON i.order_id = so.id
     WHERE o.account_id = %s
"""

#: Shipment confirmations of each Amazon order: the last one's state, and how many there are.
SHIPMENTS_SQL = """
    SELECT o.name, (array_agg(s.state ORDER BY s.id DESC))[1], count(*)
      FROM amazon_shipment s JOIN amazon_order o ON o.id = s.amazon_order_id
     WHERE o.account_id = %s
     GROUP BY o.name
"""


def _print(out):
    print("BENCH_RESULT " + json.dumps(out), flush=True)  # pylint: disable=print-used


def setup(env, *, sellers, skus, initial_stock):
    """``sellers``: dicts with name, seller_id, url, token_url, marketplaces (ids), start (ISO, UTC)."""
    company = env.company
    warehouse = env["stock.warehouse"].search([("company_id", "=", company.id)], limit=1)
    fba = env["stock.warehouse"].create({"name": "Soak FBA", "code": "SFBA", "company_id": company.id})
    journal = env["account.journal"].search([("company_id", "=", company.id), ("type", "=", "bank")], limit=1)
    mxn = env.ref("base.MXN")
    pricelist = env["product.pricelist"].create({"name": "Soak MXN", "currency_id": mxn.id,
                                                 "company_id": company.id})
    tax = company.account_sale_tax_id
    products = env["product.product"].create([{
        "name": f"Soak {sku}", "default_code": sku, "type": "consu", "is_storable": True, "list_price": 100.0,
        "taxes_id": [Command.set(tax.ids)]} for sku in skus])
    for product in products:
        env["stock.quant"]._update_available_quantity(product, warehouse.lot_stock_id, initial_stock)
    marketplaces = {m.marketplace_id: m for m in env["amazon.marketplace"].search([])}
    accounts = env["amazon.account"]
    for seller in sellers:
        start = datetime.fromisoformat(seller["start"].replace("Z", "+00:00")).replace(tzinfo=None)
        chosen = [marketplaces[m] for m in seller["marketplaces"]]
        vals = {
            "name": seller["name"], "company_id": company.id, "region": "NA", "marketplace_id": chosen[0].id,
            "seller_id": seller["seller_id"], "lwa_client_id": "sim-client-id",
            "lwa_client_secret": "sim-client-secret", "refresh_token": "Atzr|sim-refresh-token",
            "endpoint_override": seller["url"], "token_url_override": seller["token_url"], "state": "authorized",
            "pricelist_id": pricelist.id, "warehouse_id": warehouse.id, "fba_warehouse_id": fba.id,
            "journal_id": journal.id, "user_id": env.ref("base.user_admin").id, "import_start_date": start,
            "finance_start_date": start, "only_mapped_products": False, "update_stock_on_amazon": True,
        }
        if len(chosen) > 1:
            vals["marketplace_ids"] = [Command.set([m.id for m in chosen])]
        accounts |= env["amazon.account"].create(vals)
    # a second marketplace's proposed price list and fiscal position, confirmed as the seller would
    accounts.marketplace_setting_ids.write({"confirmed": True})
    env.cr.commit()
    # Every scheduled action of the addon (whatever they are once other flows land) runs each minute. As a
    # seller starts, the listings come first: the other actions wait until the host turns them on.
    crons = env["ir.cron"].sudo().with_context(active_test=False).search([("model_id.model", "like", "amazon.%")])
    listings = env.ref("bind_amazon_connector.ir_cron_amazon_import_listings")
    crons.write({"interval_number": 1, "interval_type": "minutes",
                 "nextcall": fields.Datetime.now() - timedelta(seconds=5)})
    listings.active = True
    (crons - listings).active = False
    listings._trigger()
    env.cr.commit()
    _print({"accounts": accounts.mapped(lambda a: [a.id, a.seller_id]), "crons": crons.mapped("name"),
            "later": (crons - listings).ids})


def ship_in_odoo(env, *, share, seed):
    """The warehouse ships a ``share`` of the merchant-fulfilled orders Amazon still shows unshipped: each
    delivery validated whole with a carrier and a tracking number, as a person does, committed one by one.
    Prints the Amazon order numbers."""
    orders = env["amazon.order"].search([
        ("state", "=", "imported"), ("amazon_status", "=", "UNSHIPPED"), ("fulfillment_channel", "=", "merchant"),
    ], order="id")
    rng = random.Random(seed)  # noqa: S311 - which orders, not security
    chosen = rng.sample(orders.ids, int(len(orders) * share))
    carrier = env.ref("bind_amazon_connector.delivery_carrier_amazon_estafeta")
    shipped, failed = [], []
    for order_id in chosen:
        # one record at a time: browsed from the whole search, each commit made Odoo compute the documents of
        # every unshipped order again (minutes of a core in the full soak, taken from the servers)
        order = env["amazon.order"].browse(order_id)
        pickings = order.picking_ids.filtered(lambda p: p.state not in ("done", "cancel")
                                              and p.picking_type_code == "outgoing")
        if len(pickings) != 1:
            continue
        picking_id = pickings.id

        def validate(picking_id=picking_id, ref=f"SOAK{order.id:08d}"):
            picking = env["stock.picking"].browse(picking_id)
            picking.write({"carrier_id": carrier.id, "carrier_tracking_ref": ref})
            for move in picking.move_ids:
                move.quantity = move.product_uom_qty
            picking.move_ids.picked = True
            # as a person who confirms the dialogs (no SMS to the buyer)
            picking.with_context(skip_backorder=True, skip_sms=True).button_validate()

        try:
            # as Odoo serves a person's click: a concurrency conflict with a job is tried again (up to 5 times)
            retrying(validate, env)
            env.cr.commit()
        except Exception as exc:  # noqa: BLE001 - still busy after Odoo's tries: this order is left to Amazon
            env.cr.rollback()
            failed.append(f"{order.name}: {exc}")
            continue
        picking = env["stock.picking"].browse(picking_id)
        if picking.state == "done":
            shipped.append(order.name)
        else:
            failed.append(f"{order.name}: delivery {picking.state} after validation")
    _print({"shipped": shipped, "failed": failed})


def report(env):
    """Per connection and Amazon order: state, sale orders, totals, invoices; the stock Odoo would send; the
    payout transactions."""
    env = env(su=True)
    cr = env.cr
    out = {"accounts": {}, "stock": {}, "transactions": {}, "shipments": None, "shipments_by_order": {}}
    for account in env["amazon.account"].search([]):
        cr.execute(ORDERS_SQL, [account.company_id.id, account.id])
        orders = {}
        duplicates = 0
        for name, state, reason, linked, total, by_ref, invoices, invoiced, residual in cr.fetchall():
            if name in orders:
                duplicates += 1
                continue
            orders[name] = {"state": state, "reason": reason, "sale_orders": max(linked, by_ref),
                            "total": total, "invoices": invoices, "invoiced": invoiced, "residual": residual}
        out["accounts"][account.seller_id] = {"orders": orders, "duplicate_records": duplicates}
        listings = env["amazon.listing"].search([("account_id", "=", account.id)])
        eligible, _others = env["amazon.stock.sync"]._split_eligible(listings)
        quantities = env["amazon.stock.sync"]._available_quantities(account, eligible.product_id)
        out["stock"][account.seller_id] = {lst.seller_sku: quantities[lst.product_id.id] for lst in eligible}
        cr.execute("SELECT name, state FROM amazon_settlement_transaction WHERE account_id = %s", [account.id])
        rows = cr.fetchall()
        out["transactions"][account.seller_id] = {
            "states": dict(Counter(state for _n, state in rows)),
            "names": sorted(n for n, _s in rows),
            "by_name": dict(rows),
        }
        cr.execute(SHIPMENTS_SQL, [account.id])
        out["shipments_by_order"][account.seller_id] = {name: [s, int(n)] for name, s, n in cr.fetchall()}
    cr.execute("SELECT count(*) FROM amazon_stock_push")
    out["stock_queue"] = cr.fetchone()[0]
    # shipment confirmations, once that flow exists (whatever its model is called)
    models = [name for name in env.registry if name.startswith("amazon.") and "shipment" in name]
    if models:
        out["shipments"] = {name: env[name].search_count([]) for name in models}
    _print(out)
