"""Stock push benchmark, Odoo side: run inside `odoo-bin shell` by tools/bench_stock.py.

``setup``: a connection on the simulator with "Update stock on Amazon" and "Also after any stock change"
on, CHANGED + UNCHANGED storable products, each with a mapped merchant-fulfilled listing that Amazon
already shows with the quantity in stock (as after a first push).
``measure``: CHANGED products get a stock change (their quantity differs), UNCHANGED ones two changes that
cancel out; committed, then the pending pushes are sent the way the scheduled action sends them (a commit
per batch) and timed. Results are printed as one ``BENCH_RESULT {json}`` line.
"""
import json
import os
import time

from odoo import fields

BENCH_ACCOUNT = "Amazon MX (stock benchmark)"
INITIAL_QTY = 10


def sku(n):
    return f"STK-{n:06d}"


def setup(env, url, token_url, count):
    company = env.company
    mxn = env.ref("base.MXN")
    mxn.active = True
    warehouse = env["stock.warehouse"].search([("company_id", "=", company.id)], limit=1)
    account = env["amazon.account"].create({
        "name": BENCH_ACCOUNT, "company_id": company.id, "region": "NA",
        "marketplace_id": env.ref("bind_amazon_connector.marketplace_mx").id,
        "seller_id": "A3SIMSELLER0001", "lwa_client_id": "sim-client-id",
        "lwa_client_secret": "sim-client-secret", "refresh_token": "Atzr|sim-refresh-token",
        "endpoint_override": url, "token_url_override": token_url, "state": "authorized",
        "warehouse_id": warehouse.id,
    })
    products = env["product.product"].create([
        {"name": f"Producto stock {n}", "default_code": sku(n), "type": "consu", "is_storable": True}
        for n in range(count)
    ])
    now = fields.Datetime.now()
    env["amazon.listing"].create([{
        "account_id": account.id, "marketplace_id": account.marketplace_id.id, "seller_sku": sku(n),
        "name": product.name, "currency_id": mxn.id, "fulfillment_channel": "merchant", "product_id": product.id,
        "quantity": INITIAL_QTY, "stock_sent_qty": INITIAL_QTY, "stock_sent_date": now, "stock_push_state": "done",
    } for n, product in enumerate(products)])
    Quant = env["stock.quant"]
    for product in products:
        Quant._update_available_quantity(product, warehouse.lot_stock_id, INITIAL_QTY)
    env.cr.commit()
    # turned on after the initial stock: the benchmark's changes are the only ones queued
    account.write({"update_stock_on_amazon": True, "push_stock_on_any_change": True})
    env.cr.commit()
    return {"account_id": account.id, "warehouse_id": warehouse.id}


def measure(env, account_id, changed, unchanged, speed):
    account = env["amazon.account"].browse(account_id).with_context(amazon_pacing_speed=speed)
    stock = account.warehouse_id.lot_stock_id
    products = env["product.product"].search([("default_code", "=like", "STK-%")], order="default_code")
    Quant = env["stock.quant"]
    for n, product in enumerate(products[:changed]):
        Quant._update_available_quantity(product, stock, 1 + n % 5)
    for product in products[changed:changed + unchanged]:
        Quant._update_available_quantity(product, stock, 2)
        Quant._update_available_quantity(product, stock, -2)
    env.cr.commit()  # the stock side's notes become pending pushes at commit
    env.cr.execute("SELECT count(*), count(DISTINCT listing_id) FROM amazon_stock_push WHERE account_id = %s",
                   [account.id])
    rows, listings = env.cr.fetchone()

    def commit(processed):
        env.cr.commit()
        return float("inf")

    start = time.monotonic()
    result = env["amazon.stock.sync"]._push_stock(account, commit=commit)
    env.cr.commit()
    seconds = time.monotonic() - start
    env.cr.execute("SELECT count(*) FROM amazon_stock_push WHERE account_id = %s", [account.id])
    left = env.cr.fetchone()[0]
    return {
        "seconds": seconds, "queued_rows": rows, "queued_listings": listings, "left": left,
        **{k: v for k, v in result.items() if isinstance(v, (int, float, str, bool))},
        **result.get("counts", {}),  # sent, unchanged, refused... (the shared sync result keeps them there)
    }


def main(env):
    action = os.environ["BENCH_ACTION"]
    if action == "setup":
        out = setup(env, os.environ["BENCH_SIM_URL"], os.environ["BENCH_SIM_TOKEN_URL"],
                    int(os.environ["BENCH_PRODUCTS"]))
    else:
        out = measure(env, int(os.environ["BENCH_ACCOUNT_ID"]), int(os.environ["BENCH_CHANGED"]),
                      int(os.environ["BENCH_UNCHANGED"]), float(os.environ["BENCH_SPEED"]))
    print("BENCH_RESULT " + json.dumps(out))  # pylint: disable=print-used
