import logging

import psycopg2

from odoo import fields, models
from odoo.exceptions import UserError, ValidationError

_logger = logging.getLogger(__name__)


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
        if not self.env.context.get("amazon_no_pay_on_post"):
            posted._amazon_pay_on_post()
        return posted

    def _amazon_pay_on_post(self):
        """Pay the posted invoices of Amazon orders whose connection pays on post.

        Runs for every invoice posted in the database, so the common case costs nothing: only invoices of a
        sale order of an Amazon order (or posted by a flow naming its connection) go further. Each
        connection's payments get their own savepoint: a payment that fails leaves its invoice posted and
        unpaid (said in its chatter; the payout synchronisation pays it when Amazon releases the money) and
        never fails the posting, nor the batch of orders that posted it.
        """
        invoices = self.filtered(lambda m: m.move_type == "out_invoice")
        if not invoices:
            return
        if not self.env.context.get("amazon_account_id"):
            invoices = invoices.filtered(lambda m: m.invoice_line_ids.sale_line_ids.order_id.amazon_order_id)
            if not invoices:
                return
        Account = self.env["amazon.account"].sudo()
        for account, account_invoices in Account._amazon_accounts_of_invoices(invoices).items():
            if not account.register_payment_on_post:
                continue
            try:
                with self.env.cr.savepoint():
                    account._register_amazon_payment(account_invoices)
            except (UserError, ValidationError, psycopg2.Error) as exc:
                # the savepoint has undone the payment; the invoice stays posted and says why
                _logger.warning("Amazon payment on post of %s failed: %s", account_invoices.mapped("name"), exc)
                for invoice in account_invoices:
                    invoice.sudo().message_post(body=self.env._(
                        "The payment of this Amazon invoice could not be registered: %s. It is paid when Amazon "
                        "releases the money.", exc))
