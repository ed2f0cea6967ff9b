import base64
import uuid
from decimal import Decimal

from odoo.exceptions import UserError
from odoo.tests import tagged

from spapi_simulator import factory

from ..models.payouts import payout_settings
from ..utils.cfdi import CfdiError, check_totals, parse_cfdi
from .common import AMAZON_RFC, CFDI_NS, COMPANY_RFC, AmazonFinanceCommon, build_cfdi

COMMISSION = [{"description": "Tarifas por referencia", "quantity": 1, "unit_price": 45.00, "iva": 0.16},
              {"description": "Tarifas de Logística de Amazon", "quantity": 2, "unit_price": 8.62, "iva": 0.16}]


@tagged("post_install", "-at_install")
class TestAmazonCfdi(AmazonFinanceCommon):
    """The commission invoice wizard: good CFDI 4.0 recorded and paid, every bad file refused."""

    def _wizard(self, xml, settlement=None, pdf=None):
        return self.env["amazon.commission.invoice.wizard"].create({
            "account_id": self.amazon.id,
            "settlement_id": settlement.id if settlement else False,
            "xml_file": base64.b64encode(xml),
            "xml_filename": "amazon.xml",
            "pdf_file": base64.b64encode(pdf) if pdf else False,
            "pdf_filename": "amazon.pdf" if pdf else False,
        })

    def _refused(self, xml, reason):
        before = self.env["account.move"].search_count([])
        partners = self.env["res.partner"].search_count([])
        wizard = self._wizard(xml)
        self.assertIn(reason, wizard.error or "", "the preview says why")
        with self.assertRaises(UserError) as caught:
            wizard.action_confirm()
        self.assertIn(reason, caught.exception.args[0])
        self.assertEqual(self.env["account.move"].search_count([]), before, "nothing created")
        self.assertEqual(self.env["res.partner"].search_count([]), partners)
        return caught.exception.args[0]

    # ------------------------------------------------------------------ parser

    def test_parser_reads_the_cfdi(self):
        uuid_ = str(uuid.uuid4())
        xml = build_cfdi(COMMISSION + [{"description": "Servicio retenido", "quantity": 1, "unit_price": 100.0,
                                        "iva": 0.16, "iva_withheld": 0.106667, "isr_withheld": 0.10}],
                         uuid_=uuid_)
        cfdi = parse_cfdi(xml)
        self.assertEqual(cfdi.version, "4.0")
        self.assertEqual(cfdi.uuid, uuid_.upper())
        self.assertEqual(cfdi.issuer_rfc, AMAZON_RFC)
        self.assertEqual(cfdi.receiver_rfc, COMPANY_RFC)
        self.assertEqual(cfdi.voucher_type, "I")
        self.assertEqual(cfdi.reference, "AMZ-1001")
        self.assertEqual(cfdi.date.isoformat(), "2024-06-30T12:00:00")
        self.assertEqual(len(cfdi.concepts), 3)
        self.assertEqual(cfdi.concepts[1].quantity, Decimal("2"))
        self.assertEqual(cfdi.concepts[1].amount, Decimal("17.24"))
        self.assertEqual(cfdi.subtotal, Decimal("162.24"))
        self.assertEqual(cfdi.iva_transferred, Decimal("25.96"))
        self.assertEqual(cfdi.iva_withheld, Decimal("10.67"))
        self.assertEqual(cfdi.isr_withheld, Decimal("10.00"))
        self.assertEqual(cfdi.total, Decimal("167.53"))
        self.assertEqual(check_totals(cfdi), [])

    def test_parser_codes(self):
        cases = [
            (b"%PDF-1.4 not xml", "not_xml"),
            (b"<factura><total>1</total></factura>", "not_cfdi"),
            (build_cfdi(COMMISSION, namespace="http://www.sat.gob.mx/cfd/3", version="3.3"), "not_cfdi40"),
            (build_cfdi(COMMISSION, version="3.3"), "not_cfdi40"),
            (build_cfdi(COMMISSION, stamp=False), "no_stamp"),
        ]
        for data, code in cases:
            with self.subTest(code=code), self.assertRaises(CfdiError) as caught:
                parse_cfdi(data)
            self.assertEqual(caught.exception.code, code)
        entity = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
                  b'<cfdi:Comprobante xmlns:cfdi="' + CFDI_NS.encode() + b'" Version="4.0">&e;</cfdi:Comprobante>')
        with self.assertRaises(CfdiError):
            parse_cfdi(entity)

    # ------------------------------------------------------------------ wizard: refusals

    def test_refuses_a_file_that_is_not_xml(self):
        self._refused(b"%PDF-1.7\n%binary", "not an XML file")

    def test_refuses_xml_that_is_not_a_cfdi(self):
        self._refused(b"<?xml version='1.0'?><invoice total='10'/>", "not a CFDI")

    def test_refuses_cfdi_33(self):
        self._refused(build_cfdi(COMMISSION, namespace="http://www.sat.gob.mx/cfd/3", version="3.3"),
                      "only CFDI 4.0 is accepted")

    def test_refuses_cfdi_without_stamp(self):
        self._refused(build_cfdi(COMMISSION, stamp=False), "TimbreFiscalDigital")

    def test_refuses_cfdi_of_another_receiver(self):
        message = self._refused(build_cfdi(COMMISSION, receiver_rfc="XAXX010101000"), "XAXX010101000")
        self.assertIn(COMPANY_RFC, message)

    def test_refuses_concepts_not_adding_up(self):
        message = self._refused(build_cfdi(COMMISSION, subtotal=70.00), "do not add up")
        self.assertIn("SubTotal", message)
        message = self._refused(build_cfdi(COMMISSION, total=999.99), "do not add up")
        self.assertIn("Total 999.99", message)

    def test_refuses_uuid_already_recorded(self):
        uuid_ = str(uuid.uuid4())
        self._wizard(build_cfdi(COMMISSION, uuid_=uuid_)).action_confirm()
        message = self._refused(build_cfdi(COMMISSION, uuid_=uuid_.lower(), folio="1002"), "already recorded")
        self.assertIn(uuid_.upper(), message)

    # ------------------------------------------------------------------ hostile or broken files

    def _with_total(self, value):
        """A CFDI whose Total attribute is ``value`` (everything else valid)."""
        xml = build_cfdi(COMMISSION).decode()
        return xml.replace('Total="72.20"', f'Total="{value}"', 1).encode()

    def test_refuses_nan_amount(self):
        self.assertIn(b'Total="NaN"', self._with_total("NaN"))
        self._refused(self._with_total("NaN"), "is not an amount")

    def test_refuses_signalling_nan_amount(self):
        self._refused(self._with_total("sNaN"), "is not an amount")

    def test_refuses_infinite_amount(self):
        self._refused(self._with_total("Infinity"), "is not an amount")
        self._refused(self._with_total("-Infinity"), "is not an amount")

    def test_refuses_huge_exponent(self):
        self._refused(self._with_total("1E+999999"), "is not an amount")

    def test_refuses_5000_digit_number(self):
        message = self._refused(self._with_total("9" * 5000), "is not an amount")
        self.assertLess(len(message), 500, "the reason does not repeat the 5,000 digits")

    def test_refuses_parameter_entities_with_external_dtd(self):
        xml = build_cfdi(COMMISSION).decode().split("?>", 1)[1]
        hostile = ('<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE cfdi:Comprobante [\n'
                   '<!ENTITY % remote SYSTEM "http://127.0.0.1:9/evil.dtd">\n%remote;\n]>' + xml)
        self._refused(hostile.encode(), "DOCTYPE")

    def test_refuses_internal_entities(self):
        xml = build_cfdi(COMMISSION).decode().split("?>", 1)[1]
        hostile = ('<?xml version="1.0"?><!DOCTYPE c [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
                   + xml.replace('Descripcion="Tarifas por referencia"', 'Descripcion="&b;"'))
        self._refused(hostile.encode(), "DOCTYPE")

    def test_refuses_xinclude(self):
        xml = build_cfdi(COMMISSION).decode()
        hostile = xml.replace("<cfdi:Conceptos>", '<cfdi:Conceptos><xi:include '
                              'xmlns:xi="http://www.w3.org/2001/XInclude" href="file:///etc/passwd" parse="text"/>')
        self.assertIn("xi:include", hostile)
        self._refused(hostile.encode(), "XInclude")

    def test_refuses_deep_nesting(self):
        xml = build_cfdi(COMMISSION).decode()
        deep = "<cfdi:Addenda>" + "<x>" * 300 + "</x>" * 300 + "</cfdi:Addenda></cfdi:Comprobante>"
        self._refused(xml.replace("</cfdi:Comprobante>", deep).encode(), "levels deep")

    def test_refuses_files_over_10_mib(self):
        xml = build_cfdi(COMMISSION).decode()
        big = xml.replace("</cfdi:Comprobante>", "<!--" + "x" * (10 * 1024 * 1024) + "--></cfdi:Comprobante>")
        self._refused(big.encode(), "10 MiB")

    def test_refuses_bad_base64(self):
        before = self.env["account.move"].search_count([])
        wizard = self._wizard(build_cfdi(COMMISSION))
        wizard.xml_file = b"PD94bWwg!!not*base64$$"
        self.assertIn("not valid base64", wizard.error)
        with self.assertRaises(UserError):
            wizard.action_confirm()
        self.assertEqual(self.env["account.move"].search_count([]), before)

    # ------------------------------------------------------------------ receiver checks

    def test_receiver_name_postal_code_and_regime_are_warnings_to_accept(self):
        xml = build_cfdi(COMMISSION, receiver_name="OTRA EMPRESA", receiver_zip="06600")
        wizard = self._wizard(xml)
        self.assertFalse(wizard.error)
        self.assertIn("OTRA EMPRESA", wizard.warnings)
        self.assertIn("06600", wizard.warnings)
        self.assertEqual(wizard.cfdi_use, "G03")
        self.assertIn("PPD", wizard.cfdi_payment)
        with self.assertRaises(UserError) as caught:
            wizard.action_confirm()
        self.assertIn("receiver differs", caught.exception.args[0])
        wizard.accept_warnings = True
        bill = self.env["account.move"].browse(wizard.action_confirm()["res_id"])
        self.assertEqual(bill.state, "posted")
        # the company's own data: no warning (the corporate regime is left out as CFDI 4.0 does)
        self.assertFalse(self._wizard(build_cfdi(COMMISSION)).warnings)
        if "l10n_mx_edi_fiscal_regime" in self.company._fields:
            self.company.l10n_mx_edi_fiscal_regime = "612"
            self.assertIn("612", self._wizard(build_cfdi(COMMISSION)).warnings)

    # ------------------------------------------------------------------ wizard: good files

    def test_creates_posts_pays_and_attaches(self):
        uuid_ = str(uuid.uuid4()).upper()
        pdf = b"%PDF-1.4\n% Amazon commission invoice\n"
        wizard = self._wizard(build_cfdi(COMMISSION, uuid_=uuid_), pdf=pdf)
        self.assertFalse(wizard.error)
        self.assertEqual(wizard.cfdi_uuid, uuid_)
        self.assertAlmostEqual(wizard.total, 72.20)
        self.assertAlmostEqual(wizard.iva_transferred, 9.96)
        self.assertFalse(wizard.match_move_id)
        action = wizard.action_confirm()
        bill = self.env["account.move"].browse(action["res_id"])
        self.assertEqual(bill.move_type, "in_invoice")
        self.assertEqual(bill.state, "posted")
        self.assertEqual(bill.amazon_cfdi_uuid, uuid_)
        self.assertEqual(bill.partner_id, self.env.ref("bind_amazon_connector.partner_amazon_mx"))
        self.assertEqual(bill.ref, "AMZ-1001")
        self.assertEqual(str(bill.invoice_date), "2024-06-30")
        self.assertAlmostEqual(bill.amount_untaxed, 62.24)
        self.assertAlmostEqual(bill.amount_tax, 9.96)
        self.assertAlmostEqual(bill.amount_total, 72.20)
        self.assertEqual(len(bill.invoice_line_ids), 2)
        referral, logistics = bill.invoice_line_ids.sorted("price_subtotal", reverse=True)
        self.assertEqual(referral.account_id, payout_settings.chart_ref(self.amazon, "cuenta601_74"))
        self.assertEqual(logistics.account_id, payout_settings.chart_ref(self.amazon, "cuenta602_72_01"),
                         "Spanish concept booked on the FBA fees' account")
        self.assertEqual(referral.tax_ids.amount, 16.0)
        self.assertFalse(referral.tax_ids.price_include)
        self.assertIn(bill.payment_state, ("paid", "in_payment"))
        payment = bill.matched_payment_ids
        self.assertEqual(payment.journal_id, self.amazon.clearing_journal_id, "paid inside Amazon's balance")
        attachments = self.env["ir.attachment"].search([("res_model", "=", "account.move"), ("res_id", "=", bill.id)])
        self.assertEqual(sorted(attachments.mapped("name")), ["amazon.pdf", "amazon.xml"])
        self.assertEqual(bill.message_main_attachment_id.name, "amazon.pdf")
        xml_attachment = attachments.filtered(lambda a: a.name == "amazon.xml")
        self.assertEqual(parse_cfdi(xml_attachment.raw).uuid, uuid_)

    def test_matches_the_fee_bill_of_the_settlement(self):
        group = self._group()
        order = factory.new_order_id()
        self._invoice(order, 348.00)
        self._sale(order, group, "348.00", "52.20", fba_fee="20.00")
        self._sync_payouts()
        settlement = self._settlement(group)
        fee_bill = settlement.move_ids
        self.assertEqual(fee_bill.state, "draft")
        self.assertAlmostEqual(fee_bill.amount_total, 72.20)
        bills_before = self.env["account.move"].search_count([("move_type", "=", "in_invoice")])

        uuid_ = str(uuid.uuid4()).upper()
        wizard = self._wizard(build_cfdi(COMMISSION, uuid_=uuid_), settlement=settlement)
        self.assertEqual(wizard.match_move_id, fee_bill)
        wizard.action_confirm()

        self.assertEqual(self.env["account.move"].search_count([("move_type", "=", "in_invoice")]), bills_before,
                         "no second bill")
        self.assertEqual(fee_bill.amazon_cfdi_uuid, uuid_)
        self.assertEqual(fee_bill.state, "posted")
        self.assertEqual(fee_bill.ref, "AMZ-1001")
        self.assertIn(fee_bill.payment_state, ("paid", "in_payment"))
        self.assertEqual(fee_bill.matched_payment_ids.journal_id, self.amazon.clearing_journal_id)
        self.assertTrue(self.env["ir.attachment"].search_count([
            ("res_model", "=", "account.move"), ("res_id", "=", fee_bill.id), ("name", "=", "amazon.xml")]))

        # the deposit comes: the settlement is booked with that bill, not a second one
        self._publish_deposit(group, 348.00 - 72.20)
        self._sync_payouts()
        self.assertEqual(settlement.state, "closed")
        self.assertEqual(settlement.move_ids, fee_bill)
        self.assertEqual(len(fee_bill.matched_payment_ids), 1, "paid once")
        self.assertTrue(settlement.is_reconciled, settlement.explanation)

    def test_different_totals_create_a_new_bill(self):
        group = self._group()
        order = factory.new_order_id()
        self._invoice(order, 348.00)
        self._sale(order, group, "348.00", "52.20")
        self._sync_payouts()
        settlement = self._settlement(group)
        fee_bill = settlement.move_ids
        wizard = self._wizard(build_cfdi(COMMISSION), settlement=settlement)
        self.assertFalse(wizard.match_move_id, "72.20 is not the 52.20 of the settlement's fees")
        # shown line by line, never recorded silently
        self.assertIn("Total: CFDI 72.20, bill 52.20", wizard.comparison)
        self.assertIn("<<", wizard.comparison, "the line that explains it is marked")
        self.assertAlmostEqual(wizard.bill_difference, 20.0)
        moves = self.env["account.move"].search_count([])
        with self.assertRaises(UserError) as caught:
            wizard.action_confirm()
        self.assertIn("does not match the fee bill", caught.exception.args[0])
        self.assertEqual(self.env["account.move"].search_count([]), moves)
        wizard.accept_difference = True
        action = wizard.action_confirm()
        self.assertNotEqual(action["res_id"], fee_bill.id)
        self.assertFalse(fee_bill.amazon_cfdi_uuid)

    def test_credit_note_cfdi_with_withholdings(self):
        # a CFDI of type E (egreso) becomes a vendor refund; withheld taxes map to the company's taxes
        xml = build_cfdi([{"description": "Bonificación de tarifas", "quantity": 1, "unit_price": 100.0,
                           "iva": 0.16}], voucher_type="E")
        action = self._wizard(xml).action_confirm()
        refund = self.env["account.move"].browse(action["res_id"])
        self.assertEqual(refund.move_type, "in_refund")
        self.assertAlmostEqual(refund.amount_total, 116.00)
        self.assertIn(refund.payment_state, ("paid", "in_payment"))
        wizard = self._wizard(build_cfdi([{"description": "Servicio", "quantity": 1, "unit_price": 1000.0,
                                           "iva": 0.16, "iva_withheld": 0.106667, "isr_withheld": 0.10}]))
        self.assertFalse(wizard.error)
        bill = self.env["account.move"].browse(wizard.action_confirm()["res_id"])
        self.assertAlmostEqual(bill.amount_total, 1160.00 - 106.67 - 100.00)
