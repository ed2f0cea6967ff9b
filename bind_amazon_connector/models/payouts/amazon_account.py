"""The connection's payouts settings (the article's "Cuenta"): fee accounts, withholding accounts, the
settlement clearing account and journal, the start date, paying on post; the payouts flow's status; and the
buttons of its tab. The flow itself is ``amazon.payout.sync``."""
from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..connection.access import ACCOUNTANT, AMAZON_MANAGER, AMAZON_USER, check_group
from ..connection.amazon_account import default_history_start
from . import payout_settings


class AmazonAccount(models.Model):
    _inherit = "amazon.account"

    register_payment_on_post = fields.Boolean(
        string="Register payment when invoiced",
        help="Pay Amazon invoices into the account as soon as they are posted, without waiting for Amazon to "
        "release the money (simpler, but the receivables no longer show what Amazon still owes).",
    )
    amazon_partner_id = fields.Many2one(
        "res.partner", string="Amazon Partner",
        default=lambda self: self.env.ref("bind_amazon_connector.partner_amazon_mx", raise_if_not_found=False),
        help="Vendor of the fee bills and commission invoices (Servicios Comerciales Amazon México).",
    )
    fee_account_ids = fields.One2many("amazon.fee.account", "account_id", string="Fee accounts")
    withholding_iva_account_id = fields.Many2one(
        "account.account", string="IVA withheld account", check_company=True,
        help="Creditable IVA that Amazon withheld from the sales (to credit against the IVA due).",
    )
    withholding_isr_account_id = fields.Many2one(
        "account.account", string="ISR withheld account", check_company=True,
        help="ISR that Amazon withheld (creditable against the provisional ISR payments).",
    )
    clearing_account_id = fields.Many2one(
        "account.account", string="Settlement clearing account", check_company=True,
        help="What Amazon owes the seller until it deposits a settlement: sales paid, less refunds, fees and "
        "withholdings, less the deposits. Its balance is the money Amazon still holds (deferred sales too).",
    )
    clearing_journal_id = fields.Many2one(
        "account.journal", string="Settlement journal", check_company=True,
        domain="[('type', 'in', ('bank', 'cash'))]",
        help="Journal of the payments made inside Amazon's balance (sales, refunds, fees, withholdings); they "
        "go to the clearing account, so the bank journal only receives the deposits.",
    )
    suspense_account_id = fields.Many2one(
        "account.account", string="Suspense account", check_company=True,
        help="Receives the amounts of types the connection does not know, until the accountant moves them.",
    )
    finance_start_date = fields.Datetime(
        string="Read payouts from", default=default_history_start,
        help="The first payout synchronisation reads Amazon's transactions posted since this date (by default "
        "the last 30 days).",
    )
    # kept on the payouts flow's progress row (amazon.sync.cursor), not on the connection's: see that model
    finance_sync_date = fields.Datetime(
        string="Payouts read until", copy=False, readonly=True, compute_sudo=True,
        compute="_compute_payouts_progress", inverse="_inverse_payouts_progress")
    finance_last_error = fields.Text(
        string="Last payout error", copy=False, readonly=True, compute_sudo=True,
        compute="_compute_payouts_progress", inverse="_inverse_payouts_progress")
    settlement_ids = fields.One2many("amazon.settlement", "account_id", string="Settlements")
    settlement_count = fields.Integer(compute="_compute_settlement_count")
    unreconciled_count = fields.Integer(compute="_compute_settlement_count")

    @api.depends("settlement_ids.is_reconciled", "settlement_ids.deposit_date")
    def _compute_settlement_count(self):
        for account in self:
            account.settlement_count = len(account.settlement_ids)
            account.unreconciled_count = len(account.settlement_ids.filtered(
                lambda s: s.deposit_date and not s.is_reconciled))

    @api.depends("sync_cursor_ids.flow", "sync_cursor_ids.cursor", "sync_cursor_ids.message")
    def _compute_payouts_progress(self):
        for account in self:
            row = account.sync_cursor_ids.filtered(lambda c: c.flow == "payouts")[:1]
            account.finance_sync_date = row.cursor
            account.finance_last_error = row.message

    def _inverse_payouts_progress(self):
        for account in self:
            # a cursor set by hand counts as read at that moment
            self.env["amazon.payout.sync"]._progress(account, cursor=account.finance_sync_date,
                                                     last_sync=account.finance_sync_date,
                                                     message=account.finance_last_error)

    @api.constrains("clearing_journal_id", "journal_id")
    def _check_clearing_journal(self):
        for account in self:
            if account.clearing_journal_id and account.clearing_journal_id == account.journal_id:
                raise ValidationError(self.env._(
                    "The settlement journal of %s must not be its bank account: the deposits go to the bank, "
                    "everything else stays inside Amazon's balance.", account.name))

    @api.model_create_multi
    def create(self, vals_list):
        accounts = super().create(vals_list)
        payout_settings.apply_defaults(accounts)
        return accounts

    # ------------------------------------------------------------------ buttons

    def action_sync_finances(self):
        """Button: read Amazon's transactions and settlement reports now, and book them."""
        check_group(self.env, AMAZON_USER)
        check_group(self.env, ACCOUNTANT, message=self.env._("Only accountants book Amazon payouts."))
        self.ensure_one()
        self.check_access("read")
        return self.env["amazon.payout.sync"]._sync_now(self)

    def action_load_default_fee_accounts(self):
        """Add the fee types of the Mexican defaults that the connection does not have yet."""
        check_group(self.env, AMAZON_MANAGER)
        self.check_access("write")
        return payout_settings.load_default_fee_accounts(self)

    def action_view_settlements(self):
        check_group(self.env, AMAZON_USER, ACCOUNTANT)
        self.ensure_one()
        self.check_access("read")
        action = self.env["ir.actions.act_window"]._for_xml_id("bind_amazon_connector.amazon_settlement_action")
        action["domain"] = [("account_id", "=", self.id)]
        action["context"] = {"default_account_id": self.id}
        return action

    def action_open_commission_wizard(self, settlement=None):
        check_group(self.env, ACCOUNTANT)
        self.ensure_one()
        self.check_access("read")
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Load Amazon commission invoice (CFDI)"),
            "res_model": "amazon.commission.invoice.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_account_id": self.id, "default_settlement_id": settlement.id if settlement else False},
        }
