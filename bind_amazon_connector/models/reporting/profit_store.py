"""The stored rows of the profitability report, and how they stay exact.

Worked out from the ledgers, the report reads every table of a year of sales at each search (2 s and more at
100,000 rows). So its rows are stored (``amazon_profit_report_store``), and the database itself lists the orders
whose rows a change made old (``amazon_profit_report_changed``): a statement trigger on each table the rows are
worked out from (sale orders and lines, invoices and credit notes and their lines, payout transactions and
lines, stock moves, Amazon orders, products, listings) adds the Amazon orders the changed rows belong to, in
the transaction making the change. No flow calls the report, and the report depends on no flow's code.

The report reads the stored rows of the orders not listed, and works out the listed ones from the ledgers at
that moment (``profit_query.STORED_AND_CHANGED``): it is exact right after any change, stored or not. A
scheduled action stores the listed orders' rows and takes them off the list (:func:`store_changed`); until it
runs, they are only slower to read. A change of what every row depends on (the fee types' taxes, the company's
currency or its tax-included prices) lists every order (a NULL order).

Plain functions taking a cursor; the report model calls them.
"""
from odoo.tools import SQL

from .profit_query import CACHE_COLUMNS, CACHE_TABLE, DIRTY_TABLE, store_query

STORE = SQL.identifier(CACHE_TABLE)
DIRTY = SQL.identifier(DIRTY_TABLE)

#: the orders of changed rows, by table: (SELECT of order ids from ``{rows} r``, the columns whose change counts
#: (None: any), the statements that count, whether the orders still need to be checked as Amazon's)
_LINE_ORDERS = "JOIN sale_order_line sol ON sol.id = rel.order_line_id"
WATCHED = {
    "sale_order": (
        "SELECT r.id FROM {rows} r WHERE r.amazon_order_id IS NOT NULL",
        ("amazon_order_id", "state", "currency_rate", "company_id", "date_order", "partner_id", "currency_id"),
        ("INSERT", "UPDATE", "DELETE"), False),
    "sale_order_line": (
        "SELECT r.order_id FROM {rows} r",
        ("order_id", "product_id", "sequence", "name", "product_uom_qty", "price_subtotal", "price_unit", "discount",
         "display_type", "is_downpayment", "amazon_order_item_id"),
        ("INSERT", "UPDATE", "DELETE"), True),
    "sale_order_line_invoice_rel": (
        "SELECT sol.order_id FROM {rows} r JOIN sale_order_line sol ON sol.id = r.order_line_id",
        None, ("INSERT", "DELETE"), True),
    "account_move_line": (
        # an invoice's or credit note's line linked to sale lines; a credit note's line: the orders it credits
        f"SELECT sol.order_id FROM {{rows}} r "  # noqa: S608
        f"JOIN sale_order_line_invoice_rel rel ON rel.invoice_line_id = r.id {_LINE_ORDERS} "
        f"UNION SELECT sol.order_id FROM {{rows}} r JOIN account_move cn ON cn.id = r.move_id "
        f"JOIN account_move_line il ON il.move_id = cn.reversed_entry_id "
        f"JOIN sale_order_line_invoice_rel rel ON rel.invoice_line_id = il.id {_LINE_ORDERS}",
        ("move_id", "balance", "price_subtotal", "parent_state", "display_type", "product_id"),
        ("INSERT", "UPDATE", "DELETE"), True),
    "account_move": (
        f"SELECT sol.order_id FROM {{rows}} r JOIN account_move_line il ON il.move_id = r.id "  # noqa: S608
        f"JOIN sale_order_line_invoice_rel rel ON rel.invoice_line_id = il.id {_LINE_ORDERS} "
        f"UNION SELECT sol.order_id FROM {{rows}} r JOIN account_move_line il ON il.move_id = r.reversed_entry_id "
        f"JOIN sale_order_line_invoice_rel rel ON rel.invoice_line_id = il.id {_LINE_ORDERS}",
        ("state", "move_type", "reversed_entry_id"), ("UPDATE", "DELETE"), True),
    "amazon_order": (
        "SELECT so.id FROM {rows} r JOIN sale_order so ON so.amazon_order_id = r.id",
        ("account_id", "name", "marketplace_id", "fulfillment_channel"), ("UPDATE", "DELETE"), False),
    "amazon_settlement_transaction": (
        "SELECT so.id FROM {rows} r JOIN amazon_order ao ON ao.account_id = r.account_id "
        "AND ao.name = r.amazon_order_id JOIN sale_order so ON so.amazon_order_id = ao.id",
        ("account_id", "amazon_order_id", "kind", "state", "currency_id"), ("INSERT", "UPDATE", "DELETE"), False),
    "amazon_settlement_line": (
        "SELECT so.id FROM {rows} r JOIN amazon_settlement_transaction t ON t.id = r.transaction_id "
        "JOIN amazon_order ao ON ao.account_id = t.account_id AND ao.name = t.amazon_order_id "
        "JOIN sale_order so ON so.amazon_order_id = ao.id",
        ("transaction_id", "category", "amazon_type", "sku", "amount", "tax_amount", "has_tax", "fee_account_id"),
        ("INSERT", "UPDATE", "DELETE"), False),
    "stock_move": (
        "SELECT sol.order_id FROM {rows} r JOIN sale_order_line sol ON sol.id = r.sale_line_id",
        ("sale_line_id", "state", "is_in", "is_out", "origin_returned_move_id", "value", "product_qty"),
        ("INSERT", "UPDATE", "DELETE"), True),
    "product_template": (
        "SELECT sol.order_id FROM {rows} r JOIN product_product pp ON pp.product_tmpl_id = r.id "
        "JOIN sale_order_line sol ON sol.product_id = pp.id",
        ("type", "is_storable"), ("UPDATE",), True),
    "product_product": (
        "SELECT sol.order_id FROM {rows} r JOIN sale_order_line sol ON sol.product_id = r.id",
        ("product_tmpl_id", "default_code"), ("UPDATE",), True),
    "amazon_listing": (
        # the SKU of a line whose description has none
        "SELECT so.id FROM {rows} r JOIN amazon_order ao ON ao.account_id = r.account_id "
        "JOIN sale_order so ON so.amazon_order_id = ao.id "
        "JOIN sale_order_line sol ON sol.order_id = so.id AND sol.product_id = r.product_id",
        ("account_id", "product_id", "seller_sku"), ("INSERT", "UPDATE", "DELETE"), False),
}

#: changes of what every row depends on: (SELECT of anything from ``{rows} r`` when it counts, columns, statements)
WATCHED_EVERYTHING = {
    "account_tax": (
        "SELECT FROM {rows} r JOIN account_tax_amazon_fee_account_rel rel ON rel.account_tax_id = r.id",
        ("amount_type", "amount", "price_include_override", "company_id"), ("UPDATE",)),
    "account_tax_amazon_fee_account_rel": ("SELECT FROM {rows} r", None, ("INSERT", "DELETE")),
    "res_company": ("SELECT FROM {rows} r", ("currency_id", "account_price_include"), ("UPDATE",)),
}

PREFIX = "amazon_profit_changed"


#: a statement changing more rows than this has its orders' query planned for its size (``EXECUTE``); smaller ones
#: run a plan kept by the session (planning a join costs more than running it on a few rows)
BULK = 100


def _differ(columns):
    return " OR ".join(f"n.{c} IS DISTINCT FROM o.{c}" for c in columns)


def _changed(rows_new, columns):
    """The rows of an UPDATE whose ``columns`` changed, as they are (``rows_new``) or were."""
    side = "n" if rows_new else "o"
    return f"(SELECT {side}.* FROM new_rows n JOIN old_rows o ON o.id = n.id WHERE {_differ(columns)})"  # noqa: S608


def _function(table, select, columns, amazon_only, everything):
    """The trigger function of ``table``: the orders of its changed rows go on the list.

    An UPDATE that changed none of the columns the report reads returns at once. The query finding the orders
    runs a plan kept by the session for a statement of a few rows, and is planned anew for a bulk one: a plan
    made for one row would walk an index row by row through thousands."""
    def insert(sources, dynamic):
        found = (" UNION ALL " if everything else " UNION ").join(select.format(rows=src) for src in sources)
        if everything:
            sql = f"INSERT INTO {DIRTY_TABLE} (order_id) SELECT NULL WHERE EXISTS ({found})"
        else:
            keep = (" JOIN sale_order so ON so.id = x.order_id AND so.amazon_order_id IS NOT NULL"
                    if amazon_only else "")
            sql = (f"INSERT INTO {DIRTY_TABLE} (order_id) "  # noqa: S608
                   f"SELECT DISTINCT x.order_id FROM ({found}) x(order_id){keep} WHERE x.order_id IS NOT NULL")
        return f"EXECUTE $q${sql}$q$;" if dynamic else f"{sql};"

    def run(sources, counted):
        size = f"(SELECT COUNT(*) FROM {counted})"  # noqa: S608
        return (f"IF {size} > {BULK} THEN\n            {insert(sources, True)}\n        ELSE\n"
                f"            {insert(sources, False)}\n        END IF;")

    if columns:
        on_update = (f"IF NOT EXISTS (SELECT FROM new_rows n JOIN old_rows o ON o.id = n.id "
                     f"WHERE {_differ(columns)}) THEN RETURN NULL; END IF;\n        "
                     + run([_changed(True, columns), _changed(False, columns)], "new_rows"))
    else:
        on_update = run(["new_rows", "old_rows"], "new_rows")
    return f"""
CREATE OR REPLACE FUNCTION {PREFIX}_{table}() RETURNS trigger LANGUAGE plpgsql AS $body$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {run(["new_rows"], "new_rows")}
    ELSIF TG_OP = 'DELETE' THEN
        {run(["old_rows"], "old_rows")}
    ELSE
        {on_update}
    END IF;
    RETURN NULL;
END
$body$"""


def _triggers(table, events):
    referencing = {"INSERT": "NEW TABLE AS new_rows", "UPDATE": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
                   "DELETE": "OLD TABLE AS old_rows"}
    for event in events:
        name = f"{PREFIX}_{event.lower()}"
        yield f"DROP TRIGGER IF EXISTS {name} ON {table}"
        yield (f"CREATE TRIGGER {name} AFTER {event} ON {table} REFERENCING {referencing[event]} "
               f"FOR EACH STATEMENT EXECUTE FUNCTION {PREFIX}_{table}()")


def install(cr):
    """The tables, the functions and the triggers (again at each update of the addon), every order listed: the
    stored rows are worked out anew by the code of this version."""
    columns = ", ".join(f"{name} {kind}" for name, kind in CACHE_COLUMNS)
    cr.execute(SQL(f"DROP TABLE IF EXISTS {CACHE_TABLE}"))
    cr.execute(SQL(f"CREATE TABLE {CACHE_TABLE} ({columns})"))
    cr.execute(SQL(f"CREATE INDEX {CACHE_TABLE}_order_id_idx ON {CACHE_TABLE} (order_id)"))
    cr.execute(SQL(f"CREATE TABLE IF NOT EXISTS {DIRTY_TABLE} (id bigserial PRIMARY KEY, order_id integer)"))
    cr.execute(SQL(f"CREATE INDEX IF NOT EXISTS {DIRTY_TABLE}_order_id_idx ON {DIRTY_TABLE} (order_id)"))
    for table, (select, columns_, events, amazon_only) in WATCHED.items():
        cr.execute(SQL(_function(table, select, columns_, amazon_only, everything=False)))
        for statement in _triggers(table, events):
            cr.execute(SQL(statement))
    for table, (select, columns_, events) in WATCHED_EVERYTHING.items():
        cr.execute(SQL(_function(table, select, columns_, False, everything=True)))
        for statement in _triggers(table, events):
            cr.execute(SQL(statement))
    cr.execute(SQL("INSERT INTO %s (order_id) VALUES (NULL)", DIRTY))


def uninstall(cr):
    """Everything :func:`install` made: the triggers first (on Odoo's tables, they name the addon's columns)."""
    for table, (_select, _columns, events, *_rest) in {**WATCHED, **WATCHED_EVERYTHING}.items():
        for event in events:
            cr.execute(SQL(f"DROP TRIGGER IF EXISTS {PREFIX}_{event.lower()} ON {table}"))
        cr.execute(SQL(f"DROP FUNCTION IF EXISTS {PREFIX}_{table}()"))
    cr.execute(SQL("DROP TABLE IF EXISTS %s", STORE))
    cr.execute(SQL("DROP TABLE IF EXISTS %s", DIRTY))


def store_changed(cr, batch=5000):
    """Store the rows of the listed orders and take them off the list, in the caller's transaction; return how
    many orders were stored (None: another transaction is storing them).

    Exact against concurrent changes: the orders read off the list are those of changes committed before this
    transaction's snapshot, and their rows are worked out from the same snapshot; a change committed meanwhile
    stays listed (its list row is not seen, so not deleted). Two of these at once: the second skips (lock), and
    in REPEATABLE READ a write over the other's rows fails rather than storing older figures."""
    cr.execute(SQL("SELECT pg_try_advisory_xact_lock(hashtext(%s))", DIRTY_TABLE))
    if not cr.fetchone()[0]:
        return None
    cr.execute(SQL("SELECT MAX(id), BOOL_OR(order_id IS NULL) FROM %s", DIRTY))
    top, everything = cr.fetchone()
    if top is None:
        return 0
    if everything:
        cr.execute(SQL("DELETE FROM %s", STORE))
        cr.execute(store_query(None))
        cr.execute(SQL("SELECT COUNT(DISTINCT order_id) FROM %s", STORE))
        count = cr.fetchone()[0]
        cr.execute(SQL("DELETE FROM %s WHERE id <= %s", DIRTY, top))
        return count
    cr.execute(SQL("SELECT DISTINCT order_id FROM %s WHERE id <= %s", DIRTY, top))
    orders = [order_id for (order_id,) in cr.fetchall()]
    for start in range(0, len(orders), batch):
        chunk = orders[start:start + batch]
        cr.execute(SQL("DELETE FROM %s WHERE order_id = ANY(%s)", STORE, chunk))
        cr.execute(store_query(chunk))
        cr.execute(SQL("DELETE FROM %s WHERE id <= %s AND order_id = ANY(%s)", DIRTY, top, chunk))
    return len(orders)

