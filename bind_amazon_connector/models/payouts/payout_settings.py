"""The payouts settings of a connection: their defaults from the Mexican chart of accounts (fee types and
their expense accounts, withholding accounts, the clearing account and journal, the suspense account), the
check that they are set before payouts are read, and the fee type of an Amazon fee.

Plain functions taking the connection (``amazon.account``); the connection's form and create call them.
"""
from odoo import Command
from odoo.exceptions import UserError
from odoo.tools.translate import LazyTranslate

from ...utils.settlement import norm
from ..connection.connection_journals import new_payouts_journal

_lt = LazyTranslate(__name__)

# Labels of the default fee types (one per line: Odoo's term extractor reads them so)
LABEL_COMMISSION = _lt("Referral commission")
LABEL_FBA = _lt("FBA fulfillment fees")
LABEL_SHIPPING = _lt("Shipping labels")
LABEL_STORAGE = _lt("FBA storage")
LABEL_ADS = _lt("Advertising")
LABEL_SUBSCRIPTION = _lt("Seller subscription")
LABEL_OTHER = _lt("Other Amazon services")

#: Default fee types: (Amazon breakdown types, label, l10n_mx account template id)
DEFAULT_FEE_TYPES = [
    ("Commission, ReferralFee, RefundCommission, VariableClosingFee, FixedClosingFee",
     LABEL_COMMISSION, "cuenta601_74"),
    ("FBAPerUnitFulfillmentFee, FBAPerOrderFulfillmentFee, FBAWeightBasedFee, FBAFees, FulfillmentFee, "
     "FBAPickAndPackFee", LABEL_FBA, "cuenta602_72_01"),
    ("ShippingChargeback, ShippingHB, ShippingLabel, ShippingLabelPurchase, ShippingServices, PostageBilling",
     LABEL_SHIPPING, "cuenta602_72_01"),
    ("FBAStorageFee, FBALongTermStorageFee, StorageFee, FBAStorageBilling, StorageRenewalBilling",
     LABEL_STORAGE, "cuenta601_84"),
    ("ProductAdsPayment, CostOfAdvertising, Advertising, SponsoredProducts, AdvertisingFee",
     LABEL_ADS, "cuenta602_61_01"),
    ("Subscription, SubscriptionFee", LABEL_SUBSCRIPTION, "cuenta601_60_01"),
    ("FBARemovalFee, FBADisposalFee, FBAInboundTransportationFee, FBAInboundConvenienceFee, DigitalServicesFee, "
     "FBAReturnProcessingFee, HighVolumeListingFee", LABEL_OTHER, "cuenta601_84"),
]


def chart_ref(account, xmlid):
    """The record ``xmlid`` of the Mexican chart template in the connection's company, or an empty one."""
    account.ensure_one()
    return account.env["account.chart.template"].with_company(account.company_id).ref(xmlid, raise_if_not_found=False)


def default_fee_tax(account):
    """The company's purchase IVA 16%, as a tax-included twin (Amazon's fee amounts include IVA)."""
    account.ensure_one()
    Tax = account.env["account.tax"].sudo()
    base = chart_ref(account, "tax14")
    if not base:
        base = Tax.search([
            *Tax._check_company_domain(account.company_id), ("type_tax_use", "=", "purchase"),
            ("amount_type", "=", "percent"), ("amount", "=", 16.0),
        ], limit=1)
    if not base:
        return Tax
    return base._amazon_price_included_twin()


def default_fee_lines(account):
    """Values of the default fee types (``amazon.fee.account``) the connection does not have yet."""
    account.ensure_one()
    fallback = chart_ref(account, "cuenta601_84") or account.env["account.account"].search([
        *account.env["account.account"]._check_company_domain(account.company_id),
        ("account_type", "=", "expense"),
    ], limit=1)
    if not fallback:
        return []
    tax = default_fee_tax(account)
    known = set()
    for fee in account.fee_account_ids:
        known |= fee._keys()
    lines = []
    for sequence, (types, label, xmlid) in enumerate(DEFAULT_FEE_TYPES, start=1):
        keys = [t.strip() for t in types.split(",") if norm(t) not in known]
        if not keys:
            continue
        lines.append({
            "sequence": sequence * 10,
            "name": account.env._(label),
            "fee_type": ", ".join(keys),
            "expense_account_id": (chart_ref(account, xmlid) or fallback).id,
            "tax_ids": [Command.set(tax.ids)],
        })
    return lines


def own_account(account, xmlid, codes, name, account_type, reconcile):
    """An account the Mexican chart lacks, created once per company (xml id of the addon) with the first
    free code of ``codes``."""
    account.ensure_one()
    company = account.company_id
    full_xmlid = f"bind_amazon_connector.{company.id}_{xmlid}"
    Account = account.env["account.account"].sudo().with_company(company)
    existing = account.env.ref(full_xmlid, raise_if_not_found=False)
    if existing:
        return existing
    taken = set(Account.search(Account._check_company_domain(company)).mapped("code"))
    code = next((c for c in codes if c not in taken), None)
    if not code:
        return Account
    record = Account.create({"name": name, "code": code, "account_type": account_type,
                             "reconcile": reconcile, "company_ids": [Command.set(company.ids)]})
    account.env["ir.model.data"].sudo()._update_xmlids([{"xml_id": full_xmlid, "record": record,
                                                         "noupdate": True}])
    return record


def default_iva_withheld_account(account):
    """IVA that Amazon withholds (Art. 18-J LIVA): the seller subtracts it from the month's IVA payable, so
    it has an account of its own, next to "IVA a favor" (113.01) but not mixed with it."""
    return own_account(
        account, "amazon_iva_withheld", [f"113.01.{n:02d}" for n in range(2, 100)],
        account.env._("IVA withheld by digital platforms"), "asset_current", False)


def default_clearing_account(account):
    return own_account(
        account, "amazon_clearing", [f"107.05.{n:02d}" for n in range(2, 100)] + ["107.99.01"],
        account.env._("Amazon settlements to receive"), "asset_current", True)


def default_clearing_journal(account, clearing):
    """A payouts journal of the connection's own, posting on the clearing account (connection_journals.py)."""
    return new_payouts_journal(account, clearing)


def apply_clearing_defaults(accounts):
    """The clearing account and journal, for connections made before they existed too (the payouts
    synchronisation calls it)."""
    for account in accounts.filtered(lambda a: not a.clearing_account_id or not a.clearing_journal_id):
        vals = {}
        if not account.clearing_account_id and account.company_id.chart_template:
            clearing = default_clearing_account(account)
            if clearing:
                vals["clearing_account_id"] = clearing.id
        clearing = account.clearing_account_id or account.env["account.account"].browse(
            vals.get("clearing_account_id"))
        if not account.clearing_journal_id and clearing:
            vals["clearing_journal_id"] = default_clearing_journal(account, clearing).id
        if vals:
            account.sudo().write(vals)


def apply_defaults(accounts):
    """Every payouts setting the connections lack, from the company's chart (on creation, and by the button
    that loads the default fee types)."""
    apply_clearing_defaults(accounts)
    for account in accounts:
        vals = {}
        if not account.withholding_iva_account_id and account.company_id.chart_template:
            iva = default_iva_withheld_account(account)
            if iva:
                vals["withholding_iva_account_id"] = iva.id
        if not account.withholding_isr_account_id:
            isr = chart_ref(account, "cuenta113_02_02")
            if isr:
                vals["withholding_isr_account_id"] = isr.id
        if not account.suspense_account_id:
            suspense = account.company_id.account_journal_suspense_account_id
            if suspense:
                vals["suspense_account_id"] = suspense.id
        if not account.fee_account_ids:
            lines = default_fee_lines(account)
            if lines:
                vals["fee_account_ids"] = [Command.create(line) for line in lines]
        if vals:
            account.sudo().write(vals)  # the chart's defaults, not a person's choice


def load_default_fee_accounts(accounts):
    """Add the fee types of the Mexican defaults that the connections do not have yet (and any other
    setting they lack)."""
    for account in accounts:
        lines = default_fee_lines(account)
        if lines:
            account.write({"fee_account_ids": [Command.create(line) for line in lines]})
        apply_defaults(account)
    return True


def fee_account_for(account, amazon_type):
    """The fee line (`amazon.fee.account`) of an Amazon fee type, or an empty record if unknown."""
    account.ensure_one()
    key = norm(amazon_type)
    for fee in account.fee_account_ids:
        if key in fee._keys():
            return fee
    return account.env["amazon.fee.account"]


def check_settings(account):
    """Raise UserError naming every setting the payouts need that the connection lacks."""
    account.ensure_one()
    _ = account.env._
    missing = []
    if not account.journal_id:
        missing.append(_("the account (bank or cash journal) receiving Amazon's payments"))
    if not account.amazon_partner_id:
        missing.append(_("the Amazon partner"))
    if not account.suspense_account_id:
        missing.append(_("the suspense account"))
    if not account.clearing_account_id:
        missing.append(_("the settlement clearing account"))
    if not account.clearing_journal_id:
        missing.append(_("the settlement journal"))
    if not account.withholding_iva_account_id:
        missing.append(_("the IVA withheld account"))
    if not account.withholding_isr_account_id:
        missing.append(_("the ISR withheld account"))
    if missing:
        raise UserError(_("Set %(what)s on the connection %(name)s before synchronizing payouts.",
                          what=", ".join(missing), name=account.name))
