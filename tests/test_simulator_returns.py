"""The simulator serves both customer returns reports from its returns, read back by the connector's parser."""
from datetime import datetime, timedelta, timezone

import pytest
from simulator_helpers import simulator_api

from bind_amazon_connector.spapi.returns import FBA_REPORT, FBM_REPORT, ReturnRow, read_returns
from spapi_simulator import Simulator
from spapi_simulator.returns import make_return

SPEED = 200.0


def fetch(api, report_type, start, end):
    report_id = api.create_report(report_type, data_start_time=start, data_end_time=end)
    report = api.wait_for_report(report_id, poll_interval=0.01, timeout=30)
    return list(read_returns(report_type, api.iter_report_rows(report.report_document_id)))


def test_both_returns_reports_by_return_date(sim):
    now = datetime.now(timezone.utc).replace(microsecond=0)
    sim.add_return(order_id="702-0000001-0000001", sku="TAZA-Ñ", channel="fbm", quantity=2,
                   return_date=now - timedelta(days=3), delivered_date=now - timedelta(days=1),
                   product_name="Taza – ½ litro")
    sim.add_return(order_id="702-0000002-0000002", sku="TERMO", channel="fba", disposition="CARRIER_DAMAGED",
                   return_date=now - timedelta(days=40))
    sim.add_return(order_id="702-0000003-0000003", sku="TERMO", channel="fba", return_date=now - timedelta(days=60))
    api = simulator_api(sim, SPEED)
    start, end = now - timedelta(days=45), now
    [fbm] = fetch(api, FBM_REPORT, start, end)
    assert isinstance(fbm, ReturnRow)
    assert (fbm.order_id, fbm.sku, fbm.quantity, fbm.status) == ("702-0000001-0000001", "TAZA-Ñ", 2, "Closed")
    assert fbm.delivered_date == now - timedelta(days=1) and fbm.product_name == "Taza – ½ litro"
    [fba] = fetch(api, FBA_REPORT, start, end)  # the one of 60 days ago is out of the window
    assert (fba.order_id, fba.disposition, fba.channel) == ("702-0000002-0000002", "CARRIER_DAMAGED", "fba")
    assert fba.return_id.startswith("LPN")
    sim.update_return(fba.return_id, disposition="SELLABLE")
    [again] = fetch(api, FBA_REPORT, start, end)
    assert again.key == fba.key and again.sellable


def test_returns_in_a_scenario():
    ret = make_return("702-1", "SKU-1", channel="fba")
    with Simulator({"returns": [{"order_id": "702-2", "sku": "SKU-2"}, ret]}) as server:
        assert set(server.state.returns) == {ret["returnId"], *(k for k in server.state.returns if "RRMA" in k)}
        assert len(server.state.returns) == 2
    with pytest.raises(ValueError):
        make_return("702-1", "S", channel="afn")


def test_demo_seller_has_one_return_of_each_kind(spapi_clean):
    with Simulator("demo", speed=SPEED) as server:
        api = simulator_api(server, SPEED)
        now = datetime.now(timezone.utc)
        fbm = fetch(api, FBM_REPORT, now - timedelta(days=45), now)
        fba = fetch(api, FBA_REPORT, now - timedelta(days=45), now)
    assert [(r.order_id, r.return_id, r.delivered_date is not None) for r in fbm] == [
        ("701-4000012-7001644", "DEMORMA0000001", True)]
    assert sorted((r.return_id, r.disposition) for r in fba) == [
        ("LPNRRDEMO00001", "CUSTOMER_DAMAGED"), ("LPNRRDEMO00002", "SELLABLE")]
