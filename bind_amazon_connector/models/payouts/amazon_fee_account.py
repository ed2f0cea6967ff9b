from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ...utils.settlement import norm


class AmazonFeeAccount(models.Model):
    _name = "amazon.fee.account"
    _description = "Amazon Fee Type Account"
    _order = "sequence, id"
    _check_company_auto = True

    account_id = fields.Many2one("amazon.account", string="Connection", required=True, ondelete="cascade",
                                 index=True)
    company_id = fields.Many2one(related="account_id.company_id", store=True)
    sequence = fields.Integer(default=10)
    name = fields.Char(string="Label", required=True, help="Label of the line on Amazon's fee bill.")
    fee_type = fields.Char(
        string="Amazon fee types", required=True,
        help="Amazon's names of the fee (breakdown type), separated by commas, e.g. Commission, ReferralFee. "
        "Case, spaces and dashes do not matter.",
    )
    expense_account_id = fields.Many2one("account.account", string="Expense Account", required=True,
                                         check_company=True, domain="[('active', '=', True)]")
    tax_ids = fields.Many2many(
        "account.tax", string="Taxes included", check_company=True,
        domain="[('type_tax_use', '=', 'purchase')]",
        help="Taxes inside Amazon's amounts for this fee (Amazon Mexico charges 16% IVA on its fees). Use "
        "tax-included taxes so that the bill adds up to Amazon's amounts.",
    )

    def _keys(self):
        self.ensure_one()
        return {norm(part) for part in (self.fee_type or "").split(",") if norm(part)}

    @api.constrains("fee_type", "account_id")
    def _check_fee_type_once(self):
        for account in self.account_id:
            seen = {}
            for fee in account.fee_account_ids:
                for key in fee._keys():
                    if key in seen and seen[key] != fee:
                        raise ValidationError(self.env._(
                            "The Amazon fee type %(type)s is on two lines (%(a)s, %(b)s) of %(account)s.",
                            type=key, a=seen[key].name, b=fee.name, account=account.name))
                    seen[key] = fee
