"""Order import benchmark, the Odoo side (run inside ``odoo-bin shell`` by ``tools/bench_orders.py``).

``run(env, sim_url=..., token_url=..., n_orders=..., tag=..., baseline=True)`` creates a connection to the
simulator at ``sim_url`` (no usage-plan limit), imports every order the simulator has through the
scheduled action's path (a commit per page) and, with ``baseline``, creates the same sale orders, deliveries
and invoices again one order at a time through the ORM. Prints one ``BENCH_RESULT {json}`` line.
"""
import json
import resource
import time
from datetime import timedelta

from odoo import Command, fields

from odoo.addons.bind_amazon_connector.models.orders.order_import import QUIET_CONTEXT

BENCH_SKUS = 40
#: Orders per call of the batched ORM floor.
BATCH = 50
NO_LIMIT = 1e6


def _maxrss_kb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _setup(env, sim_url, token_url, tag):
    company = env.company
    warehouse = env["stock.warehouse"].search([("company_id", "=", company.id)], limit=1)
    fba = env["stock.warehouse"].search([("company_id", "=", company.id), ("code", "=", "BFBA")], limit=1) \
        or env["stock.warehouse"].create({"name": "Bench FBA", "code": "BFBA", "company_id": company.id})
    journal = env["account.journal"].search([("company_id", "=", company.id), ("type", "=", "bank")], limit=1)
    mxn = env.ref("base.MXN")
    pricelist = env["product.pricelist"].search([("currency_id", "=", mxn.id), ("name", "=", "Bench MXN")], limit=1) \
        or env["product.pricelist"].create({"name": "Bench MXN", "currency_id": mxn.id, "company_id": company.id})
    tax = company.account_sale_tax_id
    products = env["product.product"]
    for i in range(BENCH_SKUS):
        sku = f"BENCH-{i:03d}"
        product = env["product.product"].search([("default_code", "=", sku)], limit=1) or \
            env["product.product"].create({
                "name": f"Bench product {i}", "default_code": sku, "type": "consu", "is_storable": True,
                "list_price": 100.0, "taxes_id": [Command.set(tax.ids)]})
        products |= product
    account = env["amazon.account"].create({
        "name": f"Bench {tag}", "company_id": company.id, "region": "NA",
        "marketplace_id": env.ref("bind_amazon_connector.marketplace_mx").id,
        "seller_id": f"BENCH{tag}", "lwa_client_id": "sim-client-id", "lwa_client_secret": "sim-client-secret",
        "refresh_token": "Atzr|sim-refresh-token", "endpoint_override": sim_url, "token_url_override": token_url,
        "state": "authorized", "pricelist_id": pricelist.id, "warehouse_id": warehouse.id,
        "fba_warehouse_id": fba.id, "journal_id": journal.id, "user_id": env.user.id,
        "import_start_date": fields.Datetime.now() - timedelta(days=3),
    })
    env["amazon.listing"].create([{
        "account_id": account.id, "marketplace_id": account.marketplace_id.id, "seller_sku": p.default_code,
        "name": p.name, "currency_id": mxn.id, "fulfillment_channel": "merchant", "product_id": p.id,
    } for p in products])
    env.cr.commit()
    return account


def _plans(amazon_orders, prefix):
    """Values of sale orders like the connector's, for the ORM baselines."""
    plans = []
    for rec in amazon_orders:
        so = rec.sale_order_id
        plans.append({
            "partner_id": so.partner_id.id, "partner_shipping_id": so.partner_shipping_id.id,
            "company_id": so.company_id.id, "user_id": so.user_id.id, "pricelist_id": so.pricelist_id.id,
            "warehouse_id": so.warehouse_id.id, "client_order_ref": f"{prefix}-{rec.name}",
            "order_line": [Command.create({
                "product_id": ln.product_id.id, "name": ln.name, "product_uom_qty": ln.product_uom_qty,
                "price_unit": ln.price_unit, "tax_ids": [Command.set(ln.tax_ids.ids)],
            }) for ln in so.order_line],
        })
    return plans


def _baseline_batched(env, amazon_orders, batch=BATCH):
    """The floor: the same documents through the bare ORM, ``batch`` orders per call: create, confirm,
    deliver, invoice and post, one commit per batch."""
    env = env(context=dict(env.context, **QUIET_CONTEXT))
    plans = _plans(amazon_orders, "BATCH")
    env.cr.commit()
    env.invalidate_all()
    start = time.perf_counter()
    for index in range(0, len(plans), batch):
        sale_orders = env["sale.order"].create(plans[index:index + batch])
        sale_orders.action_confirm()
        pickings = sale_orders.picking_ids
        for move in pickings.move_ids:
            move.quantity = move.product_uom_qty
        pickings.move_ids.picked = True
        pickings.with_context(skip_backorder=True).button_validate()
        invoices = sale_orders._create_invoices()
        invoices.action_post()
        env.cr.commit()
        env.invalidate_all()
    return time.perf_counter() - start


def _baseline(env, amazon_orders):
    """The same documents, one order at a time through the ORM: create, confirm, deliver, invoice, post."""
    env = env(context=dict(env.context, **QUIET_CONTEXT))
    plans = _plans(amazon_orders, "BASE")
    env.cr.commit()
    env.invalidate_all()
    start = time.perf_counter()
    for index, vals in enumerate(plans, 1):
        so = env["sale.order"].create(vals)
        so.action_confirm()
        for move in so.picking_ids.move_ids:
            move.quantity = move.product_uom_qty
            move.picked = True
        so.picking_ids.with_context(skip_backorder=True).button_validate()
        invoice = so._create_invoices()
        invoice.action_post()
        if index % 100 == 0:
            env.cr.commit()
    env.cr.commit()
    return time.perf_counter() - start


def run(env, *, sim_url, token_url, n_orders, tag, baseline=True):
    account = _setup(env, sim_url, token_url, tag)
    rss_start = _maxrss_kb()
    api_clients = []
    account_class = type(account)
    real_spapi = account_class._spapi

    def spapi(acc, *args, **kwargs):
        client = real_spapi(acc.with_context(amazon_pacing_speed=NO_LIMIT), *args, **kwargs)
        api_clients.append(client)
        return client

    account_class._spapi = spapi
    try:
        def commit(processed):
            env.cr.commit()
            return float("inf")

        start = time.perf_counter()
        pages = orders = 0
        while True:
            result = account.env["amazon.order.sync"]._sync_for(account, commit=commit)
            pages += result["pages"]
            orders += result["orders"]
            if result.get("error") or not result.get("more"):
                break
        connector_seconds = time.perf_counter() - start
    finally:
        account_class._spapi = real_spapi
    rss_connector = _maxrss_kb()
    amazon_orders = env["amazon.order"].search([("account_id", "=", account.id)])
    states = {}
    for state in amazon_orders.mapped("state"):
        states[state] = states.get(state, 0) + 1
    invoices = amazon_orders.sale_order_id.invoice_ids.filtered(lambda m: m.state == "posted")
    out = {
        "tag": tag, "orders": len(amazon_orders), "read": orders, "pages": pages, "states": states,
        "invoices": len(invoices), "connector_seconds": connector_seconds,
        "spapi_calls": sum(c.stats.total("calls") for c in api_clients),
        "rss_start_kb": rss_start, "rss_connector_kb": rss_connector, "error": result.get("error"),
    }
    if baseline:
        imported = amazon_orders.filtered("sale_order_id")
        out["baseline_seconds"] = _baseline(env, imported)
        out["batched_seconds"] = _baseline_batched(env, imported)
        out["baseline_orders"] = len(imported)
    out["rss_end_kb"] = _maxrss_kb()
    print("BENCH_RESULT " + json.dumps(out), flush=True)  # pylint: disable=print-used
    return out
