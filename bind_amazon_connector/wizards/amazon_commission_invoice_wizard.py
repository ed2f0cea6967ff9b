"""Load Amazon's commission invoice (CFDI 4.0): the article's "create an expense loading the CFDI and register
its payment with the account of the integration"."""
import base64
import binascii
import unicodedata
from decimal import Decimal

from odoo import Command, api, fields, models
from odoo.exceptions import UserError

from ..models.connection.access import ACCOUNTANT, check_group
from ..models.payouts import clearing_payments, payout_settings
from ..utils.cfdi import (
    MAX_SIZE,
    TAX_IEPS,
    TAX_ISR,
    TAX_IVA,
    CfdiError,
    check_totals,
    normalize_rfc,
    parse_cfdi,
)
from ..utils.settlement import norm

#: Words of Amazon Mexico's CFDI concepts -> the Amazon fee type whose account books them.
CONCEPT_WORDS = [
    ("referencia", "Commission"), ("comision", "Commission"), ("cierre", "VariableClosingFee"),
    ("logistica", "FBAPerUnitFulfillmentFee"), ("cumplimiento", "FBAPerUnitFulfillmentFee"),
    ("almacen", "FBAStorageFee"), ("envio", "ShippingLabel"), ("guia", "ShippingLabel"),
    ("publicidad", "ProductAdsPayment"), ("anuncio", "ProductAdsPayment"), ("patrocinad", "ProductAdsPayment"),
    ("suscripcion", "Subscription"), ("mensualidad", "Subscription"), ("retiro", "FBARemovalFee"),
    ("eliminacion", "FBADisposalFee"),
]


class AmazonCommissionInvoiceWizard(models.TransientModel):
    _name = "amazon.commission.invoice.wizard"
    _description = "Load an Amazon Commission Invoice (CFDI)"

    account_id = fields.Many2one(
        "amazon.account", string="Connection", required=True,
        default=lambda self: self.env["amazon.account"].search([("company_id", "in", self.env.companies.ids)],
                                                               limit=1),
        help="Its account pays the invoice; its settlements hold the fee bills the CFDI can match.",
    )
    company_id = fields.Many2one(related="account_id.company_id")
    settlement_id = fields.Many2one(
        "amazon.settlement", string="Settlement", domain="[('account_id', '=', account_id)]",
        help="The settlement whose fees the invoice covers. Empty: any fee bill of the connection with the "
        "same totals.",
    )
    xml_file = fields.Binary(string="CFDI (XML)", required=True, attachment=False)
    xml_filename = fields.Char()
    pdf_file = fields.Binary(string="PDF", attachment=False)
    pdf_filename = fields.Char()

    # preview of what was read
    error = fields.Text(compute="_compute_preview")
    cfdi_uuid = fields.Char(string="Fiscal Folio (UUID)", compute="_compute_preview")
    issuer = fields.Char(compute="_compute_preview")
    receiver = fields.Char(compute="_compute_preview")
    cfdi_date = fields.Datetime(string="Date", compute="_compute_preview")
    cfdi_currency = fields.Char(string="Currency", compute="_compute_preview")
    subtotal = fields.Float(compute="_compute_preview", digits=(16, 2))
    iva_transferred = fields.Float(string="IVA transferred", compute="_compute_preview", digits=(16, 2))
    iva_withheld = fields.Float(string="IVA withheld", compute="_compute_preview", digits=(16, 2))
    isr_withheld = fields.Float(string="ISR withheld", compute="_compute_preview", digits=(16, 2))
    total = fields.Float(compute="_compute_preview", digits=(16, 2))
    concepts = fields.Text(compute="_compute_preview")
    match_move_id = fields.Many2one("account.move", string="Matching fee bill", compute="_compute_preview",
                                    help="The fee bill the CFDI will be attached to; empty: a new bill is created.")
    cfdi_reference = fields.Char(string="Series-Folio", compute="_compute_preview",
                                 help="Becomes the reference of the bill.")
    cfdi_use = fields.Char(string="CFDI use", compute="_compute_preview",
                           help="UsoCFDI the issuer chose, e.g. G03 (general expenses).")
    cfdi_payment = fields.Char(string="Payment method", compute="_compute_preview",
                               help="MetodoPago (PUE: paid in one payment, PPD: in instalments or deferred) and "
                               "FormaPago of the CFDI.")
    warnings = fields.Text(compute="_compute_preview",
                           help="What the SAT checks on the receiver and differs from the company.")
    accept_warnings = fields.Boolean(string="Record despite the warnings")
    comparison = fields.Text(string="Comparison with the fee bill", compute="_compute_preview",
                             help="The CFDI and the settlement's fee bill, line by line (base and IVA).")
    bill_difference = fields.Float(string="Difference with the fee bill", compute="_compute_preview",
                                   digits=(16, 2))
    accept_difference = fields.Boolean(
        string="Record as a separate bill",
        help="The CFDI differs from the settlement's fee bill by more than one cent: record it as a bill of its "
        "own anyway (the fee bill stays as Amazon reported the fees).")

    @api.model
    def _open_for(self, account, settlement=None):
        """The wizard on ``account`` (and ``settlement``), for accountants who may read the connection."""
        check_group(self.env, ACCOUNTANT)
        account.ensure_one()
        account.check_access("read")
        return {"type": "ir.actions.act_window", "name": self.env._("Load Amazon commission invoice (CFDI)"),
                "res_model": self._name, "view_mode": "form", "target": "new",
                "context": {"default_account_id": account.id,
                            "default_settlement_id": settlement.id if settlement else False}}

    @api.depends("xml_file", "account_id", "settlement_id")
    def _compute_preview(self):
        for wizard in self:
            values = dict.fromkeys(
                ("error", "cfdi_uuid", "issuer", "receiver", "cfdi_date", "cfdi_currency", "concepts"), False)
            values.update(dict.fromkeys(("subtotal", "iva_transferred", "iva_withheld", "isr_withheld", "total"), 0.0))
            values.update(match_move_id=False, cfdi_reference=False, cfdi_use=False, cfdi_payment=False,
                          warnings=False, comparison=False, bill_difference=0.0)
            if wizard.xml_file and wizard.account_id:
                try:
                    cfdi = wizard._read_cfdi()
                except UserError as exc:
                    values["error"] = exc.args[0]
                else:
                    values.update({
                        "cfdi_uuid": cfdi.uuid,
                        "issuer": f"{cfdi.issuer_name or ''} ({cfdi.issuer_rfc})",
                        "receiver": f"{cfdi.receiver_name or ''} ({cfdi.receiver_rfc})",
                        "cfdi_date": cfdi.date,
                        "cfdi_currency": cfdi.currency,
                        "subtotal": float(cfdi.subtotal - cfdi.discount),
                        "iva_transferred": float(cfdi.iva_transferred),
                        "iva_withheld": float(cfdi.iva_withheld),
                        "isr_withheld": float(cfdi.isr_withheld),
                        "total": float(cfdi.total),
                        "concepts": "\n".join(
                            f"{c.quantity.normalize():f} x {c.description}: {c.amount:.2f}" for c in cfdi.concepts),
                        "match_move_id": wizard._find_matching_bill(cfdi).id,
                        "cfdi_reference": cfdi.reference,
                        "cfdi_use": cfdi.receiver_use,
                        "cfdi_payment": " / ".join(v for v in (cfdi.payment_method, cfdi.payment_form) if v),
                        "warnings": "\n".join(wizard._receiver_warnings(cfdi)) or False,
                    })
                    reference = wizard._reference_bill(cfdi)
                    if reference and not values["match_move_id"]:
                        values["comparison"] = wizard._comparison_text(cfdi, reference)
                        values["bill_difference"] = float(cfdi.total) - reference.amount_total
            wizard.update(values)

    # ------------------------------------------------------------------ reading and checking

    def _decoded(self, field_name):
        value = self[field_name] or b""
        if isinstance(value, str):
            value = value.encode("ascii", "replace")
        # strict: a corrupted upload is refused, not decoded into something else
        value = b"".join(value.split())
        if len(value) > (MAX_SIZE * 4) // 3 + 8:
            raise UserError(self.env._("The file is larger than 10 MiB: no CFDI is."))
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise UserError(self.env._("The file could not be read: its content is not valid base64.")) from exc

    def _read_cfdi(self):
        """The parsed CFDI, or UserError with the reason it is refused. Creates nothing."""
        self.ensure_one()
        _ = self.env._
        try:
            cfdi = parse_cfdi(self._decoded("xml_file"))
        except CfdiError as exc:
            messages = {
                "not_xml": _("The file is not an XML file: a CFDI is the .xml file, not its PDF."),
                "not_cfdi": _("The XML file is not a CFDI (its root element is %s, not cfdi:Comprobante).",
                              exc.params.get("root", "?")),
                "not_cfdi40": _("The file is a CFDI version %s: only CFDI 4.0 is accepted.",
                                exc.params.get("version", "?")),
                "no_stamp": _("The CFDI has no TimbreFiscalDigital (fiscal stamp with its UUID): it was not "
                              "stamped by the SAT and cannot be recorded."),
                "bad_value": _("The CFDI is malformed: %s.", exc.args[0]),
                "unsafe": _("The file is refused: %s.", exc.args[0]),
            }
            raise UserError(messages.get(exc.code, str(exc))) from exc
        company_rfc = normalize_rfc(self.account_id.company_id.vat)
        if not company_rfc:
            raise UserError(_("Set the RFC (tax id) of %s before loading CFDI: it is compared with the receiver "
                              "of the invoice.", self.account_id.company_id.name))
        if cfdi.receiver_rfc != company_rfc:
            raise UserError(_(
                "The CFDI is addressed to the RFC %(receiver)s, not to %(company)s (%(rfc)s).",
                receiver=cfdi.receiver_rfc, company=self.account_id.company_id.name, rfc=company_rfc))
        if cfdi.voucher_type not in ("I", "E"):
            raise UserError(_(
                "The CFDI is of type %s: only invoices (I) and credit notes (E) can be recorded as Amazon bills.",
                cfdi.voucher_type or "?"))
        existing = self.env["account.move"].sudo().search([("amazon_cfdi_uuid", "=ilike", cfdi.uuid)], limit=1)
        if existing and existing.company_id not in self.env.user.company_ids:
            raise UserError(_("The CFDI %s is already recorded in another company.", cfdi.uuid))
        if existing:
            raise UserError(_("The CFDI %(uuid)s is already recorded on %(move)s (%(company)s).",
                              uuid=cfdi.uuid, move=existing.display_name, company=existing.company_id.name))
        problems = check_totals(cfdi)
        if problems:
            raise UserError(_("The concepts of the CFDI do not add up to its totals:\n%s",
                              "\n".join(self._problem_text(code, params) for code, params in problems)))
        currency = self.env["res.currency"].with_context(active_test=False).search([("name", "=", cfdi.currency)],
                                                                                   limit=1)
        if not currency:
            raise UserError(_("The currency %s of the CFDI is unknown.", cfdi.currency))
        return cfdi

    def _problem_text(self, code, params):
        _ = self.env._
        texts = {
            "concept_amount": lambda p: _(
                "concept %(index)s (%(description)s): Importe %(amount)s is not quantity x unit price (%(expected)s)",
                **p),
            "subtotal": lambda p: _("SubTotal %(declared)s, but the concepts add up to %(computed)s", **p),
            "discount": lambda p: _("Descuento %(declared)s, but the concepts' discounts add up to %(computed)s",
                                    **p),
            "transferred": lambda p: _("transferred taxes %(declared)s, but the concepts' add up to %(computed)s",
                                       **p),
            "withheld": lambda p: _("withheld taxes %(declared)s, but the concepts' add up to %(computed)s", **p),
            "total": lambda p: _("Total %(declared)s, but SubTotal - Descuento + taxes is %(computed)s", **p),
        }
        return "- " + texts[code](params) if code in texts else f"- {code}"

    @staticmethod
    def _plain_name(name):
        """A company name as the SAT compares it: upper case, no accents or punctuation, without the
        corporate regime ("S.A. de C.V.", "S. de R.L. de C.V."), which CFDI 4.0 leaves out."""
        text = unicodedata.normalize("NFKD", name or "").encode("ascii", "ignore").decode().upper()
        text = " ".join("".join(ch if ch.isalnum() else " " for ch in text).split())
        for suffix in ("S A P I DE C V", "SAPI DE CV", "S A B DE C V", "SAB DE CV", "S DE R L DE C V",
                       "S DE RL DE CV", "S A DE C V", "SA DE CV", "S C", "SC", "A C", "AC", "S A", "SA"):
            if text.endswith(" " + suffix):
                return text[: -len(suffix) - 1].strip()
        return text

    def _receiver_warnings(self, cfdi):
        """Receiver name, fiscal postal code and fiscal regime of the CFDI against the company's: the SAT
        rejects a CFDI 4.0 whose receiver data differ from its records, and an expense backed by it may not
        be deductible. Warnings: the accountant may know better (e.g. a name change in progress)."""
        _ = self.env._
        company = self.account_id.company_id
        warnings = []
        if cfdi.receiver_name and company.name and self._plain_name(cfdi.receiver_name) != \
                self._plain_name(company.name):
            warnings.append(_("Receiver name %(cfdi)s is not the company's name %(company)s.",
                              cfdi=cfdi.receiver_name, company=company.name))
        zip_code = (company.zip or "").strip()
        if cfdi.receiver_zip and zip_code and cfdi.receiver_zip != zip_code:
            warnings.append(_("Receiver fiscal postal code %(cfdi)s is not the company's (%(company)s).",
                              cfdi=cfdi.receiver_zip, company=zip_code))
        elif not cfdi.receiver_zip:
            warnings.append(_("The CFDI gives no receiver fiscal postal code (DomicilioFiscalReceptor)."))
        regime = company["l10n_mx_edi_fiscal_regime"] if "l10n_mx_edi_fiscal_regime" in company._fields else False
        if cfdi.receiver_regime and regime and cfdi.receiver_regime != regime:
            warnings.append(_("Receiver fiscal regime %(cfdi)s is not the company's (%(company)s).",
                              cfdi=cfdi.receiver_regime, company=regime))
        elif not cfdi.receiver_regime:
            warnings.append(_("The CFDI gives no receiver fiscal regime (RegimenFiscalReceptor)."))
        return warnings

    def _cfdi_groups(self, cfdi):
        """{expense account: [base, IVA]} of the CFDI's concepts."""
        groups = {}
        for concept in cfdi.concepts:
            account = self._concept_account(concept)
            group = groups.setdefault(account, [Decimal(0), Decimal(0)])
            group[0] += concept.amount - concept.discount
            group[1] += sum((t.amount for t in concept.transferred if t.tax == TAX_IVA), Decimal(0))
        return groups

    @staticmethod
    def _bill_groups(bill):
        """{expense account: [base, tax]} of a bill, as posted (Amazon's own IVA on a fee bill)."""
        groups = {}
        for line in bill.invoice_line_ids.filtered(lambda ln: ln.display_type == "product"):
            group = groups.setdefault(line.account_id, [Decimal(0), Decimal(0)])
            group[0] += Decimal(str(line.price_subtotal))
            group[1] += Decimal(str(line.price_total)) - Decimal(str(line.price_subtotal))
        return groups

    def _differences(self, cfdi, bill):
        """(label, CFDI amount, bill amount) of the totals that differ by more than one cent."""
        _ = self.env._
        cent = Decimal("0.01")
        pairs = [
            (_("Subtotal"), cfdi.subtotal - cfdi.discount, Decimal(str(bill.amount_untaxed))),
            (_("Taxes"), cfdi.total - cfdi.subtotal + cfdi.discount, Decimal(str(bill.amount_tax))),
            (_("Total"), cfdi.total, Decimal(str(bill.amount_total))),
        ]
        return [(label, a, b) for label, a, b in pairs if abs(a - b) > cent]

    def _comparison_text(self, cfdi, bill):
        """The CFDI and a fee bill side by side, per expense account, then the totals."""
        _ = self.env._
        cfdi_groups, bill_groups = self._cfdi_groups(cfdi), self._bill_groups(bill)
        lines = [_("CFDI %(cfdi)s against %(bill)s:", cfdi=cfdi.reference or cfdi.uuid, bill=bill.display_name)]
        for account in sorted(set(cfdi_groups) | set(bill_groups), key=lambda a: a.code or ""):
            c_base, c_tax = cfdi_groups.get(account, (Decimal(0), Decimal(0)))
            b_base, b_tax = bill_groups.get(account, (Decimal(0), Decimal(0)))
            mark = "" if abs(c_base - b_base) <= Decimal("0.01") and abs(c_tax - b_tax) <= Decimal("0.01") \
                else " <<"
            lines.append(_("- %(account)s: CFDI %(c_base).2f + IVA %(c_tax).2f; bill %(b_base).2f + IVA "
                           "%(b_tax).2f", account=account.display_name, c_base=c_base, c_tax=c_tax, b_base=b_base,
                           b_tax=b_tax) + mark)
        for label, a, b in self._differences(cfdi, bill):
            lines.append(_("%(label)s: CFDI %(cfdi).2f, bill %(bill).2f (difference %(diff).2f)", label=label,
                           cfdi=a, bill=b, diff=a - b))
        return "\n".join(lines)

    def _reference_bill(self, cfdi):
        """The settlement's fee bill the CFDI should match (the accountant chose the settlement)."""
        if not self.settlement_id:
            return self.env["account.move"]
        return self._candidate_bills(cfdi)[:1]

    def _move_type(self, cfdi):
        return "in_refund" if cfdi.voucher_type == "E" else "in_invoice"

    def _candidate_bills(self, cfdi):
        domain = [
            ("amazon_fee_bill", "=", True),
            ("amazon_cfdi_uuid", "=", False),
            ("state", "in", ("draft", "posted")),
            ("move_type", "=", self._move_type(cfdi)),
            ("company_id", "=", self.account_id.company_id.id),
            ("currency_id.name", "=", cfdi.currency),
        ]
        if self.settlement_id:
            domain.append(("amazon_settlement_id", "=", self.settlement_id.id))
        else:
            domain.append(("amazon_settlement_id.account_id", "=", self.account_id.id))
        return self.env["account.move"].search(domain, order="invoice_date, id")

    def _find_matching_bill(self, cfdi):
        """A fee bill of the settlement (or connection) from the CFDI's issuer whose subtotal, taxes and total
        are the CFDI's within one cent."""
        for bill in self._candidate_bills(cfdi):
            partner_rfc = normalize_rfc(bill.partner_id.commercial_partner_id.vat)
            if partner_rfc and partner_rfc != cfdi.issuer_rfc:
                continue
            if not self._differences(cfdi, bill):
                return bill
        return self.env["account.move"]

    # ------------------------------------------------------------------ creating the bill

    def _issuer_partner(self, cfdi):
        account = self.account_id
        Partner = self.env["res.partner"]
        amazon = account.amazon_partner_id
        if amazon and normalize_rfc(amazon.vat) == cfdi.issuer_rfc:
            return amazon
        for partner in Partner.search([
            ("vat", "ilike", cfdi.issuer_rfc), ("parent_id", "=", False),
            ("company_id", "in", (False, account.company_id.id)),
        ]):
            if normalize_rfc(partner.vat) == cfdi.issuer_rfc:
                return partner
        return Partner.create({
            "name": cfdi.issuer_name or cfdi.issuer_rfc,
            "vat": cfdi.issuer_rfc,
            "is_company": True,
            "country_id": self.env.ref("base.mx").id,
            "supplier_rank": 1,
        })

    def _find_tax(self, cfdi_tax, withheld):
        """The company's purchase tax for a CFDI tax (IVA 16 %, IVA 0 %, exempt, withheld IVA or ISR)."""
        company = self.account_id.company_id
        Tax = self.env["account.tax"]
        domain = [
            *Tax._check_company_domain(company), ("type_tax_use", "=", "purchase"), ("amount_type", "=", "percent"),
            ("price_include", "=", False),
        ]
        rate = (cfdi_tax.rate or Decimal(0)) * 100
        amount = -rate if withheld else rate
        tax_type = {TAX_IVA: "iva", TAX_ISR: "isr", TAX_IEPS: "ieps"}.get(cfdi_tax.tax)
        candidates = Tax.search(domain)
        exempt = cfdi_tax.factor == "Exento"
        for tax in candidates:
            if abs(tax.amount - float(amount)) > 0.0001:
                continue
            if "l10n_mx_tax_type" in tax._fields and tax_type and tax.l10n_mx_tax_type \
                    and tax.l10n_mx_tax_type != tax_type:
                continue
            if "l10n_mx_factor_type" in tax._fields and tax.l10n_mx_factor_type:
                if exempt != (tax.l10n_mx_factor_type == "Exento"):
                    continue
            return tax
        raise UserError(self.env._(
            "No purchase tax of %(rate)s%% for %(tax)s %(kind)s exists in %(company)s: create it, then load the "
            "CFDI again.",
            rate=f"{amount:g}", tax=cfdi_tax.name,
            kind=self.env._("withheld") if withheld else self.env._("transferred"), company=company.name))

    def _concept_account(self, concept):
        """Expense account of a concept: the fee type whose label or Amazon name the description mentions
        (Amazon Mexico describes its fees in Spanish: "Tarifa por referencia", "Tarifas de logística"...),
        else the referral commission's."""
        account = self.account_id
        text = norm(unicodedata.normalize("NFKD", concept.description or "").encode("ascii", "ignore").decode())
        fees = account.fee_account_ids
        for fee in fees:
            if fee.name and norm(fee.name) in text or any(key in text for key in fee._keys()):
                return fee.expense_account_id
        for word, amazon_type in CONCEPT_WORDS:
            if word in text:
                fee = payout_settings.fee_account_for(account, amazon_type)
                if fee:
                    return fee.expense_account_id
        commission = payout_settings.fee_account_for(account, "Commission") or fees[:1]
        if commission:
            return commission.expense_account_id
        raise UserError(self.env._("Set the fee accounts of the connection %s first.", account.name))

    def _prepare_bill_vals(self, cfdi, partner, currency):
        lines = []
        for concept in cfdi.concepts:
            taxes = self.env["account.tax"]
            for tax in concept.transferred:
                taxes |= self._find_tax(tax, withheld=False)
            for tax in concept.withheld:
                taxes |= self._find_tax(tax, withheld=True)
            discount = float(concept.discount / concept.amount * 100) if concept.amount and concept.discount else 0.0
            name = concept.description
            if concept.product_code:
                name = f"[{concept.product_code}] {name}"
            lines.append(Command.create({
                "name": name,
                "quantity": float(concept.quantity),
                "price_unit": float(concept.unit_price),
                "discount": discount,
                "account_id": self._concept_account(concept).id,
                "tax_ids": [Command.set(taxes.ids)],
            }))
        return {
            "move_type": self._move_type(cfdi),
            "partner_id": partner.id,
            "company_id": self.account_id.company_id.id,
            "currency_id": currency.id,
            "invoice_date": cfdi.date.date(),
            "ref": cfdi.reference,
            "amazon_settlement_id": self.settlement_id.id or False,
            "invoice_line_ids": lines,
        }

    def _attach(self, move):
        Attachment = self.env["ir.attachment"]
        attachments = Attachment.create({
            "name": self.xml_filename or f"{move.amazon_cfdi_uuid}.xml",
            "raw": self._decoded("xml_file"),
            "mimetype": "application/xml",
            "res_model": "account.move",
            "res_id": move.id,
        })
        if self.pdf_file:
            pdf = Attachment.create({
                "name": self.pdf_filename or f"{move.amazon_cfdi_uuid}.pdf",
                "raw": self._decoded("pdf_file"),
                "mimetype": "application/pdf",
                "res_model": "account.move",
                "res_id": move.id,
            })
            attachments |= pdf
            move.message_main_attachment_id = pdf
        elif not move.message_main_attachment_id:
            move.message_main_attachment_id = attachments[:1]
        return attachments

    def action_confirm(self):
        """Record the CFDI: match the settlement's fee bill or create the bill, post it, pay it from the
        connection's account, attach the XML and PDF."""
        check_group(self.env, ACCOUNTANT)
        self.ensure_one()
        account = self.account_id
        if not account.journal_id:
            raise UserError(self.env._("Choose the account (bank or cash journal) of the connection %s first: it "
                                       "pays the commission invoice.", account.name))
        cfdi = self._read_cfdi()
        if self.pdf_file and not self._decoded("pdf_file").startswith(b"%PDF"):
            raise UserError(self.env._("The PDF file is not a PDF."))
        warnings = self._receiver_warnings(cfdi)
        if warnings and not self.accept_warnings:
            raise UserError(self.env._(
                "The CFDI's receiver differs from the company:\n%s\nCheck it with Amazon, or tick \"Record "
                "despite the warnings\" if you know it is right.", "\n".join(warnings)))
        currency = self.env["res.currency"].with_context(active_test=False).search([("name", "=", cfdi.currency)],
                                                                                   limit=1)
        bill = self._find_matching_bill(cfdi)
        matched = bool(bill)
        reference = self._reference_bill(cfdi) if not bill else bill
        if not bill and reference and not self.accept_difference:
            # never posted silently: the accountant sees what differs and decides
            raise UserError(self.env._(
                "The CFDI does not match the fee bill of the settlement (more than one cent apart):\n%s\nAsk "
                "Amazon for the right CFDI, or tick \"Record as a separate bill\".",
                self._comparison_text(cfdi, reference)))
        if bill:
            # the CFDI's Serie-Folio is the reference the DIOT and the SAT know the bill by
            vals = {"amazon_cfdi_uuid": cfdi.uuid, "ref": cfdi.reference or bill.ref}
            if bill.state == "draft":
                vals["invoice_date"] = cfdi.date.date()
            bill.write(vals)
        else:
            # in a savepoint: a bill that does not come out at the CFDI's total leaves nothing behind
            with self.env.cr.savepoint():
                partner = self._issuer_partner(cfdi)
                bill = self.env["account.move"].create({
                    **self._prepare_bill_vals(cfdi, partner, currency), "amazon_cfdi_uuid": cfdi.uuid,
                })
                if currency.compare_amounts(bill.amount_total, float(cfdi.total)) != 0:
                    raise UserError(self.env._(
                        "The bill computed from the CFDI totals %(odoo)s but the CFDI says %(cfdi)s: check the "
                        "taxes of the company (nothing was recorded).",
                        odoo=f"{bill.amount_total:.2f}", cfdi=f"{cfdi.total:.2f}"))
        if bill.state == "draft":
            bill.action_post()
        attachments = self._attach(bill)
        date = (self.settlement_id or bill.amazon_settlement_id).deposit_date or cfdi.date.date()
        if bill.payment_state not in ("paid", "in_payment", "reversed"):
            clearing_payments.pay_moves(account.sudo().with_company(account.company_id), bill, date=date,
                                        memo=bill.ref)
        bill.message_post(
            body=self.env._("Amazon CFDI %(uuid)s loaded (%(how)s).", uuid=cfdi.uuid,
                            how=self.env._("matched the fee bill of the settlement") if matched
                            else self.env._("bill created from the CFDI")),
            attachment_ids=attachments.ids,
        )
        return {
            "type": "ir.actions.act_window",
            "res_model": "account.move",
            "res_id": bill.id,
            "view_mode": "form",
            "target": "current",
        }

    @api.model
    def _ensure_purchase_menu(self):
        """Purchase > Orders > Amazon Commission CFDI, when Purchase is installed (the addon does not depend on
        it; update the addon after installing Purchase to get the entry)."""
        parent = self.env.ref("purchase.menu_procurement_management", raise_if_not_found=False)
        action = self.env.ref("bind_amazon_connector.amazon_commission_invoice_wizard_action",
                              raise_if_not_found=False)
        if not parent or not action:
            return
        xmlid = "bind_amazon_connector.menu_purchase_amazon_commission_wizard"
        vals = {
            "name": "Amazon Commission CFDI",
            "parent_id": parent.id,
            "action": f"{action._name},{action.id}",
            "sequence": 50,
            "group_ids": [Command.set(self.env.ref("account.group_account_invoice").ids)],
        }
        menu = self.env.ref(xmlid, raise_if_not_found=False)
        if menu:
            menu.write(vals)
        else:
            menu = self.env["ir.ui.menu"].sudo().create(vals)
        self.env["ir.model.data"]._update_xmlids([{"xml_id": xmlid, "record": menu, "noupdate": True}])
