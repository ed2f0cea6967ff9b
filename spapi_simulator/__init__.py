"""A local stand-in for Amazon's Selling Partner API and its LWA token endpoint.

Plain Python (never imports Odoo): tests, benchmarks and the demo talk to it instead of Amazon::

    from spapi_simulator import Simulator, factory

    with Simulator(scenario="demo") as sim:          # or None, a dict, a JSON path
        sim.url, sim.token_url                       # API endpoint, LWA token URL
        sim.add_order(factory.make_order(items=[{"sku": "SKU-1", "unit_price": "199.00"}]))
        sim.update_order(order_id, status="SHIPPED") # lastUpdatedTime becomes sim.now()
        sim.inject_fault("searchOrders", "5xx")      # also slow, throttle, malformed_json, expired_token...
        sim.set_fault_rates(throttle=0.1, slow=0.01) # a random share of every call; sim.over_plan, faults_injected
        sim.advance(60)                              # the clock: tokens expire, reports progress, quotas refill
        sim.requests, sim.count("searchOrders", 429), sim.throttled, sim.contract_violations

Credentials it accepts: client id "sim-client-id", secret "sim-client-secret", refresh token
"Atzr|sim-refresh-token", authorization code "sim-auth-code" (single use; ``issue_auth_code()``
re-arms it; ``consent_url()`` gives Seller Central's consent step, redirecting with a fresh code).

It serves Orders 2026-01-01, Listings Items 2021-08-01, FBA inventory v1, Finances 2024-06-19,
Reports 2021-06-30 (documents downloadable from the simulator itself), Sellers v1 and Tokens
2021-03-01, with Amazon's usage plans (429 QuotaExceeded) and, when Amazon's models are available,
every request and answer checked against them. ``python -m spapi_simulator``
serves the demo seller until interrupted. Build test data with ``factory``; large data sets with
``generate_scenario`` (pass ``validate=False`` when benchmarking: checking an answer against the
model costs about 1-2 ms per order).
"""
from .scenario import generate_scenario, load_scenario
from .server import AUTH_CODE, CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN, RecordedRequest, Simulator
from .state import LazyOrder, LazyTransaction

__all__ = [
    "AUTH_CODE", "CLIENT_ID", "CLIENT_SECRET", "REFRESH_TOKEN", "LazyOrder", "LazyTransaction", "RecordedRequest",
    "Simulator", "generate_scenario", "load_scenario",
]
