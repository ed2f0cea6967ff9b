"""Crash points: the places between two commits of a flow where a test can make the process "die".

Each flow calls :func:`crashpoint` with a name at every point where its work so far is done but not yet
committed (an orders page, a listings chunk, a stock push batch, a payout batch...). In production nothing is
set and the call costs one global lookup. A test sets a hook (:func:`crash_at`) that raises
:class:`SimulatedCrash` there: a ``BaseException``, so no ``except Exception`` of the flow absorbs it, like a
killed process. The test then rolls back what was not committed and runs the flow again, to check that it
resumes from what is committed, losing and duplicating nothing.

Names in use: ``<flow>.page`` after every page of the shared sync loop (``orders.page``, ``listings.page``,
``stock.page``, ``payouts.page``, ...), ``listings.chunk`` and ``payouts.batch`` inside a page, and
``shipments.sent`` once Amazon took a package and before its record says so. Another flow adds its own by
calling ``crashpoint("flow.step")``.
"""
import contextlib

_hook = None


class SimulatedCrash(BaseException):
    """The process died at a crash point (raised only by a hook a test set)."""


def crashpoint(name):
    """Called by the flows at each point between two commits; does nothing unless a test set a hook."""
    if _hook is not None:
        _hook(name)


def set_hook(hook):
    """Install ``hook(name)`` (None removes it); returns the previous one."""
    # one process-wide switch, set by tests only
    global _hook  # pylint: disable=global-statement
    previous, _hook = _hook, hook
    return previous


@contextlib.contextmanager
def crash_at(name, nth=1):
    """Within the block, raise :class:`SimulatedCrash` the ``nth`` time the flow reaches crash point ``name``.

    Yields the list of crash point names reached, in order (what the flow did before dying).
    """
    reached = []

    def hook(point):
        reached.append(point)
        if point == name and reached.count(name) == nth:
            raise SimulatedCrash(f"simulated crash at {name} #{nth}")

    previous = set_hook(hook)
    try:
        yield reached
    finally:
        set_hook(previous)
