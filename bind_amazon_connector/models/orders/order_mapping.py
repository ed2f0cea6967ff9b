"""From an Amazon order to sale order values: lines, totals, customer, taxes, price list.

``OrderMapping`` is a part of an import run (``order_import.OrderImport``): it uses the run's environment,
connection, mapped products and caches, and only returns values: the import creates the sale from them and
makes it total what Amazon charged.
"""
import hashlib
import logging
import re

from odoo.fields import Command

from ...utils import order_totals
from ...utils.text import plain_text
from ...utils.values import naive_utc
from .amazon_order import AmazonOrderError

_logger = logging.getLogger(__name__)

#: Aliases Amazon Mexico buyers use for states whose official code differs.
STATE_ALIASES = {
    "MX": {"CDMX": "CMX", "DF": "CMX", "D.F.": "CMX", "DISTRITO FEDERAL": "CMX", "NL": "NLE", "EDOMEX": "MEX",
           "ESTADO DE MEXICO": "MEX", "ESTADO DE MÉXICO": "MEX", "QROO": "ROO", "Q. ROO": "ROO", "BC": "BCN"},
}
#: A Mexican RFC: 3 letters (company) or 4 (person), the date of birth or incorporation, a 3-character key.
_RFC_PATTERN = re.compile(r"^[A-ZÑ&]{3,4}\d{6}[A-Z0-9]{3}$")


class OrderMapping:
    """The sale order values of Amazon orders, for an import run of one connection."""

    def read_totals(self, order):
        """``order_totals.read_order`` of ``order`` in its marketplace, read once per import (raises
        ``order_totals.Unreconciled`` each time it is asked when Amazon's amounts do not add up)."""
        known = self.totals_read.get(order.order_id)
        if known is None or known[0] is not order:
            try:
                known = (order, order_totals.read_order(order, self.marketplace(order).prices_include_tax), None)
            except order_totals.Unreconciled as exc:
                known = (order, None, exc)
            self.totals_read[order.order_id] = known
        if known[2] is not None:
            raise known[2]
        return known[1]

    def sale_order_vals(self, record, order):
        """``(sale order values, order_totals.OrderTotals or None)`` for one Amazon order.

        The lines of each item add up to what Amazon charged for it (``proceedsTotal``), however Amazon
        combined ITEM and TAX (see ``utils.order_totals``); amounts that do not add up raise an
        :class:`AmazonOrderError` naming the difference. ``None``: Amazon sent no proceeds, lines come
        from the unit prices."""
        record.ensure_one()
        account = self.account
        mkt = self.marketplace(order)
        currency = record.currency_id or mkt.currency_id
        warehouse = account.fba_warehouse_id if order.is_fba else account.warehouse_id
        if not warehouse:
            raise AmazonOrderError(
                self.env._("Set the fulfillment warehouse of the connection to import orders fulfilled by Amazon.")
                if order.is_fba else
                self.env._("Set the warehouse of the connection to import merchant-fulfilled orders."))
        for item in order.items:
            if (item.quantity_ordered or 0) < 0:
                raise AmazonOrderError(self.env._("Item %s has a negative quantity.", item.order_item_id))
        try:
            totals = self.read_totals(order)
        except order_totals.Unreconciled as exc:
            raise AmazonOrderError(self._unreconciled_message(exc, currency)) from None
        partner, shipping_partner = self._get_customer(record, order, mkt)
        pricelist = self._get_pricelist(currency, mkt)
        fpos = self._get_fiscal_position(partner, shipping_partner, mkt)

        lines = []
        if totals is None:
            lines = self._unit_price_lines(order, fpos, mkt.prices_include_tax)
        else:
            for item_totals in totals.items:
                lines += self._item_lines(item_totals, fpos, mkt, sequence=10 + 10 * len(lines))
            for part in totals.extras:
                lines.append(self._order_charge_line(part, fpos, mkt, sequence=5000 + len(lines)))
        if not lines:
            raise AmazonOrderError(self.env._("The order has no item to sell."))
        if totals and totals.tax and not any(line["tax_ids"][0][2] for line in lines):
            record._add_warning(self.env._(
                "Amazon charged %s of tax but the products of the order have no tax in Odoo: the invoice "
                "carries the amounts with their tax and no tax line. Set the taxes of the products.",
                currency.format(float(totals.tax))))

        vals = {
            "partner_id": partner.id,
            "partner_invoice_id": partner.id,
            "partner_shipping_id": shipping_partner.id,
            "company_id": self.company.id,
            "user_id": self.user.id,
            "pricelist_id": pricelist.id,
            "warehouse_id": warehouse.id,
            "fiscal_position_id": fpos.id,
            "date_order": naive_utc(order.created_time),
            "client_order_ref": order.order_id,
            "origin": self.env._("Amazon %s", order.order_id),
            "amazon_order_id": record.id,
            "order_line": [Command.create(line) for line in lines],
        }
        if account.sales_journal_id:  # the connection's series (empty: Odoo's default, the company's)
            vals["journal_id"] = account.sales_journal_id.id
        return vals, totals

    def _unreconciled_message(self, exc, currency):
        amounts = {"amazon": currency.format(float(exc.expected)), "computed": currency.format(float(exc.computed)),
                   "difference": currency.format(float(exc.difference)), "item": exc.item_id}
        if exc.what == "quantity":
            return self.env._("Amazon charged %(amazon)s for item %(item)s but ordered none of it: the order is not "
                     "invoiced until Amazon sends consistent amounts.", **amounts)
        if exc.what == "item":
            return self.env._(
                "Amazon's total for item %(item)s is %(amazon)s but its breakdowns add up to %(computed)s "
                "(difference %(difference)s): the order is not invoiced until Amazon sends consistent "
                "amounts, or a person retries it.", **amounts)
        return self.env._("Amazon's order total is %(amazon)s but its items and charges add up to %(computed)s "
                 "(difference %(difference)s): the order is not invoiced until Amazon sends consistent "
                 "amounts, or a person retries it.", **amounts)

    def _item_lines(self, item_totals, fpos, mkt, sequence):
        """The sale lines of one item: the product, then its charges, adding up to what Amazon charged for
        it. Amounts carry the tax where the marketplace's prices do (Mexico: 349.00 with "16 % (tax
        included)"), or where Amazon reports the tax inside them. A promotion is a discount (%) on the line it
        lowers, at the list price (a CFDI 4.0 carries it as the concept's ``Descuento``): Amazon's DISCOUNT
        breakdown, or an ITEM below the unit price times the quantity of an item Amazon names a promotion for;
        only a promotion larger than what it lowers keeps a line of its own."""
        item = item_totals.item
        qty = item.quantity_ordered or 0
        if not qty:
            return []
        included = mkt.prices_include_tax or item_totals.reading == order_totals.TAX_INSIDE
        product = self.products[item.seller_sku]
        title = plain_text(item.title) or product.display_name
        product_taxes = self._get_taxes(product.taxes_id, fpos, included)
        amounts = {}  # part kind: (amount on the line, its taxes), in the order of the parts
        for part in item_totals.parts:
            if part.kind in ("ITEM", order_totals.DISCOUNT):
                taxes = product_taxes
            else:
                charge_xmlid = self._charge_kinds()[part.kind][0] if part.kind != order_totals.SHIPPING_DISCOUNT \
                    else "bind_amazon_connector.product_amazon_shipping"
                taxes = self._get_charge_taxes(self.env.ref(charge_xmlid), fpos, included, part.tax)
            # A line without tax in Odoo carries what the buyer paid, Amazon's tax included: the total stays
            # Amazon's (the order says the tax is not shown, see sale_order_vals).
            amounts[part.kind] = (part.gross if included or not taxes else part.net, taxes)
        promotion = ", ".join(item.promotion_ids) or self.env._("Amazon promotion")
        # Each promotion lowers its charge's line: {charge: promotion amount (negative)}.
        folded = {}
        for charge, kind in (("ITEM", order_totals.DISCOUNT), ("SHIPPING", order_totals.SHIPPING_DISCOUNT)):
            if kind in amounts and charge in amounts and amounts[charge][0] + amounts[kind][0] >= 0:
                folded[charge] = amounts.pop(kind)[0]
        digits = self.env["decimal.precision"].precision_get("Discount")
        lines = []
        for kind, (amount, taxes) in amounts.items():
            paid = amount + folded.get(kind, 0)
            if kind == "ITEM":
                price = order_totals.list_unit_price(item, amount, paid)
                discount = order_totals.discount_percent(price * qty, paid, digits)
                name = f"[{item.seller_sku}] {title}"
                if discount:
                    name += "\n" + self.env._("Promotion %s", promotion)
                lines.append({
                    "product_id": product.id,
                    "name": name,
                    "product_uom_qty": qty,
                    "price_unit": float(price),
                    "discount": float(discount),
                    "tax_ids": [Command.set(product_taxes.ids)],
                    "amazon_order_item_id": item.order_item_id,
                    "sequence": sequence,
                })
                continue
            xmlid, label = self._charge_kinds()[kind]
            if kind == order_totals.DISCOUNT:
                name = self.env._("Promotion %(promotion)s: %(title)s", promotion=promotion, title=title)
            else:
                name = self.env._("%(charge)s: %(title)s", charge=label, title=title)
            line = self._charge_line(xmlid, name, amount, taxes, sequence=sequence + len(lines))
            if kind in folded:
                line["discount"] = float(order_totals.discount_percent(amount, paid, digits))
                line["name"] += "\n" + self.env._("Promotion %s", promotion)
            lines.append(line)
        return lines

    def _order_charge_line(self, part, fpos, mkt, sequence):
        """A charge Amazon reports on the order and on no item, on its own line with its tax."""
        xmlid, label = self._charge_kinds().get(
            part.kind, ("bind_amazon_connector.product_amazon_other_charge", part.kind))
        included = mkt.prices_include_tax
        if part.kind == "TAX":
            taxes = self.env["account.tax"]
        else:
            taxes = self._get_charge_taxes(self.env.ref(xmlid), fpos, included, part.tax)
        amount = part.gross if included or not taxes else part.net
        return self._charge_line(xmlid, self.env._("Order charge: %s", label), amount, taxes, sequence)

    def _charge_kinds(self):
        """{part kind: (service product xmlid, label)} of the amounts Amazon charges besides products."""
        return {
            "ITEM": ("bind_amazon_connector.product_amazon_other_charge", self.env._("Other Amazon charge")),
            "SHIPPING": ("bind_amazon_connector.product_amazon_shipping", self.env._("Shipping")),
            "GIFT_WRAP": ("bind_amazon_connector.product_amazon_gift_wrap", self.env._("Gift wrap")),
            "COD_FEE": ("bind_amazon_connector.product_amazon_other_charge", self.env._("Cash on delivery fee")),
            "OTHER": ("bind_amazon_connector.product_amazon_other_charge", self.env._("Other Amazon charge")),
            "TAX": ("bind_amazon_connector.product_amazon_other_charge", self.env._("Tax not attributed to an item")),
            order_totals.DISCOUNT: ("bind_amazon_connector.product_amazon_promotion", self.env._("Amazon promotion")),
            order_totals.SHIPPING_DISCOUNT: ("bind_amazon_connector.product_amazon_promotion",
                                             self.env._("Shipping promotion")),
        }

    def _unit_price_lines(self, order, fpos, tax_included):
        """Lines from the unit prices alone, when Amazon sent no proceeds (the PROCEEDS dataset)."""
        lines = []
        for item in order.items:
            qty = item.quantity_ordered or 0
            if not qty:
                continue
            if item.unit_price is None:
                raise AmazonOrderError(self.env._("Amazon sent no price for item %s.", item.seller_sku))
            product = self.products[item.seller_sku]
            taxes = self._get_taxes(product.taxes_id, fpos, tax_included)
            lines.append({
                "product_id": product.id,
                "name": f"[{item.seller_sku}] {plain_text(item.title) or product.display_name}",
                "product_uom_qty": qty,
                "price_unit": float(item.unit_price.amount),
                "tax_ids": [Command.set(taxes.ids)],
                "amazon_order_item_id": item.order_item_id,
                "sequence": 10 + len(lines),
            })
        return lines

    def _charge_line(self, xmlid, name, amount, taxes, sequence):
        return {
            "product_id": self.env.ref(xmlid).id,
            "name": name,
            "product_uom_qty": 1,
            "price_unit": float(amount),
            "tax_ids": [Command.set(taxes.ids)],
            "sequence": sequence,
        }

    # ------------------------------------------------------------------ customers, taxes, pricelists

    def _get_customer(self, record, order, mkt):
        """(customer, delivery address): the buyer when Amazon names one, else the marketplace's generic
        customer. Buyers are found again by a hash of their Amazon identity; nothing personal is logged."""
        buyer = order.buyer
        address = order.delivery_address
        registration, vat, malformed = self._buyer_registration(order)
        name = (buyer and (buyer.company_name or buyer.name)) or (registration and registration.legal_name)
        if malformed:
            record._add_warning(self.env._(
                "Amazon sent the buyer's tax registration number %s, which is not a valid RFC: "
                "the customer was left without it.", malformed))
        if not name:
            generic = mkt._get_generic_partner().with_env(self.env)
            return generic, generic
        identity = ((buyer and buyer.email) or f"{name}|{address.postal_code if address else ''}").strip().lower()
        key = hashlib.sha256(f"{mkt.marketplace_id}|{identity}".encode()).hexdigest()[:32]
        has_address = address and (address.address_line1 or address.city or address.postal_code)
        addr_vals = self._address_vals(address, mkt) if has_address else None
        cache = self.caches["partner"]
        Partner = self.env["res.partner"]
        partner = cache.get(key)
        if partner is None:
            partner = Partner.search([("amazon_buyer_key", "=", key)], limit=1)
            if not partner:
                vals = {**(addr_vals or {"country_id": mkt.country_id.id}),
                        "name": name,
                        "is_company": bool(buyer and buyer.company_name),
                        "email": (buyer and buyer.email) or False,
                        "amazon_buyer_key": key,
                        "customer_rank": 1}
                vals.update(self._registration_vals(registration, vat, mkt))
                partner = Partner.create(vals)
            cache[key] = partner
        if vat and partner.vat != vat:
            self._add_buyer_vat(record, partner, registration, vat, mkt)
        if not addr_vals or all(
                (partner[f] or False) == (addr_vals[f] or False) for f in ("street", "zip", "city")
        ) and addr_vals["name"] in (partner.name, name):
            return partner, partner
        # The delivery address gets a key of its own, under the same unique index as buyers: two importers
        # meeting the same new address at once cannot create it twice.
        addr_identity = "|".join(str(addr_vals[f] or "") for f in ("name", "street", "zip")).lower()
        addr_key = hashlib.sha256(f"{key}|{addr_identity}".encode()).hexdigest()[:32]
        shipping = cache.get(addr_key)
        if shipping is None:
            shipping = Partner.search([("amazon_buyer_key", "=", addr_key)], limit=1)
            if not shipping:
                # a delivery address created before addresses had keys: give it its key
                shipping = Partner.search([
                    ("parent_id", "=", partner.id), ("type", "=", "delivery"), ("amazon_buyer_key", "=", False),
                    ("name", "=", addr_vals["name"]), ("street", "=", addr_vals["street"]),
                    ("zip", "=", addr_vals["zip"]),
                ], limit=1)
                if shipping:
                    shipping.amazon_buyer_key = addr_key
                else:
                    shipping = Partner.create({**addr_vals, "parent_id": partner.id, "type": "delivery",
                                               "amazon_buyer_key": addr_key})
            cache[addr_key] = shipping
        return partner, shipping

    def _buyer_registration(self, order):
        """(the buyer's tax registration, its RFC when it is one, the number when it is not) of an Amazon
        Business order; Nones when Amazon sent no buyer registration."""
        for reg in (order.tax.registrations if order.tax else ()):
            if reg.entity_type not in (None, "BUYER"):
                continue
            number = (reg.registration_number or "").strip().upper().replace(" ", "").replace("-", "")
            if not number and not reg.legal_name:
                continue
            if _RFC_PATTERN.match(number):
                return reg, number, None
            return reg, None, (reg.registration_number or "").strip() or None
        return None, None, None

    def _registration_vals(self, registration, vat, mkt):
        """The customer's fiscal identity from the buyer's tax registration: RFC, legal name (what a CFDI
        needs, which can differ from the name the buyer shows on Amazon) and fiscal address."""
        if not registration or not vat:
            return {}
        vals = {"vat": vat}
        if registration.legal_name:
            vals["name"] = registration.legal_name.strip()
            # A 12-character RFC belongs to a company (persona moral), 13 to a person.
            vals["is_company"] = len(vat) == 12
        fiscal = registration.address
        if fiscal and (fiscal.address_line1 or fiscal.postal_code or fiscal.city):
            address = self._address_vals(fiscal, mkt)
            address.pop("name")
            address.pop("phone")
            vals.update(address)
        return vals

    def _add_buyer_vat(self, record, partner, registration, vat, mkt):
        """A later order brings the buyer's RFC: given to a customer who had none, never replacing another
        one (the order keeps a warning for a person to decide)."""
        if partner.vat:
            record._add_warning(self.env._(
                "The buyer's RFC on this order is %(amazon)s but the customer %(customer)s has %(odoo)s: the "
                "customer was left unchanged, check which one is right.",
                amazon=vat, customer=partner.display_name, odoo=partner.vat))
            return
        if partner.amazon_buyer_key and partner != mkt._get_generic_partner().with_env(self.env):
            partner.write(self._registration_vals(registration, vat, mkt))

    def _address_vals(self, address, mkt):
        country = mkt.country_id
        if address.country_code and address.country_code != country.code:
            country = self.env["res.country"].search([("code", "=", address.country_code.upper())], limit=1) or country
        street2 = ", ".join(p for p in (address.address_line2, address.address_line3, address.neighborhood) if p)
        return {
            "name": address.name or address.company_name or self.env._("Amazon buyer"),
            "street": address.address_line1 or False,
            "street2": street2 or False,
            "city": address.city or address.municipality or False,
            "zip": address.postal_code or False,
            "country_id": country.id,
            "state_id": self._find_state(country, address.state_or_region).id,
            "phone": address.phone or False,
        }

    def _find_state(self, country, text):
        State = self.env["res.country.state"]
        if not text or not country:
            return State
        key = (country.id, text.strip().upper())
        cache = self.caches["state"]
        if key not in cache:
            code = STATE_ALIASES.get(country.code, {}).get(key[1], key[1])
            cache[key] = State.search([("country_id", "=", country.id), ("code", "=ilike", code)], limit=1) \
                or State.search([("country_id", "=", country.id), ("name", "=ilike", text.strip())], limit=1)
        return cache[key]

    def _get_fiscal_position(self, partner, shipping_partner, mkt=None):
        """The fiscal position set for the marketplace on the connection, else the one Odoo picks for the
        customer."""
        fixed = mkt and self.account.env["amazon.account.marketplace"]._for(self.account, mkt).fiscal_position_id
        if fixed:
            return fixed
        key = (partner.id, shipping_partner.id)
        cache = self.caches["fpos"]
        if key not in cache:
            cache[key] = self.env["account.fiscal.position"].with_company(self.company)._get_fiscal_position(
                partner, delivery=shipping_partner)
        return cache[key]

    def _get_taxes(self, taxes, fpos, tax_included):
        """The product's taxes for the connection's company, mapped by the fiscal position, and their
        price-included variants where Amazon's prices include tax."""
        key = (tuple(taxes.ids), fpos.id, tax_included)
        cache = self.caches["taxes"]
        if key not in cache:
            result = fpos.map_tax(taxes._filter_taxes_by_company(self.company))
            if tax_included:
                result = result.browse([self._get_price_included_tax(tax).id for tax in result])
            cache[key] = result
        return cache[key]

    def _get_charge_taxes(self, product, fpos, tax_included, amazon_tax):
        """Taxes of a shipping / gift wrap / other charge: the service product's, else (when Amazon reports
        tax on the charge) the company's default sale tax, else none."""
        taxes = product.taxes_id._filter_taxes_by_company(self.company)
        if not taxes and amazon_tax:
            # Without any sale tax the line carries Amazon's amount with its tax, and the order says so.
            taxes = self.company.account_sale_tax_id
        return self._get_taxes(taxes, fpos, tax_included)

    def _get_price_included_tax(self, tax):
        """The price-included twin of a tax (see account.tax._amazon_price_included_twin), cached per run."""
        cache = self.caches["included"]
        if tax.id not in cache:
            cache[tax.id] = tax.with_env(self.env)._amazon_price_included_twin()
        return cache[tax.id]

    def _get_pricelist(self, currency, mkt=None):
        """A pricelist in the order's currency: the marketplace's on the connection; for the main marketplace
        without one, the connection's when it matches, else one created for it."""
        if mkt:
            pricelist = self._get_marketplace_pricelist(currency, mkt)
            if pricelist:
                return pricelist
        cache = self.caches["pricelist"]
        if currency.id not in cache:
            account = self.account
            pricelist = account.pricelist_id if account.pricelist_id.currency_id == currency else None
            if not pricelist:
                Pricelist = self.env["product.pricelist"]
                pricelist = Pricelist.search([
                    ("currency_id", "=", currency.id),
                    ("company_id", "in", (False, self.company.id)),
                    ("name", "=", self.env._("Amazon %s", currency.name)),
                ], limit=1) or Pricelist.create({
                    "name": self.env._("Amazon %s", currency.name),
                    "currency_id": currency.id,
                    "company_id": self.company.id,
                })
            if not currency.active:
                currency.active = True
            cache[currency.id] = pricelist
        return cache[currency.id]

    def _get_marketplace_pricelist(self, currency, mkt):
        """The price list set for ``mkt`` on the connection, checked against the order's currency; None when
        the main marketplace has none of its own (then the connection's applies, as with one marketplace).
        Raises (the order waits in error, naming what to set) when the marketplace lacks its settings."""
        account = self.account
        missing = account.env["amazon.account.marketplace"]._missing_text_for(account, mkt)
        if missing:
            raise AmazonOrderError(missing)
        pricelist = account.env["amazon.account.marketplace"]._for(account, mkt).pricelist_id
        if not pricelist:
            return None
        if pricelist.currency_id != currency:
            # one sale order, one currency: never price an order with another currency's list
            raise AmazonOrderError(self.env._(
                "Amazon charged this order in %(currency)s but the price list of %(marketplace)s on the connection "
                "is “%(pricelist)s” in %(pricelist_currency)s: set a price list in %(currency)s for "
                "%(marketplace)s.", currency=currency.name, marketplace=mkt.name, pricelist=pricelist.display_name,
                pricelist_currency=pricelist.currency_id.name))
        return pricelist.with_env(self.env)
