"""Reports 2021-06-30 in the simulator: processing states, documents, flat files."""
import csv
import gzip
import io

import pytest
import requests
from simulator_helpers import MX, authorized_session

from spapi_simulator.reports import ALL_ORDERS_COLUMNS, MERCHANT_LISTINGS_COLUMNS

REPORTS = "/reports/2021-06-30/reports"
LISTINGS_REPORT = "GET_MERCHANT_LISTINGS_ALL_DATA"


@pytest.fixture
def demo(demo_simulator):
    demo_simulator.report_queue_seconds = 3600  # reports move on polls unless a test advances the clock
    with authorized_session(demo_simulator) as http:
        yield demo_simulator, http


def create(sim, http, report_type=LISTINGS_REPORT, **extra):
    answer = http.post(sim.url + REPORTS, json={"reportType": report_type, "marketplaceIds": [MX], **extra})
    assert answer.status_code == 202, answer.text
    return answer.json()["reportId"]


def poll(sim, http, report_id):
    return http.get(f"{sim.url}{REPORTS}/{report_id}").json()


def download(sim, http, document_id):
    doc = http.get(f"{sim.url}/reports/2021-06-30/documents/{document_id}").json()
    raw = requests.get(doc["url"], timeout=5)  # a presigned URL: no access token
    assert raw.status_code == 200
    content = gzip.decompress(raw.content) if doc.get("compressionAlgorithm") == "GZIP" else raw.content
    return doc, raw, content


def rows(text):
    return list(csv.DictReader(io.StringIO(text), delimiter="\t"))


def test_states_follow_polls_and_the_document_is_generated(demo):
    sim, http = demo
    report_id = create(sim, http)
    states = [poll(sim, http, report_id) for _ in range(3)]
    assert [s["processingStatus"] for s in states] == ["IN_QUEUE", "IN_PROGRESS", "DONE"]
    done = states[-1]
    assert done["processingStartTime"] and done["processingEndTime"] and done["marketplaceIds"] == [MX]
    doc, raw, content = download(sim, http, done["reportDocumentId"])
    assert "compressionAlgorithm" not in doc and raw.headers["Content-Type"] == "text/plain"
    text = content.decode("cp1252")  # like many Mexican reports: not UTF-8, and no charset declared
    with pytest.raises(UnicodeDecodeError):
        content.decode("utf-8")
    table = rows(text)
    assert list(table[0]) == MERCHANT_LISTINGS_COLUMNS
    by_sku = {r["seller-sku"]: r for r in table}
    assert len(by_sku) == 10
    assert by_sku["MX-TAZA-001"]["item-name"] == "Taza de cerámica Talavera 350 ml"
    assert (by_sku["MX-TAZA-001"]["price"], by_sku["MX-TAZA-001"]["quantity"]) == ("249.00", "35")
    assert by_sku["MX-TAZA-001"]["fulfillment-channel"] == "DEFAULT"
    assert by_sku["MX-MOCHILA-003"]["fulfillment-channel"] == "AMAZON_NA"
    assert by_sku["MX-SARTEN-006"]["status"] == "Inactive" and by_sku["MX-TAZA-001"]["status"] == "Active"


def test_states_follow_the_clock(demo):
    sim, http = demo
    sim.report_queue_seconds, sim.report_processing_seconds = 10, 20
    report_id = create(sim, http)
    sim.advance(11)
    listed = http.get(sim.url + REPORTS, params={"reportTypes": LISTINGS_REPORT}).json()["reports"]
    assert [r["processingStatus"] for r in listed if r["reportId"] == report_id] == ["IN_PROGRESS"]
    sim.advance(20)
    assert poll(sim, http, report_id)["processingStatus"] == "DONE"


def test_all_orders_report(demo):
    sim, http = demo
    report_id = create(sim, http, "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL")
    for _ in range(3):
        report = poll(sim, http, report_id)
    _doc, _raw, content = download(sim, http, report["reportDocumentId"])
    table = rows(content.decode("cp1252"))
    assert list(table[0]) == ALL_ORDERS_COLUMNS
    assert len({r["amazon-order-id"] for r in table}) == 15
    gift = next(r for r in table if r["gift-wrap-price"] not in ("", "0.00"))
    assert gift["gift-wrap-price"] == "45.00" and gift["sku"] == "MX-REBOZO-008"
    promo = next(r for r in table if r["promotion-ids"])
    assert promo["item-promotion-discount"] == "-37.80"
    assert {r["order-status"] for r in table} >= {"Shipped", "Unshipped", "Cancelled", "Pending", "PartiallyShipped"}
    assert {r["fulfillment-channel"] for r in table} == {"Amazon", "Merchant"}


@pytest.mark.parametrize("outcome, has_document", [("CANCELLED", False), ("FATAL", True)])
def test_unhappy_outcomes(demo, outcome, has_document):
    sim, http = demo
    sim.set_report_outcome(LISTINGS_REPORT, outcome)
    report_id = create(sim, http)
    for _ in range(3):
        report = poll(sim, http, report_id)
    assert report["processingStatus"] == outcome
    assert ("reportDocumentId" in report) == has_document


def test_in_progress_forever(demo):
    sim, http = demo
    sim.set_report_outcome(LISTINGS_REPORT, "IN_PROGRESS_FOREVER")
    report_id = create(sim, http)
    for _ in range(5):
        report = poll(sim, http, report_id)
    sim.report_queue_seconds = 1
    sim.advance(600)
    assert report["processingStatus"] == poll(sim, http, report_id)["processingStatus"] == "IN_PROGRESS"


def test_explicit_document_with_encoding_and_gzip(demo):
    sim, http = demo
    text = "seller-sku\titem-name\r\nMX-1\tPiñata de cartón\r\n"
    sim.set_report_document(LISTINGS_REPORT, text, encoding="latin-1", gzip=True, content_type="text/plain")
    report_id = create(sim, http)
    for _ in range(3):
        report = poll(sim, http, report_id)
    doc, raw, content = download(sim, http, report["reportDocumentId"])
    assert doc["compressionAlgorithm"] == "GZIP"
    assert content == text.encode("latin-1")


def test_unknown_report_type_is_cancelled_and_settlements_cannot_be_requested(demo):
    sim, http = demo
    report_id = create(sim, http, "GET_SOMETHING_WITHOUT_DATA")
    for _ in range(3):
        report = poll(sim, http, report_id)
    assert report["processingStatus"] == "CANCELLED"
    refused = http.post(sim.url + REPORTS, json={"reportType": "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2",
                                                 "marketplaceIds": [MX]})
    assert refused.status_code == 400


def test_settlement_report_is_listed_and_downloadable(demo):
    sim, http = demo
    listed = http.get(sim.url + REPORTS, params={"reportTypes": "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2",
                                                 "processingStatuses": "DONE"}).json()["reports"]
    assert len(listed) == 1
    _doc, _raw, content = download(sim, http, listed[0]["reportDocumentId"])
    table = rows(content.decode("cp1252"))
    assert table[0]["total-amount"] and table[0]["currency"] == "MXN"
    orders = {r["order-id"] for r in table[1:]}
    assert "701-4000002-7000274" in orders
    types = {r["amount-type"] for r in table[1:]}
    assert {"ItemPrice", "ItemFees", "ItemWithheldTax"} <= types


def test_get_reports_pages_with_next_token_alone(demo):
    sim, http = demo
    ids = [create(sim, http) for _ in range(3)]
    first = http.get(sim.url + REPORTS, params={"reportTypes": LISTINGS_REPORT, "pageSize": 2}).json()
    second = http.get(sim.url + REPORTS, params={"nextToken": first["nextToken"]}).json()
    assert sorted(r["reportId"] for r in first["reports"] + second["reports"]) == sorted(ids)
    assert "nextToken" not in second
    assert http.get(sim.url + REPORTS).status_code == 400  # reportTypes or nextToken is required


def test_cancel_report(demo):
    sim, http = demo
    report_id = create(sim, http)
    assert http.delete(f"{sim.url}{REPORTS}/{report_id}").status_code == 200
    assert poll(sim, http, report_id)["processingStatus"] == "CANCELLED"
    assert http.delete(f"{sim.url}{REPORTS}/{report_id}").status_code == 400
    assert http.get(f"{sim.url}{REPORTS}/999").status_code == 404
