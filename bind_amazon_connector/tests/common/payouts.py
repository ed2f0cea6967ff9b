"""Shared set-up of the payouts tests: simulator transactions and settlement reports, customer invoices of
Amazon orders, CFDI 4.0 documents built like the SAT's schema (Anexo 20) describes them."""
import copy
import uuid
from datetime import timedelta

from lxml import etree

from odoo import Command, fields
from odoo.tests import tagged

from spapi_simulator import factory

from .connection import AmazonTestCommon

SETTLEMENT_REPORT = "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2"
COMPANY_RFC = "EKU9003173C9"
AMAZON_RFC = "ANE140618P37"
CFDI_NS = "http://www.sat.gob.mx/cfd/4"
TFD_NS = "http://www.sat.gob.mx/TimbreFiscalDigital"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"


def _money(value):
    return f"{value:.2f}"


def build_cfdi(concepts, *, uuid_=None, receiver_rfc=COMPANY_RFC, issuer_rfc=AMAZON_RFC, version="4.0",
               namespace=CFDI_NS, stamp=True, voucher_type="I", date="2024-06-30T12:00:00", currency="MXN",
               subtotal=None, total=None, series="AMZ", folio="1001", receiver_name="ESCUELA KEMPER URGATE",
               receiver_zip="26015", receiver_regime="601"):
    """The bytes of a CFDI 4.0 as the SAT's schema lays it out (Comprobante > Emisor, Receptor, Conceptos,
    Impuestos, Complemento/TimbreFiscalDigital), computed from ``concepts``:
    ``[{"description", "quantity", "unit_price", "iva": 0.16 or None, "iva_withheld": rate, "isr_withheld": rate}]``.
    ``subtotal`` / ``total`` override the computed totals (to build documents that do not add up)."""
    nsmap = {"cfdi": namespace, "xsi": XSI_NS}
    cfdi = lambda tag: f"{{{namespace}}}{tag}"  # noqa: E731
    computed_subtotal = 0.0
    transferred = {}
    withheld = {}
    concept_nodes = []
    for c in concepts:
        amount = round(c["quantity"] * c["unit_price"], 2)
        computed_subtotal += amount
        node = etree.Element(cfdi("Concepto"), {
            "ClaveProdServ": c.get("code", "80141600"), "NoIdentificacion": c.get("ref", "FEE"),
            "Cantidad": f"{c['quantity']:g}", "ClaveUnidad": "E48", "Unidad": "Servicio",
            "Descripcion": c["description"], "ValorUnitario": _money(c["unit_price"]), "Importe": _money(amount),
            "ObjetoImp": "02" if c.get("iva") is not None else "01",
        })
        if c.get("iva") is not None or c.get("iva_withheld") or c.get("isr_withheld"):
            taxes = etree.SubElement(node, cfdi("Impuestos"))
            if c.get("iva") is not None:
                tras = etree.SubElement(etree.SubElement(taxes, cfdi("Traslados")), cfdi("Traslado"))
                iva = c.get("iva_amount", round(amount * c["iva"], 2))
                tras.attrib.update({"Base": _money(amount), "Impuesto": "002", "TipoFactor": "Tasa",
                                    "TasaOCuota": f"{c['iva']:.6f}", "Importe": _money(iva)})
                transferred[("002", c["iva"])] = transferred.get(("002", c["iva"]), (0.0, 0.0))
                base, tax = transferred[("002", c["iva"])]
                transferred[("002", c["iva"])] = (base + amount, tax + iva)
            if c.get("iva_withheld") or c.get("isr_withheld"):
                rets = etree.SubElement(taxes, cfdi("Retenciones"))
                for code, key in (("002", "iva_withheld"), ("001", "isr_withheld")):
                    if c.get(key):
                        value = round(amount * c[key], 2)
                        etree.SubElement(rets, cfdi("Retencion"), {
                            "Base": _money(amount), "Impuesto": code, "TipoFactor": "Tasa",
                            "TasaOCuota": f"{c[key]:.6f}", "Importe": _money(value)})
                        withheld[code] = withheld.get(code, 0.0) + value
        concept_nodes.append(node)
    total_transferred = sum(t for _b, t in transferred.values())
    total_withheld = sum(withheld.values())
    subtotal = computed_subtotal if subtotal is None else subtotal
    total = round(computed_subtotal + total_transferred - total_withheld, 2) if total is None else total
    root = etree.Element(cfdi("Comprobante"), nsmap=nsmap)
    root.set(f"{{{XSI_NS}}}schemaLocation",
             f"{namespace} http://www.sat.gob.mx/sitio_internet/cfd/4/cfdv40.xsd")
    root.attrib.update({
        "Version": version, "Serie": series, "Folio": folio, "Fecha": date, "Sello": "c2VsbG8=",
        "FormaPago": "99", "NoCertificado": "30001000000500003416", "Certificado": "Y2VydGlmaWNhZG8=",
        "SubTotal": _money(subtotal), "Moneda": currency, "Total": _money(total),
        "TipoDeComprobante": voucher_type, "Exportacion": "01", "MetodoPago": "PPD", "LugarExpedicion": "06600",
    })
    etree.SubElement(root, cfdi("Emisor"), {
        "Rfc": issuer_rfc, "Nombre": "SERVICIOS COMERCIALES AMAZON MEXICO", "RegimenFiscal": "601"})
    etree.SubElement(root, cfdi("Receptor"), {
        "Rfc": receiver_rfc, "Nombre": receiver_name, "DomicilioFiscalReceptor": receiver_zip,
        "RegimenFiscalReceptor": receiver_regime, "UsoCFDI": "G03"})
    conceptos = etree.SubElement(root, cfdi("Conceptos"))
    for node in concept_nodes:
        conceptos.append(node)
    if transferred or withheld:
        attrs = {}
        if withheld:
            attrs["TotalImpuestosRetenidos"] = _money(total_withheld)
        if transferred:
            attrs["TotalImpuestosTrasladados"] = _money(total_transferred)
        impuestos = etree.SubElement(root, cfdi("Impuestos"), attrs)
        if withheld:
            rets = etree.SubElement(impuestos, cfdi("Retenciones"))
            for code, value in sorted(withheld.items()):
                etree.SubElement(rets, cfdi("Retencion"), {"Impuesto": code, "Importe": _money(value)})
        if transferred:
            tras = etree.SubElement(impuestos, cfdi("Traslados"))
            for (code, rate), (base, tax) in sorted(transferred.items()):
                etree.SubElement(tras, cfdi("Traslado"), {
                    "Base": _money(base), "Impuesto": code, "TipoFactor": "Tasa", "TasaOCuota": f"{rate:.6f}",
                    "Importe": _money(tax)})
    if stamp:
        complemento = etree.SubElement(root, cfdi("Complemento"))
        etree.SubElement(complemento, f"{{{TFD_NS}}}TimbreFiscalDigital", {
            f"{{{XSI_NS}}}schemaLocation": f"{TFD_NS} http://www.sat.gob.mx/sitio_internet/cfd/"
                                           "TimbreFiscalDigital/TimbreFiscalDigitalv11.xsd",
            "Version": "1.1", "UUID": uuid_ or str(uuid.uuid4()).upper(), "FechaTimbrado": "2024-06-30T12:05:00",
            "RfcProvCertif": "SAT970701NN3", "SelloCFD": "c2VsbG8=", "NoCertificadoSAT": "30001000000500003456",
            "SelloSAT": "c2VsbG9TQVQ=",
        }, nsmap={"tfd": TFD_NS})
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


@tagged("post_install", "-at_install")
class AmazonFinanceCommon(AmazonTestCommon):
    """`cls.amazon` reads payouts from ten days ago; each test starts with no transaction at Amazon."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # the receiver of the CFDI built below, as the SAT knows it (name without its corporate regime)
        cls.company.write({"vat": COMPANY_RFC, "name": "Escuela Kemper Urgate, S.A. de C.V.", "zip": "26015"})
        cls.amazon.finance_start_date = fields.Datetime.now() - timedelta(days=10)
        cls.sale_tax = cls.company.account_sale_tax_id._amazon_price_included_twin()
        cls.customer = cls.env["res.partner"].create({"name": "Ana López Hernández"})
        cls.fees = {fee.name: fee for fee in cls.amazon.fee_account_ids}

    def setUp(self):
        super().setUp()
        state = self.sim.state
        with state.lock:
            state.transactions.clear()
            state.reports.clear()
            state.report_documents.clear()

    # ------------------------------------------------------------------ Amazon side

    @staticmethod
    def _group():
        return "FEG-" + uuid.uuid4().hex[:12]

    def _sale(self, order_id, group, principal, commission, *, fba_fee="0.00", iva=None, isr=None, withheld=None,
              status="RELEASED", posted=None, transaction_type="Shipment", **kw):
        """A released sale (or refund) at Amazon; IVA / ISR withheld as separate breakdowns when given."""
        txn = factory.make_transaction(
            order_id, group_id=group, principal=principal, commission=commission, fba_fee=fba_fee,
            withheld_tax=withheld or "0.00", status=status, transaction_type=transaction_type,
            posted=posted or (self.sim.now() - timedelta(days=1)), seller_id=self.sim.seller_id, **kw)
        if iva is not None or isr is not None:
            txn = self._with_withholdings(txn, iva or "0.00", isr or "0.00")
        return self.sim.add_transaction(txn)

    @staticmethod
    def _with_withholdings(txn, iva, isr):
        """Amazon Mexico's IVA and ISR withheld, as a TaxWithholding breakdown with its two parts."""
        txn = copy.deepcopy(txn)
        currency = txn["totalAmount"]["currencyCode"]
        iva_d, isr_d = factory.dec(iva), factory.dec(isr)
        parts = []
        for name, value in (("IVA", iva_d), ("ISR", isr_d)):
            if value:
                parts.append({"breakdownType": name, "breakdownAmount": factory._cur(-value, currency),
                              "breakdowns": []})
        txn["breakdowns"] = [b for b in txn["breakdowns"] if b["breakdownType"] != "TaxWithholding"]
        txn["breakdowns"].append({"breakdownType": "TaxWithholding",
                                  "breakdownAmount": factory._cur(-(iva_d + isr_d), currency), "breakdowns": parts})
        total = factory.dec(txn["totalAmount"]["currencyAmount"]) - iva_d - isr_d
        txn["totalAmount"] = factory._cur(total, currency)
        for item in txn.get("items", []):
            item["breakdowns"] = txn["breakdowns"]
            item["totalAmount"] = txn["totalAmount"]
        return txn

    def _other(self, group, transaction_type, amount, description=None, breakdowns=None):
        """A transaction of another type (fee, reimbursement...) in a settlement."""
        currency = "MXN"
        txn = {
            "sellingPartnerMetadata": {"sellingPartnerId": self.sim.seller_id, "accountType": "PAYABLE",
                                       "marketplaceId": factory.MX},
            "relatedIdentifiers": [{"relatedIdentifierName": "FINANCIAL_EVENT_GROUP_ID",
                                    "relatedIdentifierValue": group}],
            "transactionType": transaction_type,
            "transactionId": "SIMTXN-" + uuid.uuid4().hex[:16],
            "transactionStatus": "RELEASED",
            "description": description or transaction_type,
            "postedDate": factory.iso(self.sim.now() - timedelta(days=1)),
            "totalAmount": factory._cur(amount, currency),
            "marketplaceDetails": {"marketplaceId": factory.MX, "marketplaceName": "Amazon.com.mx"},
            "breakdowns": breakdowns or [],
        }
        return self.sim.add_transaction(txn)

    def _publish_deposit(self, group, amount, deposit_date=None):
        """Amazon's V2 settlement report of ``group``: its summary row gives the deposit."""
        deposit = deposit_date or (self.sim.now() - timedelta(hours=2))
        start = self.sim.now() - timedelta(days=14)
        columns = ["settlement-id", "settlement-start-date", "settlement-end-date", "deposit-date", "total-amount",
                   "currency", "transaction-type", "order-id", "amount-type", "amount-description", "amount"]
        summary = [group, start.strftime("%Y-%m-%d %H:%M:%S UTC"), deposit.strftime("%Y-%m-%d %H:%M:%S UTC"),
                   deposit.strftime("%Y-%m-%d %H:%M:%S UTC"), f"{amount:.2f}", "MXN", "", "", "", "", ""]
        text = "\t".join(columns) + "\r\n" + "\t".join(summary) + "\r\n"
        existing = self.sim.state.report_documents.get(SETTLEMENT_REPORT)
        if existing:  # one document per report type in the simulator: keep every summary row
            text = existing[0].decode("cp1252") + "\t".join(summary) + "\r\n"
        self.sim.set_report_document(SETTLEMENT_REPORT, text, encoding="cp1252")

    # ------------------------------------------------------------------ Odoo side

    def _invoice(self, order_id, amount, post=True):
        """A customer invoice of an Amazon order (tax included), linked as
        `order_invoices.find_order_invoices` expects."""
        invoice = self.env["account.move"].create({
            "move_type": "out_invoice",
            "partner_id": self.customer.id,
            "invoice_date": fields.Date.today() - timedelta(days=3),
            "ref": order_id,
            "invoice_line_ids": [Command.create({
                "name": "Taza de cerámica", "quantity": 1, "price_unit": amount,
                "tax_ids": [Command.set(self.sale_tax.ids)],
            })],
        })
        if post:
            invoice.action_post()
        return invoice

    def _order_invoice(self, order_id, amount, post=True):
        """:meth:`_invoice` of an Amazon order of the connection, through its sale order (as the orders flow
        makes them): what paying on post pays."""
        record = self.env["amazon.order"].sudo().create({"name": order_id, "account_id": self.amazon.id})
        product = self.env["product.product"].create({"name": "Taza de cerámica", "type": "consu"})
        sale_order = self.env["sale.order"].sudo().create({
            "partner_id": self.customer.id, "amazon_order_id": record.id,
            "order_line": [Command.create({"product_id": product.id, "product_uom_qty": 1, "price_unit": amount,
                                           "tax_ids": [Command.set(self.sale_tax.ids)]})],
        })
        invoice = self._invoice(order_id, amount, post=False)
        invoice.invoice_line_ids.sale_line_ids = sale_order.order_line
        if post:
            invoice.action_post()
        return invoice

    def _sync_payouts(self, account=None):
        """The connection's button: read Amazon's transactions and book them."""
        account = (account or self.amazon).with_context(amazon_pacing_speed=self.sim_speed)
        return self.env["amazon.payout.sync"].with_context(**account.env.context)._read_and_book(account)

    def _settlement(self, group, account=None):
        return self.env["amazon.settlement"].search([
            ("account_id", "=", (account or self.amazon).id), ("name", "=", group)])

    def _txn(self, sim_txn):
        return self.env["amazon.settlement.transaction"].search([
            ("account_id", "=", self.amazon.id), ("name", "=", sim_txn["transactionId"])])

    def _payments_in_journal(self, moves):
        lines = moves.line_ids.filtered(lambda ln: ln.account_id.account_type == "asset_receivable")
        partials = lines.matched_debit_ids | lines.matched_credit_ids
        counterparts = (partials.debit_move_id | partials.credit_move_id) - lines
        return counterparts.move_id.origin_payment_id
