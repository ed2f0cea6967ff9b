"""The access matrix of ``docs/security.rst``, walked role by role: access rights per model, and the money
buttons each role may not run; five people's rights on the records and buttons of a working connection (record
rules of another company, every ``action_*`` checking its group)."""
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import AMAZON_ADMIN, AMAZON_USER, AmazonOrderCommon, AmazonTestCommon

ADDON_MODULE = "odoo.addons.bind_amazon_connector."

#: role: the groups of a user of that role (all in the test company, except ``other_admin``)
ROLES = {
    "internal": ("base.group_user",),
    "amazon_user": (AMAZON_USER,),
    "amazon_admin": (AMAZON_ADMIN,),
    "sales_manager": ("sales_team.group_sale_manager",),
    "invoicing": ("account.group_account_invoice",),
    "accountant": ("account.group_account_manager",),
    "system": ("base.group_system",),
    "other_admin": (AMAZON_ADMIN, "account.group_account_manager"),
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
    "amazon.shipment": ("", "r", "ru", "", "", "", "", "ru"),
    "amazon.order.invoice.correction": ("", "", "rwcu", "", "", "", "", "rwcu"),
    "amazon.return": ("", "r", "r", "", "r", "r", "", "r"),
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


@tagged("post_install", "-at_install")
class TestSecurityMatrix(AmazonOrderCommon):
    """Five people: an Amazon user, an Amazon administrator, an accountant without Amazon rights, an internal
    user without any of them, and the Amazon administrator of another company."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.other_company = cls.env["res.company"].create({"name": "Otra Empresa SA"})
        cls.people = {
            "user": cls._user("sec_amazon_user", AMAZON_USER),
            "admin": cls._user("sec_amazon_admin", AMAZON_ADMIN),
            "accountant": cls._user("sec_accountant", "account.group_account_invoice"),
            "internal": cls._user("sec_internal", "base.group_user"),
            "other_admin": cls._user("sec_other_admin", AMAZON_ADMIN,
                                     "account.group_account_invoice", company=cls.other_company),
        }
        cls.listing = cls._listing("MUG-01")
        cls.settlement = cls.env["amazon.settlement"].sudo().create({
            "name": "SEC-1", "account_id": cls.amazon.id, "currency_id": cls.env.ref("base.MXN").id,
        }) if "amazon.settlement" in cls.env else None

    # ---------------------------------------------------------------- access rights per model

    #: model: {person: the operations they may do on the model (read, write, create, unlink)}
    MATRIX = {
        "amazon.account": {"user": "r", "admin": "rwcu", "accountant": "r", "internal": "", "other_admin": "rwcu"},
        "amazon.marketplace": {"user": "r", "admin": "r", "accountant": "", "internal": "", "other_admin": "r"},
        "amazon.oauth.state": {"user": "", "admin": "", "accountant": "", "internal": "", "other_admin": ""},
        "amazon.order": {"user": "r", "admin": "ru", "accountant": "", "internal": "", "other_admin": "ru"},
        "amazon.listing": {"user": "rw", "admin": "rwcu", "accountant": "", "internal": "", "other_admin": "rwcu"},
        "amazon.stock.push": {"user": "r", "admin": "rwcu", "accountant": "", "internal": "",
                              "other_admin": "rwcu"},
        "amazon.settlement": {"user": "r", "admin": "r", "accountant": "rw", "internal": "",
                              "other_admin": "rw"},
        "amazon.settlement.transaction": {"user": "r", "admin": "r", "accountant": "r", "internal": "",
                                          "other_admin": "r"},
    }

    def test_access_rights_matrix(self):
        operations = {"r": "read", "w": "write", "c": "create", "u": "unlink"}
        for model, rows in self.MATRIX.items():
            if model not in self.env:
                continue
            for person, allowed in rows.items():
                Model = self.env[model].with_user(self.people[person])
                for letter, operation in operations.items():
                    with self.subTest(model=model, person=person, operation=operation):
                        self.assertEqual(Model.has_access(operation), letter in allowed)

    def test_another_company_sees_nothing(self):
        """Record rules: the other company's Amazon administrator reads no record of this company."""
        self._make_order()
        self._sync()
        self.env["amazon.stock.push"].sudo()._enqueue_listings(self.listing)
        outsider = self.people["other_admin"]
        for model in ("amazon.account", "amazon.order", "amazon.listing", "amazon.stock.push",
                      "amazon.settlement", "amazon.settlement.transaction", "amazon.settlement.line",
                      "amazon.fee.account"):
            if model not in self.env:
                continue
            mine = self.env[model].sudo().search([("account_id", "=", self.amazon.id)] if model not in (
                "amazon.account",) else [("id", "=", self.amazon.id)])
            with self.subTest(model=model):
                self.assertFalse(self.env[model].with_user(outsider).search([("id", "in", mine.ids)]))
                if mine:
                    with self.assertRaises(AccessError):
                        mine[:1].with_user(outsider).read(["id"])

    def test_stock_pushes_of_another_company_are_not_readable(self):
        self.env["amazon.stock.push"].sudo()._enqueue_listings(self.listing)
        pushes = self.env["amazon.stock.push"].sudo().search([("account_id", "=", self.amazon.id)])
        self.assertTrue(pushes)
        outsider = self.env["amazon.stock.push"].with_user(self.people["other_admin"])
        self.assertFalse(outsider.search([]))
        with self.assertRaises(AccessError):
            pushes.with_user(self.people["other_admin"]).read(["listing_id"])
        self.assertEqual(self.env["amazon.stock.push"].with_user(self.people["admin"]).search(
            [("id", "in", pushes.ids)]), pushes)

    # ---------------------------------------------------------------- public methods

    def _addon_public_methods(self):
        """(model, method name) of every ``action_*`` method the addon defines, on its own or inherited models."""
        found = []
        for model_name in sorted(self.env.registry):
            cls = type(self.env[model_name])
            for name in dir(cls):
                if not name.startswith("action_"):
                    continue
                owners = [klass for klass in cls.__mro__ if name in vars(klass)]
                if any(klass.__module__.startswith(ADDON_MODULE) for klass in owners):
                    found.append((model_name, name))
        return found

    def _any_record(self, model_name):
        record = self.env[model_name].sudo().search([], limit=1)
        return record or self.env[model_name].browse(987654321)

    def test_every_action_checks_its_group(self):
        """An internal user without Amazon or accounting rights runs no action of the addon, whatever it is
        (actions added later are covered too)."""
        methods = self._addon_public_methods()
        self.assertIn(("amazon.order", "action_retry"), methods)
        self.assertIn(("sale.order", "action_view_amazon_order"), methods)
        internal = self.people["internal"]
        for model_name, name in methods:
            record = self._any_record(model_name).with_user(internal).with_company(self.company)
            with self.subTest(model=model_name, method=name), mute_logger("odoo.addons.base.models.ir_rule"), \
                    self.assertRaises(AccessError):
                getattr(record, name)()

    def test_accountant_without_amazon_rights_syncs_nothing(self):
        account = self.amazon.with_user(self.people["accountant"])
        for name in ("action_import_listings", "action_sync_finances", "action_sync_orders", "action_push_stock_now",
                     "action_test_connection", "action_authorize", "action_disconnect"):
            if not hasattr(account, name):
                continue
            with self.subTest(method=name), self.assertRaises(AccessError):
                getattr(account, name)()

    def test_amazon_user_runs_syncs_but_not_administration(self):
        account = self.amazon.with_user(self.people["user"])
        for name in ("action_authorize", "action_paste_token", "action_disconnect", "action_set_stock_from_amazon",
                     "action_load_default_fee_accounts"):
            with self.subTest(method=name), self.assertRaises(AccessError):
                getattr(account, name)()
        # navigation is allowed
        self.assertEqual(account.action_view_amazon_orders()["res_model"], "amazon.order")
        self.assertEqual(account.action_view_listings()["res_model"], "amazon.listing")

    def test_settlement_is_closed_by_accountants_only(self):
        if self.settlement is None:
            return
        with self.assertRaises(AccessError):
            self.settlement.with_user(self.people["user"]).action_close()
        with self.assertRaises(AccessError):
            self.settlement.with_user(self.people["admin"]).action_close()
        # the accountant gets past the access check (to what the booking needs first)
        with self.assertRaisesRegex(UserError, "deposit"):
            self.settlement.with_user(self.people["accountant"]).action_close()

    def test_another_companys_admin_runs_no_action_here(self):
        outsider = self.people["other_admin"]
        order_id = self._make_order()["orderId"]
        self._sync()
        order = self._amazon_order(order_id)
        targets = [(self.amazon, ("action_sync_orders", "action_import_listings", "action_test_connection",
                                  "action_authorize", "action_view_amazon_orders", "action_view_listings",
                                  "action_open_form")),
                   (order, ("action_retry", "action_open", "action_view_invoices")),
                   (self.listing, ("action_push_stock", "action_auto_map", "action_refresh_from_amazon"))]
        for records, names in targets:
            for name in names:
                if not hasattr(records, name):
                    continue
                with self.subTest(model=records._name, method=name), \
                        mute_logger("odoo.addons.base.models.ir_rule"), self.assertRaises(AccessError):
                    getattr(records.with_user(outsider).with_company(self.other_company), name)()
