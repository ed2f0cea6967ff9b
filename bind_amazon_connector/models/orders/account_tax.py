import logging

from markupsafe import Markup

from odoo import fields, models

_logger = logging.getLogger(__name__)


class AccountTax(models.Model):
    _inherit = "account.tax"

    amazon_twin_of_id = fields.Many2one(
        "account.tax", string="Price-included Twin Of", copy=False, readonly=True, index="btree_not_null",
        help="The tax this one repeats with prices including it, for Amazon's amounts.")

    # Two workers needing the same missing twin at once: the second insert fails, its work is tried again in
    # a fresh transaction that finds the first one's twin (never two twins used side by side).
    _amazon_twin_unique = models.UniqueIndex("(amazon_twin_of_id) WHERE amazon_twin_of_id IS NOT NULL AND active")

    def _amazon_price_included_twin(self):
        """The price-included twin of this tax (same rate, group and accounts), created when missing.

        Amazon's amounts include tax where the marketplace's prices do (Mexico: IVA 16 %), so sale lines and
        fee bill lines carry e.g. "16% (tax included)" and add up to Amazon's amounts to the cent. One twin
        per tax, shared by the orders and the money flows."""
        self.ensure_one()
        if self.price_include or self.amount_type == "group":
            return self
        Tax = self.env["account.tax"].sudo().with_context(active_test=False)
        twin = Tax.search([("amazon_twin_of_id", "=", self.id), ("active", "=", True)], limit=1) or Tax.search([
            ("company_id", "=", self.company_id.id),
            ("type_tax_use", "=", self.type_tax_use),
            ("amount_type", "=", self.amount_type),
            ("amount", "=", self.amount),
            ("tax_group_id", "=", self.tax_group_id.id),
            ("tax_exigibility", "=", self.tax_exigibility),
            ("country_id", "=", self.country_id.id),
            ("price_include_override", "=", "tax_included"),
            ("active", "=", True),
        ], limit=1)
        if not twin:
            twin = self.sudo().copy({
                "name": self.env._("%s (tax included)", self.name),
                "price_include_override": "tax_included",
                "amazon_twin_of_id": self.id,
                "include_base_amount": False,
                "description": self.description,
                "invoice_label": self.invoice_label,
            })
            _logger.info("Created the price-included tax %s for Amazon amounts", twin.id)
            twin._amazon_announce_created()
        return twin.with_env(self.env)

    def _amazon_announce_created(self):
        """A tax added to the company's chart is a visible change: say it on the company's connections."""
        self.ensure_one()
        use = dict(self._fields["type_tax_use"]._description_selection(self.env)).get(self.type_tax_use, "")
        body = Markup("%s<br/><strong>%s</strong> (%s)") % (
            self.env._("The connector added a tax to %(company)s: Amazon's amounts include IVA, so sale and fee "
                       "bill lines carry a price-included copy of the company's tax (same rate and accounts).",
                       company=self.company_id.display_name),
            self.name, use,
        )
        accounts = self.env["amazon.account"].sudo().search([("company_id", "child_of", self.company_id.id)])
        for account in accounts:
            account.message_post(body=body)
