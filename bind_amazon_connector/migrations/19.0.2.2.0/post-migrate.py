"""Each flow's scheduled action calls the job runner for its flow (``amazon.sync.job._dispatch_flow``), which
triggers the jobs of the connections the flow's owner names in its ``_sync_domain``; it called the owner's
``_cron_dispatch`` before, which is gone. The actions are data created once (``noupdate``): moved here.
"""
from odoo import SUPERUSER_ID, api

DISPATCHERS = {
    "bind_amazon_connector.ir_cron_amazon_import_listings": "listings",
    "bind_amazon_connector.ir_cron_amazon_sync_orders": "orders",
    "bind_amazon_connector.ir_cron_amazon_push_stock": "stock",
    "bind_amazon_connector.ir_cron_amazon_sync_finances": "payouts",
    "bind_amazon_connector.ir_cron_amazon_sync_returns": "returns",
}


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    job_model = env["ir.model"]._get_id("amazon.sync.job")
    for xmlid, flow in DISPATCHERS.items():
        cron = env.ref(xmlid, raise_if_not_found=False)
        if cron:
            cron.write({"model_id": job_model, "code": f"model._dispatch_flow({flow!r})"})
