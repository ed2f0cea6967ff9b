"""Each flow's progress as the connection shows it: the fields of ``amazon.account`` read from, and written to,
the flow's own row of ``amazon.sync.cursor``."""

#: The orders flow's progress, on its own row (``amazon.sync.cursor``): connection field -> row column.
ORDERS_PROGRESS = {"orders_cursor": "cursor", "orders_window_start": "window_start", "orders_window_end": "window_end",
                   "orders_next_token": "next_token", "orders_last_sync": "last_sync", "orders_sync_message": "message"}
#: Every flow's progress the connection shows: field -> (flow, column of its amazon.sync.cursor row).
PROGRESS_FIELDS = {**{field: ("orders", column) for field, column in ORDERS_PROGRESS.items()},
                   "stock_push_message": ("stock", "message"), "finance_sync_date": ("payouts", "cursor"),
                   "finance_last_error": ("payouts", "message")}


def set_progress(accounts):
    """Compute the progress fields of ``accounts`` from their flows' rows."""
    for account in accounts:
        rows = {row.flow: row for row in account.sync_cursor_ids}
        for field, (flow, column) in PROGRESS_FIELDS.items():
            account[field] = rows[flow][column] if flow in rows else False


def write_orders_progress(accounts):
    """The orders progress set on the connection goes to the orders flow's row."""
    for account in accounts.filtered("id"):
        accounts.env["amazon.sync.job"]._cursor(account, "orders").write(
            {column: account[field] for field, column in ORDERS_PROGRESS.items()})


def write_payouts_progress(accounts):
    """A payouts cursor set by hand counts as read at that moment."""
    for account in accounts:
        accounts.env["amazon.payout.sync"]._progress(account, cursor=account.finance_sync_date,
                                                     last_sync=account.finance_sync_date,
                                                     message=account.finance_last_error)
