"""Each flow is owned by its own model and run by ``amazon.sync.job``: the scheduled actions move there.

- the payouts flow was called "money" in the jobs and progress rows: it is "payouts" now;
- each connection's job ran ``amazon.account._sync_job_run``: it runs ``amazon.sync.job._run`` now;
- each flow's scheduled action called a method of ``amazon.account``: it calls its flow's ``_cron_dispatch``.
"""
from odoo import SUPERUSER_ID, api
from odoo.tools import SQL

DISPATCHERS = {
    "bind_amazon_connector.ir_cron_amazon_import_listings": "amazon.listing.sync",
    "bind_amazon_connector.ir_cron_amazon_sync_orders": "amazon.order.sync",
    "bind_amazon_connector.ir_cron_amazon_push_stock": "amazon.stock.sync",
    "bind_amazon_connector.ir_cron_amazon_sync_finances": "amazon.payout.sync",
}


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    for table in ("amazon_sync_job", "amazon_sync_cursor"):
        cr.execute(SQL("UPDATE %s SET flow = 'payouts' WHERE flow = 'money'", SQL.identifier(table)))
    job_model = env["ir.model"]._get_id("amazon.sync.job")
    for job in env["amazon.sync.job"].search([]):
        job.cron_id.write({"model_id": job_model, "code": f"model._run({job.account_id.id}, {job.flow!r})"})
    for xmlid, model in DISPATCHERS.items():
        cron = env.ref(xmlid, raise_if_not_found=False)
        if cron:
            cron.write({"model_id": env["ir.model"]._get_id(model), "code": "model._cron_dispatch()"})
