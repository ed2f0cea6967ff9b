"""Test doubles for the SP-API layer: a scripted local HTTP server and a fake clock.

``FakeAmazon`` answers LWA token requests itself (``/auth/o2/token``) and every other request with the next
scripted answer for its path (or a default), recording what it received. It exists for exact transport
checks (headers, empty 429 bodies, garbage bodies); behaviour tests use the simulator.
"""
import json
import threading
import time
from collections import defaultdict, deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

CLIENT_ID = "fake-client-id"
CLIENT_SECRET = "fake-client-secret-0123456789"
REFRESH_TOKEN = "Atzr|fake-refresh-token-0123456789"


class Recorded:
    def __init__(self, method, path, query, headers, body):
        self.method, self.path, self.query, self.headers, self.body = method, path, query, headers, body

    def json(self):
        return json.loads(self.body)


class FakeAmazon:
    def __init__(self):
        self.requests = []
        self.token_requests = []
        self.scripts = defaultdict(deque)
        self.default = (200, {}, {"ok": True})
        self.token_answer = None
        self.access_tokens_issued = 0
        self.valid_tokens = set()
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    @property
    def token_url(self):
        return self.url + "/auth/o2/token"

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def script(self, path, *answers):
        """Queue answers for a path: (status, headers, body) with body a dict (JSON), bytes, or a callable."""
        self.scripts[path].extend(answers)

    def api_requests(self, path=None):
        return [r for r in self.requests if path is None or r.path == path]

    def _answer(self, rec):
        with self.lock:
            queue = self.scripts.get(rec.path)
            answer = queue.popleft() if queue else self.default
        if callable(answer):
            answer = answer(rec)
        return answer

    def _token(self, rec):
        with self.lock:
            self.token_requests.append(rec)
            if self.token_answer is not None:
                return self.token_answer
            self.access_tokens_issued += 1
            token = f"Atza|fake-access-{self.access_tokens_issued}"
            self.valid_tokens.add(token)
        return 200, {}, {"access_token": token, "token_type": "bearer", "expires_in": 3600}

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # else each answer waits ~40 ms for a delayed ACK

            def log_message(self, *args):
                pass

            def _serve(self):
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                rec = Recorded(self.command, parts.path, parse_qs(parts.query), dict(self.headers.items()), body)
                if parts.path == "/auth/o2/token":
                    status, headers, payload = fake._token(rec)
                else:
                    with fake.lock:
                        fake.requests.append(rec)
                    status, headers, payload = fake._answer(rec)
                if isinstance(payload, (dict, list)):
                    data = json.dumps(payload).encode()
                    headers = {"content-type": "application/json", **headers}
                elif payload is None:
                    data = b""
                else:
                    data = payload
                headers = dict(headers or {})
                delay = headers.pop("x-test-delay", None)
                if delay:
                    time.sleep(float(delay))
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                try:
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve

        return Handler


class FakeClock:
    """A monotonic clock that only moves when ``sleep`` is called."""

    def __init__(self, start=1000.0):
        self.now = start
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


class SharedVirtualClock:
    """Simulated time shared by several threads (and the simulator): it stands still while any thread works
    and jumps to the earliest wake-up once every thread is asleep, like a discrete-event simulation.

    Calls over HTTP take no simulated time, so what a test sees (how many calls fit, how many 429s, how long
    the plan makes the work last) depends on the pacing logic only, never on how loaded the machine is.
    Each thread calls ``join()`` before working and ``leave()`` when done (also on failure).
    """

    def __init__(self, start=1000.0):
        self.now = start
        self._cond = threading.Condition()
        self._working = 0
        self._wakeups = []  # (time, ticket) of the sleeping threads
        self._tickets = 0

    def __call__(self):
        with self._cond:
            return self.now

    def monotonic(self):
        return self()

    def join(self):
        with self._cond:
            self._working += 1

    def leave(self):
        with self._cond:
            self._working -= 1
            self._cond.notify_all()

    def sleep(self, seconds):
        with self._cond:
            self._tickets += 1
            wakeup = (self.now + max(0.0, seconds), self._tickets)
            self._wakeups.append(wakeup)
            self._working -= 1
            self._cond.notify_all()
            while not (self._working == 0 and min(self._wakeups) == wakeup):
                if not self._cond.wait(30):
                    raise RuntimeError("simulated time is stuck: a thread neither sleeps nor leaves")
            self._wakeups.remove(wakeup)
            self.now = max(self.now, wakeup[0])
            self._working += 1
            self._cond.notify_all()
