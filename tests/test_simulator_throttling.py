"""Usage plans (token buckets, 429 QuotaExceeded) and injected faults."""
import pytest
import requests
from simulator_helpers import MX, assert_valid, authorized_session

from bind_amazon_connector.spapi.usage_plans import USAGE_PLANS
from spapi_simulator import Simulator

INVENTORY = "/fba/inventory/v1/summaries"
PARAMS = {"granularityType": "Marketplace", "granularityId": MX, "marketplaceIds": MX}


def test_burst_then_429_with_amazons_shape(spapi_models, simulator, sim_http):
    plan = USAGE_PLANS["getInventorySummaries"]
    answers = [sim_http.get(simulator.url + INVENTORY, params=PARAMS) for _ in range(plan.burst + 1)]
    assert [a.status_code for a in answers] == [200] * plan.burst + [429]
    throttled = answers[-1]
    assert throttled.json() == {"errors": [{"code": "QuotaExceeded",
                                            "message": "You exceeded your quota for the requested resource.",
                                            "details": ""}]}
    assert_valid(spapi_models, "getInventorySummaries", throttled)
    assert throttled.headers["x-amzn-RateLimit-Limit"] == "2"
    assert throttled.headers["x-amzn-RequestId"]
    assert simulator.throttled == 1
    assert simulator.count("getInventorySummaries", 429) == 1
    # the bucket refills at the plan's rate on the simulator's clock
    simulator.advance(1 / plan.rate)
    assert sim_http.get(simulator.url + INVENTORY, params=PARAMS).status_code == 200
    assert sim_http.get(simulator.url + INVENTORY, params=PARAMS).status_code == 429


def test_buckets_are_per_operation_and_speed_scales_the_rate():
    sellers = "/sellers/v1/marketplaceParticipations"
    with Simulator(speed=10) as sim, authorized_session(sim) as http:
        for _ in range(USAGE_PLANS["getMarketplaceParticipations"].burst):
            answer = http.get(sim.url + sellers)
            assert answer.status_code == 200
        assert answer.headers["x-amzn-RateLimit-Limit"] == "0.16"  # 0.016 x speed 10
        assert http.get(sim.url + sellers).status_code == 429
        assert http.get(sim.url + INVENTORY, params=PARAMS).status_code == 200  # another operation, another bucket
        sim.advance(1 / 0.16)
        assert http.get(sim.url + sellers).status_code == 200
        assert http.get(sim.url + sellers).status_code == 429


def test_records_and_reset(simulator, sim_http):
    sim_http.get(simulator.url + "/sellers/v1/marketplaceParticipations")
    rec = simulator.requests[-1]
    assert (rec.operation, rec.method, rec.status) == ("getMarketplaceParticipations", "GET", 200)
    assert rec.headers["x-amz-access-token"].startswith("Atza|")
    assert simulator.count() == 2 and simulator.count("token") == 1
    simulator.reset_records()
    assert simulator.requests == [] and simulator.count() == 0 and simulator.throttled == 0


def test_5xx_fault(spapi_models, simulator, sim_http):
    simulator.inject_fault("getInventorySummaries", "5xx", times=2)
    statuses = [sim_http.get(simulator.url + INVENTORY, params=PARAMS) for _ in range(2)]
    assert [a.status_code for a in statuses] == [503, 503]
    assert statuses[0].json()["errors"][0]["code"] == "ServiceUnavailable"
    assert_valid(spapi_models, "getInventorySummaries", statuses[0])
    simulator.advance(10)
    assert sim_http.get(simulator.url + INVENTORY, params=PARAMS).status_code == 200


def test_malformed_json_fault(simulator, sim_http):
    simulator.inject_fault("*", "malformed_json")
    answer = sim_http.get(simulator.url + "/sellers/v1/marketplaceParticipations")
    assert answer.status_code == 200 and answer.headers["Content-Type"] == "application/json"
    with pytest.raises(ValueError):
        answer.json()
    assert sim_http.get(simulator.url + "/sellers/v1/marketplaceParticipations").json()["payload"]


def test_slow_fault_outlasts_a_client_timeout(simulator, sim_http):
    simulator.inject_fault("getMarketplaceParticipations", "slow", delay=0.6)
    with pytest.raises(requests.exceptions.ReadTimeout):
        sim_http.get(simulator.url + "/sellers/v1/marketplaceParticipations", timeout=0.2)
    # meanwhile other requests are answered (one thread per connection)
    assert requests.get(simulator.url + "/sellers/v1/marketplaceParticipations", timeout=2,
                        headers={"x-amz-access-token": sim_http.headers["x-amz-access-token"]}).status_code == 200


def test_unknown_fault_kind_is_refused(simulator):
    with pytest.raises(ValueError):
        simulator.inject_fault("searchOrders", "teapot")


def test_wrong_path_and_method(simulator, sim_http):
    assert sim_http.get(simulator.url + "/orders/v0/orders").status_code == 404
    assert sim_http.put(simulator.url + "/orders/2026-01-01/orders").status_code == 405


def test_random_fault_rates_are_drawn_per_call_and_counted_apart_from_the_usage_plan():
    sellers = "/sellers/v1/marketplaceParticipations"
    with Simulator(speed=1e6, validate=False) as sim, authorized_session(sim) as http:
        sim.slow_delay = 0.01
        sim.set_fault_rates(seed=7, throttle=0.5, slow=0.1, **{"5xx": 0.2})
        statuses = [http.get(sim.url + sellers).status_code for _ in range(400)]
        assert 150 < statuses.count(429) < 250
        assert 50 < statuses.count(503) < 110
        assert sim.faults_injected["throttle"] == statuses.count(429)
        assert sim.faults_injected["5xx"] == statuses.count(503)
        assert 20 < sim.faults_injected["slow"] < 60
        assert sim.throttled == 0 and sim.over_plan == {}, "injected 429s are not calls over the plan"
        sim.clear_faults()
        assert http.get(sim.url + sellers).status_code == 200
        with pytest.raises(ValueError):
            sim.set_fault_rates(throttle=0.9, slow=0.2)


def test_calls_over_the_usage_plan_are_recorded_per_operation(simulator, sim_http):
    for _ in range(USAGE_PLANS["getInventorySummaries"].burst + 2):
        sim_http.get(simulator.url + INVENTORY, params=PARAMS)
    assert simulator.over_plan == {"getInventorySummaries": 2}


def test_revoked_refresh_token_restored():
    with Simulator(validate=False) as sim:
        form = {"grant_type": "refresh_token", "refresh_token": "Atzr|sim-refresh-token",
                "client_id": "sim-client-id", "client_secret": "sim-client-secret"}
        sim.revoke_refresh_token()
        assert requests.post(sim.token_url, data=form, timeout=5).json()["error"] == "invalid_grant"
        sim.restore_refresh_token()
        assert requests.post(sim.token_url, data=form, timeout=5).status_code == 200
