"""The money of a return and the refunds whose goods do not come back.

Plain functions taking ``amazon.return`` records or the connection (``amazon.account``).

- **Links.** A return and Amazon's refunds meet by the keys both sides store: the connection, Amazon's order id
  and the SKU. The refund transactions (``amazon.settlement.transaction``, written by the payouts flow) of the
  order that name the SKU, or name none; their credit notes and the order's other posted credit notes of the
  returned product; the fees Amazon gave back on those transactions and the entries they were booked in.
  Nothing is stored on either side: the payouts flow and the returns flow never call each other.
- **A refund without the goods back.** The returns job (``amazon_return_sync.py``) reads the connection's refunds
  of the last ``REFUND_LOOKBACK`` days (:func:`note_refunds`): a return of the order and SKU gets the date of the
  first refund; an order and SKU without any return gets one made from the refund, *Refunded, not returned*
  (key ``refund:<order>:<SKU>``), which the report's row takes over when Amazon reports the return. A return
  refunded more than the connection's ``return_wait_days`` ago whose goods are not back gets one To-Do for the
  connection's user (:func:`remind`, once: ``reminder_date``); the goods coming back mark it done.
"""
from collections import defaultdict
from datetime import timedelta

#: How far back the returns job looks for refunds: as far as it reads the returns reports
#: (``amazon_return_sync.LOOKBACK``), so that a refund is not taken for one without return only because its return
#: is older than what the reports showed.
REFUND_LOOKBACK = timedelta(days=45)
#: The key of a return made from a refund (no row of Amazon's returns reports yet).
REFUND_KEY = "refund:"
#: States whose goods are back (received, or at the seller's waiting for the warehouse to check them).
GOODS_BACK = ("ready", "received", "unsellable")
TODO = "mail.mail_activity_data_todo"


def _names_sku(txn, sku):
    skus = {line.sku for line in txn.line_ids if line.category == "refund" and line.sku}
    return not skus or sku in skus


def refund_transactions(ret):
    """Amazon's refund transactions of the return's order that name its SKU, or name none."""
    txns = ret.env["amazon.settlement.transaction"].search([
        ("account_id", "=", ret.account_id.id), ("amazon_order_id", "=", ret.order_ref), ("kind", "=", "refund"),
        ("state", "!=", "superseded")])
    return txns.filtered(lambda t: _names_sku(t, ret.sku))


def credit_notes(ret, txns):
    """The posted credit notes of the return: those of its refund transactions, and those of its order's
    invoices (made by hand, or reversing an invoice) that credit its product."""
    Move = ret.env["account.move"]
    notes = txns.invoice_ids.filtered(lambda m: m.move_type == "out_refund" and m.state == "posted")
    sale = ret.sale_order_id
    if sale:
        invoices = sale.invoice_ids.filtered(lambda m: m.move_type == "out_invoice")
        notes |= sale.invoice_ids.filtered(lambda m: m.move_type == "out_refund" and m.state == "posted")
        if invoices:
            notes |= Move.search([("move_type", "=", "out_refund"), ("state", "=", "posted"),
                                  ("reversed_entry_id", "in", invoices.ids)])
    if ret.product_id:
        notes = notes.filtered(lambda m: ret.product_id in m.invoice_line_ids.product_id)
    return notes


def fee_refund_lines(ret, txns):
    """The fees Amazon gave back (or kept) on the refund transactions, of the return's SKU or of none."""
    return txns.line_ids.filtered(lambda ln: ln.category == "fee" and (not ln.sku or ln.sku == ret.sku))


# ---------------------------------------------------------------------- the returns job

def refunded_items(account, since):
    """{(Amazon order id, SKU): (first refund's posted date, units, the transactions)} of the connection's
    refunds posted since ``since``; a refund that names no SKU counts for every SKU of the order (SKU None)."""
    env = account.env
    txns = env["amazon.settlement.transaction"].search([
        ("account_id", "=", account.id), ("kind", "=", "refund"), ("state", "!=", "superseded"),
        ("amazon_order_id", "!=", False), ("posted_date", ">=", since)], order="posted_date, id")
    items = defaultdict(lambda: [None, 0, env["amazon.settlement.transaction"]])
    for txn in txns:
        products = txn.line_ids.filtered(lambda ln: ln.category == "refund" and ln.charge in ("product", False))
        for sku in {ln.sku or None for ln in products} or {None}:
            item = items[(txn.amazon_order_id, sku)]
            item[0] = item[0] or txn.posted_date
            item[1] = max(item[1], max((ln.quantity for ln in products if (ln.sku or None) == sku), default=0))
            item[2] |= txn
    return {key: tuple(value) for key, value in items.items()}


def note_refunds(account, now):
    """Date the connection's returns with their first refund; make a return of each refunded order and SKU
    that has none, linked to its order once the order is in Odoo. Returns the returns made."""
    env = account.env
    Return = env["amazon.return"]
    items = refunded_items(account, now - REFUND_LOOKBACK)
    existing = Return.search([("account_id", "=", account.id), ("order_ref", "in", [o for o, _s in items])])
    by_key = defaultdict(lambda: Return)
    for ret in existing:
        by_key[ret.order_ref, ret.sku] |= ret
        by_key[ret.order_ref, None] |= ret
    vals_list = []
    for (order_ref, sku), (posted, quantity, txns) in items.items():
        returns = by_key[order_ref, sku]
        returns.filtered(lambda r, p=posted: not r.refund_date or r.refund_date > p).write({"refund_date": posted})
        if returns or not sku:
            continue
        order = env["amazon.order"].search([("account_id", "=", account.id), ("name", "=", order_ref)], limit=1)
        amount = -sum(txns.line_ids.filtered(lambda ln, s=sku: ln.category == "refund" and ln.sku == s)
                      .mapped("amount"))
        vals_list.append({
            "account_id": account.id, "key": f"{REFUND_KEY}{order_ref}:{sku}", "name": txns[0].name,
            "channel": "fba" if order.fulfillment_channel == "amazon" else "fbm", "order_ref": order_ref,
            "sku": sku, "quantity": max(quantity, 1), "return_date": posted, "refund_date": posted,
            "state": "no_return", "refunded_amount": amount, "currency_id": txns[0].currency_id.id,
        })
    made = Return.with_context(mail_create_nolog=True, mail_create_nosubscribe=True).create(vals_list)
    # those made before their order was in Odoo are linked to it once it is
    unlinked = Return.search([("account_id", "=", account.id), ("key", "=like", f"{REFUND_KEY}%"),
                              ("sale_order_id", "=", False), ("id", "not in", made.ids)])
    (made | unlinked)._process()
    return made


def waiting_for_goods(account, now):
    """The connection's returns refunded more than its ``return_wait_days`` ago whose goods are not back and
    whose user was not reminded yet."""
    return account.env["amazon.return"].search([
        ("account_id", "=", account.id), ("refund_date", "!=", False),
        ("refund_date", "<=", now - timedelta(days=account.return_wait_days)), ("reminder_date", "=", False),
        ("state", "not in", GOODS_BACK),
        "|", ("key", "=like", f"{REFUND_KEY}%"), "&", ("channel", "=", "fbm"), ("delivered_date", "=", False)])


def remind(account, now):
    """One To-Do for the connection's user on each return :func:`waiting_for_goods`. Returns them."""
    due = waiting_for_goods(account, now)
    user = account.user_id or account.create_uid
    env = account.env
    for ret in due:
        ret.activity_schedule(
            TODO, user_id=user.id,
            summary=env._("Amazon refunded %(order)s: the goods are not back", order=ret.order_ref),
            note=env._("Amazon refunded %(qty)s × %(sku)s of order %(order)s %(days)s days ago and the goods have "
                       "not come back. Check the return with the buyer or claim a reimbursement from Amazon.",
                       qty=ret.quantity, sku=ret.sku, order=ret.order_ref, days=(now - ret.refund_date).days))
    due.write({"reminder_date": now})
    return due


def close_reminders(returns):
    """The goods of ``returns`` came back: their reminders are done."""
    todo = returns.env.ref(TODO, raise_if_not_found=False)
    activities = returns.activity_ids.filtered(lambda a: a.automated and a.activity_type_id == todo)
    if activities:
        activities.action_feedback(feedback=returns.env._("The goods came back."))
