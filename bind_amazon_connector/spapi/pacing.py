"""Client-side pacing: one token bucket per (connection, operation), like Amazon's usage plans.

A bucket starts full (``burst`` requests), refills at ``rate`` requests per second and never holds more than
``burst``. Each call takes one token, waiting for it when the bucket is empty. Waits are reserved in order
(the token count may go negative), so concurrent callers queue instead of racing. A 429 empties the bucket;
the ``x-amzn-RateLimit-Limit`` header of an answer replaces the rate with the one Amazon applies to this seller.

Buckets live in memory, per process: other processes (other Odoo workers) have their own, and Amazon's 429
answers, retried with backoff, cover the difference.

:class:`CallSpacer` keeps a long run of one operation a little below the plan's rate (see its docstring).
"""
import threading
import time

from .errors import RetryLater
from .usage_plans import USAGE_PLANS, UsagePlan

DEFAULT_PLAN = UsagePlan(0.5, 1)  # for an operation missing from USAGE_PLANS: cautious
#: A long run of calls goes this much slower than the usage plan's rate, with this burst (see CallSpacer).
SPACING_MARGIN = 0.01
SPACING_BURST = 3
#: Added to each pacing wait: a tenth of the plan's spacing, at most this many seconds. Amazon's bucket counts
#: when a call arrives, ours when it is sent; the first call of a run arrives later than the next ones
#: (connection set-up), so a call sent the very moment our bucket allows it can find Amazon's a hair short
#: and be throttled. The margin does not add up over a backlog: the next wait is shorter by as much.
SEND_MARGIN = 0.25
#: ... and at least this many seconds (of Amazon's time: divided by the pacer's speed): on a loaded machine a
#: scheduling hiccup of a few milliseconds would otherwise eat the margin of a fast usage plan (a tenth of
#: 0.2 s is 20 ms) and the call would reach Amazon early.
MIN_SEND_MARGIN = 0.05
RATE_LIMIT_HEADER = "x-amzn-RateLimit-Limit"


class TokenBucket:
    def __init__(self, rate, burst, clock):
        self.rate = float(rate)
        self.burst = max(1, int(burst))
        self.tokens = float(self.burst)
        self._clock = clock
        self._updated = clock()

    def _refill(self):
        now = self._clock()
        elapsed = max(0.0, now - self._updated)
        self.tokens = min(float(self.burst), self.tokens + elapsed * self.rate)
        self._updated = now

    def reserve(self, max_wait=None):
        """Take one token; return the seconds to wait before using it (0 when available now).

        When the wait would exceed ``max_wait`` nothing is taken and ``RetryLater`` tells when to come back.
        """
        self._refill()
        wait = 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate
        if max_wait is not None and wait > max_wait:
            raise RetryLater(
                f"Amazon's usage plan allows {self.rate:g} calls per second here: try again in {wait:.0f} seconds.",
                retry_after=wait,
            )
        self.tokens -= 1
        return wait

    def set_rate(self, rate):
        if rate > 0 and abs(rate - self.rate) > 1e-12:
            self._refill()
            self.rate = float(rate)

    def empty(self):
        self._refill()
        self.tokens = min(self.tokens, 0.0)


class Pacer:
    """Token buckets of one connection, one per operation."""

    def __init__(self, *, speed=1.0, clock=time.monotonic, sleep=time.sleep, plans=None, margin=SEND_MARGIN):
        self.speed = float(speed)
        self.margin = float(margin)  # seconds, at most; 0 sends at the exact moment the bucket allows
        self._clock = clock
        self._sleep = sleep
        self._plans = USAGE_PLANS if plans is None else plans
        self._buckets = {}
        self._lock = threading.Lock()

    def plan(self, operation):
        return self._plans.get(operation, DEFAULT_PLAN)

    def _bucket(self, operation):
        """The bucket of ``operation``; the caller holds the lock."""
        bucket = self._buckets.get(operation)
        if bucket is None:
            plan = self.plan(operation)
            bucket = self._buckets[operation] = TokenBucket(plan.rate * self.speed, plan.burst, self._clock)
        return bucket

    def bucket(self, operation):
        with self._lock:
            return self._bucket(operation)

    def acquire(self, operation, max_wait=None):
        """Wait (with the injected sleep) until a call of ``operation`` fits the usage plan; return the wait."""
        with self._lock:
            bucket = self._bucket(operation)
            try:
                wait = bucket.reserve(max_wait)
            except RetryLater as exc:
                exc.operation = operation
                raise
        if wait > 0:
            wait += self.send_margin(bucket.rate)
            self._sleep(wait)
        return wait

    def send_margin(self, rate):
        """Seconds added to a wait at ``rate`` calls per second (see SEND_MARGIN and MIN_SEND_MARGIN)."""
        if not self.margin:
            return 0.0
        return max(min(self.margin, 0.1 / rate), MIN_SEND_MARGIN / self.speed)

    def observe(self, operation, headers):
        """Adopt the rate Amazon says it applies to this seller (``x-amzn-RateLimit-Limit``), as is."""
        value = (headers or {}).get(RATE_LIMIT_HEADER)
        try:
            rate = float(value) if value else 0.0
        except (TypeError, ValueError):
            return
        if rate > 0:
            with self._lock:
                self._bucket(operation).set_rate(rate)

    def throttled(self, operation):
        """Amazon answered 429: its bucket is empty, so is ours."""
        with self._lock:
            self._bucket(operation).empty()


class CallSpacer:
    """Keeps a long run of calls of one operation 1% below the usage plan's rate, with a smaller burst.

    The pacer paces at exactly the plan's rate: in a long run Amazon's own bucket is then empty at every
    call, and the slightest network jitter (a call arriving a few milliseconds early) is answered 429 and
    retried after a backoff of about a second. Calls that fit a slightly slower bucket with a smaller burst
    keep tokens in Amazon's bucket, which absorb the jitter: a long run takes about 1% more than the plan's
    minimum instead of losing seconds to throttling, and still catches up (by its burst) after a pause such
    as a batch's commit. Any caller sending many calls of one operation in a row uses one spacer per run.
    """

    def __init__(self, margin=SPACING_MARGIN, burst=SPACING_BURST, clock=time.monotonic, sleep=time.sleep):
        self.margin = margin
        self.burst = burst
        self._clock = clock
        self._sleep = sleep
        self._tokens = float(burst)
        self._updated = None

    def wait(self, api_client, operation):
        """Wait until the next call fits (waits are reserved, so a late wake-up is credited to the next call).

        Never waits longer than the client allows (``api_client.allowed_wait()``): raises ``RetryLater`` then.
        """
        rate = api_client.pacer.bucket(operation).rate / (1 + self.margin)
        now = self._clock()
        if self._updated is not None and rate > 0:
            self._tokens = min(float(self.burst), self._tokens + (now - self._updated) * rate)
        self._updated = now
        wait = 0.0 if self._tokens >= 1 or rate <= 0 else (1 - self._tokens) / rate
        allowed = api_client.allowed_wait() if hasattr(api_client, "allowed_wait") else None
        if allowed is not None and wait > allowed:
            raise RetryLater(f"{operation} can be called again in {wait:.1f} seconds.", operation=operation,
                             retry_after=wait)
        self._tokens -= 1
        if wait > 0:
            self._sleep(wait)


_registry = {}
_registry_lock = threading.Lock()


def shared_pacer(connection_key, *, speed=1.0, clock=time.monotonic, sleep=time.sleep):
    """The process-wide pacer of a connection, so every SpApi object of one seller shares its buckets."""
    key = (connection_key, float(speed), clock, sleep)
    with _registry_lock:
        pacer = _registry.get(key)
        if pacer is None:
            pacer = _registry[key] = Pacer(speed=speed, clock=clock, sleep=sleep)
        return pacer


def reset_pacers():
    """Forget every shared pacer (tests)."""
    with _registry_lock:
        _registry.clear()
