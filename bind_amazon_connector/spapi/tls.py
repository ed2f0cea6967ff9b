"""One TLS context per process for every HTTPS client that talks to Amazon.

python-amazon-sp-api builds three HTTP clients per API client (the calls, and twice in the token client), and a
connection's job builds its API clients at each run. With httpx's default each of them loaded the trusted
certificates again: about 70 ms each, some 2 % of a busy server's time. A context is safe to share between
threads once made; it keeps httpx's own defaults (certifi, ``SSL_CERT_FILE``/``SSL_CERT_DIR``).
"""
import threading

import httpx

_lock = threading.Lock()
_context = None


def tls_context():
    """The process's TLS context, made on first use."""
    global _context  # one per process, on purpose
    if _context is None:
        with _lock:
            if _context is None:
                _context = httpx.create_ssl_context()
    return _context
