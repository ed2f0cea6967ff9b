#!/usr/bin/env python3
"""Shipment confirmation benchmark, for `make bench`.

Prints:
  shipments_calls_per_package: X   confirmShipment calls answered (accepted or refused, 429s aside) / packages
                                   validated in Odoo (expected 1.0: each package confirmed once, never resent)
and informative lines (shipments_packages, shipments_seconds, shipments_throttled_calls, shipments_duplicates,
shipments_pickings_created_by_import, ...).

How: a database copied from the test template gets the addon; this process hosts the SP-API simulator (speed
factor --speed, the client's pacing too) with merchant-fulfilled orders, half of them with two items shipped
in two packages. One `odoo-bin shell` imports the orders and validates every delivery; another sends the
queue as the scheduled action does (with 429 storms injected: the layer's retries and the queue's later
attempts) and runs it again (nothing must be sent); a third syncs the orders five minutes later on both
clocks (Amazon reports them shipped; no delivery must be created)
(benchmarks/odoo_shipments.py).

Usage: python3 tools/bench_shipments.py [--shipment-orders 100] [--speed 10] [--keep-db]
"""
import sys
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

TOOLS = Path(__file__).resolve().parent
sys.path.insert(0, str(TOOLS))
import dev  # noqa: E402

DB = "bac_bench_shipments"
OPERATION = "confirmShipment"


def main():
    ap = dev.bench_options(__doc__, speed=10.0)
    ap.add_argument("--shipment-orders", type=int, default=100)
    ns = dev.bench_parse(ap, __file__)
    from spapi_simulator import factory

    created = datetime.now(timezone.utc) - timedelta(hours=2)
    with dev.bench_run(DB, "odoo_shipments", speed=ns.speed, keep_db=ns.keep_db) as (sim, odoo_shell):
        for n in range(ns.shipment_orders):
            items = [{"sku": f"SHP-{n % 10:03d}", "quantity": 1 + n % 3, "unit_price": "100.00"}]
            if n % 2:
                items.append({"sku": f"SHP-{(n + 1) % 10:03d}", "quantity": 1, "unit_price": "50.00"})
            sim.add_order(factory.make_order(f"703-{n:07d}-0000001", items=items, created=created), check=False)
        dev.say(f"Importing {ns.shipment_orders} merchant-fulfilled orders and validating their deliveries")
        common = {"BENCH_SPEED": str(ns.speed)}
        setup = odoo_shell({**common, "BENCH_ACTION": "setup", "BENCH_SIM_URL": sim.url,
                            "BENCH_SIM_TOKEN_URL": sim.token_url})
        dev.say(f"  {setup}")
        sim.reset_records()
        sim.reset_quotas()
        # A 429 storm longer than the SP-API layer's retries: the queue tries again later, nothing is lost.
        sim.inject_fault(OPERATION, "throttle", times=9)
        dev.say(f"Confirming {setup['packages']} packages on Amazon at {ns.speed:g}x")
        result = odoo_shell({**common, "BENCH_ACTION": "measure", "BENCH_ACCOUNT_ID": str(setup["account_id"])})
        dev.say(f"  {result}")
        sim.advance(300)  # Amazon shows updates two minutes old only: the next sync runs five minutes later
        again = odoo_shell({**common, "BENCH_ACTION": "reimport", "BENCH_ACCOUNT_ID": str(setup["account_id"]),
                            "BENCH_AHEAD": "300"})
        dev.say(f"  {again}")
        answered = [r for r in sim.requests if r.operation == OPERATION and r.status != 429]
        accepted = [r for r in answered if r.status == 204]
        throttled = sim.count(operation=OPERATION, status=429)
        packages_sent = Counter((r.path, r.body["packageDetail"]["packageReferenceId"]) for r in accepted)
        duplicates = sum(c - 1 for c in packages_sent.values() if c > 1)

    packages = setup["packages"]
    print(f"shipments_calls_per_package: {len(answered) / max(packages, 1):.2f}")
    print(f"shipments_packages: {packages}")
    print(f"shipments_accepted: {len(accepted)}")
    print(f"shipments_refused: {len(answered) - len(accepted)}")
    print(f"shipments_duplicates: {duplicates}")
    print(f"shipments_throttled_calls: {throttled}")
    print(f"shipments_seconds: {result['seconds']:.2f}")
    print(f"shipments_second_run_sent: {result['second_run_done']}")
    print(f"shipments_orders_shipped_on_amazon: {again['shipped_orders']}")
    print(f"shipments_pickings_created_by_import: {again['pickings_created_by_import']}")
    print(f"shipments_sim_speed: {ns.speed:g}")
    ok = (len(answered) == len(accepted) == packages == setup["queued"] and not duplicates
          and not result["second_run_done"] and not again["pickings_created_by_import"]
          and again["shipped_orders"] == setup["orders"])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
