"""A local stand-in for Amazon's Selling Partner API (and its LWA token endpoint).

Plain Python (no Odoo): tests, benchmarks and the demo talk to it instead of Amazon::

    from bind_amazon_connector.spapi.simulator import Simulator
    with Simulator(scenario="demo") as sim:
        sim.url, sim.token_url   # API endpoint and LWA token URL

Credentials it accepts: client id "sim-client-id", secret "sim-client-secret", refresh token
"Atzr|sim-refresh-token", authorization code "sim-auth-code". Build test data with ``factory``.
"""
from .scenario import generate_scenario, load_scenario
from .server import AUTH_CODE, CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN, RecordedRequest, Simulator
from .state import LazyOrder, LazyTransaction

__all__ = [
    "AUTH_CODE", "CLIENT_ID", "CLIENT_SECRET", "REFRESH_TOKEN", "LazyOrder", "LazyTransaction", "RecordedRequest",
    "Simulator",
    "generate_scenario", "load_scenario",
]
