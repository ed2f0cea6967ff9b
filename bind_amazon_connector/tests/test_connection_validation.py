"""Every validation rule of the connection's settings, with its message, and nothing changed on refusal."""
from psycopg2 import IntegrityError

from odoo import Command
from odoo.exceptions import UserError, ValidationError
from odoo.tests import Form, tagged
from odoo.tools import mute_logger

from .common import AmazonTestCommon


@tagged("post_install", "-at_install")
class TestAccountValidation(AmazonTestCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.other_company = cls.setup_other_company(name="Otra Empresa SA")["company"]
        cls.other_warehouse = cls.env["stock.warehouse"].search([("company_id", "=", cls.other_company.id)], limit=1)
        if not cls.other_warehouse:
            cls.other_warehouse = cls.env["stock.warehouse"].create({
                "name": "Otra bodega", "code": "OTR", "company_id": cls.other_company.id,
            })
        cls.other_journal = cls.env["account.journal"].search(
            [("company_id", "=", cls.other_company.id), ("type", "=", "bank")], limit=1)
        cls.other_pricelist = cls.env["product.pricelist"].create({
            "name": "Otra lista", "currency_id": cls.env.ref("base.MXN").id, "company_id": cls.other_company.id,
        })
        # A branch (child company) of the Mexican company, as Odoo's Branches tab creates it.
        cls.branch = cls.env["res.company"].create({"name": "Sucursal Guadalajara", "parent_id": cls.company.id})
        cls.env.user.company_ids = [Command.link(cls.branch.id)]
        cls.branch_warehouse = cls.env["stock.warehouse"].search([("company_id", "=", cls.branch.id)], limit=1)
        if not cls.branch_warehouse:
            cls.branch_warehouse = cls.env["stock.warehouse"].create({
                "name": "Bodega Guadalajara", "code": "GDL", "company_id": cls.branch.id,
            })

    def assertRefused(self, vals, message, record=None):
        """Writing ``vals`` (or creating with them) is refused with ``message``, and nothing changes."""
        record = record or self.amazon
        before = {fname: record[fname] for fname in vals}
        with self.assertRaisesRegex((ValidationError, UserError), message):
            with self.env.cr.savepoint():
                record.write(vals)
        record.invalidate_recordset()
        for fname, value in before.items():
            self.assertEqual(record[fname], value, f"{fname} must be unchanged after a refused write")

    # ---------------------------------------------------------------- company of each setting

    def test_warehouse_of_another_company_refused(self):
        self.assertRefused({"warehouse_id": self.other_warehouse.id}, "Warehouse .* belongs to another company")

    def test_fulfillment_warehouse_of_another_company_refused(self):
        self.assertRefused({"fba_warehouse_id": self.other_warehouse.id},
                           "Fulfillment Warehouse .* belongs to another company")

    def test_journal_of_another_company_refused(self):
        self.assertTrue(self.other_journal)
        self.assertRefused({"journal_id": self.other_journal.id}, "Account .* belongs to another company")

    def test_pricelist_of_another_company_refused(self):
        self.assertRefused({"pricelist_id": self.other_pricelist.id}, "Price List .* belongs to another company")

    def test_user_without_access_to_the_company_refused(self):
        outsider = self._user("outsider", name="Vendedor externo", company=self.other_company)
        self.assertRefused({"user_id": outsider.id}, "User .* belongs to another company")

    def test_changing_company_keeps_settings_consistent(self):
        self.assertRefused({"company_id": self.other_company.id}, "belongs to another company")

    def test_shared_pricelist_accepted(self):
        shared = self.env["product.pricelist"].create({
            "name": "Compartida", "currency_id": self.env.ref("base.MXN").id, "company_id": False,
        })
        self.amazon.pricelist_id = shared
        self.assertEqual(self.amazon.pricelist_id, shared)

    # ---------------------------------------------------------------- branches

    def _branch_account(self, **overrides):
        vals = self._amazon_account_vals(
            name="Amazon GDL", company_id=self.branch.id, seller_id="A3SIMBRANCH0001",
            warehouse_id=self.branch_warehouse.id, fba_warehouse_id=False, pricelist_id=False,
            user_id=self.env.user.id,
        )
        vals.update(overrides)
        return self.env["amazon.account"].create(vals)

    def test_branch_uses_parent_bank_journal(self):
        """Branches share their parent's accounting in Odoo: the parent's bank journal is accepted."""
        account = self._branch_account(journal_id=self.bank_journal.id)
        self.assertEqual(account.journal_id.company_id, self.company)
        self.assertEqual(account.company_id.parent_id, self.company)

    def test_branch_needs_its_own_warehouse(self):
        with self.assertRaisesRegex(ValidationError, "Warehouse .* belongs to another company .*Sucursal Guadalajara"):
            self._branch_account(warehouse_id=self.warehouse.id)

    def test_branch_refuses_parent_pricelist(self):
        with self.assertRaisesRegex(ValidationError, "Price List .* belongs to another company"):
            self._branch_account(pricelist_id=self.pricelist.id)

    def test_parent_refuses_branch_warehouse(self):
        self.assertRefused({"warehouse_id": self.branch_warehouse.id}, "Warehouse .* belongs to another company")

    # ---------------------------------------------------------------- other rules

    def test_journal_must_be_bank_or_cash(self):
        self.assertRefused({"journal_id": self.company_data["default_journal_sale"].id},
                           "must be a bank or cash journal")

    def test_cash_journal_accepted(self):
        cash = self.company_data["default_journal_cash"]
        self.amazon.journal_id = cash
        self.assertEqual(self.amazon.journal_id.type, "cash")

    def test_fulfillment_warehouse_differs(self):
        self.assertRefused({"fba_warehouse_id": self.warehouse.id},
                           "fulfillment warehouse must differ from the merchant warehouse")

    def test_wrong_region_for_marketplace_refused(self):
        self.assertRefused({"region": "EU"}, "Amazon.com.mx .* belong to another Amazon region than Europe")

    def test_wrong_region_on_create_refused(self):
        count = self.env["amazon.account"].search_count([])
        with self.assertRaisesRegex(ValidationError, "another Amazon region"):
            with self.env.cr.savepoint():
                self.env["amazon.account"].create(self._amazon_account_vals(seller_id="A3OTHER", region="FE"))
        self.assertEqual(self.env["amazon.account"].search_count([]), count)

    def test_pricelist_currency_must_match_marketplace(self):
        usd = self.env["product.pricelist"].create({
            "name": "Dólares", "currency_id": self.env.ref("base.USD").id, "company_id": self.company.id,
        })
        self.assertRefused({"pricelist_id": usd.id}, "is in USD but .* sells in MXN")

    def test_same_seller_twice_refused(self):
        with self.assertRaises(IntegrityError), mute_logger("odoo.sql_db"), self.env.cr.savepoint():
            self.env["amazon.account"].create(self._amazon_account_vals(name="Duplicate"))

    def test_cannot_sync_until_authorized(self):
        draft = self.env["amazon.account"].create(self._amazon_account_vals(
            name="Sin autorizar", seller_id=False, refresh_token=False, state="draft",
        ))
        with self.assertRaisesRegex(UserError, "Authorize the Amazon connection"):
            draft._spapi()
        # a token without the authorized state (e.g. a neutralized copy) does not sync either
        draft.sudo().refresh_token = "Atzr|left-over"
        with self.assertRaisesRegex(UserError, "Authorize the Amazon connection"):
            draft._spapi()
        self.assertTrue(self.amazon._spapi())

    def test_missing_app_credentials_is_a_clear_error(self):
        self.amazon.write({"lwa_client_id": False, "lwa_client_secret": False})
        with self.assertRaisesRegex(UserError, "app credentials .* are missing"):
            self.amazon._spapi()
        self.env["ir.config_parameter"].set_param("bind_amazon_connector.lwa_client_id", "sim-client-id")
        self.env["ir.config_parameter"].set_param("bind_amazon_connector.lwa_client_secret", "sim-client-secret")
        # the system-wide credentials go to Amazon only, never to the simulator's overridden addresses
        with self.assertRaisesRegex(UserError, "needs its own app credentials"):
            self.amazon._spapi_config()
        self.amazon.write({"endpoint_override": False, "token_url_override": False})
        self.assertEqual(self.amazon._spapi_config().lwa_client_id, "sim-client-id")

    def test_region_change_in_the_form_clears_other_region_marketplaces(self):
        with Form(self.amazon) as form:
            form.region = "EU"
            self.assertFalse(form.marketplace_id, "no European marketplace is defined: the field is emptied")
            form.region = "NA"
            form.marketplace_id = self.env.ref("bind_amazon_connector.marketplace_us")
            form.pricelist_id = self.env["product.pricelist"].create({
                "name": "Amazon US", "currency_id": self.env.ref("base.USD").id, "company_id": self.company.id,
            })
        self.assertEqual(self.amazon.marketplace_id.marketplace_id, "ATVPDKIKX0DER")
