"""Reading Amazon's CFDI 4.0 commission invoices: plain Python with lxml, no ORM.

`parse_cfdi` turns the bytes of an XML file into a `Cfdi` or raises `CfdiError` whose ``code`` says why
the file is refused (the wizard turns codes into translated messages):

- ``not_xml``: the file is not well-formed XML;
- ``not_cfdi``: XML, but not a SAT *Comprobante*;
- ``not_cfdi40``: a CFDI of another version (3.3, 3.2) or a 4.0 namespace with another ``Version``;
- ``no_stamp``: no *TimbreFiscalDigital* (so no fiscal folio / UUID): not a stamped CFDI;
- ``bad_value``: an amount or date that is not a number / date (``NaN``, ``Infinity``, exponents and
  numbers longer than any SAT amount are refused);
- ``unsafe``: a construct a CFDI never has and an attacker uses: a DOCTYPE (entities, external DTD),
  XInclude, nesting deeper than ``MAX_DEPTH``, a file larger than ``MAX_SIZE``.

`check_totals` lists the inconsistencies between the concepts and the totals of a parsed CFDI (empty when
the document adds up), following the Anexo 20 rules (SubTotal is the sum of the concepts' Importe, Descuento
the sum of theirs, the taxes of the Impuestos node the sum of the concepts' taxes, and Total = SubTotal -
Descuento + transferred - withheld taxes).
"""
import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation

from lxml import etree

CFDI_NS = "http://www.sat.gob.mx/cfd/4"
CFDI33_NS = "http://www.sat.gob.mx/cfd/3"
TFD_NS = "http://www.sat.gob.mx/TimbreFiscalDigital"
NS = {"cfdi": CFDI_NS, "tfd": TFD_NS}

#: SAT c_Impuesto codes
TAX_ISR = "001"
TAX_IVA = "002"
TAX_IEPS = "003"
TAX_NAMES = {TAX_ISR: "ISR", TAX_IVA: "IVA", TAX_IEPS: "IEPS"}

CENT = Decimal("0.01")
#: tolerance of the Anexo 20 sums (amounts are rounded to the currency's two decimals per concept)
TOLERANCE = Decimal("0.01")

_UUID_RE = re.compile(r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$")
MAX_SIZE = 10 * 1024 * 1024
#: a CFDI is about six levels deep (Comprobante/Conceptos/Concepto/Impuestos/Traslados/Traslado + addenda)
MAX_DEPTH = 256
#: SAT amounts (t_Importe and friends): plain decimals, at most 18 integer digits and 6 decimals; no sign
#: but a discount or rate may be written "-0.00" by some issuers, so a sign is tolerated
_NUMBER_RE = re.compile(r"^[+-]?[0-9]{1,18}(\.[0-9]{1,6})?$")
XINCLUDE_NS = ("http://www.w3.org/2001/XInclude", "http://www.w3.org/2003/XInclude")


class CfdiError(ValueError):
    """A file refused as a CFDI 4.0. ``code`` is one of the module's documented codes; ``params`` details."""

    def __init__(self, code, message, **params):
        super().__init__(message)
        self.code = code
        self.params = params


@dataclass(frozen=True)
class CfdiTax:
    """A transferred (Traslado) or withheld (Retencion) tax of a concept or of the whole document."""

    tax: str  # c_Impuesto: 001 ISR, 002 IVA, 003 IEPS
    factor: str | None  # Tasa, Cuota, Exento
    rate: Decimal | None  # TasaOCuota, e.g. 0.160000
    base: Decimal | None
    amount: Decimal  # Importe (0 for Exento)

    @property
    def name(self):
        return TAX_NAMES.get(self.tax, self.tax)


@dataclass(frozen=True)
class CfdiConcept:
    product_code: str | None  # ClaveProdServ
    identification: str | None  # NoIdentificacion
    quantity: Decimal
    unit_code: str | None  # ClaveUnidad
    unit: str | None
    description: str
    unit_price: Decimal  # ValorUnitario
    amount: Decimal  # Importe = Cantidad x ValorUnitario
    discount: Decimal  # Descuento
    tax_object: str | None  # ObjetoImp
    transferred: tuple[CfdiTax, ...] = ()
    withheld: tuple[CfdiTax, ...] = ()


@dataclass(frozen=True)
class Cfdi:
    version: str
    uuid: str  # upper case
    date: datetime  # Fecha (local time of the issuer, naive)
    stamp_date: datetime | None
    voucher_type: str  # TipoDeComprobante: I ingreso, E egreso, T traslado, N nomina, P pago
    series: str | None
    folio: str | None
    currency: str
    exchange_rate: Decimal | None
    payment_form: str | None  # FormaPago
    payment_method: str | None  # MetodoPago (PUE / PPD)
    issuer_rfc: str
    issuer_name: str | None
    issuer_regime: str | None
    receiver_rfc: str
    receiver_name: str | None
    receiver_use: str | None  # UsoCFDI
    subtotal: Decimal
    discount: Decimal
    total: Decimal
    total_transferred: Decimal | None  # TotalImpuestosTrasladados
    total_withheld: Decimal | None  # TotalImpuestosRetenidos
    concepts: tuple[CfdiConcept, ...]
    transferred: tuple[CfdiTax, ...] = ()  # document-level Impuestos/Traslados
    withheld: tuple[CfdiTax, ...] = ()  # document-level Impuestos/Retenciones
    related_uuids: tuple[str, ...] = ()
    receiver_zip: str | None = None  # DomicilioFiscalReceptor (postal code)
    receiver_regime: str | None = None  # RegimenFiscalReceptor (c_RegimenFiscal)
    extra: dict = field(default_factory=dict, compare=False)

    @property
    def reference(self):
        """Series and folio as printed on the invoice ("A-123"), or the UUID."""
        number = "-".join(p for p in (self.series, self.folio) if p)
        return number or self.uuid

    def _concept_taxes(self, kind, tax):
        return sum((t.amount for c in self.concepts for t in getattr(c, kind) if t.tax == tax), Decimal(0))

    @property
    def iva_transferred(self):
        return self._concept_taxes("transferred", TAX_IVA)

    @property
    def ieps_transferred(self):
        return self._concept_taxes("transferred", TAX_IEPS)

    @property
    def iva_withheld(self):
        return self._concept_taxes("withheld", TAX_IVA)

    @property
    def isr_withheld(self):
        return self._concept_taxes("withheld", TAX_ISR)


def normalize_rfc(value):
    """An RFC as the SAT writes it: upper case, no spaces, dashes or ``MX`` VAT prefix."""
    if not value:
        return ""
    text = re.sub(r"[\s\-_.]", "", str(value)).upper()
    if text.startswith("MX") and len(text) in (14, 15):  # "MX" + RFC of 12 (moral) or 13 (fisica) characters
        text = text[2:]
    return text


def _dec(node, attr, required=False, default=None):
    raw = node.get(attr)
    if raw is None or raw.strip() == "":
        if required:
            raise CfdiError("bad_value", f"{attr} is missing", attribute=attr)
        return default
    text = raw.strip()
    shown = text if len(text) <= 40 else text[:40] + "..."
    if not _NUMBER_RE.match(text):
        # NaN, sNaN, Infinity, 1E+999999 and 5,000-digit numbers are valid for Decimal but no SAT amount
        raise CfdiError("bad_value", f"{attr} is not an amount: {shown!r}", attribute=attr, value=shown)
    try:
        return Decimal(text)
    except InvalidOperation as exc:
        raise CfdiError("bad_value", f"{attr} is not a number: {shown!r}", attribute=attr, value=shown) from exc


def _date(node, attr, required=False):
    raw = (node.get(attr) or "").strip()
    if not raw:
        if required:
            raise CfdiError("bad_value", f"{attr} is missing", attribute=attr)
        return None
    try:
        value = datetime.fromisoformat(raw[:-1] + "+00:00" if raw.endswith("Z") else raw)
    except ValueError as exc:
        raise CfdiError("bad_value", f"{attr} is not a date: {raw!r}", attribute=attr, value=raw) from exc
    return value.replace(tzinfo=None)


def _taxes(parent, container, element):
    out = []
    if parent is None:
        return ()
    for node in parent.findall(f"cfdi:{container}/cfdi:{element}", NS):
        factor = node.get("TipoFactor")
        out.append(CfdiTax(
            tax=(node.get("Impuesto") or "").strip(),
            factor=factor,
            rate=_dec(node, "TasaOCuota"),
            base=_dec(node, "Base"),
            amount=_dec(node, "Importe", default=Decimal(0)),
        ))
    return tuple(out)


def _concept(node):
    taxes = node.find("cfdi:Impuestos", NS)
    return CfdiConcept(
        product_code=node.get("ClaveProdServ"),
        identification=node.get("NoIdentificacion"),
        quantity=_dec(node, "Cantidad", required=True),
        unit_code=node.get("ClaveUnidad"),
        unit=node.get("Unidad"),
        description=(node.get("Descripcion") or "").strip(),
        unit_price=_dec(node, "ValorUnitario", required=True),
        amount=_dec(node, "Importe", required=True),
        discount=_dec(node, "Descuento", default=Decimal(0)),
        tax_object=node.get("ObjetoImp"),
        transferred=_taxes(taxes, "Traslados", "Traslado"),
        withheld=_taxes(taxes, "Retenciones", "Retencion"),
    )


def parse_cfdi(data):
    """Parse the bytes of a CFDI 4.0 XML file; raise `CfdiError` when it is not one."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    if data and len(data) > MAX_SIZE:
        raise CfdiError("unsafe", "the file is larger than 10 MiB: no CFDI is", reason="size")
    if not data or not data.strip():
        raise CfdiError("not_xml", "the file is empty")
    # no entities, no network, no DTD: a hostile file cannot read files or reach the network
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                             remove_blank_text=True, dtd_validation=False, attribute_defaults=False)
    try:
        root = etree.fromstring(data, parser=parser)
    except etree.XMLSyntaxError as exc:
        if "depth" in str(exc).lower():  # libxml2 stops at its own nesting limit
            raise CfdiError("unsafe", f"the file nests elements more than {MAX_DEPTH} levels deep",
                            reason="depth") from exc
        raise CfdiError("not_xml", f"not well-formed XML: {exc}") from exc
    if root is None or not isinstance(root.tag, str):
        raise CfdiError("not_xml", "no XML document")
    _check_safe(root)
    qname = etree.QName(root)
    if qname.localname != "Comprobante" or qname.namespace not in (CFDI_NS, CFDI33_NS):
        raise CfdiError("not_cfdi", f"the root element is {qname.localname}, not a SAT Comprobante",
                        root=qname.localname)
    version = (root.get("Version") or root.get("version") or "").strip()
    if qname.namespace != CFDI_NS or version != "4.0":
        raise CfdiError("not_cfdi40", f"CFDI version {version or '?'}, not 4.0", version=version or "?")

    stamp = root.find("cfdi:Complemento/tfd:TimbreFiscalDigital", NS)
    if stamp is None:
        stamp = root.find(".//tfd:TimbreFiscalDigital", NS)
    uuid = (stamp.get("UUID") or "").strip() if stamp is not None else ""
    if stamp is None or not _UUID_RE.match(uuid):
        raise CfdiError("no_stamp", "no TimbreFiscalDigital with a UUID: the CFDI is not stamped by the SAT")

    issuer = root.find("cfdi:Emisor", NS)
    receiver = root.find("cfdi:Receptor", NS)
    if issuer is None or receiver is None:
        raise CfdiError("not_cfdi40", "the CFDI has no Emisor or Receptor", version=version)
    concepts = tuple(_concept(n) for n in root.findall("cfdi:Conceptos/cfdi:Concepto", NS))
    if not concepts:
        raise CfdiError("bad_value", "the CFDI has no Concepto", attribute="Conceptos")
    taxes = root.find("cfdi:Impuestos", NS)
    related = tuple(
        (n.get("UUID") or "").strip().upper()
        for n in root.findall("cfdi:CfdiRelacionados/cfdi:CfdiRelacionado", NS)
        if n.get("UUID")
    )
    return Cfdi(
        version=version,
        uuid=uuid.upper(),
        date=_date(root, "Fecha", required=True),
        stamp_date=_date(stamp, "FechaTimbrado"),
        voucher_type=(root.get("TipoDeComprobante") or "").strip().upper(),
        series=root.get("Serie"),
        folio=root.get("Folio"),
        currency=(root.get("Moneda") or "MXN").strip().upper(),
        exchange_rate=_dec(root, "TipoCambio"),
        payment_form=root.get("FormaPago"),
        payment_method=root.get("MetodoPago"),
        issuer_rfc=normalize_rfc(issuer.get("Rfc")),
        issuer_name=(issuer.get("Nombre") or "").strip() or None,
        issuer_regime=issuer.get("RegimenFiscal"),
        receiver_rfc=normalize_rfc(receiver.get("Rfc")),
        receiver_name=(receiver.get("Nombre") or "").strip() or None,
        receiver_use=receiver.get("UsoCFDI"),
        receiver_zip=(receiver.get("DomicilioFiscalReceptor") or "").strip() or None,
        receiver_regime=(receiver.get("RegimenFiscalReceptor") or "").strip() or None,
        subtotal=_dec(root, "SubTotal", required=True),
        discount=_dec(root, "Descuento", default=Decimal(0)),
        total=_dec(root, "Total", required=True),
        total_transferred=_dec(taxes, "TotalImpuestosTrasladados") if taxes is not None else None,
        total_withheld=_dec(taxes, "TotalImpuestosRetenidos") if taxes is not None else None,
        concepts=concepts,
        transferred=_taxes(taxes, "Traslados", "Traslado") if taxes is not None else (),
        withheld=_taxes(taxes, "Retenciones", "Retencion") if taxes is not None else (),
        related_uuids=related,
    )


def _check_safe(root):
    """Refuse what a stamped CFDI never contains: a DOCTYPE (internal or external DTD, entities), XInclude,
    entity references, absurd nesting."""
    tree = root.getroottree()
    info = tree.docinfo
    if info.doctype or info.internalDTD is not None or info.externalDTD is not None or info.system_url:
        raise CfdiError("unsafe", "the file declares a DOCTYPE (entities or DTD): a CFDI has none",
                        reason="doctype")
    depth_of = {root: 1}
    for node in root.iter():
        if not isinstance(node.tag, str):
            if isinstance(node, etree._Entity):
                raise CfdiError("unsafe", "the file uses XML entities: a CFDI has none", reason="entity")
            continue
        namespace = etree.QName(node).namespace
        if namespace in XINCLUDE_NS:
            raise CfdiError("unsafe", "the file uses XInclude: a CFDI has none", reason="xinclude")
        depth = depth_of[node] if node is root else depth_of[node.getparent()] + 1
        if depth > MAX_DEPTH:
            raise CfdiError("unsafe", f"the file nests elements more than {MAX_DEPTH} levels deep",
                            reason="depth")
        depth_of[node] = depth


def _off(a, b, tolerance=TOLERANCE):
    return abs((a or Decimal(0)) - (b or Decimal(0))) > tolerance


def check_totals(cfdi):
    """Inconsistencies between concepts and totals, as (code, params) pairs; empty when all adds up.

    Codes: ``concept_amount`` (Importe differs from Cantidad x ValorUnitario), ``subtotal``, ``discount``,
    ``transferred``, ``withheld`` (a document-level tax total differs from the concepts' taxes) and
    ``total`` (Total differs from SubTotal - Descuento + transferred - withheld).
    """
    problems = []
    for index, concept in enumerate(cfdi.concepts, start=1):
        expected = (concept.quantity * concept.unit_price).quantize(Decimal("0.000001"))
        # Anexo 20 allows the rounding of Cantidad x ValorUnitario to the decimals of the currency
        if _off(concept.amount, expected, TOLERANCE):
            problems.append(("concept_amount", {
                "index": index, "description": concept.description, "amount": concept.amount,
                "expected": expected,
            }))
    concepts_sum = sum((c.amount for c in cfdi.concepts), Decimal(0))
    if _off(cfdi.subtotal, concepts_sum):
        problems.append(("subtotal", {"declared": cfdi.subtotal, "computed": concepts_sum}))
    discount_sum = sum((c.discount for c in cfdi.concepts), Decimal(0))
    if _off(cfdi.discount, discount_sum):
        problems.append(("discount", {"declared": cfdi.discount, "computed": discount_sum}))
    # per-concept taxes are rounded one by one: allow a cent per concept for the sums of taxes
    tax_tolerance = TOLERANCE * max(1, len(cfdi.concepts))
    transferred = sum((t.amount for c in cfdi.concepts for t in c.transferred), Decimal(0))
    withheld = sum((t.amount for c in cfdi.concepts for t in c.withheld), Decimal(0))
    declared_transferred = cfdi.total_transferred
    if declared_transferred is None and cfdi.transferred:
        declared_transferred = sum((t.amount for t in cfdi.transferred), Decimal(0))
    declared_withheld = cfdi.total_withheld
    if declared_withheld is None and cfdi.withheld:
        declared_withheld = sum((t.amount for t in cfdi.withheld), Decimal(0))
    if _off(declared_transferred or Decimal(0), transferred, tax_tolerance):
        problems.append(("transferred", {"declared": declared_transferred or Decimal(0), "computed": transferred}))
    if _off(declared_withheld or Decimal(0), withheld, tax_tolerance):
        problems.append(("withheld", {"declared": declared_withheld or Decimal(0), "computed": withheld}))
    expected_total = (cfdi.subtotal - cfdi.discount + (declared_transferred or Decimal(0))
                      - (declared_withheld or Decimal(0)))
    if _off(cfdi.total, expected_total):
        problems.append(("total", {"declared": cfdi.total, "computed": expected_total}))
    return problems
