from odoo import fields, models


class AccountMove(models.Model):
    _inherit = "account.move"

    amazon_settlement_id = fields.Many2one("amazon.settlement", string="Amazon Settlement", copy=False,
                                           index="btree_not_null", readonly=True, ondelete="set null")
    amazon_fee_bill = fields.Boolean(string="Amazon fee bill", copy=False, readonly=True,
                                     help="Vendor bill of Amazon's fees of a settlement.")
    amazon_cfdi_uuid = fields.Char(string="CFDI Fiscal Folio", copy=False, index="btree_not_null",
                                   help="UUID of the supplier's CFDI loaded with the commission invoice wizard.")

    _amazon_cfdi_uuid_unique = models.Constraint(
        "UNIQUE(amazon_cfdi_uuid)", "This CFDI (fiscal folio) is already recorded on another bill."
    )

    def _post(self, soft=True):
        posted = super()._post(soft=soft)
        invoices = posted.filtered(lambda m: m.move_type == "out_invoice")
        if invoices and not self.env.context.get("amazon_no_pay_on_post"):
            Account = self.env["amazon.account"].sudo()
            if Account.search_count([("register_payment_on_post", "=", True)], limit=1):
                for account, account_invoices in Account._amazon_accounts_of_invoices(invoices).items():
                    if account.register_payment_on_post:
                        account._register_amazon_payment(account_invoices)
        return posted
