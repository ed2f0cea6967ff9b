""""Set stock from Amazon": a preview of Odoo's and Amazon's quantities the user confirms, applied through
Odoo's inventory adjustment (stock.quant inventory mode), so every change is a traceable stock move.

Merchant-fulfilled listings set the connection's warehouse; Amazon's FBA inventory summaries (fulfillable
units) of every confirmed marketplace, each unit counted once per fulfilment network, set the fulfillment
warehouse, a read-only mirror of what Amazon holds. Nothing is sent to Amazon.
"""
from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError

from ..models.connection.access import AMAZON_MANAGER, check_group
from ..spapi import errors as spapi_errors
from ..spapi.inventory import pooled_stock


class AmazonListingStockWizard(models.TransientModel):
    _name = "amazon.listing.stock.wizard"
    _description = "Set Stock from Amazon"

    account_id = fields.Many2one("amazon.account", string="Connection", required=True, ondelete="cascade")
    warehouse_id = fields.Many2one(related="account_id.warehouse_id")
    fba_warehouse_id = fields.Many2one(related="account_id.fba_warehouse_id")
    line_ids = fields.One2many("amazon.listing.stock.wizard.line", "wizard_id", string="Lines")
    note = fields.Text(readonly=True)
    line_count = fields.Integer(compute="_compute_line_count")

    @api.depends("line_ids.apply", "line_ids.difference")
    @api.model
    def _open_for(self, account):
        """The wizard of ``account`` (its button on the connection), for Amazon administrators who may change it."""
        check_group(self.env, AMAZON_MANAGER)
        account.ensure_one()
        account.check_access("write")
        wizard = self.create({"account_id": account.id})
        wizard._load_lines()
        return {"type": "ir.actions.act_window", "name": _("Set Stock from Amazon"),
                "res_model": self._name, "res_id": wizard.id, "view_mode": "form", "target": "new",
                "context": {"dialog_size": "extra-large"}}  # eight columns: the default dialog cuts the products

    def _compute_line_count(self):
        for wizard in self:
            wizard.line_count = len(wizard.line_ids.filtered(lambda line: line.apply and line.difference))

    # ------------------------------------------------------------------ preview

    def _load_lines(self):
        """Build the preview: one line per product and warehouse."""
        self.ensure_one()
        account = self.account_id
        notes = []
        vals_list = []
        if account.warehouse_id:
            vals_list += self._merchant_lines(notes)
        else:
            notes.append(_("No warehouse on the connection: merchant-fulfilled stock is not set."))
        if account.fba_warehouse_id:
            vals_list += self._fba_lines(notes)
        else:
            notes.append(_("No fulfillment warehouse on the connection: Amazon's FBA stock is not mirrored."))
        self.line_ids = [fields.Command.clear()] + [fields.Command.create(v) for v in vals_list]
        self.note = "\n".join(notes) or False

    def _merchant_lines(self, notes):
        listings = self.env["amazon.listing"].search([
            ("account_id", "=", self.account_id.id), ("fulfillment_channel", "=", "merchant"),
            ("product_id", "!=", False),
        ])
        by_product = {}
        for listing in listings:
            by_product.setdefault(listing.product_id, []).append(listing)
        unmapped = self.env["amazon.listing"].search_count([
            ("account_id", "=", self.account_id.id), ("fulfillment_channel", "=", "merchant"),
            ("product_id", "=", False),
        ])
        if unmapped:
            notes.append(_("%s merchant-fulfilled listings are not mapped to a product: map them first.", unmapped))
        quantities = {}
        for product, product_listings in by_product.items():
            # an offer Amazon does not sell (inactive, incomplete) says little about the stock on hand
            active = [lst for lst in product_listings if (lst.amazon_status or "").lower() == "active"]
            counted = active or product_listings
            doubt = False
            if not active:
                doubt = _("No active offer on Amazon: its quantity may be out of date; check before applying.")
            elif len({lst.quantity for lst in active}) > 1:
                doubt = _("Its listings disagree; the highest quantity is proposed: check before applying.")
            quantities[product] = (
                max(lst.quantity for lst in counted),
                ", ".join(f"{lst.seller_sku} ({lst.quantity})" for lst in product_listings),
                doubt,
            )
        return self._lines_for(self.account_id.warehouse_id, "merchant", quantities)

    def _fba_lines(self, notes):
        account = self.account_id
        listings = self.env["amazon.listing"].search([("account_id", "=", account.id), ("product_id", "!=", False)])
        product_by_sku = {lst.seller_sku: lst.product_id for lst in listings}
        fba_products = listings.filtered(lambda lst: lst.fulfillment_channel == "amazon").product_id
        totals = {product: [0, []] for product in fba_products}
        ignored = 0
        try:
            api = account._spapi()
            summaries = [(marketplace_id, summary) for marketplace_id in self._fba_marketplace_ids()
                         for summary in api.for_marketplace(marketplace_id).iter_inventory_summaries()]
        except spapi_errors.SpApiError as exc:
            notes.append(_("Amazon's FBA inventory could not be read (%s): the fulfillment warehouse is not "
                           "changed.", exc))
            return []
        # North America's unified account shows the same pooled units in each of its marketplaces: counted once
        units = pooled_stock(summaries)
        networks = {network for network, _unit in units}
        for (network, _unit), (summary, _shown_in) in sorted(units.items()):
            product = product_by_sku.get(summary.seller_sku)
            qty = summary.fulfillable_quantity or 0
            if not product:
                ignored += 1
                continue
            entry = totals.setdefault(product, [0, []])
            entry[0] += qty
            where = f" {network}" if len(networks) > 1 else ""
            entry[1].append(f"{summary.seller_sku}{where} ({qty})")
        if ignored:
            notes.append(_("%s FBA SKUs have no mapped listing in Odoo and were left out.", ignored))
        quantities = {product: (qty, ", ".join(skus), False) for product, (qty, skus) in totals.items()}
        return self._lines_for(account.fba_warehouse_id, "amazon", quantities)

    def _fba_marketplace_ids(self):
        """Amazon ids of the marketplaces whose FBA stock is read: every confirmed marketplace the connection
        reads, the main one first."""
        account = self.account_id
        read = account._get_marketplaces()
        lines = account.marketplace_setting_ids.filtered(
            lambda line: line.marketplace_id in read and (line.confirmed or line.is_main))
        marketplaces = (account.marketplace_id & lines.marketplace_id) | lines.marketplace_id
        return marketplaces.mapped("marketplace_id") or [account.marketplace_id.marketplace_id]

    def _lines_for(self, warehouse, channel, quantities):
        """quantities: {product: (amazon quantity, SKUs text, doubt: False or why the line is not ticked)}."""
        if not quantities:
            return []
        products = self.env["product.product"].concat(*quantities).with_context(warehouse_id=warehouse.id)
        vals_list = []
        for product in products.sorted("default_code"):
            amazon_qty, skus, doubt = quantities[product]
            note = doubt
            can_apply = True
            if not product.is_storable:
                note, can_apply = _("Not tracked in inventory (not storable)."), False
            elif product.tracking != "none":
                note, can_apply = _("Tracked by lots or serial numbers: adjust it by hand."), False
            current = product.qty_available if product.is_storable else 0.0
            vals_list.append({
                "product_id": product.id,
                "warehouse_id": warehouse.id,
                "channel": channel,
                "skus": skus,
                "current_qty": current,
                "amazon_qty": amazon_qty,
                "can_apply": can_apply,
                "apply": can_apply and not doubt,
                "note": note,
            })
        return vals_list

    # ------------------------------------------------------------------ apply

    def action_reload(self):
        check_group(self.env, AMAZON_MANAGER)
        self._load_lines()
        return self._reopen()

    def action_apply(self):
        """Adjust each selected product's quantity in its warehouse to Amazon's, as inventory adjustments."""
        check_group(self.env, AMAZON_MANAGER)
        self.ensure_one()
        if not self.env.user.has_group("stock.group_stock_user"):
            raise AccessError(_("Setting stock needs the Inventory / User rights."))
        lines = self.line_ids.filtered(
            lambda line: line.apply and line.can_apply
            and line.product_id.uom_id.compare(line.difference, 0) != 0
        )
        if not lines:
            raise UserError(_("No selected line changes any quantity."))
        Quant = self.env["stock.quant"].with_context(
            inventory_mode=True,
            inventory_name=_("Stock set from Amazon (%s)", self.account_id.name),
        )
        quants = Quant.browse()
        for line in lines:
            quants |= line._prepare_quants(Quant)
        result = quants.action_apply_inventory()
        if isinstance(result, dict):  # Odoo's conflict wizard: someone changed these quants meanwhile
            raise UserError(_("The stock of some products changed meanwhile: reload the preview and try again."))
        self.account_id.message_post(body=_(
            "Stock set from Amazon for %(count)s products by %(user)s.", count=len(lines), user=self.env.user.name))
        return {
            "type": "ir.actions.act_window",
            "name": _("Stock Moves from Amazon"),
            "res_model": "stock.move.line",
            "view_mode": "list",
            "domain": [("move_id.is_inventory", "=", True), ("product_id", "in", lines.product_id.ids),
                       ("move_id.inventory_name", "=", Quant.env.context["inventory_name"])],
        }

    def _reopen(self):
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
            "context": {"dialog_size": "extra-large"},
        }
