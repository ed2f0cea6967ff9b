"""Pending stock pushes: which merchant-fulfilled listings must get their quantity sent to Amazon.

How a stock change becomes a pending push
-----------------------------------------
The stock hooks (``stock_move.py``, ``stock_quant.py``) only *note* what changed, in memory, for the current
transaction (``cr.precommit.data``): (connection, product) pairs for an Amazon sale's moves, (location,
product) pairs for any quant change. Right before the transaction commits (or before a savepoint, which
flushes the cursor), :func:`flush_stock_changes` turns the notes into rows of ``amazon.stock.push``, one
per listing to update, with one INSERT. A rolled-back savepoint can leave a note for a change that did not
happen: harmless, the quantity is computed when the push is sent (and an unchanged quantity is not sent).
The rows of an Amazon sale also wake the connection's stock job (a trigger, inserted too), so that its
quantities go out within moments, whichever transaction made the sale (the order import, a person
validating a delivery); the flow never waits for, nor calls, the flow that made the sale.

Why rows are only ever inserted (never updated by the stock side)
-----------------------------------------------------------------
Stock changes come from many concurrent transactions (sales, receipts, the order import) while the
scheduled action sends pushes. Odoo runs in REPEATABLE READ: two transactions updating the same row, or
an ``INSERT ... ON CONFLICT`` meeting a row committed meanwhile, fail with a serialization error, which
would break a user's delivery validation because a push was being sent. So the stock side only inserts
rows, which never conflict, and the pushes are coalesced when they are read: all the rows of a listing
give one call, with the quantity computed at that moment (so the last change always wins). The sender
deletes exactly the rows it read: a row inserted by a transaction committed after it started is not
visible to it, stays, and is sent at the next run. Backoff and errors live on the listing, written by the
sender only.
"""
import logging

from odoo import api, fields, models
from odoo.tools import SQL

_logger = logging.getLogger(__name__)

#: Key of the per-transaction notes in ``cr.precommit.data``.
CHANGES_KEY = "bind_amazon_connector.stock_changes"


def note_stock_changes(env, *, sales=(), locations=()):
    """Remember, for this transaction, stock changes that may change what Amazon should show.

    ``sales``: (connection id, product id) pairs of an Amazon sale's moves (the "Update stock on Amazon"
    toggle); ``locations``: (location id, product id) pairs of any quant change (the "any stock change"
    toggle). Turned into pending pushes right before the commit (:func:`flush_stock_changes`).
    """
    if not sales and not locations:
        return
    cr = env.cr
    data = cr.precommit.data.get(CHANGES_KEY)
    if data is None:
        data = cr.precommit.data[CHANGES_KEY] = {"sales": set(), "locations": set()}
        registry_env = env(su=True)

        @cr.precommit.add
        def _flush():
            flush_stock_changes(registry_env)

    data["sales"].update(sales)
    data["locations"].update(locations)


def flush_stock_changes(env):
    """Turn this transaction's notes into ``amazon.stock.push`` rows. Returns the number of rows added."""
    data = env.cr.precommit.data.pop(CHANGES_KEY, None)
    if not data or not (data["sales"] or data["locations"]):
        return 0
    return env["amazon.stock.push"].sudo()._enqueue_changes(data["sales"], data["locations"])


class AmazonStockPush(models.Model):
    """A merchant-fulfilled listing whose quantity must be sent to Amazon (one row per noted change)."""

    _name = "amazon.stock.push"
    _description = "Pending Amazon Stock Push"
    _order = "id"
    _inherit = ["amazon.company.guard"]

    account_id = fields.Many2one("amazon.account", string="Connection", required=True, ondelete="cascade",
                                 readonly=True)
    listing_id = fields.Many2one("amazon.listing", string="Listing", required=True, ondelete="cascade",
                                 readonly=True)
    forced = fields.Boolean(
        readonly=True,
        help="Asked for by a person (Push stock now): sent at once, even while a failed push waits for its "
        "next attempt.",
    )

    _account_listing_idx = models.Index("(account_id, listing_id)")
    _listing_idx = models.Index("(listing_id)")

    # ------------------------------------------------------------------ adding rows

    @api.model
    def _enqueue_changes(self, sales, locations):
        """Rows for the listings concerned by noted changes, according to each connection's toggles. The
        stock job of a connection that got rows for an Amazon sale is woken: the sale's quantities go out
        right away (the others wait for the flow's scheduled action)."""
        Sync = self.env["amazon.stock.sync"]
        pairs = set()
        woken = set()
        if sales:
            accounts = self.env["amazon.account"].sudo().browse({a for a, _p in sales}).exists()
            wanted = set(accounts.filtered(lambda a: Sync._auto_push(a, "sale")).ids)
            pairs.update((a, p) for a, p in sales if a in wanted)
            woken = wanted
        if locations:
            accounts = self.env["amazon.account"].sudo().search([
                ("update_stock_on_amazon", "=", True), ("push_stock_on_any_change", "=", True),
                ("warehouse_id", "!=", False),
            ]).filtered(lambda a: Sync._auto_push(a, "any"))
            if accounts:
                location_ids = {loc for loc, _p in locations}
                paths = dict(self.env["stock.location"].sudo().browse(location_ids).exists()
                             .mapped(lambda loc: (loc.id, loc.parent_path or "")))
                for account in accounts:
                    stock_path = account.warehouse_id.lot_stock_id.parent_path
                    if not stock_path:
                        continue
                    inside = {loc for loc, path in paths.items() if path.startswith(stock_path)}
                    pairs.update((account.id, p) for loc, p in locations if loc in inside)
        if not pairs:
            return 0
        account_ids, product_ids = zip(*sorted(pairs), strict=True)
        queued = self._insert_for(SQL(
            """l.active AND l.fulfillment_channel = 'merchant' AND l.product_id IS NOT NULL
               AND (l.account_id, l.product_id) IN (
                   SELECT * FROM unnest(%s::int[], %s::int[]))""",
            list(account_ids), list(product_ids),
        ))
        woken &= set(queued)
        if woken:
            Sync._wake(self.env["amazon.account"].sudo().browse(sorted(woken)))
        return len(queued)

    @api.model
    def _enqueue_listings(self, listings, forced=False):
        """Rows for the given listings (the eligible ones are sorted out when sending)."""
        if not listings:
            return 0
        return len(self._insert_for(SQL("l.active AND l.id = ANY(%s)", listings.ids), forced=forced))

    @api.model
    def _insert_for(self, where, forced=False):
        """One row per listing matching ``where`` (a condition on ``amazon_listing l``), in one INSERT.
        Returns the connections of the rows added (a list, one item per row)."""
        self.env.cr.execute(SQL(
            """INSERT INTO amazon_stock_push (account_id, listing_id, forced, create_uid, create_date, write_uid,
                                              write_date)
               SELECT l.account_id, l.id, %(forced)s, %(uid)s, %(now)s, %(uid)s, %(now)s
                 FROM amazon_listing l
                WHERE %(where)s
                ORDER BY l.id
            RETURNING account_id""",
            forced=bool(forced), uid=self.env.uid, now=fields.Datetime.now(), where=where,
        ))
        account_ids = [r[0] for r in self.env.cr.fetchall()]
        if account_ids:
            self._invalidate_pending()
        return account_ids

    # ------------------------------------------------------------------ reading rows

    @api.model
    def _due(self, account, now, listing_ids=None):
        """Listings of ``account`` with pending rows whose push is due now: ``[(listing id, [row ids], forced)]``,
        the oldest first. A listing whose last push failed waits for its next attempt unless a person forced it."""
        where = SQL("p.account_id = %s", account.id)
        if listing_ids is not None:
            where = SQL("%s AND p.listing_id = ANY(%s)", where, list(listing_ids))
        self.flush_model()
        self.env["amazon.listing"].flush_model(["stock_push_next_date"])
        self.env.cr.execute(SQL(
            """SELECT p.listing_id, array_agg(p.id ORDER BY p.id), bool_or(p.forced)
                 FROM amazon_stock_push p
                 JOIN amazon_listing l ON l.id = p.listing_id
                WHERE %(where)s
                GROUP BY p.listing_id, l.stock_push_next_date
               HAVING bool_or(p.forced) OR l.stock_push_next_date IS NULL OR l.stock_push_next_date <= %(now)s
                ORDER BY min(p.id)""",
            where=where, now=now,
        ))
        return self.env.cr.fetchall()

    @api.model
    def _done(self, row_ids):
        """Forget the rows that were read and handled (rows added since stay for the next run)."""
        if row_ids:
            self.env.cr.execute(SQL("DELETE FROM amazon_stock_push WHERE id = ANY(%s)", list(row_ids)))
            self._invalidate_pending()

    @api.model
    def _postpone(self, row_ids):
        """The push of these rows failed: they wait for the listing's next attempt, even if a person forced
        them (a forced row retried at every run would ignore the backoff)."""
        if row_ids:
            self.env.cr.execute(SQL(
                "UPDATE amazon_stock_push SET forced = false WHERE id = ANY(%s) AND forced", list(row_ids)))
            self._invalidate_pending()

    def _invalidate_pending(self):
        """Rows were written in SQL: forget what the ORM cached about them."""
        self.invalidate_model()
        self.env["amazon.listing"].invalidate_model(["stock_push_pending"])
        self.env["amazon.account"].invalidate_model(["stock_push_pending_count", "stock_push_failed_count"])
