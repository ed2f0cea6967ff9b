from odoo import api, fields, models

from ...utils.settlement import CATEGORIES


class AmazonSettlementLine(models.Model):
    _name = "amazon.settlement.line"
    _description = "Amazon Transaction Amount"
    _order = "transaction_id, id"

    transaction_id = fields.Many2one("amazon.settlement.transaction", required=True, ondelete="cascade",
                                     index=True, readonly=True)
    settlement_id = fields.Many2one(related="transaction_id.settlement_id", store=True, index=True)
    account_id = fields.Many2one(related="transaction_id.account_id", store=True, index=True)
    company_id = fields.Many2one(related="transaction_id.company_id", store=True)
    amazon_order_id = fields.Char(related="transaction_id.amazon_order_id")
    posted_date = fields.Datetime(related="transaction_id.posted_date")
    currency_id = fields.Many2one(related="transaction_id.currency_id")
    category = fields.Selection(CATEGORIES, required=True, readonly=True, index=True)
    amazon_type = fields.Char(string="Amazon type", readonly=True)
    path = fields.Char(string="Breakdown", readonly=True)
    amount = fields.Monetary(readonly=True, help="Amazon's sign: positive is money for the seller.")
    tax_amount = fields.Monetary(string="Tax inside", readonly=True,
                                 help="Amazon's own tax inside the amount (the IVA of a fee).")
    has_tax = fields.Boolean(string="Tax given by Amazon", readonly=True,
                             help="Amazon split this amount into its base and tax.")
    sku = fields.Char(string="SKU", readonly=True)
    quantity = fields.Integer(readonly=True)
    item_ref = fields.Char(string="Order item", readonly=True, help="Amazon's identifier of the order item.")
    charge = fields.Selection([("product", "Product"), ("shipping", "Shipping"), ("giftwrap", "Gift wrap")],
                              readonly=True, help="What a sale or refund amount pays for.")
    fee_account_id = fields.Many2one("amazon.fee.account", string="Fee type", readonly=True, ondelete="set null")
    is_unknown = fields.Boolean(string="Unknown type", readonly=True,
                                help="Amazon sent a type the connection does not know: booked to the suspense "
                                "account.")
    move_id = fields.Many2one("account.move", string="Booked in", readonly=True, ondelete="set null", index=True)
    # indexed: a payment's state change looks its lines up (``booked`` depends on it)
    payment_id = fields.Many2one("account.payment", string="Paid with", readonly=True, ondelete="set null",
                                 index="btree_not_null")
    booked = fields.Boolean(compute="_compute_booked", store=True)

    def _fee_tax_estimate(self, gross):
        """The IVA inside a fee Amazon did not split, charge by charge as Amazon computes it (the base rounded
        to the cent, the tax what is left), with the fee type's price-included tax."""
        self.ensure_one()
        taxes = self.fee_account_id.tax_ids
        if len(taxes) != 1 or taxes.amount_type != "percent" or not taxes.price_include:
            return 0.0
        currency = self.currency_id
        base = currency.round(gross / (1 + taxes.amount / 100.0))
        return currency.round(gross - base)

    @api.depends("move_id.state", "payment_id.state", "category", "transaction_id.state")
    def _compute_booked(self):
        for line in self:
            if line.category in ("sale", "refund"):
                line.booked = line.transaction_id.state == "done"
            elif line.category == "fee" and line.move_id:
                line.booked = line.move_id.state == "posted"
            elif line.payment_id:
                line.booked = line.payment_id.state not in ("draft", "canceled", "rejected")
            else:
                line.booked = False
