"""Shipment confirmation benchmark, Odoo side: run inside `odoo-bin shell` by tools/bench_shipments.py.

``setup``: a connection on the simulator where Odoo confirms merchant-fulfilled shipments, its orders imported
(a commit per page), then every delivery validated with Estafeta and a tracking number: orders with two
items in two packages (the second from the backorder), the others in one. Committed.
``measure``: the queued packages sent the way the scheduled action sends them (a commit before and after each
call), until none is due (a throttled run is resumed as if its wait had passed), timed; a second run that
must send nothing. ``reimport``: the next order sync (Amazon reports the orders shipped) must not create a
delivery. Each prints one ``BENCH_RESULT {json}`` line.
"""
import json
import os
import time
from datetime import timedelta

from odoo import Command, fields

BENCH_SKUS = 10


def _commit_factory(env):
    def commit(processed):
        env.cr.commit()
        return float("inf")
    return commit


def setup(env, url, token_url, speed):
    company = env.company
    mxn = env.ref("base.MXN")
    mxn.active = True
    warehouse = env["stock.warehouse"].search([("company_id", "=", company.id)], limit=1)
    journal = env["account.journal"].search([("company_id", "=", company.id), ("type", "=", "bank")], limit=1)
    pricelist = env["product.pricelist"].create({"name": "Bench MXN", "currency_id": mxn.id,
                                                 "company_id": company.id})
    tax = company.account_sale_tax_id
    products = env["product.product"].create([{
        "name": f"Bench shipment product {i}", "default_code": f"SHP-{i:03d}", "type": "consu",
        "is_storable": True, "list_price": 100.0, "taxes_id": [Command.set(tax.ids)]} for i in range(BENCH_SKUS)])
    for product in products:
        env["stock.quant"]._update_available_quantity(product, warehouse.lot_stock_id, 100000)
    account = env["amazon.account"].create({
        "name": "Bench shipments", "company_id": company.id, "region": "NA",
        "marketplace_id": env.ref("bind_amazon_connector.marketplace_mx").id,
        "seller_id": "A3SIMSELLER0001", "lwa_client_id": "sim-client-id", "lwa_client_secret": "sim-client-secret",
        "refresh_token": "Atzr|sim-refresh-token", "endpoint_override": url, "token_url_override": token_url,
        "state": "authorized", "pricelist_id": pricelist.id, "warehouse_id": warehouse.id,
        "journal_id": journal.id, "user_id": env.user.id, "fbm_shipment_mode": "odoo",
        "import_start_date": fields.Datetime.now() - timedelta(days=3),
    })
    env["amazon.listing"].create([{
        "account_id": account.id, "marketplace_id": account.marketplace_id.id, "seller_sku": p.default_code,
        "name": p.name, "currency_id": mxn.id, "fulfillment_channel": "merchant", "product_id": p.id,
    } for p in products])
    env.cr.commit()
    account = account.with_context(amazon_pacing_speed=speed)
    env["amazon.order.sync"]._sync_for(account, commit=_commit_factory(env))
    env.cr.commit()
    carrier = env.ref("bind_amazon_connector.delivery_carrier_amazon_estafeta")
    orders = env["amazon.order"].search([("account_id", "=", account.id), ("state", "=", "imported")])
    packages = 0
    for rec in orders:
        picking = rec.sale_order_id.picking_ids
        moves = picking.move_ids.sorted("id")
        first = moves[:1] if len(moves) > 1 else moves
        picking.write({"carrier_id": carrier.id, "carrier_tracking_ref": f"EST{rec.id:010d}"})
        for move in moves:
            move.quantity = move.product_uom_qty if move in first else 0
        moves.picked = True
        answer = picking.with_context(skip_backorder=True, skip_sms=True).button_validate()
        if picking.state != "done":
            raise RuntimeError(f"{picking.name} not validated: {answer}")
        packages += 1
        rest = rec.sale_order_id.picking_ids - picking
        if rest:
            rest.write({"carrier_id": carrier.id, "carrier_tracking_ref": f"EST{rec.id:010d}B"})
            for move in rest.move_ids:
                move.quantity = move.product_uom_qty
            rest.move_ids.picked = True
            rest.with_context(skip_backorder=True, skip_sms=True).button_validate()
            packages += 1
    env.cr.commit()
    queued = env["amazon.shipment"].search_count([("account_id", "=", account.id)])
    return {"account_id": account.id, "orders": len(orders), "packages": packages, "queued": queued}


def measure(env, account_id, speed):
    account = env["amazon.account"].browse(account_id).with_context(amazon_pacing_speed=speed)
    Shipment = env["amazon.shipment"].with_context(amazon_pacing_speed=speed)
    commit = _commit_factory(env)
    start = time.monotonic()
    runs = 0
    while True:
        runs += 1
        result = Shipment._send_due(account, commit=commit)
        env.cr.commit()
        waiting = Shipment.search([("account_id", "=", account_id), ("state", "=", "pending")])
        if not waiting or runs > 50:
            break
        waiting.write({"next_attempt_date": fields.Datetime.now()})  # the wait Amazon asked for has passed
        env.cr.commit()
    seconds = time.monotonic() - start
    again = Shipment._send_due(account, commit=commit)
    env.cr.commit()
    states = dict(env["amazon.shipment"]._read_group([("account_id", "=", account_id)], ["state"], ["__count"]))
    return {"seconds": seconds, "runs": runs, "last": {k: v for k, v in result.items() if not isinstance(v, dict)},
            "second_run_done": again.get("done", 0), "states": states}


def reimport(env, account_id, speed, ahead):
    """The next order sync, ``ahead`` seconds later (the simulator's clock was moved as much): Amazon reports
    the orders shipped; no delivery may be created."""
    account = env["amazon.account"].browse(account_id).with_context(amazon_pacing_speed=speed)
    later = fields.Datetime.now() + timedelta(seconds=ahead)
    OrderSync = type(env["amazon.order.sync"])
    original = OrderSync._now
    OrderSync._now = lambda self: later
    try:
        domain = [("sale_id.amazon_order_id.account_id", "=", account_id)]
        before = env["stock.picking"].search_count(domain)
        env["amazon.order.sync"]._sync_for(account, commit=_commit_factory(env))
        env.cr.commit()
        after = env["stock.picking"].search_count(domain)
    finally:
        OrderSync._now = original
    shipped = env["amazon.order"].search_count([("account_id", "=", account_id), ("amazon_status", "=", "SHIPPED")])
    return {"shipped_orders": shipped, "pickings_created_by_import": after - before}


def main(env):
    action = os.environ["BENCH_ACTION"]
    speed = float(os.environ["BENCH_SPEED"])
    if action == "setup":
        out = setup(env, os.environ["BENCH_SIM_URL"], os.environ["BENCH_SIM_TOKEN_URL"], speed)
    elif action == "measure":
        out = measure(env, int(os.environ["BENCH_ACCOUNT_ID"]), speed)
    else:
        out = reimport(env, int(os.environ["BENCH_ACCOUNT_ID"]), speed, float(os.environ["BENCH_AHEAD"]))
    print("BENCH_RESULT " + json.dumps(out, default=str))  # pylint: disable=print-used
