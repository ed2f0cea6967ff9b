from odoo import fields, models

from .access import AMAZON_MANAGER, check_group


class ResCompany(models.Model):
    _inherit = "res.company"

    amazon_account_ids = fields.One2many(
        "amazon.account", "company_id", string="Amazon Connections",
        groups="bind_amazon_connector.group_amazon_user",
    )

    def action_amazon_add_connection(self):
        """Open a new Amazon connection for this company or branch (the Integrations tab's button)."""
        check_group(self.env, AMAZON_MANAGER)
        self.ensure_one()
        self.check_access("read")
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("New Amazon Connection"),
            "res_model": "amazon.account",
            "view_mode": "form",
            "views": [(self.env.ref("bind_amazon_connector.amazon_account_view_form").id, "form")],
            "target": "current",
            "context": {"default_company_id": self.id},
        }
