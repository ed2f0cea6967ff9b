""""Correct Invoice Totals": lists imported Amazon orders whose invoices differ from what Amazon charged
(a database that ran an earlier version), and corrects them once a person confirmed: drafts are made
again, posted invoices get a credit note and a new invoice."""
from markupsafe import escape

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError


class AmazonOrderInvoiceCorrection(models.TransientModel):
    _name = "amazon.order.invoice.correction"
    _description = "Correct Amazon Invoice Totals"

    order_ids = fields.Many2many("amazon.order", string="Orders", readonly=True)
    summary = fields.Html(compute="_compute_summary", sanitize=True)
    order_count = fields.Integer(compute="_compute_summary")
    posted_count = fields.Integer(compute="_compute_summary")
    confirm_posted = fields.Boolean(
        string="I confirm credit notes and new invoices",
        help="Posted invoices are not changed: each gets a credit note and a new invoice at Amazon's total.",
    )

    @api.model
    def default_get(self, fields_list):
        self._check_rights()
        result = super().default_get(fields_list)
        Order = self.env["amazon.order"]
        domain = [("invoice_mismatch", "=", True)]
        active_ids = self.env.context.get("active_ids") if self.env.context.get("active_model") == "amazon.order" \
            else None
        if active_ids:
            # The selected orders are checked against their stored Amazon payload first.
            Order.browse(active_ids).check_access("read")
            Order.browse(active_ids).sudo().filtered(lambda o: o.state == "imported")._refresh_amazon_totals()
            domain.append(("id", "in", active_ids))
        result["order_ids"] = [fields.Command.set(Order.search(domain).ids)]
        return result

    def _check_rights(self):
        if not self.env.user.has_group("bind_amazon_connector.group_amazon_manager"):
            raise AccessError(_("Only Amazon managers can correct the invoices of Amazon orders."))
        if not self.env.user.has_group("account.group_account_manager"):
            raise AccessError(_("Correcting invoices needs an accountant (Invoicing administrator)."))

    @api.depends("order_ids")
    def _compute_summary(self):
        for wizard in self:
            rows = []
            posted = 0
            for order in wizard.order_ids:
                currency = order.currency_id
                expected = order.amount_total - order.amount_not_invoiced
                kind = order._invoice_correction_kind()
                posted += kind == "posted"
                action = _("credit note and new invoice") if kind == "posted" else _("draft invoice made again")
                rows.append(
                    "<tr><td>%s</td><td class='text-end'>%s</td><td class='text-end'>%s</td>"
                    "<td class='text-end'>%s</td><td>%s</td></tr>" % (
                        escape(order.name), escape(currency.format(expected)),
                        escape(currency.format(order.amount_invoiced)),
                        escape(currency.format(expected - order.amount_invoiced)),
                        escape(action)))
            wizard.order_count = len(wizard.order_ids)
            wizard.posted_count = posted
            wizard.summary = (
                "<table class='table table-sm'><thead><tr><th>%s</th><th class='text-end'>%s</th>"
                "<th class='text-end'>%s</th><th class='text-end'>%s</th><th>%s</th></tr></thead><tbody>%s"
                "</tbody></table>" % (
                    *(escape(label) for label in (_("Amazon Order"), _("Charged by Amazon"), _("Invoiced"),
                                                  _("Difference"), _("Correction"))),
                    "".join(rows))
            ) if rows else False

    def action_apply(self):
        self.ensure_one()
        self._check_rights()
        orders = self.order_ids.filtered("invoice_mismatch")
        if not orders:
            raise UserError(_("No invoice of these orders differs from Amazon's total."))
        if self.posted_count and not self.confirm_posted:
            raise UserError(_("Confirm the credit notes and new invoices of the posted invoices first."))
        failures = self.env["amazon.order"]._correct_invoices(orders)
        done = len(orders) - len(failures)
        if failures:
            message = _("%(done)s orders corrected; not corrected: %(failed)s", done=done, failed="; ".join(
                f"{order.name}: {reason}" for order, reason in failures.items()))
        else:
            message = _("%s orders corrected: their invoices equal Amazon's totals.", done)
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "warning" if failures else "success",
                "message": message,
                "sticky": bool(failures),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }
