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

#: the customer of an Amazon Business order has an RFC; these are the SAT's generic ones
GENERIC_RFCS = ("XAXX010101000", "XEXX010101000")


def _in_list(values):
    return ", ".join("'%s'" % v.replace("'", "''") for v in values)


def profit_report_query():
    """The SELECT of the view (plain SQL text: no parameter, nothing from a user)."""
    kind = "regexp_replace(lower(COALESCE(fl.amazon_type, '')), '[^a-z0-9]', '', 'g')"
    kind_sql = "CASE " + " ".join(
        f"WHEN {kind} IN ({_in_list(keys)}) THEN '{name}'" for name, keys in FEE_KINDS.items()
    ) + " ELSE 'other' END"
    # the constants of this module only (Amazon's fee types, the SAT's generic RFCs): nothing from a user
    query = f"""
WITH lines AS (
    SELECT sol.id, sol.order_id, sol.product_id, sol.sequence, sol.name, sol.product_uom_qty,
           sol.price_subtotal, so.company_id, so.currency_rate,
           -- a promotion on the line itself (its discount, in percent): what it took off, without IVA
           CASE WHEN COALESCE(sol.discount, 0) <= 0 THEN 0
                WHEN sol.discount < 100 THEN sol.price_subtotal * sol.discount / (100 - sol.discount)
                ELSE sol.price_unit * sol.product_uom_qty END AS line_discount,
           (sol.amazon_order_item_id IS NOT NULL OR pt.type <> 'service') AS is_item,
           pt.is_storable,
           (imd.res_id IS NOT NULL) AS is_promotion
      FROM sale_order_line sol
      JOIN sale_order so ON so.id = sol.order_id AND so.amazon_order_id IS NOT NULL AND so.state = 'sale'
      JOIN product_product pp ON pp.id = sol.product_id
      JOIN product_template pt ON pt.id = pp.product_tmpl_id
      LEFT JOIN ir_model_data imd ON imd.module = 'bind_amazon_connector'
           AND imd.name = 'product_amazon_promotion' AND imd.model = 'product.product' AND imd.res_id = pp.id
     WHERE sol.display_type IS NULL AND NOT COALESCE(sol.is_downpayment, FALSE)
), blocks AS (
    SELECT l.*, GREATEST(COUNT(*) FILTER (WHERE l.is_item) OVER (
               PARTITION BY l.order_id ORDER BY l.sequence, l.id ROWS UNBOUNDED PRECEDING), 1) AS block
      FROM lines l
), folded AS (
    -- is_row: a column of its own, so that the planner does not estimate "id = row_id" as a few rows
    SELECT c.*, (c.id = c.row_id) AS is_row FROM (SELECT b.*, FIRST_VALUE(b.id) OVER (
               PARTITION BY b.order_id, b.block ORDER BY b.is_item DESC, b.sequence, b.id) AS row_id
      FROM blocks b) c
), rows_ AS (
    SELECT f.id, f.order_id, f.product_id, f.sequence, f.company_id, f.is_item, f.is_storable,
           f.product_uom_qty, f.name
      FROM folded f
     WHERE f.is_row
), firsts AS (
    SELECT DISTINCT ON (r.order_id) r.order_id, r.id AS row_id
      FROM rows_ r
     ORDER BY r.order_id, r.sequence, r.id
), invoiced AS (
    SELECT rel.order_line_id AS line_id, SUM(-aml.balance) AS amount, SUM(aml.price_subtotal) AS amount_currency
      FROM sale_order_line_invoice_rel rel
      JOIN account_move_line aml ON aml.id = rel.invoice_line_id AND aml.parent_state = 'posted'
           AND aml.display_type = 'product'
      JOIN account_move am ON am.id = aml.move_id AND am.move_type = 'out_invoice'
     WHERE rel.order_line_id IN (SELECT id FROM lines)
     GROUP BY rel.order_line_id
), sales AS (
    SELECT f.row_id,
           SUM(CASE WHEN inv.line_id IS NULL THEN f.price_subtotal / COALESCE(NULLIF(f.currency_rate, 0), 1)
                    ELSE inv.amount END) AS net_sales,
           SUM(COALESCE(inv.amount_currency, f.price_subtotal)) AS net_sales_currency,
           SUM(CASE WHEN NOT f.is_promotion THEN f.line_discount / COALESCE(NULLIF(f.currency_rate, 0), 1)
                    WHEN inv.line_id IS NULL THEN -f.price_subtotal / COALESCE(NULLIF(f.currency_rate, 0), 1)
                    ELSE -inv.amount END) AS promotion_amount,
           BOOL_AND(inv.line_id IS NOT NULL) AS invoiced
      FROM folded f
      LEFT JOIN invoiced inv ON inv.line_id = f.id
     GROUP BY f.row_id
), invoice_orders AS (
    SELECT DISTINCT ON (aml.move_id) aml.move_id, f.order_id
      FROM sale_order_line_invoice_rel rel
      JOIN folded f ON f.id = rel.order_line_id
      JOIN account_move_line aml ON aml.id = rel.invoice_line_id
     ORDER BY aml.move_id, f.order_id
), product_rows AS (
    SELECT DISTINCT ON (f.order_id, f.product_id) f.order_id, f.product_id, f.row_id
      FROM folded f
     ORDER BY f.order_id, f.product_id, f.sequence, f.id
), credit_lines AS (
    SELECT aml.id, aml.balance, aml.product_id, io.order_id,
           (SELECT MIN(f.row_id) FROM sale_order_line_invoice_rel rel JOIN folded f ON f.id = rel.order_line_id
             WHERE rel.invoice_line_id = aml.id) AS linked_row
      FROM account_move am
      JOIN account_move_line aml ON aml.move_id = am.id AND aml.display_type = 'product'
      LEFT JOIN invoice_orders io ON io.move_id = am.reversed_entry_id
     WHERE am.move_type = 'out_refund' AND am.state = 'posted'
), refunds AS (
    SELECT COALESCE(cl.linked_row, pr.row_id, fi.row_id) AS row_id, SUM(cl.balance) AS refund_amount
      FROM credit_lines cl
      LEFT JOIN product_rows pr ON pr.order_id = cl.order_id AND pr.product_id = cl.product_id
      LEFT JOIN firsts fi ON fi.order_id = cl.order_id
     WHERE COALESCE(cl.linked_row, pr.row_id, fi.row_id) IS NOT NULL
     GROUP BY 1
), fee_rates AS (
    SELECT rel.amazon_fee_account_id AS fee_id,
           CASE WHEN COUNT(*) = 1 AND BOOL_AND(t.amount_type = 'percent' AND t.amount > -100
                    AND COALESCE(t.price_include_override, c.account_price_include) = 'tax_included')
                THEN MAX(t.amount) END AS rate
      FROM account_tax_amazon_fee_account_rel rel
      JOIN account_tax t ON t.id = rel.account_tax_id
      JOIN res_company c ON c.id = t.company_id
     GROUP BY rel.amazon_fee_account_id
), fee_parts AS (
    SELECT t.account_id, t.amazon_order_id AS order_ref, COALESCE(fl.sku, '') AS sku, t.kind AS txn_kind,
           {kind_sql} AS fee_kind,
           CASE WHEN fr.rate IS NULL THEN -fl.amount
                WHEN fl.has_tax THEN -fl.amount + fl.tax_amount
                ELSE ROUND((-fl.amount / (1 + fr.rate / 100.0))::numeric, 2) END AS base,
           CASE WHEN fr.rate IS NULL THEN 0
                WHEN fl.has_tax THEN -fl.tax_amount
                ELSE -fl.amount - ROUND((-fl.amount / (1 + fr.rate / 100.0))::numeric, 2) END AS iva,
           t.currency_id
      FROM amazon_settlement_line fl
      JOIN amazon_settlement_transaction t ON t.id = fl.transaction_id
      LEFT JOIN fee_rates fr ON fr.fee_id = fl.fee_account_id
     WHERE fl.category = 'fee' AND t.state <> 'superseded' AND t.amazon_order_id IS NOT NULL
), fee_groups AS (
    SELECT fp.account_id, fp.order_ref, fp.sku, fp.currency_id,
           SUM(fp.base) FILTER (WHERE fp.fee_kind = 'referral') AS fee_referral,
           SUM(fp.base) FILTER (WHERE fp.fee_kind = 'fulfillment') AS fee_fulfillment,
           SUM(fp.base) FILTER (WHERE fp.fee_kind = 'shipping') AS fee_shipping,
           SUM(fp.base) FILTER (WHERE fp.fee_kind = 'other') AS fee_other,
           SUM(fp.iva) AS fee_iva,
           -SUM(fp.base) FILTER (WHERE fp.txn_kind = 'refund') AS fees_returned
      FROM fee_parts fp
     GROUP BY fp.account_id, fp.order_ref, fp.sku, fp.currency_id
), row_skus AS (
    SELECT r.id AS row_id, r.order_id, sk.sku, r.sequence
      FROM rows_ r
      JOIN sale_order so ON so.id = r.order_id
      JOIN amazon_order ao ON ao.id = so.amazon_order_id
      LEFT JOIN product_product pp ON pp.id = r.product_id
      CROSS JOIN LATERAL (SELECT COALESCE(
          SUBSTRING(r.name FROM '^\\[([^]]+)\\]'),
          (SELECT MIN(li.seller_sku) FROM amazon_listing li
            WHERE li.account_id = ao.account_id AND li.product_id = r.product_id),
          pp.default_code, '') AS sku) sk
), sku_rows AS (
    SELECT DISTINCT ON (rs.order_id, rs.sku) rs.order_id, rs.sku, rs.row_id
      FROM row_skus rs
     ORDER BY rs.order_id, rs.sku, rs.sequence, rs.row_id
), fees AS (
    SELECT COALESCE(rs.row_id, fi.row_id) AS row_id,
           SUM(fg.fee_referral / rate.r) AS fee_referral, SUM(fg.fee_fulfillment / rate.r) AS fee_fulfillment,
           SUM(fg.fee_shipping / rate.r) AS fee_shipping, SUM(fg.fee_other / rate.r) AS fee_other,
           SUM(fg.fee_iva / rate.r) AS fee_iva, SUM(fg.fees_returned / rate.r) AS fees_returned
      FROM fee_groups fg
      JOIN amazon_order ao ON ao.account_id = fg.account_id AND ao.name = fg.order_ref
      JOIN sale_order so ON so.amazon_order_id = ao.id AND so.state = 'sale'
      JOIN res_company c ON c.id = so.company_id
      JOIN firsts fi ON fi.order_id = so.id
      LEFT JOIN sku_rows rs ON rs.order_id = so.id AND rs.sku = fg.sku
      CROSS JOIN LATERAL (SELECT CASE WHEN fg.currency_id = c.currency_id THEN 1.0
                                      ELSE COALESCE(NULLIF(so.currency_rate, 0), 1) END AS r) rate
     GROUP BY 1
), known AS (
    SELECT DISTINCT t.account_id, t.amazon_order_id
      FROM amazon_settlement_transaction t
     WHERE t.kind = 'sale' AND t.state <> 'superseded' AND t.amazon_order_id IS NOT NULL
), moves AS (
    SELECT sm.sale_line_id AS line_id,
           SUM(CASE WHEN sm.is_out THEN sm.value
                    WHEN sm.is_in AND sm.origin_returned_move_id IS NOT NULL THEN -sm.value ELSE 0 END) AS value,
           SUM(CASE WHEN sm.is_out THEN sm.product_qty ELSE 0 END) AS out_qty
      FROM stock_move sm
     WHERE sm.state = 'done' AND sm.sale_line_id IN (SELECT id FROM rows_)
     GROUP BY sm.sale_line_id
), measures AS (
    SELECT r.id, r.order_id, r.product_id, r.company_id,
           CASE WHEN r.is_item THEN r.product_uom_qty ELSE 0 END AS units,
           COALESCE(s.net_sales, 0) AS net_sales,
           COALESCE(s.net_sales_currency, 0) AS net_sales_currency,
           COALESCE(s.promotion_amount, 0) AS promotion_amount,
           COALESCE(s.invoiced, FALSE) AS invoiced,
           COALESCE(rf.refund_amount, 0) AS refund_amount,
           COALESCE(fe.fee_referral, 0) AS fee_referral,
           COALESCE(fe.fee_fulfillment, 0) AS fee_fulfillment,
           COALESCE(fe.fee_shipping, 0) AS fee_shipping,
           COALESCE(fe.fee_other, 0) AS fee_other,
           COALESCE(fe.fee_iva, 0) AS fee_iva,
           COALESCE(fe.fees_returned, 0) AS fees_returned,
           CASE WHEN NOT r.is_item OR pt.type = 'service' THEN 0
                WHEN r.is_storable THEN COALESCE(m.value, 0)
                     + GREATEST(r.product_uom_qty - COALESCE(m.out_qty, 0), 0) * COALESCE(std.cost, 0)
                ELSE r.product_uom_qty * COALESCE(std.cost, 0) END AS cogs
      FROM rows_ r
      JOIN product_product pp ON pp.id = r.product_id
      JOIN product_template pt ON pt.id = pp.product_tmpl_id
      CROSS JOIN LATERAL (SELECT (pp.standard_price ->> r.company_id::text)::numeric AS cost) std
      LEFT JOIN sales s ON s.row_id = r.id
      LEFT JOIN refunds rf ON rf.row_id = r.id
      LEFT JOIN fees fe ON fe.row_id = r.id
      LEFT JOIN moves m ON m.line_id = r.id
)
SELECT me.id,
       me.id AS line_id,
       me.order_id,
       so.amazon_order_id,
       ao.account_id,
       me.company_id,
       ao.marketplace_id,
       me.product_id,
       pp.product_tmpl_id,
       rs.sku,
       so.date_order AS date,
       CASE WHEN ao.fulfillment_channel = 'amazon' THEN 'fba' ELSE 'fbm' END AS fulfillment_channel,
       CASE WHEN COALESCE(cp.vat, '') <> '' AND UPPER(cp.vat) NOT IN ({_in_list(GENERIC_RFCS)}) THEN 'b2b'
            ELSE 'b2c' END AS customer_type,
       c.currency_id,
       so.currency_id AS order_currency_id,
       me.units,
       me.net_sales,
       me.net_sales_currency,
       me.promotion_amount,
       me.invoiced,
       me.refund_amount,
       me.fees_returned,
       me.refund_amount - me.fees_returned AS refund_net,
       me.fee_referral,
       me.fee_fulfillment,
       me.fee_shipping,
       me.fee_other,
       me.fee_referral + me.fee_fulfillment + me.fee_shipping + me.fee_other AS fee_total,
       me.fee_iva,
       me.cogs,
       me.net_sales - me.refund_amount - me.fee_referral - me.fee_fulfillment - me.fee_shipping - me.fee_other
           - me.cogs AS margin,
       CASE WHEN me.net_sales = 0 THEN NULL
            ELSE 100.0 * (me.net_sales - me.refund_amount - me.fee_referral - me.fee_fulfillment
                          - me.fee_shipping - me.fee_other - me.cogs) / me.net_sales END AS margin_percent,
       (kn.account_id IS NULL) AS fees_pending
  FROM measures me
  JOIN sale_order so ON so.id = me.order_id
  JOIN amazon_order ao ON ao.id = so.amazon_order_id
  JOIN res_company c ON c.id = me.company_id
  JOIN product_product pp ON pp.id = me.product_id
  LEFT JOIN res_partner p ON p.id = so.partner_id
  LEFT JOIN res_partner cp ON cp.id = COALESCE(p.commercial_partner_id, p.id)
  LEFT JOIN row_skus rs ON rs.row_id = me.id
  LEFT JOIN known kn ON kn.account_id = ao.account_id AND kn.amazon_order_id = ao.name
"""  # noqa: S608
    return query
