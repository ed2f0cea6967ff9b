"""The set-up button of a new connection: create what a new seller would otherwise create by hand.

A price list in the marketplace's currency and an "Amazon FBA" warehouse, both in the connection's company,
and its first warehouse when the company (a new branch) has none. Plain functions taking the connections
(no model): the person may create connections, not necessarily price lists or warehouses, so once the
Amazon administrator group is checked these are created with sudo.
"""
from markupsafe import Markup

from odoo.exceptions import AccessError

#: Name of the warehouse standing for Amazon's fulfillment centres created by the set-up button.
FBA_WAREHOUSE_NAME = "Amazon FBA"


def create_missing_settings(accounts):
    """Fill the empty price list and warehouses of ``accounts``, saying in each chatter what was created."""
    accounts._check_manager()
    env = accounts.env
    for account in accounts:
        company = account.company_id
        if company not in env.user.company_ids:
            raise AccessError(env._("You have no access to the company %s.", company.display_name))
        created = []
        vals = {}
        if not account.pricelist_id:
            vals["pricelist_id"] = find_or_create_pricelist(account, created).id
        if not account.warehouse_id:
            warehouse = env["stock.warehouse"].search(
                [("company_id", "=", company.id), ("id", "!=", account.fba_warehouse_id.id)], limit=1)
            # a new branch has no warehouse at all (Odoo creates one only for the first company)
            vals["warehouse_id"] = (warehouse or create_merchant_warehouse(account, created)).id
        if not account.fba_warehouse_id:
            vals["fba_warehouse_id"] = find_or_create_fba_warehouse(
                account, vals.get("warehouse_id") or account.warehouse_id.id, created).id
        if vals:
            account.write(vals)
        if created:
            account.message_post(body=Markup("%s<ul>%s</ul>") % (
                env._("Created for this connection:"),
                Markup().join(Markup("<li>%s</li>") % line for line in created),
            ))
    return True


def find_or_create_pricelist(account, created):
    """The company's price list named after the marketplace, in its currency; created when missing."""
    env = account.env
    currency = account.marketplace_id.currency_id or account.company_id.currency_id
    # Odoo shows a price list with its currency: "Amazon México (MXN)"
    name = env._("Amazon %s", account.marketplace_id.country_id.name or account.marketplace_id.name)
    Pricelist = env["product.pricelist"].sudo()
    pricelist = Pricelist.search([("name", "=", name), ("currency_id", "=", currency.id),
                                  ("company_id", "in", (account.company_id.id, False))], limit=1)
    if not pricelist:
        if not currency.active:
            currency.sudo().active = True
        pricelist = Pricelist.create({"name": name, "currency_id": currency.id, "company_id": account.company_id.id})
        created.append(env._("the price list “%s”", pricelist.display_name))
    return pricelist.with_env(env)


def create_merchant_warehouse(account, created):
    """The warehouse of the orders the seller ships, for a company that has none, named after it."""
    env = account.env
    company = account.company_id
    Warehouse = env["stock.warehouse"].sudo().with_context(active_test=False)
    # name and short name are unique per company, archived warehouses included
    existing = Warehouse.search([("company_id", "=", company.id)])
    codes = set(existing.mapped("code"))
    stem = "".join(ch for ch in company.name.upper() if ch.isalnum())[:4] or "WH"
    code = next(c for c in [stem] + [f"{stem}{n}" for n in range(2, 10)] if c not in codes)
    name = company.name if company.name not in existing.mapped("name") else f"{company.name} {code}"
    warehouse = Warehouse.create({"name": name, "code": code, "company_id": company.id,
                                  "partner_id": company.partner_id.id})
    created.append(env._("the warehouse “%(name)s” (%(code)s) for the orders you ship",
                         name=warehouse.name, code=warehouse.code))
    return warehouse.with_env(env)


def find_or_create_fba_warehouse(account, merchant_warehouse_id, created):
    """The company's active "Amazon FBA" warehouse (not the merchant one); created when missing."""
    env = account.env
    name = FBA_WAREHOUSE_NAME
    Warehouse = env["stock.warehouse"].sudo().with_context(active_test=False)
    company_warehouses = Warehouse.search([("company_id", "=", account.company_id.id)])
    warehouse = company_warehouses.filtered(
        lambda w: w.name == name and w.active and w.id != merchant_warehouse_id)[:1]
    if not warehouse:
        # name and short name are unique per company: FBA, then FBA2, FBA3...
        codes = set(company_warehouses.mapped("code"))
        code = next(c for c in ["FBA"] + [f"FBA{n}" for n in range(2, 100)] if c not in codes)
        if name in company_warehouses.mapped("name"):
            name = f"{name} {code}"
        warehouse = Warehouse.create({"name": name, "code": code, "company_id": account.company_id.id})
        created.append(env._("the warehouse “%(name)s” (%(code)s), standing for Amazon's fulfillment "
                             "centres", name=warehouse.name, code=warehouse.code))
    return warehouse.with_env(env)


def propose_company_settings(account):
    """On a new branch: offer the branch's own warehouse and journals instead of another company's."""
    company = account.company_id
    if not company:
        return
    if account.warehouse_id.company_id != company:
        account.warehouse_id = account.env["stock.warehouse"].search([("company_id", "=", company.id)], limit=1)
    if account.fba_warehouse_id and account.fba_warehouse_id.company_id != company:
        account.fba_warehouse_id = False
    if account.pricelist_id.company_id and account.pricelist_id.company_id != company:
        account.pricelist_id = False
    for fname in ("journal_id", "sales_journal_id", "clearing_journal_id", "cash_basis_journal_id"):
        if account[fname] and not account[fname].filtered_domain(account[fname]._check_company_domain(company)):
            account[fname] = False
