#!/usr/bin/env python3
"""Throttling honesty, printed as ``make bench`` reads it:

    soak_drain_time_vs_usage_plan: X   time the SP-API client takes to drain a backlog of searchOrders pages /
                                       the least time Amazon's usage plan allows for it (goal 1.0 to 1.1)
    soak_drain_calls_over_plan: N      calls the simulator received over the usage plan (goal 0)

The backlog (``--pages`` pages of 10 orders) is read with the client's own pacing from a simulator whose
usage plans run ``--speed`` times faster than Amazon's, so the plan, not the CPU, is the limit: the plan
allows the first ``burst`` calls at once and one more each ``1 / rate`` seconds after that. A client
faster than that would be throttled (counted by the simulator), a slower one wastes the seller's quota.
Plain Python, no Odoo.

    python3 tools/bench_drain.py [--pages 40] [--speed 100]
"""
import argparse
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tools"))
import dev  # noqa: E402

#: Small pages: the usage plan counts calls, and small pages keep the CPU far from being the limit.
PAGE_SIZE = 10


def main():
    dev.reexec_in_venv(__file__)
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pages", type=int, default=40)
    ap.add_argument("--speed", type=float, default=100.0)
    ns = ap.parse_args()
    sys.path.insert(0, str(REPO))
    from bind_amazon_connector.spapi import SpApi, SpApiConfig
    from bind_amazon_connector.spapi.usage_plans import USAGE_PLANS
    from spapi_simulator import CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN, Simulator, generate_scenario

    now = datetime.now(timezone.utc).replace(microsecond=0)
    scenario = generate_scenario(n_orders=ns.pages * PAGE_SIZE, n_listings=50, seed=5, days=2, now=now,
                                 n_transactions=0)
    plan = USAGE_PLANS["searchOrders"]
    with Simulator(scenario, speed=ns.speed, validate=False) as sim:
        config = SpApiConfig(CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN, endpoint=sim.url, token_url=sim.token_url,
                             seller_id=sim.seller_id, pacing_speed=ns.speed, allow_loopback=True)  # the simulator
        api = SpApi(config)
        api.get_marketplace_participations()  # the access token, outside the measure
        after, before = now - timedelta(days=3), now - timedelta(minutes=3)
        token, pages, orders = None, 0, 0
        started = time.monotonic()
        while True:
            page = api.search_orders_page(last_updated_after=after, last_updated_before=before, max_results=PAGE_SIZE,
                                          pagination_token=token)
            pages += 1
            orders += len(page.orders)
            token = page.next_token
            if not token:
                break
        elapsed = time.monotonic() - started
        over = sim.over_plan.get("searchOrders", 0)
    rate = plan.rate * ns.speed
    allowed = max(pages - plan.burst, 0) / rate
    dev.say(f"{pages} pages ({orders} orders) in {elapsed:.1f} s; the usage plan ({rate:g}/s, burst {plan.burst}) "
            f"allows {allowed:.1f} s; {over} calls over the plan")
    print(f"soak_drain_time_vs_usage_plan: {elapsed / allowed:.3f}" if allowed else
          "soak_drain_time_vs_usage_plan: n/a (fewer pages than the burst)")
    print(f"soak_drain_calls_over_plan: {over}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
