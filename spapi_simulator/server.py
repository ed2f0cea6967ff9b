"""The simulator: an HTTP server that answers like Amazon's SP-API and LWA token endpoint.

Plain standard library (``http.server``), one thread per connection. See ``Simulator``.
"""
import copy
import json
import logging
import random
import re
import threading
import uuid
import warnings
from dataclasses import dataclass
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

from . import factory, handlers, reports
from .addon import usage_plans
from .contract import OPERATIONS, find_models_dir, load_contract
from .handlers import ApiError, Call
from .returns import make_return
from .scenario import load_scenario, prepare
from .state import LazyOrder, LazyTransaction, ReportJob, State

_logger = logging.getLogger(__name__)

CLIENT_ID = "sim-client-id"
CLIENT_SECRET = "sim-client-secret"  # noqa: S105 - the simulator's published fake credentials
REFRESH_TOKEN = "Atzr|sim-refresh-token"  # noqa: S105
AUTH_CODE = "sim-auth-code"
#: Operation name recorded for (and faults aimed at) the LWA token endpoint.
TOKEN_OPERATION = "token"  # noqa: S105 - an operation name
FAULT_KINDS = ("5xx", "slow", "malformed_json", "expired_token", "revoked_token", "throttle")
#: Faults that ``set_fault_rates`` can draw at random for any SP-API call.
RANDOM_FAULT_KINDS = ("throttle", "5xx", "slow")
#: Usage plans of served operations missing from usage_plans.USAGE_PLANS (Amazon's published values).
EXTRA_PLANS = {"cancelReport": usage_plans.UsagePlan(0.0222, 10)}
QUOTA_EXCEEDED = {"errors": [{"code": "QuotaExceeded", "message": "You exceeded your quota for the requested resource.",
                              "details": ""}]}


@dataclass
class RecordedRequest:
    """One request the simulator answered. ``headers`` has lower-case names."""

    operation: str
    method: str
    path: str
    query: dict  # name -> list of values
    body: object  # parsed JSON, form dict (token endpoint), or None
    status: int
    headers: dict


@dataclass
class _Fault:
    kind: str
    remaining: int
    options: dict


class _Answer(Exception):
    """Short-circuits request handling with a ready answer."""

    def __init__(self, status, body=None, raw=None, content_type="application/json", headers=None):
        super().__init__(status)
        self.status, self.body, self.raw, self.content_type = status, body, raw, content_type
        self.headers = headers or {}


def _route_table():
    table = []
    for op_id, (method, template, _model) in OPERATIONS.items():
        pattern = "^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template)) + "$"
        table.append((method, re.compile(pattern), op_id))
    return table


ROUTES = _route_table()


class Simulator:
    """Amazon's SP-API for one seller, on a local port.

    ``scenario``: None (empty seller), a scenario dict, a JSON file path, or "demo" (see scenario.py).
    ``speed`` multiplies every usage-plan rate (and report processing speed).
    ``validate``: check requests and responses against Amazon's models when they can be found
    (``$SPAPI_MODELS`` or ``../shared/spapi-models``); without them the simulator serves unvalidated.
    Use as ``with Simulator() as sim: ...`` or ``sim.start()`` / ``sim.stop()``.
    """

    def __init__(self, scenario=None, speed=1.0, port=0, validate=True, *, host="127.0.0.1", models_dir=None):
        self.speed = float(speed)
        self.host, self.port = host, port
        self.url = None
        self.token_url = None
        self.state = State()
        self.requests = []
        self.contract_violations = []
        self.throttled = 0
        self.page_sizes = {"getInventorySummaries": 50, "listTransactions": 100}
        self.slow_delay = 3.0  # seconds a "slow" fault waits before answering
        self.access_token_ttl = 3600
        self.auth_code_ttl = 300
        self.report_queue_seconds = 2.0
        self.report_processing_seconds = 3.0
        self._faults = {}
        self._fault_rates = {}  # kind -> probability per SP-API call (set_fault_rates)
        self._fault_rng = random.Random(0)
        self.faults_injected = {}  # kind -> how many calls got it (random or queued)
        self.over_plan = {}  # operation -> calls that came when the usage plan's bucket was empty
        self._buckets = {}
        self._access_tokens = {}  # token -> expiry on the simulator's monotonic clock
        self._refresh_tokens = {REFRESH_TOKEN}
        self._auth_codes = {}  # code -> (expiry or None, redirect_uri or None)
        self._stopping = threading.Event()
        self._server = None
        self._thread = None
        self.contract = None
        if validate:
            models = find_models_dir(models_dir)
            if models is None:
                warnings.warn("Amazon's SP-API models were not found ($SPAPI_MODELS or ../shared/spapi-models): "
                              "the simulator serves without validating requests and responses.", stacklevel=2)
            else:
                self.contract = load_contract(str(models))
        self.validating = self.contract is not None
        self.issue_auth_code()
        self.load(scenario)

    # ------------------------------------------------------------ lifecycle

    def start(self):
        if self._server is not None:
            return self
        self._stopping.clear()
        self._server = ThreadingHTTPServer((self.host, self.port), _make_handler(self))
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.url = f"http://{self.host}:{self.port}"
        self.token_url = self.url + "/auth/o2/token"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                                        name="spapi-simulator", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._server is None:
            return
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
        self._server = self._thread = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # ------------------------------------------------------------ scenario and data

    def load(self, scenario):
        """Add a scenario's data (see scenario.py) to the simulator."""
        data = prepare(load_scenario(scenario), self.now())
        with self.state.lock:
            st = self.state
            st.seller_id = data.get("seller_id", st.seller_id)
            st.marketplace_id = data.get("marketplace_id", st.marketplace_id)
            st.store_name = data.get("store_name", st.store_name)
            st.participations = data.get("participations", st.participations)
            st.report_encoding = data.get("report_encoding", st.report_encoding)
            check = data.get("check_objects", True)
            for item, complete in data["listings"]:
                self.add_listing(item=item, check=check and complete)
            for order, complete in data["orders"]:
                self.add_order(order, check=check and complete)
            for summary, complete in data["inventory"]:
                self.add_inventory(summary=summary, check=check and complete)
            for txn, complete in data["transactions"]:
                self.add_transaction(txn=txn, check=check and complete)
            for ret, _complete in data["returns"]:
                self.add_return(ret)
            reports = data.get("reports") or {}
            for report_type, outcome in (reports.get("outcomes") or {}).items():
                self.set_report_outcome(report_type, outcome)
            for report_type, doc in (reports.get("documents") or {}).items():
                self.set_report_document(report_type, doc["text"], encoding=doc.get("encoding", "utf-8"),
                                         gzip=doc.get("gzip", False), content_type=doc.get("content_type"))
            if data.get("settlement") and st.transactions:
                self.publish_settlement_report()

    @property
    def seller_id(self):
        return self.state.seller_id

    @property
    def marketplace_id(self):
        return self.state.marketplace_id

    def now(self):
        """The simulator's current time (UTC, aware): real time plus everything ``advance`` added."""
        return self.state.clock.now()

    def advance(self, seconds):
        """Move the simulator's clock forward: tokens expire, reports progress, quotas refill."""
        with self.state.lock:
            self.state.clock.advance(seconds)

    def _check_model(self, definition, obj, what, check=True):
        if self.contract is None or not check:
            return
        op = {"Order": "getOrder", "Item": "getListingsItem", "InventorySummary": "getInventorySummaries",
              "Transaction": "listTransactions"}[definition]
        validator = self.contract.operations[op].model.definition_validator(definition)
        errors = [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in validator.iter_errors(obj)]
        if errors:
            raise ValueError(f"{what} breaks Amazon's {definition} model: " + "; ".join(errors[:5]))

    def add_order(self, order, check=True):
        """Add (or replace) an Orders 2026-01-01 Order (see factory.make_order) or a LazyOrder.

        The simulator keeps its own copy and returns it. With validation on, an order that breaks
        Amazon's model raises ValueError (``check=False`` skips the check).
        """
        if not isinstance(order, LazyOrder):
            order = copy.deepcopy(order)
            self._check_model("Order", order, f"order {order.get('orderId')}", check)
        with self.state.lock:
            self.state.put_order(order)
        return order

    def update_order(self, order_id, **changes):
        """Change an order as Amazon would and bump its lastUpdatedTime to ``now()``.

        ``status="SHIPPED"`` (or another FulfillmentStatus) updates the order and its items' quantities;
        other keyword arguments are Order fields deep-merged into the order (e.g. ``buyer={...}``).
        Returns the new order.
        """
        with self.state.lock:
            order = self.state.change_order(order_id, changes)
            self._check_model("Order", order, f"order {order_id}")
            self.state.put_order(order)
        return order

    def get_order(self, order_id):
        """The full stored order (every section), for assertions."""
        with self.state.lock:
            return self.state.orders[order_id].order()

    def add_listing(self, item=None, check=True, **fields):
        """Add a listing: a Listings Items ``Item`` or make_listing keyword arguments. Returns the stored Item."""
        item = copy.deepcopy(item) if item is not None else factory.make_listing(**fields)
        self._check_model("Item", item, f"listing {item.get('sku')}", check)
        with self.state.lock:
            self.state.listings[item["sku"]] = item
        return item

    def get_listing(self, sku):
        with self.state.lock:
            return self.state.listings[sku]

    def add_inventory(self, summary=None, check=True, marketplace_id=None, **fields):
        """Add an FBA InventorySummary or make_inventory_summary keyword arguments. Returns the stored summary.

        By default the units are in North America's unified pool: getInventorySummaries of the US, Canada and
        Mexico each shows them. With ``marketplace_id`` they are shown in that marketplace only (Brazil's own
        network, for example)."""
        summary = copy.deepcopy(summary) if summary is not None else factory.make_inventory_summary(**fields)
        self._check_model("InventorySummary", summary, f"inventory {summary.get('sellerSku')}", check)
        with self.state.lock:
            if marketplace_id:
                self.state.marketplace_inventory.setdefault(marketplace_id, {})[summary["sellerSku"]] = summary
            else:
                self.state.inventory[summary["sellerSku"]] = summary
        return summary

    def add_transaction(self, txn=None, check=True, **fields):
        """Add a Finances Transaction (or a LazyTransaction) or make_transaction keyword arguments.

        Returns the transaction.
        """
        if txn is None:
            fields.setdefault("seller_id", self.state.seller_id)
            txn = factory.make_transaction(**fields)
        elif not isinstance(txn, LazyTransaction):
            txn = copy.deepcopy(txn)
        if not isinstance(txn, LazyTransaction):
            self._check_model("Transaction", txn, f"transaction {txn.get('transactionId')}", check)
        with self.state.lock:
            self.state.put_transaction(txn)
        return txn

    def add_return(self, ret=None, **fields):
        """Add a customer return (``returns.make_return`` keyword arguments, or its dict); returns it. Served by
        the FBM or FBA returns report of its channel, by its return date."""
        ret = copy.deepcopy(ret) if ret is not None else make_return(**fields)
        with self.state.lock:
            self.state.returns[ret["returnId"]] = ret
        return ret

    def update_return(self, return_id, **changes):
        """Change a return as Amazon does later (``status``, ``disposition``, ``deliveredDate``...)."""
        with self.state.lock:
            self.state.returns[return_id].update(changes)
            return self.state.returns[return_id]

    def set_report_document(self, report_type, content, encoding="utf-8", gzip=False, content_type=None):
        """Serve ``content`` (str, encoded with ``encoding``, or bytes) as the document of ``report_type``.

        ``content_type`` defaults to ``text/plain;charset=<encoding>``; pass ``"text/plain"`` to leave the
        charset out, as Amazon often does. For settlement report types a DONE report appears in getReports.
        """
        raw = content if isinstance(content, bytes) else content.encode(encoding)
        with self.state.lock:
            self.state.report_documents[report_type] = (raw, content_type or f"text/plain;charset={encoding}")
            self.state.report_gzip[report_type] = bool(gzip)
            if report_type in handlers.SETTLEMENT_REPORTS:
                self._publish_report(report_type, raw, self.state.report_documents[report_type][1], gzip)

    def set_report_outcome(self, report_type, outcome):
        """How reports of this type end: DONE, CANCELLED, FATAL, or IN_PROGRESS_FOREVER."""
        if outcome not in ("DONE", "CANCELLED", "FATAL", "IN_PROGRESS_FOREVER"):
            raise ValueError(f"unknown report outcome {outcome!r}")
        with self.state.lock:
            self.state.report_outcomes[report_type] = outcome

    def publish_settlement_report(self, start=None, end=None):
        """Publish a DONE GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2 built from the transactions."""
        with self.state.lock:
            entries = self.state.sorted_transactions()
            end = factory.parse_time(end) if end else self.now() - timedelta(hours=1)
            start = factory.parse_time(start) if start else (
                factory.parse_time(entries[0].txn()["postedDate"]) if entries else end - timedelta(days=14))
            chosen = [e.txn() for e in entries if start.timestamp() <= e.posted < end.timestamp()]
            name, currency, _c, _t = factory.marketplace_info(self.state.marketplace_id)
            text = reports.settlement(chosen, str(self.state.next_report_id()), start, end, currency, name)
            return self._publish_report("GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2",
                                        text.encode(self.state.report_encoding, errors="replace"), "text/plain")

    def _publish_report(self, report_type, raw, content_type, gzip_it=False):
        st = self.state
        job = ReportJob(st.next_report_id(), report_type, [st.marketplace_id], self.now(), st.clock.monotonic(),
                        "DONE", status="DONE", started=self.now(), ended=self.now())
        job.document_id = handlers.store_document(self, raw, content_type, gzip_it)
        st.reports[job.report_id] = job
        return job.report_id

    # ------------------------------------------------------------ auth helpers for tests

    def issue_auth_code(self):
        """(Re)arm the single-use authorization code "sim-auth-code" and return it."""
        self._auth_codes[AUTH_CODE] = (None, None)
        return AUTH_CODE

    def consent_url(self, redirect_uri, state="sim-state", application_id="amzn1.sp.solution.sim"):
        """The Seller Central consent page of the simulator (it redirects back with a fresh code)."""
        query = urlencode({"application_id": application_id, "state": state, "redirect_uri": redirect_uri})
        return f"{self.url}/apps/authorize/consent?{query}"

    def revoke_refresh_token(self, refresh_token=REFRESH_TOKEN):
        """The seller removed the app: LWA answers invalid_grant for this refresh token from now on."""
        with self.state.lock:
            self._refresh_tokens.discard(refresh_token)

    def expire_access_tokens(self):
        """Every access token handed out so far is expired (the next API call gets 403)."""
        with self.state.lock:
            now = self.state.clock.monotonic()
            for token in self._access_tokens:
                self._access_tokens[token] = now - 1

    def _grant_access_token(self, token=None):
        token = token or "Atza|sim-" + uuid.uuid4().hex
        self._access_tokens[token] = self.state.clock.monotonic() + self.access_token_ttl
        return token

    # ------------------------------------------------------------ faults, records

    def inject_fault(self, operation, kind, times=1, **options):
        """Make the next ``times`` calls of ``operation`` ("*" = any) fail with ``kind``.

        Kinds: "5xx" (503), "throttle" (429 QuotaExceeded), "slow" (waits ``delay`` seconds, default
        ``slow_delay``, then answers),
        "malformed_json" (200 with a broken body), "expired_token" (403 and the token expires),
        "revoked_token" (the LWA endpoint answers invalid_grant; the operation is ignored), "throttle" (429
        QuotaExceeded, as when the seller's usage plan is shared with other apps).
        Faults on the token endpoint use operation "token".
        """
        if kind not in FAULT_KINDS:
            raise ValueError(f"fault kind must be one of {FAULT_KINDS}")
        if kind == "revoked_token":
            operation = TOKEN_OPERATION
        with self.state.lock:
            self._faults.setdefault(operation, []).append(_Fault(kind, int(times), options))

    def _take_fault(self, operation, kinds):
        with self.state.lock:
            for key in (operation, "*"):
                for fault in self._faults.get(key, []):
                    if fault.kind in kinds and fault.remaining > 0:
                        fault.remaining -= 1
                        return fault
        return None

    def clear_faults(self):
        with self.state.lock:
            self._faults.clear()
            self._fault_rates.clear()

    def set_fault_rates(self, seed=0, **rates):
        """Answer a random share of every SP-API call with a fault: ``throttle`` (429 QuotaExceeded, as Amazon
        answers when its side is busy even within the plan), ``5xx`` (503) or ``slow`` (waits ``slow_delay``).

        ``set_fault_rates(throttle=0.10, slow=0.01, **{"5xx": 0.02})``; ``seed`` makes the draw repeatable.
        Calls over the usage plan are answered 429 before any draw (and counted in ``over_plan``).
        """
        unknown = set(rates) - set(RANDOM_FAULT_KINDS)
        if unknown or sum(rates.values()) > 1:
            raise ValueError(f"fault rates are probabilities of {RANDOM_FAULT_KINDS} adding up to 1 at most")
        with self.state.lock:
            self._fault_rates = {k: float(v) for k, v in rates.items() if v}
            self._fault_rng = random.Random(seed)

    def _random_fault(self):
        with self.state.lock:
            if not self._fault_rates:
                return None
            draw = self._fault_rng.random()
            for kind, rate in self._fault_rates.items():
                if draw < rate:
                    return _Fault(kind, 0, {})
                draw -= rate
        return None

    def restore_refresh_token(self, refresh_token=REFRESH_TOKEN):
        """The seller authorized the app again: LWA accepts this refresh token again."""
        with self.state.lock:
            self._refresh_tokens.add(refresh_token)

    def count(self, operation=None, status=None):
        """How many recorded requests match ``operation`` and/or ``status``."""
        return sum(1 for r in list(self.requests)
                   if (operation is None or r.operation == operation) and (status is None or r.status == status))

    def reset_records(self):
        """Forget recorded requests, contract violations and the 429 counts (data and quotas stay)."""
        with self.state.lock:
            self.requests.clear()
            self.contract_violations.clear()
            self.throttled = 0
            self.over_plan.clear()
            self.faults_injected.clear()

    def reset_quotas(self):
        with self.state.lock:
            self._buckets.clear()

    def rate_limit(self, operation):
        plan = usage_plans.USAGE_PLANS.get(operation) or EXTRA_PLANS[operation]
        return plan.rate * self.speed, plan.burst

    def _take_quota(self, operation):
        rate, burst = self.rate_limit(operation)
        now = self.state.clock.monotonic()
        tokens, last = self._buckets.get(operation, (float(burst), now))
        tokens = min(float(burst), tokens + (now - last) * rate)
        if tokens >= 1:
            self._buckets[operation] = (tokens - 1, now)
            return True
        self._buckets[operation] = (tokens, now)
        return False

    def _violation(self, text):
        self.contract_violations.append(text)
        _logger.warning("SP-API contract violation: %s", text)

    # ------------------------------------------------------------ request handling

    def _handle(self, handler):
        parts = urlsplit(handler.path)
        path = parts.path
        query = parse_qs(parts.query, keep_blank_values=True)
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in handler.headers.items()}
        method = handler.command
        operation, body, extra = "unknown", None, {}
        try:
            if method == "POST" and path == "/auth/o2/token":
                operation = TOKEN_OPERATION
                body = _parse_form_or_json(raw, headers)
                answer = self._lwa(body)
            elif method == "GET" and path == "/apps/authorize/consent":
                operation = "consent"
                answer = self._consent(query)
            elif method == "GET" and path.startswith("/_sim/documents/"):
                operation = "downloadReportDocument"
                answer = self._download(path.rsplit("/", 1)[1])
            else:
                operation, path_params = self._route(method, path)
                extra = {"x-amzn-RateLimit-Limit": f"{self.rate_limit(operation)[0]:.10g}"} if path_params is not None \
                    else {}
                body = _parse_json(raw) if raw else None
                answer = self._api(operation, method, path, path_params, query, body, bool(raw), headers)
        except _Answer as ans:
            answer = ans
        except Exception as exc:  # a simulator bug must reach the client as a 500, loudly
            _logger.exception("SP-API simulator failed on %s %s", method, path)
            self._violation(f"simulator error on {method} {path}: {exc!r}")
            answer = _Answer(500, {"errors": [{"code": "InternalFailure", "message": f"Simulator error: {exc!r}"}]})
        with self.state.lock:
            self.requests.append(RecordedRequest(operation, method, path, query, body, answer.status, headers))
        self._send(handler, answer, extra)

    def _route(self, method, path):
        known_path = False
        for route_method, pattern, op_id in ROUTES:
            match = pattern.match(path)
            if match:
                known_path = True
                if route_method == method:
                    return op_id, match.groupdict()
        if known_path:
            raise _Answer(405, {"errors": [{"code": "MethodNotAllowed", "message": f"{method} is not allowed here."}]})
        raise _Answer(404, {"errors": [{"code": "NotFound", "message": f"No SP-API operation at {path}."}]})

    def _api(self, operation, method, path, path_params, query, body, body_present, headers):
        # 1. access token (Amazon checks it before anything else)
        token = headers.get("x-amz-access-token")
        with self.state.lock:
            expiry = self._access_tokens.get(token) if token else None
            now = self.state.clock.monotonic()
            if expiry is not None and self._take_fault(operation, ("expired_token",)):
                self._access_tokens[token] = expiry = now - 1
        if not token:
            raise _error(403, "Unauthorized", "Access to requested resource is denied.",
                         "The request has no x-amz-access-token header.")
        if expiry is None:
            raise _error(403, "Unauthorized", "Access to requested resource is denied.",
                         "The access token you provided is revoked, malformed or invalid.")
        if expiry <= now:
            raise _error(403, "Unauthorized", "Access to requested resource is denied.",
                         "The access token you provided has expired.")
        # 2. usage plan
        with self.state.lock:
            if not self._take_quota(operation) or self._take_fault(operation, ("throttle",)):
                self.throttled += 1
                self.over_plan[operation] = self.over_plan.get(operation, 0) + 1
                raise _Answer(429, QUOTA_EXCEEDED)
        # 3. injected faults
        fault = self._take_fault(operation, ("5xx", "slow", "malformed_json", "throttle")) or self._random_fault()
        if fault is not None:
            with self.state.lock:
                self.faults_injected[fault.kind] = self.faults_injected.get(fault.kind, 0) + 1
            self._apply_fault(fault)
        # 4. the request against the model
        if self.contract is not None:
            problems = self.contract.validate_request(operation, path_params, query, body, body_present)
            if problems:
                for problem in problems:
                    self._violation(f"request {operation} {method} {path}: {problem}")
                raise _error(400, "InvalidInput", "Invalid input.", "; ".join(problems)[:1000])
        call = Call(operation, method, path, path_params, query, body, headers)
        try:
            with self.state.lock:
                status, answer = handlers.HANDLERS[operation](self, call)
                answer = copy.deepcopy(answer)  # later changes of the data must not alter what was sent
        except ApiError as err:
            if err.violation:
                self._violation(f"request {operation} {method} {path}: {err.message}")
            status, answer = err.status, err.body()
        # 5. the response against the model
        if self.contract is not None and answer is not None:
            problems = self.contract.validate_response(operation, status, answer)
            if problems:
                for problem in problems:
                    self._violation(f"response {operation} {status}: {problem}")
                _logger.error("SP-API simulator answer broke Amazon's model (%s): %s", operation, problems)
                raise _error(500, "InternalFailure", "The simulator's answer broke Amazon's model.",
                             "; ".join(problems)[:1000])
        return _Answer(status, answer)

    def _apply_fault(self, fault):
        if fault.kind == "slow":
            self._stopping.wait(float(fault.options.get("delay", self.slow_delay)))
            return
        if fault.kind == "5xx":
            raise _error(503, "ServiceUnavailable", "Service temporarily unavailable. Please try again later.")
        if fault.kind == "throttle":
            raise _Answer(429, QUOTA_EXCEEDED)
        if fault.kind == "malformed_json":
            raise _Answer(200, raw=b'{"payload": {"orders": [{"orderId": "702-')

    # ------------------------------------------------------------ LWA and consent

    def _lwa(self, form):
        fault = self._take_fault(TOKEN_OPERATION, ("5xx", "slow", "malformed_json"))
        if fault is not None:
            if fault.kind == "5xx":
                raise _Answer(503, {"error": "server_error", "error_description": "Service unavailable"})
            if fault.kind == "malformed_json":
                raise _Answer(200, raw=b"<html><body>Bad gateway</body></html>", content_type="text/html")
            self._stopping.wait(float(fault.options.get("delay", self.slow_delay)))
        grant = form.get("grant_type")
        if not grant:
            raise _Answer(400, {"error": "invalid_request", "error_description": "grant_type is missing"})
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            raise _Answer(401, {"error": "invalid_client", "error_description": "Client authentication failed"})
        with self.state.lock:
            if grant == "refresh_token":
                refresh = form.get("refresh_token")
                if refresh not in self._refresh_tokens or self._take_fault(TOKEN_OPERATION, ("revoked_token",)):
                    raise _Answer(400, {"error": "invalid_grant",
                                        "error_description": "The request has an invalid grant parameter : "
                                                             "refresh_token"})
            elif grant == "authorization_code":
                code = form.get("code")
                expiry, redirect_uri = self._auth_codes.pop(code, (False, None))
                if expiry is False or (expiry is not None and expiry <= self.state.clock.monotonic()):
                    raise _Answer(400, {"error": "invalid_grant",
                                        "error_description": "The request has an invalid grant parameter : code"})
                if not form.get("redirect_uri"):
                    self._violation("request token authorization_code: redirect_uri is missing (Amazon's guide "
                                    "requires the redirect_uri registered for the app)")
                elif redirect_uri and form["redirect_uri"] != redirect_uri:
                    raise _Answer(400, {"error": "invalid_grant",
                                        "error_description": "redirect_uri does not match the authorization request"})
                refresh = REFRESH_TOKEN
            elif grant == "client_credentials":
                return _Answer(200, {"access_token": self._grant_access_token(), "token_type": "bearer",
                                     "expires_in": self.access_token_ttl})
            else:
                raise _Answer(400, {"error": "unsupported_grant_type",
                                    "error_description": f"grant_type {grant!r} is not supported"})
            access = self._grant_access_token()
        return _Answer(200, {"access_token": access, "refresh_token": refresh, "token_type": "bearer",
                             "expires_in": self.access_token_ttl})

    def _consent(self, query):
        redirect_uri = (query.get("redirect_uri") or [None])[0]
        state = (query.get("state") or [""])[0]
        if not redirect_uri or not (query.get("application_id") or [None])[0]:
            raise _Answer(400, raw=b"application_id and redirect_uri are required", content_type="text/plain")
        code = "sim-auth-code-" + uuid.uuid4().hex[:12]
        with self.state.lock:
            self._auth_codes[code] = (self.state.clock.monotonic() + self.auth_code_ttl, redirect_uri)
        sep = "&" if "?" in redirect_uri else "?"
        location = redirect_uri + sep + urlencode({"state": state, "selling_partner_id": self.state.seller_id,
                                                   "spapi_oauth_code": code})
        raise _Answer(302, raw=b"", content_type="text/plain", headers={"Location": location})

    def _download(self, doc_id):
        doc = self.state.documents.get(unquote(doc_id))
        if doc is None:
            raise _Answer(404, raw=b"<Error><Code>NoSuchKey</Code></Error>", content_type="application/xml")
        return _Answer(200, raw=doc.content, content_type=doc.content_type)

    # ------------------------------------------------------------ writing

    def _send(self, handler, answer, extra):
        if answer.raw is not None:
            payload = answer.raw
        elif answer.body is None:
            payload = b""
        else:
            payload = json.dumps(answer.body, ensure_ascii=False).encode("utf-8")
        try:
            handler.send_response(answer.status)
            handler.send_header("Content-Type", answer.content_type)
            handler.send_header("Content-Length", str(len(payload)))
            handler.send_header("x-amzn-RequestId", str(uuid.uuid4()))
            for name, value in {**extra, **answer.headers}.items():
                handler.send_header(name, value)
            handler.end_headers()
            if handler.command != "HEAD":
                handler.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeouts with "slow" faults)


def _error(status, code, message, details=None):
    return _Answer(status, ApiError(status, code, message, details).body())


def _parse_json(raw):
    try:
        return json.loads(raw)
    except ValueError:
        raise _error(400, "InvalidInput", "The request body is not JSON.") from None


def _parse_form_or_json(raw, headers):
    if "json" in headers.get("content-type", ""):
        try:
            data = json.loads(raw or b"{}")
            return data if isinstance(data, dict) else {}
        except ValueError:
            return {}
    return {k: v[-1] for k, v in parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True).items()}


def _make_handler(sim):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "SPAPISimulator/1.0"
        disable_nagle_algorithm = True  # headers and body are separate writes: no 40 ms delayed-ACK stalls

        def _dispatch(self):
            sim._handle(self)

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = do_HEAD = _dispatch

        def log_message(self, fmt, *args):
            _logger.debug("%s " + fmt, self.address_string(), *args)

    return Handler


