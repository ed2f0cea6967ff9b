"""Shared fixtures of the plain pytest suite. Several engineers add fixtures here: add, do not rewrite."""
import json
import os
from pathlib import Path

import pytest

# ---------------------------------------------------------------- SP-API layer (bind_amazon_connector/spapi)


def spapi_models_dir():
    """Amazon's models: $SPAPI_MODELS, else ../shared/spapi-models next to the repository (None if absent)."""
    shared = Path(__file__).resolve().parents[1].parent / "shared" / "spapi-models"
    candidates = [os.environ.get("SPAPI_MODELS"), shared]
    for candidate in candidates:
        if candidate and (Path(candidate) / "models").is_dir():
            return Path(candidate)
    return None


@pytest.fixture(scope="session")
def spapi_models():
    """A function model(relative path) -> parsed JSON of one of Amazon's SP-API models; skips when absent,
    except in strict mode (CI, `make test STRICT=1`), where the contract must be checked: a failure there."""
    root = spapi_models_dir()
    if root is None:
        why = "Amazon's SP-API models are absent: set SPAPI_MODELS or provide ../shared/spapi-models"
        if os.environ.get("STRICT") == "1" or os.environ.get("CI") == "true":
            pytest.fail(why + " (strict mode: the contract tests must run).")
        pytest.skip(why + " (sandbox replay and contract tests skipped).")

    def load(relative):
        return json.loads((root / "models" / relative).read_text(encoding="utf-8"))

    return load


@pytest.fixture
def spapi_clean():
    """No access token and no pacing bucket left over from another test."""
    from bind_amazon_connector.spapi.auth import clear_token_cache
    from bind_amazon_connector.spapi.pacing import reset_pacers

    clear_token_cache()
    reset_pacers()
    yield
    clear_token_cache()
    reset_pacers()


@pytest.fixture
def fake_amazon(spapi_clean):
    """A scripted local stand-in for Amazon's API and LWA token endpoint (tests/spapi_fakes.py)."""
    from spapi_fakes import FakeAmazon

    server = FakeAmazon().start()
    yield server
    server.stop()


# ---------------------------------------------------------------- SP-API simulator (spapi_simulator)


@pytest.fixture
def simulator():
    """A started SP-API simulator for an empty seller; it validates traffic when Amazon's models are available."""
    from spapi_simulator import Simulator

    with Simulator() as sim:
        yield sim


@pytest.fixture
def sim(spapi_clean, request):
    """A started SP-API simulator for an empty seller, its usage plans ``SPEED`` times faster (the test module's
    ``SPEED``, else 1000); no request of ours may break Amazon's models (checked when the test ends)."""
    from spapi_simulator import Simulator

    with Simulator(speed=getattr(request.module, "SPEED", 1000.0)) as server:
        yield server
        assert server.contract_violations == []


@pytest.fixture
def demo_simulator():
    """A started SP-API simulator serving the bundled demo seller (scenarios/demo.json)."""
    from spapi_simulator import Simulator

    with Simulator("demo") as sim:
        yield sim


@pytest.fixture
def sim_http(simulator):
    """A requests session already authorized on ``simulator`` (x-amz-access-token from its LWA endpoint)."""
    from simulator_helpers import authorized_session

    with authorized_session(simulator) as session:
        yield session


# ---------------------------------------------------------------- loopback (the simulator) for the plain suite
# The SP-API layer refuses loopback addresses unless told otherwise (Odoo allows them in dev mode and tests only);
# the plain suite talks to the simulator and fakes on 127.0.0.1.
from bind_amazon_connector.spapi import config as _spapi_config  # noqa: E402

_spapi_config.LOOPBACK_ALLOWED = True
