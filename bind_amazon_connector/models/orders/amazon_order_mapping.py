"""From an Amazon order to sale order values: lines, totals, customer, taxes, price list."""
import hashlib
import logging
from decimal import Decimal

from odoo import _, api, models
from odoo.fields import Command

from ...utils.text import plain_text
from ...utils.values import money_amount, naive_utc
from .amazon_order import (
    _RFC_CHARS,
    CHARGE_TYPES,
    STATE_ALIASES,
    UNIT_PRICE_QUANTUM,
    AmazonOrderError,
)

_logger = logging.getLogger(__name__)


class AmazonOrder(models.Model):
    _inherit = "amazon.order"

    def _prepare_sale_order_vals(self, imp, order):
        """``(sale order values, total Amazon charged or None)`` for one Amazon order."""
        self.ensure_one()
        account = imp.account
        mkt = imp.marketplace(order)
        currency = self.currency_id or mkt.currency_id
        warehouse = account.fba_warehouse_id if order.is_fba else account.warehouse_id
        if not warehouse:
            raise AmazonOrderError(
                _("Set the fulfillment warehouse of the connection to import orders fulfilled by Amazon.")
                if order.is_fba else
                _("Set the warehouse of the connection to import merchant-fulfilled orders."))
        partner, shipping_partner = self._get_customer(imp, order, mkt)
        fpos = self._get_fiscal_position(imp, partner, shipping_partner)
        pricelist = self._get_pricelist(imp, currency)
        tax_included = mkt.prices_include_tax

        lines = []
        sequence = 10
        ship_discount = Decimal(0)
        for item in order.items:
            qty = item.quantity_ordered or 0
            if qty < 0:
                raise AmazonOrderError(_("Item %s has a negative quantity.", item.order_item_id))
            item_discount, item_ship_discount = self._item_discounts(item)
            ship_discount += item_ship_discount
            if qty == 0:
                if item_discount:
                    raise AmazonOrderError(_("Item %s has a promotion but no quantity.", item.order_item_id))
                continue
            product = imp.products[item.seller_sku]
            line_total = item.item_price.amount if item.item_price is not None else (
                item.unit_price.amount * qty if item.unit_price is not None else None)
            if line_total is None:
                raise AmazonOrderError(_("Amazon sent no price for item %s.", item.seller_sku))
            unit = item.unit_price.amount if item.unit_price is not None else None
            if unit is None or unit * qty != line_total:
                unit = (line_total / qty).quantize(UNIT_PRICE_QUANTUM)
            taxes = self._get_taxes(imp, product.taxes_id, fpos, tax_included)
            title = plain_text(item.title) or product.display_name
            lines.append({
                "product_id": product.id,
                "name": f"[{item.seller_sku}] {title}",
                "product_uom_qty": qty,
                "price_unit": float(unit),
                "tax_ids": [Command.set(taxes.ids)],
                "amazon_order_item_id": item.order_item_id,
                "sequence": sequence,
            })
            sequence += 1
            if item_discount:
                promo = ", ".join(item.promotion_ids) or _("Amazon promotion")
                lines.append(self._charge_line(
                    imp, "bind_amazon_connector.product_amazon_promotion",
                    _("Promotion %(promotion)s: %(title)s", promotion=promo, title=title),
                    item_discount, taxes, sequence=sequence))
                sequence += 1

        def charge(type_, xmlid, name):
            amount = sum((money_amount(item.proceeds_amount(type_)) for item in order.items), Decimal(0))
            if not amount:
                return None
            amazon_tax = sum((money_amount(item.proceeds_amount("TAX", type_)) for item in order.items), Decimal(0))
            product = imp.env.ref(xmlid)
            taxes = self._get_charge_taxes(imp, product, fpos, tax_included, amazon_tax)
            lines.append(self._charge_line(imp, xmlid, name, amount, taxes, sequence=5000 + len(lines)))
            return taxes

        shipping_taxes = charge("SHIPPING", "bind_amazon_connector.product_amazon_shipping", _("Shipping"))
        if ship_discount:
            if shipping_taxes is None:
                shipping_taxes = self._get_charge_taxes(
                    imp, imp.env.ref("bind_amazon_connector.product_amazon_shipping"), fpos, tax_included,
                    sum((money_amount(item.proceeds_amount("TAX", "SHIPPING")) for item in order.items), Decimal(0)))
            lines.append(self._charge_line(
                imp, "bind_amazon_connector.product_amazon_promotion", _("Shipping promotion"),
                ship_discount, shipping_taxes, sequence=5000 + len(lines)))
        charge("GIFT_WRAP", "bind_amazon_connector.product_amazon_gift_wrap", _("Gift wrap"))
        charge("COD_FEE", "bind_amazon_connector.product_amazon_other_charge", _("Cash on delivery fee"))
        charge("OTHER", "bind_amazon_connector.product_amazon_other_charge", _("Other Amazon charge"))
        if not lines:
            raise AmazonOrderError(_("The order has no item to sell."))

        vals = {
            "partner_id": partner.id,
            "partner_invoice_id": partner.id,
            "partner_shipping_id": shipping_partner.id,
            "company_id": imp.company.id,
            "user_id": imp.user.id,
            "pricelist_id": pricelist.id,
            "warehouse_id": warehouse.id,
            "fiscal_position_id": fpos.id,
            "date_order": naive_utc(order.created_time),
            "client_order_ref": order.order_id,
            "origin": _("Amazon %s", order.order_id),
            "amazon_order_id": self.id,
            "order_line": [Command.create(line) for line in lines],
        }
        has_proceeds = any(item.proceeds for item in order.items)
        return vals, (self._expected_total(order, mkt) if has_proceeds else None)

    @api.model
    def _expected_total(self, order, mkt):
        """What Amazon charged the buyer, as the seller invoices it: items, shipping, gift wrap and other
        charges minus promotions; plus the tax where prices exclude it (unless Amazon collects it itself)."""
        if not any(item.proceeds for item in order.items):
            return None
        total = Decimal(0)
        for item in order.items:
            for kind in CHARGE_TYPES:
                total += money_amount(item.proceeds_amount(kind))
            facilitator = any(c.model == "MARKETPLACE_FACILITATOR" for c in item.tax_collections)
            if not mkt.prices_include_tax and not facilitator:
                total += money_amount(item.proceeds_amount("TAX"))
        return total

    @api.model
    def _item_discounts(self, item):
        """(promotion on the item, promotion on its shipping) as negative amounts. A DISCOUNT without
        details is taken as a promotion on the item."""
        for breakdown in item.proceeds:
            if breakdown.type != "DISCOUNT":
                continue
            total = -abs(money_amount(breakdown.subtotal))
            shipping = -abs(money_amount(breakdown.detail("SHIPPING"))) if breakdown.details else Decimal(0)
            return total - shipping, shipping
        return Decimal(0), Decimal(0)

    def _charge_line(self, imp, xmlid, name, amount, taxes, sequence):
        return {
            "product_id": imp.env.ref(xmlid).id,
            "name": name,
            "product_uom_qty": 1,
            "price_unit": float(amount),
            "tax_ids": [Command.set(taxes.ids)],
            "sequence": sequence,
        }

    # ------------------------------------------------------------------ customers, taxes, pricelists

    def _get_customer(self, imp, order, mkt):
        """(customer, delivery address): the buyer when Amazon names one, else the marketplace's generic
        customer. Buyers are found again by a hash of their Amazon identity; nothing personal is logged."""
        buyer = order.buyer
        address = order.delivery_address
        name = buyer and (buyer.company_name or buyer.name)
        if not name:
            generic = mkt._get_generic_partner().with_env(imp.env)
            return generic, generic
        identity = (buyer.email or f"{buyer.name}|{address.postal_code if address else ''}").strip().lower()
        key = hashlib.sha256(f"{mkt.marketplace_id}|{identity}".encode()).hexdigest()[:32]
        has_address = address and (address.address_line1 or address.city or address.postal_code)
        addr_vals = self._address_vals(imp, address, mkt) if has_address else None
        cache = imp.caches["partner"]
        Partner = imp.env["res.partner"]
        partner = cache.get(key)
        if partner is None:
            partner = Partner.search([("amazon_buyer_key", "=", key)], limit=1)
            if not partner:
                vals = {**(addr_vals or {"country_id": mkt.country_id.id}),
                        "name": name,
                        "is_company": bool(buyer.company_name),
                        "email": buyer.email or False,
                        "amazon_buyer_key": key,
                        "customer_rank": 1}
                vat = self._buyer_vat(order)
                if vat:
                    vals["vat"] = vat
                partner = Partner.create(vals)
            cache[key] = partner
        if not addr_vals or all(
                (partner[f] or False) == (addr_vals[f] or False) for f in ("street", "zip", "city")
        ) and addr_vals["name"] in (partner.name, name):
            return partner, partner
        addr_key = (key, addr_vals["name"], addr_vals["street"], addr_vals["zip"])
        shipping = cache.get(addr_key)
        if shipping is None:
            shipping = Partner.search([
                ("parent_id", "=", partner.id), ("type", "=", "delivery"), ("name", "=", addr_vals["name"]),
                ("street", "=", addr_vals["street"]), ("zip", "=", addr_vals["zip"]),
            ], limit=1) or Partner.create({**addr_vals, "parent_id": partner.id, "type": "delivery"})
            cache[addr_key] = shipping
        return partner, shipping

    def _buyer_vat(self, order):
        """The buyer's RFC (Amazon Business orders in Mexico) when it looks like one."""
        for reg in (order.tax.registrations if order.tax else ()):
            number = (reg.registration_number or "").strip().upper()
            if reg.entity_type in (None, "BUYER") and 12 <= len(number) <= 13 and set(number) <= _RFC_CHARS:
                return number
        return None

    def _address_vals(self, imp, address, mkt):
        country = mkt.country_id
        if address.country_code and address.country_code != country.code:
            country = imp.env["res.country"].search([("code", "=", address.country_code.upper())], limit=1) or country
        street2 = ", ".join(p for p in (address.address_line2, address.address_line3, address.neighborhood) if p)
        return {
            "name": address.name or address.company_name or _("Amazon buyer"),
            "street": address.address_line1 or False,
            "street2": street2 or False,
            "city": address.city or address.municipality or False,
            "zip": address.postal_code or False,
            "country_id": country.id,
            "state_id": self._find_state(imp, country, address.state_or_region).id,
            "phone": address.phone or False,
        }

    def _find_state(self, imp, country, text):
        State = imp.env["res.country.state"]
        if not text or not country:
            return State
        key = (country.id, text.strip().upper())
        cache = imp.caches["state"]
        if key not in cache:
            code = STATE_ALIASES.get(country.code, {}).get(key[1], key[1])
            cache[key] = State.search([("country_id", "=", country.id), ("code", "=ilike", code)], limit=1) \
                or State.search([("country_id", "=", country.id), ("name", "=ilike", text.strip())], limit=1)
        return cache[key]

    def _get_fiscal_position(self, imp, partner, shipping_partner):
        key = (partner.id, shipping_partner.id)
        cache = imp.caches["fpos"]
        if key not in cache:
            cache[key] = imp.env["account.fiscal.position"].with_company(imp.company)._get_fiscal_position(
                partner, delivery=shipping_partner)
        return cache[key]

    def _get_taxes(self, imp, taxes, fpos, tax_included):
        """The product's taxes for the connection's company, mapped by the fiscal position, and their
        price-included variants where Amazon's prices include tax."""
        key = (tuple(taxes.ids), fpos.id, tax_included)
        cache = imp.caches["taxes"]
        if key not in cache:
            result = fpos.map_tax(taxes._filter_taxes_by_company(imp.company))
            if tax_included:
                result = result.browse([self._get_price_included_tax(imp, tax).id for tax in result])
            cache[key] = result
        return cache[key]

    def _get_charge_taxes(self, imp, product, fpos, tax_included, amazon_tax):
        """Taxes of a shipping / gift wrap / other charge: the service product's, else (when Amazon reports
        tax on the charge) the company's default sale tax."""
        taxes = product.taxes_id._filter_taxes_by_company(imp.company)
        if not taxes and amazon_tax:
            taxes = imp.company.account_sale_tax_id
            if not taxes:
                raise AmazonOrderError(_(
                    "Amazon reports tax on %(charge)s but neither the product nor the company has a sale tax.",
                    charge=product.display_name))
        return self._get_taxes(imp, taxes, fpos, tax_included)

    def _get_price_included_tax(self, imp, tax):
        """The price-included twin of a tax (see account.tax._amazon_price_included_twin), cached per run."""
        cache = imp.caches["included"]
        if tax.id not in cache:
            cache[tax.id] = tax.with_env(imp.env)._amazon_price_included_twin()
        return cache[tax.id]

    def _get_pricelist(self, imp, currency):
        """A pricelist in the order's currency: the connection's when it matches, else one created for it."""
        cache = imp.caches["pricelist"]
        if currency.id not in cache:
            account = imp.account
            pricelist = account.pricelist_id if account.pricelist_id.currency_id == currency else None
            if not pricelist:
                Pricelist = imp.env["product.pricelist"]
                pricelist = Pricelist.search([
                    ("currency_id", "=", currency.id),
                    ("company_id", "in", (False, imp.company.id)),
                    ("name", "=", _("Amazon %s", currency.name)),
                ], limit=1) or Pricelist.create({
                    "name": _("Amazon %s", currency.name),
                    "currency_id": currency.id,
                    "company_id": imp.company.id,
                })
            if not currency.active:
                currency.active = True
            cache[currency.id] = pricelist
        return cache[currency.id]
