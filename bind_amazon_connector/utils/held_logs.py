"""Hold a logger's records of the current thread while their fate is unknown, then drop or release them.

Odoo's ``odoo.sql_db`` logs every failed statement as ERROR ("bad query"). A statement that lost a concurrency
conflict on a page that is then tried again in a fresh transaction is expected, not an error: the page loop
holds those records while a try may still be retried, drops them when it retries (it logs one line of its
own, with the connection, the flow and the try), and logs them unchanged otherwise, so a failure that is
not retried still logs as ERROR.

Unlike ``odoo.tools.mute_logger`` (which swaps the logger's handlers for the whole process), the hold is a
filter that only looks at the current thread: other workers' errors are never hidden, and nested or
concurrent holds cannot leave the logger muted.
"""
import contextlib
import logging
import threading


class _ThreadHold(logging.Filter):
    def __init__(self):
        super().__init__()
        self._local = threading.local()

    def filter(self, record):
        held = getattr(self._local, "held", None)
        if held is None:
            return True
        held.append(record)
        return False


class Held:
    """The records held by one :func:`hold` block: :meth:`drop` forgets those held so far; the others are
    logged when the block ends."""

    def __init__(self, logger):
        self.logger = logger
        self.records = []

    def drop(self):
        dropped = len(self.records)
        del self.records[:]
        return dropped

    def _release(self):
        records = list(self.records)
        del self.records[:]
        for record in records:
            self.logger.handle(record)


_filters = {}
_filters_lock = threading.Lock()


def _filter_of(logger):
    with _filters_lock:
        flt = _filters.get(logger.name)
        if flt is None:
            flt = _filters[logger.name] = _ThreadHold()
            logger.addFilter(flt)
        return flt


@contextlib.contextmanager
def hold(logger_name, drop_if=None):
    """Hold ``logger_name``'s records of this thread inside the block. When the block raises an exception for
    which ``drop_if(exc)`` is true, they are forgotten; otherwise they are logged when the block ends, as they
    were (into the outer hold, when blocks are nested). ``drop()`` on the yielded :class:`Held` forgets those
    held so far."""
    logger = logging.getLogger(logger_name)
    flt = _filter_of(logger)
    held = Held(logger)
    outer = getattr(flt._local, "held", None)
    flt._local.held = held.records
    try:
        yield held
    except Exception as exc:
        if drop_if is not None and drop_if(exc):
            held.drop()
        raise
    finally:
        flt._local.held = outer
        held._release()
