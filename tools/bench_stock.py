#!/usr/bin/env python3
"""Stock push benchmark (issue #6), for `make bench`.

Prints:
  stock_patch_calls_per_changed_sku: X   patchListingsItem calls / SKUs whose quantity changed (expected 1.00;
                                         SKUs whose changes cancel out must get no call)
  stock_time_vs_usage_plan: X            time to send them / the least time patchListingsItem's usage plan
                                         allows (5 per second, burst 5), both at the simulator's speed factor
and a few informative lines (stock_seconds, stock_usage_plan_seconds, stock_unchanged_calls, ...).

How: a database copied from the test template gets the addon; this process hosts the SP-API simulator
(speed factor --speed: every usage plan runs that many times faster, the client's pacing too); the
connection's products, listings and stock are created by one `odoo-bin shell`, the stock changes and the
push (as the scheduled action sends it, a commit per batch) are timed in another
(benchmarks/odoo_stock.py).

Usage: python3 tools/bench_stock.py [--changed 1000] [--unchanged 200] [--speed 10] [--keep-db]
"""
import sys
from pathlib import Path

TOOLS = Path(__file__).resolve().parent
sys.path.insert(0, str(TOOLS))
import dev  # noqa: E402

DB = "bac_bench_stock"
OPERATION = "patchListingsItem"


def main():
    ap = dev.bench_options(__doc__, speed=10.0)
    ap.add_argument("--changed", type=int, default=1000)
    ap.add_argument("--unchanged", type=int, default=200)
    ns = dev.bench_parse(ap, __file__)
    from bind_amazon_connector.spapi.usage_plans import USAGE_PLANS

    total = ns.changed + ns.unchanged
    with dev.bench_run(DB, "odoo_stock", speed=ns.speed, keep_db=ns.keep_db) as (sim, odoo_shell):
        for n in range(total):
            sim.add_listing(sku=f"STK-{n:06d}", quantity=10, check=False)
        dev.say(f"Creating {total} products with stock and merchant-fulfilled listings")
        setup = odoo_shell({"BENCH_ACTION": "setup", "BENCH_SIM_URL": sim.url,
                            "BENCH_SIM_TOKEN_URL": sim.token_url, "BENCH_PRODUCTS": str(total)})
        sim.reset_records()
        sim.reset_quotas()
        dev.say(f"Changing the stock of {ns.changed} products ({ns.unchanged} more changes that cancel out), "
                f"sending to Amazon at {ns.speed:g}x")
        result = odoo_shell({"BENCH_ACTION": "measure", "BENCH_ACCOUNT_ID": str(setup["account_id"]),
                             "BENCH_CHANGED": str(ns.changed), "BENCH_UNCHANGED": str(ns.unchanged),
                             "BENCH_SPEED": str(ns.speed)})
        dev.say(f"  {result}")
        calls = sim.count(operation=OPERATION)
        throttled = sim.count(operation=OPERATION, status=429)
        unchanged_calls = sum(1 for r in sim.requests if r.operation == OPERATION
                              and int(r.path.rsplit("-", 1)[1]) >= ns.changed)
        wrong = [r.path for r in sim.requests if r.operation == OPERATION and r.status == 200
                 and sim.get_listing(r.path.rsplit("/", 1)[1])["fulfillmentAvailability"][0]["quantity"]
                 != 10 + 1 + int(r.path.rsplit("-", 1)[1]) % 5]

    plan = USAGE_PLANS[OPERATION]
    allowed = max(ns.changed - plan.burst, 0) / (plan.rate * ns.speed)
    print(f"stock_patch_calls_per_changed_sku: {calls / max(ns.changed, 1):.2f}")
    print(f"stock_time_vs_usage_plan: {result['seconds'] / allowed if allowed else 0:.3f}")
    print(f"stock_seconds: {result['seconds']:.2f}")
    print(f"stock_usage_plan_seconds: {allowed:.2f}")
    print(f"stock_sim_speed: {ns.speed:g}")
    print(f"stock_unchanged_calls: {unchanged_calls}")
    print(f"stock_throttled_calls: {throttled}")
    print(f"stock_wrong_quantities: {len(wrong)}")
    ok = (calls == ns.changed and not unchanged_calls and not wrong and result.get("sent") == ns.changed
          and result.get("left") == 0)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
