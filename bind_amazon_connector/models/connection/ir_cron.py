"""When the scheduler's current turn began, so that jobs of the connector stop well before Odoo's time limit.

Odoo's limit for scheduled jobs covers all the jobs one cron worker runs in a row on a database (one
``_process_jobs`` call, one cursor), not each job: the connector's jobs measure their time from the first job
of that turn.
"""
import threading
import time
import weakref

from odoo import models

_turn = threading.local()


def batch_started():
    """``time.monotonic()`` at the start of the current scheduler turn of this thread, or None outside one."""
    started = getattr(_turn, "started", None)
    ref = getattr(_turn, "cursor", None)
    if started is None or ref is None or ref() is None:
        return None
    # the threaded server also tells when the thread's turn began (wall clock): the earlier wins
    thread_start = getattr(threading.current_thread(), "start_time", None)
    if thread_start:
        started = min(started, time.monotonic() - max(0.0, time.time() - thread_start))
    return started


class IrCron(models.Model):
    _inherit = "ir.cron"

    @classmethod
    def _process_job(cls, cron_cr, job):
        ref = getattr(_turn, "cursor", None)
        if ref is None or ref() is not cron_cr:
            _turn.cursor = weakref.ref(cron_cr)
            _turn.started = time.monotonic()
        return super()._process_job(cron_cr, job)
