"""Imports of several connections selling the same products touch the same quants at the same time.

Odoo already lets a transaction skip a quant another one holds (its change then goes to another quant or a new
one, merged later). A quant the other transaction has *committed* since this one began cannot be skipped that
way: PostgreSQL refuses to lock it (serialization failure), and the whole orders page had to be done again,
usually to meet the same fate against the next page of the other import. During an import, such a quant is
skipped like a held one. The sum of the quants stays right; only how it is split between quant rows differs.
"""
from psycopg2 import errors as pg_errors

from odoo import models

from ...utils import held_logs

#: Context key the order import sets (``amazon_order_import.py``).
SKIP_CHANGED_QUANTS = "amazon_skip_changed_quants"
#: Quants locked by the current transaction (transaction data: cleared by a commit, a rollback, or the rollback
#: of a savepoint of the ORM).
LOCKED_KEY = "bind_amazon_connector.locked_quants"


def _skipped(exc):
    """A refused lock is expected here (the quant is skipped): Odoo's ERROR line for it is dropped."""
    return isinstance(exc, pg_errors.SerializationFailure)


class StockQuant(models.Model):
    _inherit = "stock.quant"

    def try_lock_for_update(self, *, allow_referencing=False, limit=None):
        if not self.env.context.get(SKIP_CHANGED_QUANTS) or not self.ids:
            return super().try_lock_for_update(allow_referencing=allow_referencing, limit=limit)
        # quants this transaction already locked cannot fail: no savepoint for them (savepoints are not free)
        held = self.env.cr.precommit.data.setdefault(LOCKED_KEY, set())
        if held.issuperset(self.ids):
            return super().try_lock_for_update(allow_referencing=allow_referencing, limit=limit)
        self.flush_model()  # nothing of the quants is written inside the savepoint, so nothing is lost with it
        try:
            with held_logs.hold("odoo.sql_db", drop_if=_skipped), self.env.cr.savepoint(flush=False):
                locked = super().try_lock_for_update(allow_referencing=allow_referencing, limit=limit)
        except pg_errors.SerializationFailure:
            # one of them changed since this transaction began: lock the others one by one, skipping it
            locked = self.browse()
            for quant in self:
                if limit is not None and len(locked) >= limit:
                    break
                try:
                    with held_logs.hold("odoo.sql_db", drop_if=_skipped), self.env.cr.savepoint(flush=False):
                        locked |= super(StockQuant, quant).try_lock_for_update(allow_referencing=allow_referencing)
                except pg_errors.SerializationFailure:
                    continue
        held.update(locked.ids)
        return locked
