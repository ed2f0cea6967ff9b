"""Pacing: token buckets per (connection, operation) following Amazon's usage plans."""
import threading
import time

import pytest
from spapi_fakes import CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN, FakeClock

from bind_amazon_connector.spapi import SpApi, SpApiConfig, errors
from bind_amazon_connector.spapi.pacing import SPACING_BURST, CallSpacer, Pacer
from bind_amazon_connector.spapi.usage_plans import USAGE_PLANS, UsagePlan


def call_times(pacer, clock, operation, n):
    times = []
    for _ in range(n):
        pacer.acquire(operation)
        times.append(clock())
    return times


def max_in_window(times, window):
    """The most calls that fall in any interval of ``window`` seconds."""
    return max(sum(1 for u in times if t <= u < t + window) for t in times)


def test_calls_never_exceed_burst_and_follow_the_rate():
    clock = FakeClock()
    pacer = Pacer(clock=clock, sleep=clock.sleep, plans={"op": UsagePlan(2, 5)})
    times = call_times(pacer, clock, "op", 25)
    assert times[:5] == [1000.0] * 5  # a full bucket: the burst goes at once
    gaps = [b - a for a, b in zip(times[5:], times[6:], strict=False)]
    assert gaps == pytest.approx([0.5] * 19)  # then one call every 1/rate seconds
    for window in (0.1, 1, 3, 10):
        assert max_in_window(times, window) <= 5 + 2 * window
    # plus the small margin of the first wait, which the following waits do not repeat
    assert times[-1] - times[0] == pytest.approx(10.0 + pacer.send_margin(2))


def test_an_idle_bucket_refills_only_up_to_burst():
    clock = FakeClock()
    pacer = Pacer(clock=clock, sleep=clock.sleep, plans={"op": UsagePlan(2, 5)})
    call_times(pacer, clock, "op", 5)
    clock.now += 3600  # an hour idle would be 7200 tokens without the cap
    times = call_times(pacer, clock, "op", 8)
    assert times[:5] == [times[0]] * 5 and times[5] - times[0] == pytest.approx(0.5 + pacer.send_margin(2))
    assert max_in_window(times, 0.01) == 5


def test_rate_limit_header_corrects_the_rate():
    clock = FakeClock()
    pacer = Pacer(clock=clock, sleep=clock.sleep, plans={"op": UsagePlan(1, 1)})
    pacer.acquire("op")
    pacer.observe("op", {"x-amzn-RateLimit-Limit": "10.0"})  # this seller gets a better plan
    times = call_times(pacer, clock, "op", 5)
    assert [b - a for a, b in zip(times, times[1:], strict=False)] == pytest.approx([0.1] * 4)
    pacer.observe("op", {"x-amzn-RateLimit-Limit": "0.5"})  # ...or a worse one
    later = call_times(pacer, clock, "op", 3)
    assert later[2] - later[1] == pytest.approx(2.0)
    for junk in ({"x-amzn-RateLimit-Limit": "abc"}, {"x-amzn-RateLimit-Limit": "0"}, {}, None):
        pacer.observe("op", junk)
    assert pacer.bucket("op").rate == 0.5


def test_speed_scales_the_published_plans_and_429_empties_the_bucket():
    clock = FakeClock()
    pacer = Pacer(speed=100, clock=clock, sleep=clock.sleep)
    assert pacer.bucket("getOrder").rate == pytest.approx(USAGE_PLANS["getOrder"].rate * 100)
    pacer.acquire("getOrder")
    pacer.throttled("getOrder")
    assert pacer.acquire("getOrder") == pytest.approx(1 / 50 + pacer.send_margin(50))
    assert pacer.bucket("unknownOperation").burst == 1  # cautious default


def test_too_long_a_wait_is_retry_later_without_taking_a_token():
    clock = FakeClock()
    pacer = Pacer(clock=clock, sleep=clock.sleep)
    for _ in range(USAGE_PLANS["searchOrders"].burst):
        pacer.acquire("searchOrders", max_wait=60)
    with pytest.raises(errors.RetryLater) as info:
        pacer.acquire("searchOrders", max_wait=60)
    assert info.value.retry_after == pytest.approx(1 / 0.0056) and info.value.operation == "searchOrders"
    clock.now += 1 / 0.0056
    assert pacer.acquire("searchOrders", max_wait=60) == 0  # the refused call did not consume the token


def test_spapi_paces_each_operation_with_the_published_plans(fake_amazon):
    clock = FakeClock()
    fake_amazon.default = (200, {}, {"payload": []})
    config = SpApiConfig(CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN, endpoint=fake_amazon.url,
                         token_url=fake_amazon.token_url)
    api = SpApi(config, sleep=clock.sleep, clock=clock)
    plan = USAGE_PLANS["getMarketplaceParticipations"]
    for _ in range(plan.burst + 2):
        api.get_marketplace_participations()
    margin = api.pacer.send_margin(plan.rate)
    assert clock.sleeps == pytest.approx([1 / plan.rate + margin, 1 / plan.rate])
    assert api.stats["getMarketplaceParticipations"].waited == pytest.approx(2 / plan.rate + margin)
    # the same seller in another SpApi object shares the buckets; another seller does not
    again = SpApi(config, sleep=clock.sleep, clock=clock)
    assert again.pacer is api.pacer
    other = SpApi(SpApiConfig(CLIENT_ID, CLIENT_SECRET, "Atzr|other", endpoint=fake_amazon.url,
                              token_url=fake_amazon.token_url), sleep=clock.sleep, clock=clock)
    assert other.pacer is not api.pacer
    other.get_marketplace_participations()
    assert len(clock.sleeps) == 2


def test_spapi_adopts_the_rate_limit_header(fake_amazon):
    clock = FakeClock()
    fake_amazon.default = (200, {"x-amzn-RateLimit-Limit": "0.1"}, {"payload": []})
    api = SpApi(SpApiConfig(CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN, endpoint=fake_amazon.url,
                            token_url=fake_amazon.token_url), sleep=clock.sleep, clock=clock)
    burst = USAGE_PLANS["getMarketplaceParticipations"].burst
    for _ in range(burst + 1):
        api.get_marketplace_participations()
    assert clock.sleeps == pytest.approx([10.0 + api.pacer.send_margin(0.1)])


def test_spapi_gives_retry_later_instead_of_sleeping_too_long(fake_amazon):
    clock = FakeClock()
    fake_amazon.default = (200, {}, {"orders": []})
    api = SpApi(SpApiConfig(CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN, endpoint=fake_amazon.url,
                            token_url=fake_amazon.token_url, max_wait=60), sleep=clock.sleep, clock=clock)
    burst = USAGE_PLANS["searchOrders"].burst
    for _ in range(burst):
        api.search_orders_page(created_after="2026-01-01T00:00:00Z")
    with pytest.raises(errors.RetryLater, match="try again in 179 seconds") as info:
        api.search_orders_page(created_after="2026-01-01T00:00:00Z")
    assert info.value.retry_after == pytest.approx(1 / 0.0056) and clock.sleeps == []
    assert len(fake_amazon.api_requests()) == burst


def test_a_wait_ends_a_little_after_the_bucket_allows_the_call():
    clock = FakeClock()
    pacer = Pacer(clock=clock, sleep=clock.sleep, plans={"slow": UsagePlan(0.0056, 1), "fast": UsagePlan(5, 1)})
    # a tenth of the spacing, at most 0.25 s and at least 0.05 s (a fast plan's tenth, 20 ms, is a hiccup)
    for operation, margin in (("slow", 0.25), ("fast", 0.05)):
        pacer.acquire(operation)
        assert pacer.acquire(operation) == pytest.approx(1 / pacer.bucket(operation).rate + margin)
    assert Pacer(margin=0).send_margin(0.0056) == 0
    assert Pacer().send_margin(0.5) == pytest.approx(0.2)
    # the floor is of Amazon's time: a pacer 100 times faster (the simulator's) keeps a 0.5 ms floor
    assert Pacer(speed=100).send_margin(500) == pytest.approx(0.0005)


def test_concurrent_callers_share_one_bucket():
    pacer = Pacer(clock=time.monotonic, sleep=time.sleep, plans={"op": UsagePlan(200, 5)})
    stamps = []

    def worker():
        for _ in range(10):
            pacer.acquire("op")
            stamps.append(time.monotonic())

    threads = [threading.Thread(target=worker) for _ in range(4)]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(stamps) == 40
    assert time.monotonic() - start >= (40 - 5) / 200 * 0.95


def test_the_callers_deadline_caps_every_wait(fake_amazon):
    clock = FakeClock()
    fake_amazon.default = (200, {}, {"orders": []})
    api = SpApi(SpApiConfig(CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN, endpoint=fake_amazon.url,
                            token_url=fake_amazon.token_url), sleep=clock.sleep, clock=clock,
                deadline=clock() + 30)
    assert api.allowed_wait() == pytest.approx(30)
    api.pacer.observe("searchOrders", {"x-amzn-RateLimit-Limit": "0.02"})  # a call every 50 s
    api.pacer.throttled("searchOrders")
    with pytest.raises(errors.RetryLater) as info:
        api.search_orders_page(created_after="2026-01-01T00:00:00Z")
    assert info.value.retry_after == pytest.approx(50) and clock.sleeps == []
    assert fake_amazon.api_requests() == []
    api.deadline = None  # no deadline: the configured max_wait (600 s) allows the wait
    api.search_orders_page(created_after="2026-01-01T00:00:00Z")
    assert clock.sleeps == pytest.approx([50], abs=0.25)  # plus the send margin (pacing.SEND_MARGIN)


def test_call_spacer_keeps_below_the_plan_and_never_past_the_deadline():
    clock = FakeClock()

    class Client:
        pacer = Pacer(clock=clock, sleep=clock.sleep, plans={"op": UsagePlan(5, 5)})
        deadline = None

        def allowed_wait(self):
            return 600.0 if self.deadline is None else max(0.0, self.deadline - clock())

    client = Client()
    spacer = CallSpacer(clock=clock, sleep=clock.sleep)
    for _ in range(SPACING_BURST + 10):
        spacer.wait(client, "op")
    # after its burst, one call every 1/rate seconds plus the 1 % margin
    assert clock.sleeps[-1] == pytest.approx(0.2 * 1.01)
    client.deadline = clock()
    with pytest.raises(errors.RetryLater):
        spacer.wait(client, "op")
