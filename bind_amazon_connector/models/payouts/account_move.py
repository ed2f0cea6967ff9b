from odoo import api, fields, models
from odoo.fields import Domain

from ..connection.access import ACCOUNTANT, AMAZON_USER, check_group
from ..connection.connection_journals import route_cash_basis_entries

#: who reads Amazon returns (security/ir.model.access.csv)
RETURN_READERS = f"{AMAZON_USER},stock.group_stock_user,{ACCOUNTANT}"


class AccountMove(models.Model):
    _inherit = "account.move"

    amazon_settlement_id = fields.Many2one("amazon.settlement", string="Amazon Settlement", copy=False,
                                           index="btree_not_null", readonly=True, ondelete="set null")
    amazon_fee_bill = fields.Boolean(string="Amazon fee bill", copy=False, readonly=True,
                                     help="Vendor bill of Amazon's fees of a settlement.")
    amazon_cfdi_uuid = fields.Char(string="CFDI Fiscal Folio", copy=False, index="btree_not_null",
                                   help="UUID of the supplier's CFDI loaded with the commission invoice wizard.")
    amazon_return_ids = fields.Many2many("amazon.return", string="Amazon Returns", compute="_compute_amazon_returns",
                                         groups=RETURN_READERS)
    amazon_return_count = fields.Integer(compute="_compute_amazon_returns", groups=RETURN_READERS)

    _amazon_cfdi_uuid_unique = models.Constraint(
        "UNIQUE(amazon_cfdi_uuid)", "This CFDI (fiscal folio) is already recorded on another bill."
    )

    @api.model_create_multi
    def create(self, vals_list):
        # Odoo books the cash-basis IVA of every payment in the company's cash-basis journal (CBMX), whose numbering
        # the payouts jobs of all connections would wait for: a connection's go to its own (connection_journals.py)
        if any(vals.get("tax_cash_basis_rec_id") for vals in vals_list):
            vals_list = route_cash_basis_entries(self.env, vals_list)
        return super().create(vals_list)

    def _compute_amazon_returns(self):
        """The Amazon returns a customer credit note credits, found by the keys both sides store (connection,
        Amazon order, SKU; sale order, product) and read as the user may (record rules apply)."""
        Return = self.env["amazon.return"]
        for move in self:
            domains = []
            found = move.sudo()
            if move.move_type == "out_refund" and move.id:
                txns = self.env["amazon.settlement.transaction"].sudo().search(
                    [("invoice_ids", "in", move.id), ("kind", "=", "refund")])
                for txn in txns:
                    skus = [ln.sku for ln in txn.line_ids if ln.category == "refund" and ln.sku]
                    domains.append([("account_id", "=", txn.account_id.id), ("order_ref", "=", txn.amazon_order_id)]
                                   + ([("sku", "in", skus)] if skus else []))
                sales = (found.invoice_line_ids | found.reversed_entry_id.invoice_line_ids).sale_line_ids.order_id
                products = found.invoice_line_ids.product_id
                if sales and products:
                    domains.append([("sale_order_id", "in", sales.ids), ("product_id", "in", products.ids)])
            move.amazon_return_ids = Return.search(Domain.OR(domains)) if domains else Return
            move.amazon_return_count = len(move.amazon_return_ids)

    def action_view_amazon_returns(self):
        """The Amazon returns of a credit note (who reads returns; the returns as the record rules allow)."""
        check_group(self.env, AMAZON_USER, "stock.group_stock_user", ACCOUNTANT)
        self.check_access("read")
        return {"type": "ir.actions.act_window", "name": self.env._("Amazon Returns"), "res_model": "amazon.return",
                "view_mode": "list,form", "domain": [("id", "in", self.amazon_return_ids.ids)]}
