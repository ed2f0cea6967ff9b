#!/usr/bin/env python3
"""Benchmark of the Amazon order import (issue #5), printed as ``make bench`` reads it:

    orders_ratio_vs_orm: X           connector time / one-order-at-a-time ORM baseline (target <= 0.6)
    orders_ratio_vs_batched_orm: X   connector time / bare ORM in batches of 50 orders, the floor (goal <= 1.5)
    orders_per_second: X             orders imported per second by the connector
    orders_spapi_calls_per_order: X  SP-API calls (token included) per imported order (target <= 0.02)
    orders_rss_ratio_5k_vs_1k: X     peak resident memory importing 5,000 orders / 1,000 (target <= 1.2)

Each measurement runs in its own ``odoo-bin shell`` process on a database copied from the test template
with the addon installed; the SP-API simulator runs in this process (no usage-plan limit), so its memory
is not counted. Both ORM baselines create the same confirmed sale, validated delivery and posted invoice as
the connector, for the orders it imported, in the same run and database.
Orders: shipped, two lines on average, 80 % merchant-fulfilled, half with a buyer.

    python3 tools/bench_orders.py [--orders 1000] [--rss-orders 5000] [--keep-db]
"""
import argparse
import json
import random
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tools"))
import dev  # noqa: E402

DB_NAME = "bac_bench_orders"


def scenario(n_orders, seed):
    """``n_orders`` shipped orders (1 to 3 lines, two on average) as factory keyword entries."""
    rng = random.Random(seed)  # noqa: S311 - test data
    now = datetime.now(timezone.utc).replace(microsecond=0)
    start = now - timedelta(hours=30)
    span = (24 * 3600) / max(n_orders, 1)
    orders = []
    for i in range(n_orders):
        created = start + timedelta(seconds=int(i * span))
        items = []
        for _j in range(rng.choice([1, 2, 3])):
            price = f"{rng.randint(49, 1999)}.{rng.choice(['00', '50', '90', '99'])}"
            items.append({"sku": f"BENCH-{rng.randrange(40):03d}", "quantity": rng.choice([1, 1, 1, 2]),
                          "unit_price": price})
        entry = {"order_id": f"701-{seed:02d}{i:05d}-{rng.randrange(10**7):07d}", "items": items,
                 "status": "SHIPPED", "fulfilled_by": "AMAZON" if rng.random() < 0.2 else "MERCHANT",
                 "created": created.strftime("%Y-%m-%dT%H:%M:%SZ")}
        if rng.random() < 0.5:
            entry["buyer"] = False
            entry["recipient"] = False
        else:
            n = rng.randrange(300)
            entry["buyer"] = {"name": f"Comprador {n}", "email": f"buyer{n}@marketplace.amazon.com.mx"}
            entry["recipient"] = {"name": f"Comprador {n}", "street": f"Calle {n} 100", "city": "Puebla",
                                  "state": "PUE", "zip": f"72{n:03d}", "country": "MX"}
        if rng.random() < 0.3:
            entry["shipping"] = "99.00"
        if rng.random() < 0.1:
            entry["promotion"] = {"id": "BENCH-PROMO", "discount": "25.00"}
        orders.append(entry)
    return {"orders": orders}


def run_child(conf, n_orders, tag, baseline):
    from spapi_simulator import Simulator

    sim = Simulator(scenario(n_orders, seed=tag), speed=1e6, validate=False)
    sim.start()
    try:
        script = (
            "from odoo.addons.benchmarks.odoo_orders import run\n"
            f"run(env, sim_url={sim.url!r}, token_url={sim.token_url!r}, n_orders={n_orders}, tag={tag}, "
            f"baseline={baseline})\n"
        )
        started = time.monotonic()
        out = dev.bench_shell(conf, DB_NAME, script, label=f"orders run {tag}")
        out["http_requests"] = sim.count()
        out["wall_seconds"] = time.monotonic() - started
        return out
    finally:
        sim.stop()


def main():
    dev.reexec_in_venv(__file__)
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--orders", type=int, default=1000)
    ap.add_argument("--rss-orders", type=int, default=5000, help="0 skips the memory measurement")
    ap.add_argument("--keep-db", action="store_true")
    ns = ap.parse_args()
    sys.path.insert(0, str(REPO))
    conf = dev.bench_database(DB_NAME)
    try:
        dev.say(f"{ns.orders} orders: connector, then the one-order-at-a-time ORM baseline")
        small = run_child(conf, ns.orders, 1, baseline=True)
        print(json.dumps(small), file=sys.stderr)
        big = None
        if ns.rss_orders:
            dev.say(f"{ns.rss_orders} orders: connector only (peak memory)")
            big = run_child(conf, ns.rss_orders, 2, baseline=False)
            print(json.dumps(big), file=sys.stderr)
    finally:
        if not ns.keep_db:
            dev.drop_db(conf, DB_NAME)
    imported = max(small["orders"], 1)
    print(f"orders_ratio_vs_orm: {small['connector_seconds'] / small['baseline_seconds']:.3f}")
    print(f"orders_ratio_vs_batched_orm: {small['connector_seconds'] / small['batched_seconds']:.3f}")
    print(f"orders_per_second: {small['orders'] / small['connector_seconds']:.2f}")
    print(f"orders_spapi_calls_per_order: {small['http_requests'] / imported:.4f}")
    if big:
        print(f"orders_rss_ratio_5k_vs_1k: {big['rss_connector_kb'] / small['rss_connector_kb']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
