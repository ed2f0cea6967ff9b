"""Scale-out benchmark, the Odoo side (run inside ``odoo-bin shell`` by ``tools/bench_scaleout.py``).

``setup(env, sims=[(sim_url, token_url), ...])`` creates one connection per simulator (same products, no
usage-plan limit: the jobs pace at the simulator's speed) and their orders jobs. ``start(env)`` runs the
orders scheduled action (it triggers every connection's job). ``progress(env)`` counts the orders done.
Each prints one ``BENCH_RESULT {json}`` line.
"""
import json
import time
from datetime import timedelta

from odoo import fields

from .odoo_orders import BENCH_SKUS, NO_LIMIT, _setup


def setup(env, *, sims):
    accounts = env["amazon.account"]
    for tag, (sim_url, token_url) in enumerate(sims, start=1):
        account = _setup(env, sim_url, token_url, tag)
        account.write({"import_start_date": fields.Datetime.now() - timedelta(days=3),
                       "update_stock_on_amazon": False})
        job = env["amazon.sync.job"]._for(account, "orders")
        # the servers pace the calls at the simulator's speed (the context reaches the connection's client)
        job.cron_id.code = f"model.with_context(amazon_pacing_speed={NO_LIMIT})._run({account.id}, 'orders')"
        accounts |= account
    # only the orders are measured: the other flows' scheduled actions stay off
    for xmlid in ("ir_cron_amazon_import_listings", "ir_cron_amazon_sync_finances", "ir_cron_amazon_push_stock"):
        env.ref(f"bind_amazon_connector.{xmlid}").active = False
    env.cr.commit()
    print("BENCH_RESULT " + json.dumps({"accounts": accounts.ids, "skus": BENCH_SKUS}), flush=True)


def start(env):
    env["amazon.sync.job"]._dispatch_flow("orders")
    env.cr.commit()
    print("BENCH_RESULT " + json.dumps({"started": True, "at": time.time()}), flush=True)
