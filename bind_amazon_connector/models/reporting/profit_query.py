"""The SQL of the profitability report (``amazon.profit.report``): one row per product line of the sale orders
the Amazon import created, with what was sold, what Amazon kept, what the goods cost and what was left.

Plain Python: the query text and the fee kinds. Where each figure comes from:

- **Rows.** Every line of a confirmed sale order linked to an Amazon order (``sale.order.amazon_order_id``).
  A product line is a row; the lines the import adds for an item's shipping, gift wrap and promotion come
  right after it (``order_mapping._item_lines``) and are counted in its row; lines before the first product
  line, order-level charges and rounding lines go to the product line before them (the order's first one
  when there is none): each amount of the order is in exactly one row.
- **Net sales** (without IVA): the posted customer invoices' lines of the row's sale lines (company currency,
  and the invoice's currency beside it); a line not invoiced yet counts its sale line's untaxed amount.
  **Promotions**: what the lines' discounts took off (Amazon's promotions are a line's discount %), and the
  addon's promotion lines of earlier imports (shown positive), without IVA.
- **Refunds**: the posted credit notes of the order, untaxed: a line linked to a sale line counts in that
  line's row, another one in the row of its product in the order (else the order's first row).
- **Amazon fees**: the fee amounts of the order's payout transactions (``amazon.settlement.line``, category
  fee; a transaction released by another one is not counted twice), without the IVA Amazon charges on them
  (creditable: Amazon's own split when it gives one, else the fee type's tax-included rate, as the fee bill
  books them), by kind from Amazon's fee type; matched to the row by SKU, else to the order's first row.
  Fees given back with a refund are negative fees (the fees equal what the fee bills book) and are also
  shown apart (``fees_returned``). Withholdings (ISR, IVA retenido) are taxes: not here.
- **Cost of goods**: the value of the done deliveries of the row's line (``stock.move.value``) less its
  valued returns; units not delivered yet, and products without stock valuation, at the product's cost.
- **Pending**: no sale transaction of the order in the payouts yet: its fees are not known.
"""
from odoo.tools import SQL

from ...utils.settlement import norm
from ..payouts.payout_settings import DEFAULT_FEE_TYPES, LABEL_COMMISSION, LABEL_FBA, LABEL_SHIPPING


def _fee_keys(label):
    types = next(t for t, lab, _x in DEFAULT_FEE_TYPES if lab is label)
    return sorted({norm(t) for t in types.split(",") if norm(t)})


#: kind -> Amazon's fee types (normalised as ``utils.settlement.norm`` does); any other fee is "other"
FEE_KINDS = {
    "referral": _fee_keys(LABEL_COMMISSION),
    "fulfillment": _fee_keys(LABEL_FBA),
    "shipping": _fee_keys(LABEL_SHIPPING),
}

#: the fields the query reads, by model (the report's ``_depends``: written to the database before it runs)
DEPENDS = {
    "sale.order": ["amazon_order_id", "state", "currency_rate", "company_id", "date_order", "partner_id",
                   "currency_id"],
    "sale.order.line": ["order_id", "product_id", "sequence", "name", "product_uom_qty", "price_subtotal",
                        "price_unit", "discount", "display_type", "is_downpayment", "amazon_order_item_id",
                        "invoice_lines"],
    "product.product": ["product_tmpl_id", "standard_price", "default_code"],
    "product.template": ["type", "is_storable"],
    "amazon.order": ["account_id", "name", "marketplace_id", "fulfillment_channel"],
    "res.company": ["currency_id", "account_price_include"],
    "account.move": ["move_type", "state", "reversed_entry_id"],
    "account.move.line": ["move_id", "balance", "price_subtotal", "parent_state", "display_type", "product_id"],
    "amazon.settlement.transaction": ["account_id", "amazon_order_id", "kind", "state", "currency_id"],
    "amazon.settlement.line": ["transaction_id", "category", "amazon_type", "sku", "amount", "tax_amount",
                               "has_tax", "fee_account_id"],
    "amazon.fee.account": ["tax_ids"],
    "account.tax": ["amount_type", "amount", "price_include_override", "company_id"],
    "stock.move": ["sale_line_id", "state", "is_in", "is_out", "origin_returned_move_id", "value", "product_qty"],
    "amazon.listing": ["account_id", "product_id", "seller_sku"],
    "res.partner": ["vat", "commercial_partner_id"],
}

#: the customer of an Amazon Business order has an RFC; these are the SAT's generic ones
GENERIC_RFCS = ("XAXX010101000", "XEXX010101000")


def _spelled_kinds():
    """{fee type as Amazon spells it in the default fee types: its kind}, the same kind its normalised name has."""
    kinds = {}
    for types, _label, _xmlid in DEFAULT_FEE_TYPES:
        for raw in (t.strip() for t in types.split(",")):
            if raw:
                kinds[raw] = next((name for name, keys in FEE_KINDS.items() if norm(raw) in keys), "other")
    return kinds


def _in_list(values):
    return ", ".join("'%s'" % v.replace("'", "''") for v in values)


def _sku(line, account):
    """The SKU of a report row: the one in its line's description (``[SKU] title``, as the import writes it),
    else the connection's listing of the product, else the product's reference."""
    return (f"COALESCE((SELECT SUBSTRING(sol.name FROM '^\\[([^]]+)\\]') FROM sale_order_line sol "  # noqa: S608
            f"WHERE sol.id = {line}.id), "
            f"(SELECT MIN(li.seller_sku) FROM amazon_listing li WHERE li.account_id = {account}.account_id "
            f"AND li.product_id = {line}.product_id), "
            f"(SELECT pp.default_code FROM product_product pp WHERE pp.id = {line}.product_id), '')")


def _kind_sql():
    """The fee kind of a payout line ``fl`` (SQL CASE on Amazon's fee type)."""
    kind = "regexp_replace(lower(COALESCE(fl.amazon_type, '')), '[^a-z0-9]', '', 'g')"
    kind_sql = "CASE " + " ".join(
        f"WHEN {kind} IN ({_in_list(keys)}) THEN '{name}'" for name, keys in FEE_KINDS.items()
    ) + " ELSE 'other' END"
    # Amazon's own spellings of the known fee types are read as they come (no normalising of each line)
    spelled = " ".join(f"WHEN {_in_list([raw])} THEN '{kind}'" for raw, kind in _spelled_kinds().items())
    return f"CASE fl.amazon_type {spelled} ELSE {kind_sql} END"


#: the stored rows of the report, and the orders changed since (a NULL order: every one), ``profit_store.py``
CACHE_TABLE = "amazon_profit_report_store"
DIRTY_TABLE = "amazon_profit_report_changed"

#: the columns of the stored rows: what ``measures`` works out
CACHE_COLUMNS = (
    ("id", "integer PRIMARY KEY"), ("order_id", "integer NOT NULL"), ("product_id", "integer"),
    ("product_tmpl_id", "integer"), ("amazon_order_id", "integer"), ("account_id", "integer"),
    ("company_id", "integer"), ("marketplace_id", "integer"), ("date_order", "timestamp"),
    ("fulfillment_channel", "varchar"), ("partner_id", "integer"), ("company_currency_id", "integer"),
    ("order_currency_id", "integer"), ("fees_pending", "boolean"), ("units", "numeric"), ("net_sales", "numeric"),
    ("net_sales_currency", "numeric"), ("promotion_amount", "numeric"), ("invoiced", "boolean"),
    ("refund_amount", "numeric"), ("fee_referral", "numeric"), ("fee_fulfillment", "numeric"),
    ("fee_shipping", "numeric"), ("fee_other", "numeric"), ("fee_iva", "numeric"), ("fees_returned", "numeric"),
    ("cogs_value", "numeric"), ("cost_qty", "numeric"), ("sku_line", "varchar"),
)

# the constants of this module only (Amazon's fee types, the SAT's generic RFCs): nothing from a user; the
# placeholders are the scope's (``_chain``)
QUERY = f"""WITH orders AS MATERIALIZED (
    SELECT so.id AS order_id, so.company_id, c.currency_id AS company_currency_id, so.currency_id,
           COALESCE(NULLIF(so.currency_rate, 0), 1) AS rate, so.date_order, so.partner_id,
           ao.id AS amazon_order_id, ao.account_id, ao.name AS order_ref, ao.marketplace_id, ao.fulfillment_channel,
           -- the order's fees are known once a sale transaction of it is in the payouts
           NOT EXISTS (SELECT FROM amazon_settlement_transaction t
                        WHERE t.account_id = ao.account_id AND t.amazon_order_id = ao.name AND t.kind = 'sale'
                          AND t.state <> 'superseded') AS fees_pending
      FROM sale_order so
      JOIN amazon_order ao ON ao.id = so.amazon_order_id
      JOIN res_company c ON c.id = so.company_id
     WHERE so.state = 'sale' {{scope}}
), products AS (
    -- the products, once (the addon's promotion product: its lines are promotions)
    SELECT pp.id, pp.product_tmpl_id, pt.type = 'service' AS is_service, pt.is_storable,
           (imd.res_id IS NOT NULL) AS is_promotion
      FROM product_product pp
      JOIN product_template pt ON pt.id = pp.product_tmpl_id
      LEFT JOIN ir_model_data imd ON imd.module = 'bind_amazon_connector'
           AND imd.name = 'product_amazon_promotion' AND imd.model = 'product.product' AND imd.res_id = pp.id
), costs AS (
    -- each product's cost in each company (read once, not once per row)
    SELECT pp.id AS product_id, c.id AS company_id, (pp.standard_price ->> c.id::text)::numeric AS cost
      FROM product_product pp
     CROSS JOIN res_company c
), order_lines AS (
    SELECT sol.id, sol.order_id, sol.product_id, sol.sequence, sol.product_uom_qty, sol.price_subtotal,
           o.rate,
           -- a promotion on the line itself (its discount, in percent): what it took off, without IVA
           CASE WHEN COALESCE(sol.discount, 0) <= 0 THEN 0
                WHEN sol.discount < 100 THEN sol.price_subtotal * sol.discount / (100 - sol.discount)
                ELSE sol.price_unit * sol.product_uom_qty END AS line_discount,
           (sol.amazon_order_item_id IS NOT NULL OR NOT p.is_service) AS is_item, p.is_service, p.is_storable,
           p.is_promotion, ARRAY[sol.sequence, sol.id] AS place
      FROM sale_order_line sol
      JOIN orders o ON o.order_id = sol.order_id
      JOIN products p ON p.id = sol.product_id
     WHERE sol.display_type IS NULL AND NOT COALESCE(sol.is_downpayment, FALSE)
), lines AS MATERIALIZED (
    -- each line's row: the last product line up to it, else the order's first product line, else its first line
    SELECT w.id, w.order_id, w.product_id, w.sequence, w.product_uom_qty, w.price_subtotal, w.rate,
           w.line_discount, w.is_item, w.is_service, w.is_storable, w.is_promotion,
           COALESCE(w.last_item[2], w.first_item[2], w.first_line) AS row_id,
           (w.id = COALESCE(w.last_item[2], w.first_item[2], w.first_line)) AS is_row,
           COALESCE(w.first_item[2], w.first_line) AS first_row,
           (w.id = COALESCE(w.first_item[2], w.first_line)) AS is_first_row,
           (w.items > 1) AS several_rows
      FROM (SELECT ol.*,
                   -- place (sequence, id): the lines' order in the sale order
                   MAX(ol.place) FILTER (WHERE ol.is_item) OVER so_far AS last_item,
                   MIN(ol.place) FILTER (WHERE ol.is_item) OVER whole AS first_item,
                   COUNT(*) FILTER (WHERE ol.is_item) OVER whole AS items,
                   FIRST_VALUE(ol.id) OVER so_far AS first_line
              FROM order_lines ol
            WINDOW so_far AS (PARTITION BY ol.order_id ORDER BY ol.sequence, ol.id ROWS UNBOUNDED PRECEDING),
                   whole AS (PARTITION BY ol.order_id)) w
), discounts AS (
    SELECT l.row_id, SUM(l.line_discount / l.rate) AS amount
      FROM lines l
     WHERE NOT l.is_promotion AND l.line_discount <> 0
     GROUP BY l.row_id
), sales AS (
    -- per row; the row's own line gives the row its order, product and quantity
    SELECT l.row_id, MAX(l.order_id) AS order_id, MAX(l.product_id) FILTER (WHERE l.is_row) AS product_id,
           MAX(l.product_uom_qty) FILTER (WHERE l.is_row) AS product_uom_qty,
           BOOL_OR(l.is_item) FILTER (WHERE l.is_row) AS is_item,
           BOOL_OR(l.is_service) FILTER (WHERE l.is_row) AS is_service,
           BOOL_OR(l.is_storable) FILTER (WHERE l.is_row) AS is_storable,
           SUM(CASE WHEN aml.id IS NULL THEN l.price_subtotal / l.rate ELSE -aml.balance END) AS net_sales,
           SUM(CASE WHEN aml.id IS NULL THEN l.price_subtotal ELSE aml.price_subtotal END) AS net_sales_currency,
           SUM(CASE WHEN NOT l.is_promotion THEN 0
                    WHEN aml.id IS NULL THEN -l.price_subtotal / l.rate
                    ELSE aml.balance END) AS promotion_lines,
           BOOL_AND(aml.id IS NOT NULL) AS invoiced
      FROM lines l
      LEFT JOIN (sale_order_line_invoice_rel rel
                 JOIN account_move_line aml ON aml.id = rel.invoice_line_id AND aml.parent_state = 'posted'
                      AND aml.display_type = 'product'
                 JOIN account_move am ON am.id = aml.move_id AND am.move_type = 'out_invoice')
           ON rel.order_line_id = l.id
     GROUP BY l.row_id
), credit_lines AS MATERIALIZED (
    SELECT aml.id, aml.balance, aml.product_id, am.reversed_entry_id
      FROM account_move am
      JOIN account_move_line aml ON aml.move_id = am.id AND aml.display_type = 'product'
     WHERE am.move_type = 'out_refund' AND am.state = 'posted'
), credit_links AS (
    -- a credit line linked to sale lines: the row of the first one
    SELECT rel.invoice_line_id AS credit_line_id, MIN(l.row_id) AS row_id
      FROM sale_order_line_invoice_rel rel
      JOIN lines l ON l.id = rel.order_line_id
     WHERE rel.invoice_line_id IN (SELECT cl.id FROM credit_lines cl)
     GROUP BY rel.invoice_line_id
), credit_orders AS MATERIALIZED (
    -- the order of the invoice a credit note reverses, and its first row
    SELECT DISTINCT ON (aml.move_id) aml.move_id, l.order_id, l.first_row
      FROM account_move_line aml
      JOIN sale_order_line_invoice_rel rel ON rel.invoice_line_id = aml.id
      JOIN lines l ON l.id = rel.order_line_id
     WHERE aml.move_id IN (SELECT cl.reversed_entry_id FROM credit_lines cl)
     ORDER BY aml.move_id, l.order_id
), product_rows AS (
    -- in a refunded order, the row of each product (its first line's)
    SELECT DISTINCT ON (l.order_id, l.product_id) l.order_id, l.product_id, l.row_id
      FROM lines l
     WHERE l.order_id IN (SELECT co.order_id FROM credit_orders co)
     ORDER BY l.order_id, l.product_id, l.sequence, l.id
), refunds AS (
    SELECT COALESCE(ck.row_id, pr.row_id, co.first_row) AS row_id, SUM(cl.balance) AS refund_amount
      FROM credit_lines cl
      LEFT JOIN credit_links ck ON ck.credit_line_id = cl.id
      LEFT JOIN credit_orders co ON co.move_id = cl.reversed_entry_id
      LEFT JOIN product_rows pr ON pr.order_id = co.order_id AND pr.product_id = cl.product_id
     WHERE COALESCE(ck.row_id, pr.row_id, co.first_row) IS NOT NULL
     GROUP BY 1
), firsts AS (
    SELECT l.order_id, l.id AS row_id FROM lines l WHERE l.is_first_row
), transactions AS (
    -- the payout transactions of the orders (a transaction released by another one is not counted twice)
    SELECT t.id, t.kind, o.order_id, fi.row_id AS first_row,
           CASE WHEN t.currency_id = o.company_currency_id THEN 1.0 ELSE o.rate END AS rate
      FROM amazon_settlement_transaction t
      JOIN orders o ON o.account_id = t.account_id AND o.order_ref = t.amazon_order_id
      JOIN firsts fi ON fi.order_id = o.order_id
     WHERE t.state <> 'superseded' AND t.amazon_order_id IS NOT NULL
), fee_rates AS (
    SELECT rel.amazon_fee_account_id AS fee_id,
           CASE WHEN COUNT(*) = 1 AND BOOL_AND(t.amount_type = 'percent' AND t.amount > -100
                    AND COALESCE(t.price_include_override, c.account_price_include) = 'tax_included')
                THEN MAX(t.amount) END AS rate
      FROM account_tax_amazon_fee_account_rel rel
      JOIN account_tax t ON t.id = rel.account_tax_id
      JOIN res_company c ON c.id = t.company_id
     GROUP BY rel.amazon_fee_account_id
), sku_rows AS (
    -- in an order with several rows, the row of each SKU (its first one); an order's only row takes every fee
    SELECT DISTINCT ON (l.order_id, sk.sku) l.order_id, sk.sku, l.id AS row_id
      FROM lines l
      JOIN orders o ON o.order_id = l.order_id
      CROSS JOIN LATERAL (SELECT {_sku("l", "o")} AS sku) sk
     WHERE l.several_rows AND l.is_row
     ORDER BY l.order_id, sk.sku, l.sequence, l.id
), fee_amounts AS (
    -- a fee without the IVA Amazon charges: its own split when it gives one, else the fee type's included rate
    -- (OFFSET 0 here and below: each line is worked out once, not once per use)
    SELECT fl.transaction_id, COALESCE(fl.sku, '') AS sku, {_kind_sql()} AS fee_kind, -fl.amount AS amount,
           CASE WHEN fr.rate IS NULL THEN -fl.amount
                WHEN fl.has_tax THEN -fl.amount + fl.tax_amount
                ELSE ROUND((-fl.amount / (1 + fr.rate / 100.0))::numeric, 2) END AS base
      FROM amazon_settlement_line fl
      LEFT JOIN fee_rates fr ON fr.fee_id = fl.fee_account_id
     WHERE fl.category = 'fee' {{scope_fees}}
    OFFSET 0
), fee_lines AS (
    -- each fee's row (by SKU, else the order's first row), in the company's currency
    SELECT COALESCE(rs.row_id, tx.first_row) AS row_id, tx.kind AS txn_kind, fa.fee_kind,
           CASE WHEN tx.rate = 1 THEN fa.base ELSE fa.base / tx.rate END AS base,
           CASE WHEN tx.rate = 1 THEN fa.amount - fa.base ELSE (fa.amount - fa.base) / tx.rate END AS iva
      FROM fee_amounts fa
      JOIN transactions tx ON tx.id = fa.transaction_id
      LEFT JOIN sku_rows rs ON rs.order_id = tx.order_id AND rs.sku = fa.sku
    OFFSET 0
), fees AS (
    SELECT f.row_id,
           SUM(f.base) FILTER (WHERE f.fee_kind = 'referral') AS fee_referral,
           SUM(f.base) FILTER (WHERE f.fee_kind = 'fulfillment') AS fee_fulfillment,
           SUM(f.base) FILTER (WHERE f.fee_kind = 'shipping') AS fee_shipping,
           SUM(f.base) FILTER (WHERE f.fee_kind = 'other') AS fee_other,
           SUM(f.iva) AS fee_iva,
           -SUM(f.base) FILTER (WHERE f.txn_kind = 'refund') AS fees_returned
      FROM fee_lines f
     GROUP BY f.row_id
), moves AS (
    SELECT sm.sale_line_id AS line_id,
           SUM(CASE WHEN sm.is_out THEN sm.value
                    WHEN sm.is_in AND sm.origin_returned_move_id IS NOT NULL THEN -sm.value ELSE 0 END) AS value,
           SUM(CASE WHEN sm.is_out THEN sm.product_qty ELSE 0 END) AS out_qty
      FROM stock_move sm
     WHERE sm.state = 'done' AND sm.sale_line_id IS NOT NULL {{scope_moves}}
     GROUP BY sm.sale_line_id
), measures AS (
    -- what the report stores per row (``CACHE_COLUMNS``): everything but what the product's cost, the listing and
    -- the customer's RFC say, which are read at each search
    SELECT r.row_id AS id, r.order_id, r.product_id, pp.product_tmpl_id, o.amazon_order_id, o.account_id, o.company_id,
           o.marketplace_id, o.date_order, o.fulfillment_channel, o.partner_id, o.company_currency_id,
           o.currency_id AS order_currency_id, o.fees_pending,
           CASE WHEN r.is_item THEN r.product_uom_qty ELSE 0 END AS units,
           COALESCE(r.net_sales, 0) AS net_sales, COALESCE(r.net_sales_currency, 0) AS net_sales_currency,
           COALESCE(r.promotion_lines, 0) + COALESCE(d.amount, 0) AS promotion_amount,
           COALESCE(r.invoiced, FALSE) AS invoiced,
           COALESCE(rf.refund_amount, 0) AS refund_amount,
           COALESCE(fe.fee_referral, 0) AS fee_referral,
           COALESCE(fe.fee_fulfillment, 0) AS fee_fulfillment,
           COALESCE(fe.fee_shipping, 0) AS fee_shipping,
           COALESCE(fe.fee_other, 0) AS fee_other,
           COALESCE(fe.fee_iva, 0) AS fee_iva,
           COALESCE(fe.fees_returned, 0) AS fees_returned,
           -- cost of goods = the valued deliveries + units at the product's cost
           CASE WHEN r.is_item AND NOT r.is_service AND r.is_storable THEN COALESCE(m.value, 0) ELSE 0 END
               AS cogs_value,
           CASE WHEN NOT r.is_item OR r.is_service THEN 0
                WHEN r.is_storable THEN GREATEST(r.product_uom_qty - COALESCE(m.out_qty, 0), 0)
                ELSE r.product_uom_qty END AS cost_qty,
           (SELECT SUBSTRING(sol.name FROM '^\\[([^]]+)\\]') FROM sale_order_line sol WHERE sol.id = r.row_id)
               AS sku_line
      FROM sales r
      JOIN orders o ON o.order_id = r.order_id
      JOIN products pp ON pp.id = r.product_id
      LEFT JOIN discounts d ON d.row_id = r.row_id
      LEFT JOIN refunds rf ON rf.row_id = r.row_id
      LEFT JOIN fees fe ON fe.row_id = r.row_id
      LEFT JOIN moves m ON m.line_id = r.row_id
)"""  # noqa: S608


#: the rows the report reads: the stored rows of the orders nothing changed since they were stored, and the
#: others worked out now (``profit_store.py``: the database's triggers list the changed orders)
STORED_AND_CHANGED = f"""
, report_rows AS (
    SELECT {", ".join(f"c.{name}" for name, _type in CACHE_COLUMNS)}
      FROM {CACHE_TABLE} c
     WHERE NOT EXISTS (SELECT FROM {DIRTY_TABLE} d WHERE d.order_id = c.order_id)
       AND NOT EXISTS (SELECT FROM {DIRTY_TABLE} d WHERE d.order_id IS NULL)
     UNION ALL
    SELECT {", ".join(f"me.{name}" for name, _type in CACHE_COLUMNS)} FROM measures me
)"""  # noqa: S608

#: the orders a change left to work out again: those listed, or every one while the list holds "all" (NULL)
CHANGED_ORDERS = (f"AND (so.id IN (SELECT d.order_id FROM {DIRTY_TABLE} d) "  # noqa: S608
                  f"OR EXISTS (SELECT FROM {DIRTY_TABLE} d WHERE d.order_id IS NULL))")

#: the report's columns from its rows (``report_rows``): the stored measures, the product's cost today, the SKU
#: and the customer's kind
FINAL_SELECT = f"""
SELECT me.id,
       me.id AS line_id,
       me.order_id,
       me.amazon_order_id,
       me.account_id,
       me.company_id,
       me.marketplace_id,
       me.product_id,
       me.product_tmpl_id,
       COALESCE(me.sku_line,
                (SELECT MIN(li.seller_sku) FROM amazon_listing li
                  WHERE li.account_id = me.account_id AND li.product_id = me.product_id),
                (SELECT pp.default_code FROM product_product pp WHERE pp.id = me.product_id), '') AS sku,
       me.date_order AS date,
       CASE WHEN me.fulfillment_channel = 'amazon' THEN 'fba' ELSE 'fbm' END AS fulfillment_channel,
       CASE WHEN COALESCE(cp.vat, '') <> '' AND UPPER(cp.vat) NOT IN ({_in_list(GENERIC_RFCS)}) THEN 'b2b'
            ELSE 'b2c' END AS customer_type,
       me.company_currency_id AS currency_id,
       me.order_currency_id,
       me.units,
       me.net_sales,
       me.net_sales_currency,
       me.promotion_amount,
       me.invoiced,
       me.refund_amount,
       me.fees_returned,
       (me.refund_amount - me.fees_returned) AS refund_net,
       me.fee_referral,
       me.fee_fulfillment,
       me.fee_shipping,
       me.fee_other,
       (me.fee_referral + me.fee_fulfillment + me.fee_shipping + me.fee_other) AS fee_total,
       me.fee_iva,
       me.cogs,
       (me.net_sales - me.refund_amount - me.fee_referral - me.fee_fulfillment - me.fee_shipping - me.fee_other
           - me.cogs) AS margin,
       CASE WHEN me.net_sales = 0 THEN NULL
            ELSE 100.0 * (me.net_sales - me.refund_amount - me.fee_referral - me.fee_fulfillment
                          - me.fee_shipping - me.fee_other - me.cogs) / me.net_sales END AS margin_percent,
       me.fees_pending
  FROM (SELECT rr.*, rr.cogs_value + rr.cost_qty * COALESCE(std.cost, 0) AS cogs
          FROM report_rows rr
          JOIN costs std ON std.product_id = rr.product_id AND std.company_id = rr.company_id) me
  LEFT JOIN res_partner p ON p.id = me.partner_id
  LEFT JOIN res_partner cp ON cp.id = COALESCE(p.commercial_partner_id, p.id)
"""  # noqa: S608


def _chain(scope="", scope_moves="", scope_fees=""):
    """The WITH clauses up to ``measures``, on the orders ``scope`` keeps (SQL text without parameters)."""
    return QUERY.format(scope=scope, scope_moves=scope_moves, scope_fees=scope_fees)


#: the scoped chain reads each table from the orders' lines through its keys
SCOPE_MOVES = "AND sm.sale_line_id IN (SELECT l.id FROM lines l WHERE l.is_row)"
SCOPE_FEES = "AND fl.transaction_id IN (SELECT tx.id FROM transactions tx)"


def profit_report_query():
    """The SELECT of the report (``SQL``): the stored rows of the orders unchanged since they were stored, and the
    rows of the changed ones worked out now; the same figures as :func:`live_report_query`, at any moment."""
    return SQL(_chain(CHANGED_ORDERS, SCOPE_MOVES, SCOPE_FEES) + STORED_AND_CHANGED + FINAL_SELECT)


#: every row worked out from the ledgers, none read from the stored ones
LIVE_ROWS = ", report_rows AS (SELECT * FROM measures)"


def live_report_query():
    """The report worked out from the ledgers alone, as it was before its rows were stored (the tests compare the
    report to it; the benchmark measures both)."""
    return SQL(_chain() + LIVE_ROWS + FINAL_SELECT)


def store_query(order_ids=None):
    """The statement writing the stored rows of ``order_ids`` (every order when None), worked out now; a row
    already stored is replaced."""
    names = ", ".join(name for name, _type in CACHE_COLUMNS)
    updates = ", ".join(f"{name} = EXCLUDED.{name}" for name, _type in CACHE_COLUMNS if name != "id")
    chain = _chain() if order_ids is None else _chain("AND so.id = ANY(%(order_ids)s)", SCOPE_MOVES, SCOPE_FEES)
    return SQL(f"INSERT INTO {CACHE_TABLE} ({names}) {chain} SELECT {names} FROM measures "  # noqa: S608
               f"ON CONFLICT (id) DO UPDATE SET {updates}", order_ids=list(order_ids or ()))
