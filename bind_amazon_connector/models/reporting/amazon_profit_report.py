"""Profitability of the Amazon sales: one row per product line of the orders the import created, with its net
sales, Amazon's fees by kind, refunds, cost of goods and margin. Exact right after any change: the rows of the
orders changed since they were stored are worked out at each search (``profit_store.py``); where each figure
comes from: ``profit_query.py``."""
from psycopg2 import errors

from odoo import api, fields, models, tools
from odoo.tools import SQL

from . import profit_store
from .profit_query import DEPENDS, profit_report_query


class AmazonProfitReport(models.Model):
    _name = "amazon.profit.report"
    _description = "Amazon Profitability"
    _auto = False
    _rec_name = "product_id"
    _order = "date desc, id desc"
    #: what the query reads: pending changes of these fields are written to the database before it runs
    _depends = DEPENDS

    line_id = fields.Many2one("sale.order.line", string="Order Line", readonly=True)
    order_id = fields.Many2one("sale.order", string="Sale Order", readonly=True)
    amazon_order_id = fields.Many2one("amazon.order", string="Amazon Order", readonly=True)
    account_id = fields.Many2one("amazon.account", string="Connection", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    marketplace_id = fields.Many2one("amazon.marketplace", string="Marketplace", readonly=True)
    product_id = fields.Many2one("product.product", string="Product", readonly=True)
    product_tmpl_id = fields.Many2one("product.template", string="Product Template", readonly=True)
    sku = fields.Char(string="SKU", readonly=True)
    date = fields.Datetime(string="Order Date", readonly=True)
    fulfillment_channel = fields.Selection([("fba", "FBA"), ("fbm", "FBM")], string="Fulfillment", readonly=True)
    customer_type = fields.Selection([("b2b", "B2B"), ("b2c", "B2C")], string="Customer Type", readonly=True,
                                     help="B2B: the customer has an RFC (Amazon Business).")
    currency_id = fields.Many2one("res.currency", string="Currency", readonly=True)
    order_currency_id = fields.Many2one("res.currency", string="Marketplace Currency", readonly=True)
    units = fields.Float(readonly=True, digits="Product Unit")
    net_sales = fields.Monetary(
        readonly=True, help="Invoiced without IVA, after promotions, in the company's currency (the order's "
        "untaxed amount while it is not invoiced).")
    net_sales_currency = fields.Monetary(string="Net Sales (Marketplace Currency)", readonly=True,
                                         currency_field="order_currency_id")
    promotion_amount = fields.Monetary(string="Promotions", readonly=True,
                                       help="Amazon promotions given on the line, without IVA (already "
                                       "subtracted from the net sales).")
    invoiced = fields.Boolean(readonly=True)
    refund_amount = fields.Monetary(string="Refunds", readonly=True,
                                    help="Credit notes of the order, without IVA.")
    fees_returned = fields.Monetary(string="Fees Given Back", readonly=True,
                                    help="Amazon fees given back with the refunds, without IVA (included in the "
                                    "fees).")
    refund_net = fields.Monetary(string="Refunds Net of Fees", readonly=True,
                                 help="Refunds less the fees Amazon gave back.")
    fee_referral = fields.Monetary(string="Referral Fees", readonly=True)
    fee_fulfillment = fields.Monetary(string="Fulfillment Fees", readonly=True)
    fee_shipping = fields.Monetary(string="Shipping Fees", readonly=True)
    fee_other = fields.Monetary(string="Other Fees", readonly=True)
    fee_total = fields.Monetary(string="Amazon Fees", readonly=True,
                                help="Amazon's fees of the order's payouts, without IVA, less what Amazon gave "
                                "back with refunds: what the fee bills book.")
    fee_iva = fields.Monetary(string="IVA on Fees", readonly=True,
                              help="The IVA Amazon charges on its fees: creditable, not a cost.")
    cogs = fields.Monetary(string="Cost of Goods", readonly=True,
                           help="Value of the delivered goods (stock valuation) less returns; units not "
                           "delivered yet and products not valued at the product's cost.")
    margin = fields.Monetary(readonly=True, help="Net sales - refunds - Amazon fees - cost of goods. Withholdings "
                             "(ISR, IVA) are taxes, not costs: not subtracted.")
    margin_percent = fields.Float(string="Margin (%)", readonly=True, aggregator="avg", digits=(16, 2),
                                  help="Margin / net sales, of the lines whose fees are known.")
    fees_pending = fields.Boolean(string="Fees Pending", readonly=True,
                                  help="Amazon has not paid the order yet: its fees are not known.")

    @property
    def _table_query(self):
        """The stored rows of the unchanged orders and the changed ones worked out now (``profit_store.py``)."""
        return profit_report_query()

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)  # a database view before 19.0.2.0
        # the stored rows and the triggers listing the changed orders, once every table exists; stored at once
        self.pool.post_init(self._install_store)

    def _install_store(self):
        profit_store.install(self.env.cr)
        profit_store.store_changed(self.env.cr)

    @api.model
    def _cron_store_changed(self):
        """Scheduled action: store the rows of the orders changed since the last run (they are exact meanwhile,
        worked out at each search). A conflict with another transaction storing them leaves them for the next
        run."""
        try:
            with self.env.cr.savepoint():
                profit_store.store_changed(self.env.cr)
        except (errors.SerializationFailure, errors.LockNotAvailable):
            return False
        return True

    @api.model
    def _read_group_select(self, aggregate_spec, query):
        """Margin % of a group: its margin over its net sales, of the lines whose fees are known (never the
        average of the lines' percentages)."""
        if aggregate_spec != "margin_percent:avg":
            return super()._read_group_select(aggregate_spec, query)
        margin = self._field_to_sql(self._table, "margin", query)
        sales = self._field_to_sql(self._table, "net_sales", query)
        pending = self._field_to_sql(self._table, "fees_pending", query)
        return SQL("100.0 * SUM(%(margin)s) FILTER (WHERE NOT %(pending)s) "
                   "/ NULLIF(SUM(%(sales)s) FILTER (WHERE NOT %(pending)s), 0)",
                   margin=margin, sales=sales, pending=pending)

    @api.model
    def _overview_figures(self, accounts, date_from, limit=5):
        """What the connections' overview cards show: {connection id: {"net_sales", "fees", "margin" (of the
        rows whose fees are known, as the report opens), "pending_sales" (net sales whose fees are pending),
        "products": the ``limit`` products with the lowest margin %, lowest first, as (product, net sales,
        margin, margin %)}} of the orders since ``date_from``. Read with the user's rights: nothing for a user
        who may not read the report, never another company's rows."""
        if not accounts or not self.has_access("read"):
            return {}
        figures = {}
        for account, product, pending, net_sales, fees, margin in self._read_group(
                [("account_id", "in", accounts.ids), ("date", ">=", date_from)],
                ["account_id", "product_id", "fees_pending"], ["net_sales:sum", "fee_total:sum", "margin:sum"]):
            mine = figures.setdefault(account.id, {"net_sales": 0.0, "fees": 0.0, "margin": 0.0,
                                                   "pending_sales": 0.0, "products": []})
            if pending:
                mine["pending_sales"] += net_sales
                continue
            mine["net_sales"] += net_sales
            mine["fees"] += fees
            mine["margin"] += margin
            mine["products"].append((product, net_sales, margin, 100.0 * margin / net_sales if net_sales else None))
        for mine in figures.values():
            mine["products"] = sorted(mine["products"], key=lambda p: (p[3] is None, p[3] or 0.0, p[2], p[0].id))
            mine["products"] = mine["products"][:limit]
        return figures
