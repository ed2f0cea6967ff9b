"""The simulator's LWA token endpoint, consent page and access-token checks."""
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from simulator_helpers import lwa_token

from spapi_simulator import AUTH_CODE, CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN

PARTICIPATIONS = "/sellers/v1/marketplaceParticipations"


def token_request(sim, **form):
    data = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, **form}
    return requests.post(sim.token_url, data={k: v for k, v in data.items() if v is not None}, timeout=5)


def api(sim, token=None):
    headers = {"x-amz-access-token": token} if token else {}
    return requests.get(sim.url + PARTICIPATIONS, headers=headers, timeout=5)


def test_refresh_token_grant(simulator):
    answer = token_request(simulator, grant_type="refresh_token", refresh_token=REFRESH_TOKEN)
    assert answer.status_code == 200
    body = answer.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 3600 and body["refresh_token"] == REFRESH_TOKEN
    assert body["access_token"].startswith("Atza|")
    assert api(simulator, body["access_token"]).status_code == 200
    recorded = simulator.requests[0]
    assert recorded.operation == "token" and recorded.body["grant_type"] == "refresh_token"


@pytest.mark.parametrize("form, status, error", [
    ({"grant_type": "refresh_token", "refresh_token": "Atzr|someone-else"}, 400, "invalid_grant"),
    ({"grant_type": "refresh_token", "refresh_token": REFRESH_TOKEN, "client_secret": "wrong"}, 401, "invalid_client"),
    ({"grant_type": "refresh_token", "refresh_token": REFRESH_TOKEN, "client_id": "other-app"}, 401, "invalid_client"),
    ({"grant_type": "password"}, 400, "unsupported_grant_type"),
    ({"grant_type": None}, 400, "invalid_request"),
])
def test_token_errors(simulator, form, status, error):
    answer = token_request(simulator, **form)
    assert answer.status_code == status
    assert answer.json()["error"] == error


def test_authorization_code_is_single_use(simulator):
    first = token_request(simulator, grant_type="authorization_code", code=AUTH_CODE,
                          redirect_uri="https://odoo.example.com/amazon/oauth")
    assert first.status_code == 200
    assert first.json()["refresh_token"] == REFRESH_TOKEN
    again = token_request(simulator, grant_type="authorization_code", code=AUTH_CODE,
                          redirect_uri="https://odoo.example.com/amazon/oauth")
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    assert simulator.issue_auth_code() == AUTH_CODE
    assert token_request(simulator, grant_type="authorization_code", code=AUTH_CODE,
                         redirect_uri="https://odoo.example.com/amazon/oauth").status_code == 200
    assert simulator.contract_violations == []


def test_code_exchange_without_redirect_uri_is_a_contract_violation(simulator):
    answer = token_request(simulator, grant_type="authorization_code", code=AUTH_CODE)
    assert answer.status_code == 200  # served, but flagged: Amazon's guide lists redirect_uri
    assert any("redirect_uri" in v for v in simulator.contract_violations)


def test_consent_page_redirects_back_with_a_code(simulator):
    redirect = "https://odoo.example.com/amazon/oauth?db=demo"
    answer = requests.get(simulator.consent_url(redirect, state="opaque-123"), allow_redirects=False, timeout=5)
    assert answer.status_code == 302
    location = urlsplit(answer.headers["Location"])
    assert location.netloc == "odoo.example.com"
    query = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert query["state"] == "opaque-123" and query["db"] == "demo"
    assert query["selling_partner_id"] == simulator.seller_id
    code = query["spapi_oauth_code"]
    wrong = token_request(simulator, grant_type="authorization_code", code=code, redirect_uri="https://evil.example")
    assert wrong.status_code == 400
    fresh = requests.get(simulator.consent_url(redirect), allow_redirects=False, timeout=5).headers["Location"]
    code = parse_qs(urlsplit(fresh).query)["spapi_oauth_code"][0]
    exchange = token_request(simulator, grant_type="authorization_code", code=code, redirect_uri=redirect)
    assert exchange.status_code == 200
    simulator.advance(301)  # codes live five minutes
    late = parse_qs(urlsplit(requests.get(simulator.consent_url(redirect), allow_redirects=False,
                                          timeout=5).headers["Location"]).query)["spapi_oauth_code"][0]
    simulator.advance(301)
    too_late = token_request(simulator, grant_type="authorization_code", code=late, redirect_uri=redirect)
    assert too_late.status_code == 400


def test_access_token_checks(simulator):
    for token, details in [(None, "no x-amz-access-token"), ("Atza|forged", "revoked, malformed or invalid")]:
        answer = api(simulator, token)
        assert answer.status_code == 403
        error = answer.json()["errors"][0]
        assert error["code"] == "Unauthorized" and details in error["details"]
    token = lwa_token(simulator)
    assert api(simulator, token).status_code == 200
    simulator.advance(3601)
    expired = api(simulator, token)
    assert expired.status_code == 403 and "expired" in expired.json()["errors"][0]["details"]
    assert api(simulator, lwa_token(simulator)).status_code == 200


def test_expired_token_fault_expires_the_token(simulator):
    token = lwa_token(simulator)
    simulator.inject_fault("getMarketplaceParticipations", "expired_token")
    assert api(simulator, token).status_code == 403
    assert api(simulator, token).status_code == 403  # the token stays expired: the client must refresh
    assert api(simulator, lwa_token(simulator)).status_code == 200
    simulator.expire_access_tokens()
    assert api(simulator, token).status_code == 403


def test_revoked_refresh_token(simulator):
    simulator.inject_fault(None, "revoked_token")
    answer = token_request(simulator, grant_type="refresh_token", refresh_token=REFRESH_TOKEN)
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_grant"
    assert token_request(simulator, grant_type="refresh_token", refresh_token=REFRESH_TOKEN).status_code == 200
    simulator.revoke_refresh_token()
    assert token_request(simulator, grant_type="refresh_token", refresh_token=REFRESH_TOKEN).status_code == 400


def test_token_endpoint_faults(simulator):
    simulator.inject_fault("token", "5xx")
    assert token_request(simulator, grant_type="refresh_token", refresh_token=REFRESH_TOKEN).status_code == 503
    simulator.inject_fault("token", "malformed_json")
    broken = token_request(simulator, grant_type="refresh_token", refresh_token=REFRESH_TOKEN)
    assert broken.status_code == 200
    with pytest.raises(ValueError):
        broken.json()
    assert token_request(simulator, grant_type="refresh_token", refresh_token=REFRESH_TOKEN).status_code == 200


def test_restricted_data_token_works_as_access_token(simulator, sim_http):
    answer = sim_http.post(simulator.url + "/tokens/2021-03-01/restrictedDataToken", json={
        "restrictedResources": [{"method": "GET", "path": "/orders/2026-01-01/orders"}]})
    assert answer.status_code == 200
    assert api(simulator, answer.json()["restrictedDataToken"]).status_code == 200
