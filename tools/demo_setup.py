"""Run inside `odoo-bin shell` by `make demo`: a demo Amazon connection on the local simulator.

Idempotent: the connection is created once and its simulator address refreshed on every start.
Reads BAC_DEMO_SIMULATOR (the simulator's base URL). `env` is provided by odoo-bin shell.
"""
import os
from datetime import datetime, timedelta

env = globals()["env"]
sim_url = os.environ["BAC_DEMO_SIMULATOR"]
company = env.ref("base.main_company")
if company.name in ("My Company", "YourCompany") or not company.vat:
    # the demo seller is a Mexican company: a name, an RFC and a fiscal address instead of "My Company"
    company.write({
        "name": "Artesanías Tonalá S.A. de C.V.",
        "vat": "ATO190312QX4",
        "street": "Av. Tonaltecas 120",
        "street2": "Col. Centro",
        "city": "Tonalá",
        "zip": "45400",
        "state_id": env.ref("base.state_mx_jal").id,
        "country_id": env.ref("base.mx").id,
        "phone": "+52 33 3683 0000",
        "email": "ventas@artesaniastonala.example.com",
        "website": "https://artesaniastonala.example.com",
    })
account = env["amazon.account"].with_context(active_test=False).search(
    [("company_id", "=", company.id), ("seller_id", "=", "A3SIMSELLER0001")], limit=1
)
warehouse = env["stock.warehouse"].search([("company_id", "=", company.id)], limit=1)
if warehouse.name in ("My Company", "YourCompany"):
    warehouse.name = "Tonalá"  # named after the company before it became the demo seller
fba = env["stock.warehouse"].search([("company_id", "=", company.id), ("code", "=", "FBA")], limit=1)
if not fba:
    fba = env["stock.warehouse"].create({"name": "Amazon FBA", "code": "FBA", "company_id": company.id})
pricelist = env["product.pricelist"].search([("name", "=", "Amazon MX")], limit=1) or env["product.pricelist"].create(
    {"name": "Amazon MX", "currency_id": env.ref("base.MXN").id, "company_id": company.id}
)
journal = env["account.journal"].search([("company_id", "=", company.id), ("type", "=", "bank")], limit=1)
vals = {
    "endpoint_override": sim_url,
    "token_url_override": sim_url + "/auth/o2/token",
}
if not account:
    vals.update({
        "name": "Amazon México (simulador)",
        "company_id": company.id,
        "region": "NA",
        "marketplace_id": env.ref("bind_amazon_connector.marketplace_mx").id,
        "seller_id": "A3SIMSELLER0001",
        "lwa_client_id": "sim-client-id",
        "lwa_client_secret": "sim-client-secret",
        "refresh_token": "Atzr|sim-refresh-token",
        "state": "authorized",
        "pricelist_id": pricelist.id,
        "warehouse_id": warehouse.id,
        "fba_warehouse_id": fba.id,
        "journal_id": journal.id,
        "user_id": env.ref("base.user_admin").id,
        # the demo scenario's data is dated in the two weeks before the simulator started
        "import_start_date": datetime.now() - timedelta(days=15),
        "finance_start_date": datetime.now() - timedelta(days=15),
    })
    account = env["amazon.account"].create(vals)
else:
    account.write(vals)
# A connection added by hand in the demo (README: a second connection) talks to the simulator too: its consent
# page, token endpoint and API, with the simulator's app credentials. Never set outside the demo database.
defaults = env["ir.default"].sudo()
for field, value in [("endpoint_override", sim_url), ("token_url_override", sim_url + "/auth/o2/token"),
                     ("seller_central_override", sim_url), ("lwa_client_id", "sim-client-id"),
                     ("lwa_client_secret", "sim-client-secret")]:
    defaults.set("amazon.account", field, value)
params = env["ir.config_parameter"].sudo()
if not params.get_param("bind_amazon_connector.application_id"):
    params.set_param("bind_amazon_connector.application_id", "amzn1.sp.solution.sim-app")
env.ref("base.user_admin").write({"password": "admin", "lang": "es_MX"})
env.cr.commit()
print(f"Demo connection {account.name} (id {account.id}) uses the simulator at {sim_url}", flush=True)


def create_demo_products():
    """A seller starting from Amazon: products made from the listings nothing in Odoo matches."""
    unmapped = env["amazon.listing"].search([("account_id", "=", account.id), ("mapping_state", "=", "unmapped")])
    return unmapped.action_create_products() if unmapped else None


# Bring the demo seller's data in, as a seller would after authorizing: listings, products, orders, payouts.
for label, step in [("listings", account.action_import_listings), ("products", create_demo_products),
                    ("orders", account.action_sync_orders), ("payouts", account.action_sync_finances)]:
    try:
        step()
        env.cr.commit()
        print(f"Demo {label}: done", flush=True)
    except Exception as exc:  # noqa: BLE001 - the demo goes on; the connection shows the error too
        env.cr.rollback()
        print(f"Demo {label}: not imported ({exc})", flush=True)
