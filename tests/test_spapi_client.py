"""SpApi against a scripted local server: library quirks, errors, retries, pagination, authorization."""
import gzip
import json
import logging
from decimal import Decimal
from urllib.parse import parse_qs

import pytest
from spapi_fakes import CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN, FakeClock

from bind_amazon_connector.spapi import SpApi, SpApiConfig, errors
from bind_amazon_connector.spapi.auth import (
    TokenGrant,
    build_consent_url,
    clear_token_cache,
    exchange_authorization_code,
)
from bind_amazon_connector.spapi.listings import PatchResult
from bind_amazon_connector.spapi.order_types import DEFAULT_ORDER_DATA
from bind_amazon_connector.spapi.values import Money

MX = "A1AM78C64UM0Y8"
ORDERS = "/orders/2026-01-01/orders"
SECRETS = (CLIENT_SECRET, REFRESH_TOKEN, "Atza|")


def assert_no_secret(text):
    for secret in SECRETS:
        assert secret not in text


def config_for(fake, **kw):
    values = {"lwa_client_id": CLIENT_ID, "lwa_client_secret": CLIENT_SECRET, "refresh_token": REFRESH_TOKEN,
              "seller_id": "A3SELLER", "endpoint": fake.url, "token_url": fake.token_url, "timeout": 5.0,
              "max_retries": 3, "backoff_base": 0.5}
    values.update(kw)
    return SpApiConfig(**values)


def api_for(fake, clock=None, **kw):
    clock = clock or FakeClock()
    return SpApi(config_for(fake, **kw), sleep=clock.sleep, clock=clock)


def order_json(order_id="701-0000001-0000001", **extra):
    order = {
        "orderId": order_id, "createdTime": "2026-02-01T10:00:00Z", "lastUpdatedTime": "2026-02-01T11:00:00Z",
        "salesChannel": {"channelName": "AMAZON", "marketplaceId": MX, "marketplaceName": "Amazon.com.mx"},
        "fulfillment": {"fulfillmentStatus": "UNSHIPPED", "fulfilledBy": "MERCHANT"},
        "proceeds": {"grandTotal": {"amount": "348.00", "currencyCode": "MXN"}},
        "orderItems": [{
            "orderItemId": "1001", "quantityOrdered": 2,
            "product": {"sellerSku": "CAFE-1", "asin": "B000000001", "title": "Café Ñandú",
                        "price": {"unitPrice": {"amount": "174.00", "currencyCode": "MXN"}}},
            "proceeds": {"proceedsTotal": {"amount": "348.00", "currencyCode": "MXN"}, "breakdowns": [
                {"type": "ITEM", "subtotal": {"amount": "348.00", "currencyCode": "MXN"}},
                {"type": "TAX", "subtotal": {"amount": "48.00", "currencyCode": "MXN"},
                 "detailedBreakdowns": [{"subtype": "ITEM", "value": {"amount": "48.00", "currencyCode": "MXN"}}]},
            ]},
            "fulfillment": {"quantityFulfilled": 0, "quantityUnfulfilled": 2},
        }],
    }
    order.update(extra)
    return order


def page(*orders, token=None):
    body = {"orders": list(orders), "lastUpdatedBefore": "2026-02-02T00:00:00Z"}
    if token:
        body["pagination"] = {"nextToken": token}
    return (200, {"x-amzn-RateLimit-Limit": "0.0056"}, body)


# ---------------------------------------------------------------- the library's quirks

def test_request_shape_host_header_and_no_guessed_marketplace_params(fake_amazon):
    fake_amazon.script(ORDERS, page(order_json()))
    result = api_for(fake_amazon).search_orders_page(last_updated_after="2026-02-01T00:00:00Z")
    req = fake_amazon.api_requests(ORDERS)[0]
    assert req.headers["host"] == fake_amazon.url.split("//")[1]  # not endpoint[8:]
    assert req.headers["x-amz-access-token"] == "Atza|fake-access-1"
    assert req.query["marketplaceIds"] == [MX]
    assert req.query["lastUpdatedAfter"] == ["2026-02-01T00:00:00Z"]
    assert req.query["includedData"] == [",".join(DEFAULT_ORDER_DATA)]
    assert req.query["maxResultsPerPage"] == ["100"]
    assert not {"MarketplaceId", "MarketplaceIds", "marketplace_ids"} & set(req.query)
    order = result.orders[0]
    assert order.grand_total == Money(Decimal("348.00"), "MXN")
    assert order.items[0].item_tax.amount == Decimal("48.00")
    assert result.last_updated_before.isoformat() == "2026-02-02T00:00:00+00:00"


def test_env_default_marketplace_does_not_redirect_calls(fake_amazon, monkeypatch):
    monkeypatch.setenv("SP_API_DEFAULT_MARKETPLACE", "US")
    fake_amazon.script(ORDERS, page(order_json()))
    api_for(fake_amazon).search_orders_page(created_after="2026-02-01T00:00:00Z")
    assert fake_amazon.api_requests(ORDERS)[0].query["marketplaceIds"] == [MX]


def test_access_tokens_are_cached_per_connection_and_clearable(fake_amazon):
    one = api_for(fake_amazon)
    fake_amazon.default = (200, {}, {"payload": []})
    one.get_marketplace_participations()
    api_for(fake_amazon).get_marketplace_participations()  # same connection: cached token
    assert len(fake_amazon.token_requests) == 1
    api_for(fake_amazon, refresh_token="Atzr|another-seller").get_marketplace_participations()
    assert len(fake_amazon.token_requests) == 2
    form = parse_qs(fake_amazon.token_requests[0].body.decode())
    assert form["grant_type"] == ["refresh_token"] and form["refresh_token"] == [REFRESH_TOKEN]
    clear_token_cache()
    one.get_marketplace_participations()
    assert len(fake_amazon.token_requests) == 3


def test_debug_logs_of_the_library_do_not_show_the_access_token(fake_amazon, caplog):
    fake_amazon.default = (200, {}, {"payload": []})
    logger = logging.getLogger("sp_api.base.client")
    old = logger.level
    logger.setLevel(logging.DEBUG)
    try:
        with caplog.at_level(logging.DEBUG):
            api_for(fake_amazon).get_marketplace_participations()
    finally:
        logger.setLevel(old)
    assert "Request Headers" in caplog.text  # the library did log them...
    assert_no_secret(caplog.text)  # ...without the token


def test_config_repr_hides_secrets(fake_amazon):
    assert_no_secret(repr(config_for(fake_amazon)))


# ---------------------------------------------------------------- retries and errors

def test_429_with_empty_body_is_retried_not_taken_as_an_empty_answer(fake_amazon):
    fake_amazon.script(ORDERS, (429, {}, None), page(order_json()))
    clock = FakeClock()
    api = api_for(fake_amazon, clock)
    result = api.search_orders_page(last_updated_after="2026-02-01T00:00:00Z")
    assert [o.order_id for o in result.orders] == ["701-0000001-0000001"]
    stats = api.stats["searchOrders"]
    assert (stats.calls, stats.throttled, stats.retries, stats.pages) == (2, 1, 1, 1)
    # after a 429 the bucket is empty: the retry waited for the usage plan (1 / 0.0056 s), not only the backoff
    assert sum(clock.sleeps) == pytest.approx(1 / 0.0056 + api.pacer.send_margin(0.0056))


def test_5xx_then_success(fake_amazon):
    fake_amazon.script("/sellers/v1/marketplaceParticipations",
                       (503, {}, {"errors": [{"code": "ServiceUnavailable", "message": "down"}]}),
                       (500, {}, None),
                       (200, {}, {"payload": []}))
    clock = FakeClock()
    api = api_for(fake_amazon, clock)
    assert api.get_marketplace_participations() == []
    assert api.stats["getMarketplaceParticipations"].retries == 2
    backoffs = [s for s in clock.sleeps]
    assert 0.25 <= backoffs[0] <= 0.5 and 0.5 <= backoffs[1] <= 1.0  # base 0.5, doubling, jitter 50-100 %


def test_429_storm_gives_retry_later_after_max_retries(fake_amazon):
    fake_amazon.default = (429, {}, {"errors": [{"code": "QuotaExceeded", "message": "You exceeded your quota"}]})
    api = api_for(fake_amazon, max_retries=4)
    with pytest.raises(errors.RetryLater) as info:
        api.get_order("701-0000001-0000001")
    stats = api.stats["getOrder"]
    assert (stats.calls, stats.throttled, stats.retries) == (5, 5, 4)
    assert info.value.status == 429 and info.value.retry_after == pytest.approx(2.0)
    assert "429" in str(info.value) and "5 times" in str(info.value)
    assert_no_secret(str(info.value))


def test_timeout_gives_retry_later(fake_amazon):
    fake_amazon.default = (200, {"x-test-delay": "1.0"}, {"payload": []})
    api = api_for(fake_amazon, timeout=0.2, max_retries=1)
    with pytest.raises(errors.RetryLater, match="did not answer within 0.2 seconds"):
        api.get_marketplace_participations()
    assert api.stats["getMarketplaceParticipations"].calls == 2


def test_connection_refused_gives_retry_later(spapi_clean):
    clock = FakeClock()
    config = SpApiConfig(CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN, endpoint="http://127.0.0.1:9",
                         token_url="http://127.0.0.1:9/auth/o2/token", max_retries=2)
    with pytest.raises(errors.RetryLater, match="could not be reached"):
        SpApi(config, sleep=clock.sleep, clock=clock).get_marketplace_participations()


def test_malformed_json_is_bad_data_without_retry(fake_amazon):
    fake_amazon.script(ORDERS, (200, {"content-type": "application/json"}, b'{"orders": [ {"orderId": '))
    api = api_for(fake_amazon)
    with pytest.raises(errors.BadData, match="not a JSON object"):
        api.search_orders_page(last_updated_after="2026-02-01T00:00:00Z")
    assert api.stats["searchOrders"].calls == 1


def test_model_breaking_answer_is_bad_data_naming_the_field_not_the_buyer(fake_amazon):
    broken = order_json(buyer={"buyerName": "Ana Secreta"})
    del broken["orderItems"][0]["quantityOrdered"]
    fake_amazon.script(ORDERS, page(broken))
    with pytest.raises(errors.BadData) as info:
        api_for(fake_amazon).search_orders_page(last_updated_after="2026-02-01T00:00:00Z")
    assert "orderItems[0].quantityOrdered" in str(info.value) and "701-0000001-0000001" in str(info.value)
    assert "Ana" not in str(info.value)


def test_one_unreadable_order_need_not_block_its_page(fake_amazon):
    broken = order_json("701-0000002-0000002", buyer={"buyerName": "Ana Secreta"}, createdTime="ayer")
    no_id = order_json()
    del no_id["orderId"]
    fake_amazon.script(ORDERS, page(order_json(), broken, no_id, token="T1"))
    result = api_for(fake_amazon).search_orders_page(created_after="2026-02-01T00:00:00Z", skip_unreadable=True)
    assert [o.order_id for o in result.orders] == ["701-0000001-0000001"] and result.next_token == "T1"
    (bad, anonymous) = result.rejected
    assert bad.order_id == "701-0000002-0000002" and "createdTime is not an ISO 8601 date" in bad.error
    assert bad.raw["createdTime"] == "ayer" and "Ana" not in bad.error
    assert anonymous.order_id is None and "orderId is missing" in anonymous.error
    assert len(fake_amazon.api_requests(ORDERS)) == 1  # no second call to re-read the page


def test_expired_access_token_is_refreshed_once(fake_amazon):
    fake_amazon.script("/sellers/v1/marketplaceParticipations",
                       (403, {}, {"errors": [{"code": "Unauthorized", "message": "The access token has expired"}]}),
                       (200, {}, {"payload": []}))
    api = api_for(fake_amazon)
    assert api.get_marketplace_participations() == []
    assert len(fake_amazon.token_requests) == 2
    reqs = fake_amazon.api_requests()
    assert reqs[0].headers["x-amz-access-token"] != reqs[1].headers["x-amz-access-token"]


def test_access_denied_twice_is_authorization_error(fake_amazon):
    fake_amazon.default = (403, {}, {"errors": [{"code": "Unauthorized", "message": "Access denied"}]})
    with pytest.raises(errors.AuthorizationError, match="(?i)re-authorize") as info:
        api_for(fake_amazon).get_marketplace_participations()
    assert info.value.status == 403 and "Access denied" in str(info.value)
    assert_no_secret(str(info.value))


def test_revoked_refresh_token_is_authorization_error(fake_amazon):
    fake_amazon.token_answer = (400, {}, {"error": "invalid_grant",
                                          "error_description": f"bad refresh token {REFRESH_TOKEN}"})
    api = api_for(fake_amazon)
    with pytest.raises(errors.AuthorizationError, match="re-authorize") as info:
        api.get_marketplace_participations()
    assert info.value.amazon_code == "invalid_grant"
    assert_no_secret(str(info.value))
    assert len(fake_amazon.token_requests) == 1  # not retried


def test_wrong_app_credentials_are_configuration_error(fake_amazon):
    fake_amazon.token_answer = (401, {}, {"error": "invalid_client", "error_description": "Client auth failed"})
    with pytest.raises(errors.ConfigurationError, match="client id or client secret"):
        api_for(fake_amazon).get_marketplace_participations()


def test_token_service_outage_is_retried(fake_amazon):
    fake_amazon.token_answer = (503, {}, {"error": "server_error"})
    api = api_for(fake_amazon, max_retries=2)
    with pytest.raises(errors.RetryLater, match="login service is unavailable"):
        api.get_marketplace_participations()
    assert len(fake_amazon.token_requests) == 3


def test_refused_request_is_bad_data_and_404_is_not_found(fake_amazon):
    fake_amazon.script("/orders/2026-01-01/orders/BAD",
                       (400, {}, {"errors": [{"code": "InvalidInput", "message": "Invalid Input"}]}))
    fake_amazon.script("/orders/2026-01-01/orders/GONE",
                       (404, {}, {"errors": [{"code": "NotFound", "message": "No order"}]}))
    api = api_for(fake_amazon)
    with pytest.raises(errors.BadData, match="InvalidInput"):
        api.get_order("BAD")
    with pytest.raises(errors.NotFound):
        api.get_order("GONE")
    assert api.stats["getOrder"].retries == 0


@pytest.mark.parametrize("kw, match", [
    ({"region": "XX"}, "Unknown Amazon region"),
    ({"marketplace_id": "NOPE"}, "Unknown Amazon marketplace"),
    ({"region": "EU"}, "belongs to Amazon's NA region"),
    ({"lwa_client_secret": ""}, "client secret"),
    ({"endpoint": "ftp://x"}, "must be an https:// address"),
])
def test_configuration_errors(kw, match):
    values = {"lwa_client_id": CLIENT_ID, "lwa_client_secret": CLIENT_SECRET, "refresh_token": REFRESH_TOKEN}
    values.update(kw)
    with pytest.raises(errors.ConfigurationError, match=match) as info:
        SpApiConfig(**values)
    assert_no_secret(str(info.value))


def test_unauthorized_connection_and_missing_seller_id_are_configuration_errors(fake_amazon):
    with pytest.raises(errors.ConfigurationError, match="not authorized yet"):
        SpApi(config_for(fake_amazon, refresh_token=None))
    with pytest.raises(errors.ConfigurationError, match="Merchant Token"):
        api_for(fake_amazon, seller_id=None).get_listings_item("SKU-1")


# ---------------------------------------------------------------- pagination

def test_every_orders_page_exactly_once(fake_amazon):
    fake_amazon.script(ORDERS, page(order_json("1"), token="T1"), page(order_json("2"), token="T2"),
                       page(order_json("3")))
    api = api_for(fake_amazon)
    pages = list(api.iter_orders_pages(last_updated_after="2026-02-01T00:00:00Z", max_results=1))
    assert [o.order_id for p in pages for o in p.orders] == ["1", "2", "3"]
    sent = [r.query.get("paginationToken") for r in fake_amazon.api_requests(ORDERS)]
    assert sent == [None, ["T1"], ["T2"]]
    # the filters travel with every page
    assert all(r.query["lastUpdatedAfter"] == ["2026-02-01T00:00:00Z"] for r in fake_amazon.api_requests(ORDERS))
    assert api.stats["searchOrders"].pages == 3


def test_an_interrupted_run_resumes_from_the_last_token(fake_amazon):
    fake_amazon.script(ORDERS, page(order_json("2"), token="T2"), page(order_json("3")))
    pages = list(api_for(fake_amazon).iter_orders_pages(pagination_token="T1", created_after="2026-02-01T00:00:00Z"))
    assert [o.order_id for p in pages for o in p.orders] == ["2", "3"]
    assert [r.query["paginationToken"] for r in fake_amazon.api_requests(ORDERS)] == [["T1"], ["T2"]]


def test_repeated_page_token_is_bad_data(fake_amazon):
    fake_amazon.script(ORDERS, page(order_json("1"), token="T1"), page(order_json("2"), token="T1"))
    seen = []
    with pytest.raises(errors.BadData, match="same page token twice"):
        for p in api_for(fake_amazon).iter_orders_pages(created_after="2026-02-01T00:00:00Z"):
            seen.extend(o.order_id for o in p.orders)
    assert seen == ["1", "2"]


def test_get_reports_sends_only_the_token_on_next_pages(fake_amazon):
    report = {"reportId": "R1", "reportType": "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2",
              "processingStatus": "DONE", "createdTime": "2026-02-01T00:00:00Z", "reportDocumentId": "D1"}
    fake_amazon.script("/reports/2021-06-30/reports", (200, {}, {"reports": [report], "nextToken": "N1"}),
                       (200, {}, {"reports": [dict(report, reportId="R2")]}))
    reports = list(api_for(fake_amazon).iter_reports(["GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2"]))
    assert [r.report_id for r in reports] == ["R1", "R2"]
    first, second = fake_amazon.api_requests("/reports/2021-06-30/reports")
    assert first.query["reportTypes"] == ["GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2"]
    assert second.query == {"nextToken": ["N1"]}


# ---------------------------------------------------------------- listings, reports

def test_patch_listing_quantity_sends_a_merge_patch(fake_amazon):
    path = "/listings/2021-08-01/items/A3SELLER/SKU%2F1"
    fake_amazon.script(path, (200, {}, {"sku": "SKU/1", "status": "ACCEPTED", "submissionId": "S1", "issues": []}))
    result = api_for(fake_amazon).patch_listing_quantity("SKU/1", 7, "COFFEE")
    assert result == PatchResult("ACCEPTED", "S1", (), "SKU/1")
    req = fake_amazon.api_requests()[0]
    assert req.method == "PATCH" and req.path == path
    assert req.query == {"marketplaceIds": [MX], "includedData": ["issues"]}
    assert req.json() == {"productType": "COFFEE", "patches": [{
        "op": "merge", "path": "/attributes/fulfillment_availability",
        "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": 7}]}]}
    with pytest.raises(ValueError):
        api_for(fake_amazon).patch_listing_quantity("SKU/1", -1, "COFFEE")


def test_wait_for_report_and_rows_of_a_gzipped_cp1252_document(fake_amazon):
    report = {"reportId": "R9", "reportType": "GET_MERCHANT_LISTINGS_ALL_DATA", "createdTime": "2026-02-01T00:00:00Z"}
    fake_amazon.script("/reports/2021-06-30/reports/R9",
                       (200, {}, dict(report, processingStatus="IN_QUEUE")),
                       (200, {}, dict(report, processingStatus="IN_PROGRESS")),
                       (200, {}, dict(report, processingStatus="DONE", reportDocumentId="D9")))
    content = "seller-sku\titem-name\tprice\nCAFE-1\tCafé Ñandú\t174.00\n".encode("cp1252")
    fake_amazon.script("/reports/2021-06-30/documents/D9", (200, {}, {
        "reportDocumentId": "D9", "url": fake_amazon.url + "/download/D9", "compressionAlgorithm": "GZIP"}))
    fake_amazon.script("/download/D9", (200, {"content-type": "application/octet-stream"}, gzip.compress(content)))
    clock = FakeClock()
    api = api_for(fake_amazon, clock)
    done = api.wait_for_report("R9", poll_interval=30)
    assert done.report_document_id == "D9" and clock.sleeps == [30, 30]
    assert list(api.iter_report_rows("D9")) == [{"seller-sku": "CAFE-1", "item-name": "Café Ñandú", "price": "174.00"}]
    download = fake_amazon.api_requests("/download/D9")[0]
    assert "x-amz-access-token" not in download.headers  # presigned URL: no token sent to storage


def test_wait_for_report_fatal_and_timeout(fake_amazon):
    base = {"reportId": "R1", "reportType": "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL",
            "createdTime": "2026-02-01T00:00:00Z"}
    fake_amazon.script("/reports/2021-06-30/reports/R1", (200, {}, dict(base, processingStatus="FATAL")))
    with pytest.raises(errors.BadData, match="could not produce report R1"):
        api_for(fake_amazon).wait_for_report("R1")
    fake_amazon.default = (200, {}, dict(base, processingStatus="IN_PROGRESS"))
    clock = FakeClock()
    with pytest.raises(errors.RetryLater, match="still in progress") as info:
        api_for(fake_amazon, clock).wait_for_report("R1", poll_interval=60, timeout=300)
    assert info.value.retry_after == 60 and sum(clock.sleeps) <= 300


def test_expired_download_url_is_fetched_again(fake_amazon):
    fake_amazon.script("/reports/2021-06-30/documents/D1",
                       (200, {}, {"reportDocumentId": "D1", "url": fake_amazon.url + "/download/old"}),
                       (200, {}, {"reportDocumentId": "D1", "url": fake_amazon.url + "/download/new"}))
    fake_amazon.script("/download/old", (403, {}, b"<Error>Request has expired</Error>"))
    fake_amazon.script("/download/new", (200, {}, b"a\tb\n1\t2\n"))
    assert list(api_for(fake_amazon).iter_report_rows("D1")) == [{"a": "1", "b": "2"}]


# ---------------------------------------------------------------- authorization flow

def test_consent_url():
    url = build_consent_url("sellercentral.amazon.com.mx", "amzn1.sp.solution.abc", "st4te",
                            redirect_uri="https://odoo.example.com/amazon/callback", beta=True)
    assert url == ("https://sellercentral.amazon.com.mx/apps/authorize/consent?application_id=amzn1.sp.solution.abc"
                   "&state=st4te&redirect_uri=https%3A%2F%2Fodoo.example.com%2Famazon%2Fcallback&version=beta")
    assert build_consent_url("http://127.0.0.1:8070", "app", "s").startswith("http://127.0.0.1:8070/apps/")
    with pytest.raises(errors.ConfigurationError):
        build_consent_url("sellercentral.amazon.com.mx", "app", "")


def test_exchange_authorization_code_posts_the_redirect_uri(fake_amazon):
    fake_amazon.token_answer = (200, {}, {"access_token": "Atza|new", "refresh_token": "Atzr|new-refresh",
                                          "token_type": "bearer", "expires_in": 3600})
    grant = exchange_authorization_code(config_for(fake_amazon, refresh_token=None), "the-code",
                                        "https://odoo.example.com/amazon/callback")
    assert grant == TokenGrant(refresh_token="Atzr|new-refresh", access_token="Atza|new", expires_in=3600)
    assert "Atzr|new-refresh" not in repr(grant)
    form = parse_qs(fake_amazon.token_requests[0].body.decode())
    assert form == {"grant_type": ["authorization_code"], "code": ["the-code"], "client_id": [CLIENT_ID],
                    "client_secret": [CLIENT_SECRET], "redirect_uri": ["https://odoo.example.com/amazon/callback"]}


def test_exchange_of_a_used_code_is_authorization_error(fake_amazon):
    fake_amazon.token_answer = (400, {}, {"error": "invalid_grant", "error_description": "Code expired"})
    with pytest.raises(errors.AuthorizationError):
        exchange_authorization_code(config_for(fake_amazon, refresh_token=None), "old", "https://x/cb")
    assert json.dumps([r.body.decode() for r in fake_amazon.token_requests]).count("old") == 1


def test_clients_share_one_tls_context(fake_amazon, monkeypatch):
    """Every HTTP client of every connection verifies Amazon's certificates with one context made once per
    process: building one per client loaded the trusted certificates each time (about 70 ms, three per API
    client), a measurable share of a busy server's time."""
    import httpx

    from bind_amazon_connector.spapi import tls

    made = []
    create = httpx.create_ssl_context
    monkeypatch.setattr(tls, "_context", None)
    monkeypatch.setattr(httpx, "create_ssl_context", lambda *a, **kw: made.append(1) or create(*a, **kw))
    first, second = api_for(fake_amazon), api_for(fake_amazon, seller_id="A3OTHER")
    contexts = set()
    for api in (first, second):
        for name in ("orders", "listings"):
            client = api._client(name)
            for transport in (client._transport, client._auth._transport):
                contexts.add(id(transport._client._transport._pool._ssl_context))
    assert len(made) == 1
    assert contexts == {id(tls.tls_context())}
