"""The access matrix of ``docs/security.rst``, walked role by role: access rights per model, and the money
buttons each role may not run."""
from odoo.exceptions import AccessError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import AmazonTestCommon

#: role: the groups of a user of that role (all in the test company, except ``other_admin``)
ROLES = {
    "internal": ("base.group_user",),
    "amazon_user": ("bind_amazon_connector.group_amazon_user",),
    "amazon_admin": ("bind_amazon_connector.group_amazon_manager",),
    "sales_manager": ("sales_team.group_sale_manager",),
    "invoicing": ("account.group_account_invoice",),
    "accountant": ("account.group_account_manager",),
    "system": ("base.group_system",),
    "other_admin": ("bind_amazon_connector.group_amazon_manager", "account.group_account_manager"),
}

#: model: (internal, amazon_user, amazon_admin, sales_manager, invoicing, accountant, system, other_admin),
#: each the operations allowed: r read, w write, c create, u unlink (delete). Record rules come on top: the
#: other company's administrator has the rights of its groups, on its own company's records only.
MATRIX = {
    "amazon.account": ("", "r", "rwcu", "", "r", "r", "", "rwcu"),
    "amazon.account.marketplace": ("", "r", "rwcu", "", "r", "r", "", "rwcu"),
    "amazon.marketplace": ("", "r", "r", "", "", "", "rwcu", "r"),
    "amazon.oauth.state": ("", "", "", "", "", "", "r", ""),
    "amazon.account.token.wizard": ("", "", "rwc", "", "", "", "", "rwc"),
    "amazon.sync.job": ("", "", "r", "", "", "", "", "r"),
    "amazon.sync.cursor": ("", "", "r", "", "", "", "", "r"),
    "amazon.listing": ("", "rw", "rwcu", "", "", "", "", "rwcu"),
    "amazon.listing.stock.wizard": ("", "", "rwcu", "", "", "", "", "rwcu"),
    "amazon.stock.push": ("", "r", "rwcu", "", "", "", "", "rwcu"),
    "amazon.order": ("", "r", "ru", "", "", "", "", "ru"),
    "amazon.shipment": ("", "r", "rwu", "", "", "", "", "rwu"),
    "amazon.order.invoice.correction": ("", "", "rwcu", "", "", "", "", "rwcu"),
    "amazon.return": ("", "r", "r", "", "", "", "", "r"),
    "amazon.settlement": ("", "r", "r", "", "rw", "rwcu", "", "rwcu"),
    "amazon.settlement.transaction": ("", "r", "r", "", "r", "rwcu", "", "rwcu"),
    "amazon.settlement.line": ("", "r", "r", "", "r", "rwcu", "", "rwcu"),
    "amazon.fee.account": ("", "r", "r", "", "r", "rwcu", "", "rwcu"),
    "amazon.commission.invoice.wizard": ("", "", "", "", "rwc", "rwc", "", "rwc"),
    "amazon.profit.report": ("", "r", "r", "", "r", "r", "", "r"),
}

#: (model, button): the roles refused (AccessError before anything happens). Synchronize payouts needs both an
#: Amazon group and an accounting group: no single role of the matrix has both.
NOT_ACCOUNTING = ("internal", "amazon_user", "amazon_admin", "sales_manager", "system")
MONEY_BUTTONS = {
    ("amazon.account", "action_sync_finances"): NOT_ACCOUNTING + ("invoicing", "accountant"),
    ("amazon.account", "action_open_commission_wizard"): NOT_ACCOUNTING,
    ("amazon.settlement", "action_close"): NOT_ACCOUNTING,
    ("amazon.settlement", "action_load_cfdi"): NOT_ACCOUNTING,
}

OPERATIONS = {"r": "read", "w": "write", "c": "create", "u": "unlink"}


@tagged("post_install", "-at_install")
class TestAccessMatrix(AmazonTestCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        other_company = cls.env["res.company"].create({"name": "Otra Empresa Matriz SA"})
        cls.people = {}
        for role, xmlids in ROLES.items():
            company = other_company if role == "other_admin" else cls.company
            cls.people[role] = cls._user(f"matrix_{role}", *xmlids, name=f"matrix {role}", company=company)
        cls.settlement = cls.env["amazon.settlement"].sudo().create({
            "name": "MATRIX-1", "account_id": cls.amazon.id, "currency_id": cls.env.ref("base.MXN").id})

    def test_access_rights_per_role(self):
        roles = list(ROLES)
        for model, row in MATRIX.items():
            self.assertEqual(len(row), len(roles), model)
            for role, allowed in zip(roles, row, strict=True):
                Model = self.env[model].with_user(self.people[role])
                for letter, operation in OPERATIONS.items():
                    with self.subTest(model=model, role=role, operation=operation):
                        self.assertEqual(Model.has_access(operation), letter in allowed)

    def test_every_model_of_the_addon_is_in_the_matrix(self):
        """A new model gets its line in the matrix (and in docs/security.rst)."""
        models = self.env["ir.model"].sudo().search([("model", "=like", "amazon.%")])
        ours = {m.model for m in models if not self.env[m.model]._abstract}
        missing = ours - set(MATRIX) - {"amazon.listing.stock.wizard.line"}
        self.assertFalse(missing)

    def test_money_buttons_per_role(self):
        for (model, button), refused in MONEY_BUTTONS.items():
            record = self.amazon if model == "amazon.account" else self.settlement
            for role in refused:
                with self.subTest(button=button, role=role), mute_logger("odoo.addons.base.models.ir_rule"), \
                        self.assertRaises(AccessError):
                    getattr(record.with_user(self.people[role]), button)()
