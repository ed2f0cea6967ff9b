"""The customer invoices of a connection's Amazon orders: the ones a transaction pays or credits, and the ones
waiting to be paid on post.

Plain functions taking the connection (``amazon.account``).
"""


def find_order_invoices(account, amazon_order_ids):
    """{Amazon order id: its posted customer invoices and credit notes (account.move)} for this connection.

    The one place that knows how an Amazon order reaches its invoices: ``amazon.order`` (keyed by
    ``name``) and its sale order's invoices. An invoice whose reference or origin is the Amazon order id
    also counts (invoices made by hand or by another flow).
    """
    account.ensure_one()
    env = account.env
    Move = env["account.move"]
    ids = [oid for oid in dict.fromkeys(amazon_order_ids) if oid]
    result = {oid: Move for oid in ids}
    if not ids:
        return result
    for order in env["amazon.order"].search([("account_id", "=", account.id), ("name", "in", ids)]):
        result[order.name] |= order.sale_order_id.invoice_ids
    missing = [oid for oid in ids if not result[oid]]
    if missing:
        for move in Move.search([
            ("company_id", "=", account.company_id.id),
            ("move_type", "in", ("out_invoice", "out_refund")),
            ("state", "=", "posted"),
            "|", ("ref", "in", missing), ("invoice_origin", "in", missing),
        ]):
            key = move.ref if move.ref in result else move.invoice_origin
            result[key] |= move
    return {oid: moves.filtered(lambda m: m.state == "posted" and m.company_id == account.company_id)
            for oid, moves in result.items()}


def unpaid_order_invoices(account):
    """The posted customer invoices of the connection's Amazon orders that are not paid yet (what a connection
    that pays on post pays). One query, selective: with paying on post, they are the ones posted since the
    last run of the payouts job (and any whose payment failed)."""
    account.ensure_one()
    return account.env["account.move"].search([
        ("move_type", "=", "out_invoice"),
        ("state", "=", "posted"),
        ("company_id", "=", account.company_id.id),
        ("payment_state", "in", ("not_paid", "partial")),
        ("invoice_line_ids.sale_line_ids.order_id.amazon_order_id.account_id", "=", account.id),
    ], order="invoice_date, id")
