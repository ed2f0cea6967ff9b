from odoo import _, fields, models
from odoo.exceptions import AccessError

from ..connection.access import AMAZON_MANAGER, AMAZON_USER, check_group, is_trusted_writer


class AmazonAccount(models.Model):
    _inherit = "amazon.account"

    listing_ids = fields.One2many("amazon.listing", "account_id", string="Listings")
    listing_count = fields.Integer(compute="_compute_listing_counts")
    listing_unmapped_count = fields.Integer(string="Unmapped Listings", compute="_compute_listing_counts")
    listing_conflict_count = fields.Integer(string="Listing Conflicts", compute="_compute_listing_counts")

    listing_import_date = fields.Datetime(string="Last Listing Import", readonly=True, copy=False)
    listing_import_success_date = fields.Datetime(
        string="Last Complete Listing Import", readonly=True, copy=False,
        help="The last import that read Amazon's whole listings report.",
    )
    listing_import_state = fields.Selection(
        [("done", "Done"), ("warning", "Done, with skipped rows"), ("waiting", "Waiting for Amazon"),
         ("failed", "Failed")],
        string="Listing Import Result", readonly=True, copy=False,
    )
    listing_import_summary = fields.Html(string="Listing Import Summary", readonly=True, copy=False)
    listing_import_rows = fields.Integer(string="Rows Read", readonly=True, copy=False)
    listing_import_created = fields.Integer(string="Listings Created", readonly=True, copy=False)
    listing_import_updated = fields.Integer(string="Listings Updated", readonly=True, copy=False)
    listing_import_archived = fields.Integer(string="Listings Archived", readonly=True, copy=False)
    listing_import_skipped = fields.Integer(string="Rows Skipped", readonly=True, copy=False)
    listing_import_writes = fields.Integer(
        string="Records Written", readonly=True, copy=False,
        help="Listings and price list rules created or changed by the last import (0 when nothing changed).",
    )
    listing_report_id = fields.Char(string="Pending Listings Report", readonly=True, copy=False)
    listing_report_date = fields.Datetime(string="Listings Report Requested", readonly=True, copy=False)

    def _compute_listing_counts(self):
        counts = {
            (account.id, state): count
            for account, state, count in self.env["amazon.listing"]._read_group(
                [("account_id", "in", self.ids)], ["account_id", "mapping_state"], ["__count"]
            )
        }
        for account in self:
            account.listing_unmapped_count = counts.get((account.id, "unmapped"), 0)
            account.listing_conflict_count = counts.get((account.id, "conflict"), 0)
            account.listing_count = account.listing_unmapped_count + account.listing_conflict_count + counts.get(
                (account.id, "mapped"), 0)

    def write(self, vals):
        # What the last import did is written by the import, never typed in (it is shown as HTML).
        if not is_trusted_writer(self.env) and any(f.startswith(("listing_import_", "listing_report_")) for f in vals):
            raise AccessError(self.env._("The listings import results are written by the import only."))
        return super().write(vals)

    def _settings_missing(self):
        missing = super()._settings_missing()
        # FBA orders go to the fulfillment warehouse: ask for it as soon as the seller has FBA listings,
        # not when the first FBA order fails
        account_id = self._origin.id  # also in the form being edited (a new id there)
        if not self.fba_warehouse_id and account_id and self.env["amazon.listing"].search_count(
                [("account_id", "=", account_id), ("fulfillment_channel", "=", "amazon")], limit=1):
            missing.append("fba_warehouse_id")
        return missing

    # ------------------------------------------------------------------ actions

    def action_import_listings(self):
        """Button: import the whole catalogue now (waits a minute for Amazon, then leaves it to the cron)."""
        check_group(self.env, AMAZON_USER)
        self.ensure_one()
        self.check_access("read")
        return self.env["amazon.listing.sync"]._import_now(self)

    def action_view_listings(self):
        check_group(self.env, AMAZON_USER)
        self.ensure_one()
        self.check_access("read")
        action = self.env["ir.actions.act_window"]._for_xml_id("bind_amazon_connector.amazon_listing_action")
        action["domain"] = [("account_id", "=", self.id)]
        action["context"] = {"default_account_id": self.id}
        mapping_filter = self.env.context.get("listing_filter")
        if mapping_filter in ("unmapped", "conflict"):
            action["context"][f"search_default_filter_{mapping_filter}"] = 1
        return action

    def action_set_stock_from_amazon(self):
        check_group(self.env, AMAZON_MANAGER)
        self.ensure_one()
        self.check_access("write")
        wizard = self.env["amazon.listing.stock.wizard"].create({"account_id": self.id})
        wizard._load_lines()
        return {
            "type": "ir.actions.act_window",
            "name": _("Set Stock from Amazon"),
            "res_model": "amazon.listing.stock.wizard",
            "res_id": wizard.id,
            "view_mode": "form",
            "target": "new",
            "context": {"dialog_size": "extra-large"},  # eight columns: the default dialog cuts the products
        }
