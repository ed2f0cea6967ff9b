"""Listings import benchmark, Odoo side: run inside `odoo-bin shell` by tools/bench_listings.py.

Each measured size runs in its own Odoo process, so peak resident memory is comparable between sizes:
the peak (VmHWM) is reset just before the import, which leaves Odoo's own start-up out of the figure.
Results are printed as one ``BENCH_RESULT {json}`` line.
"""
import json
import os
import time

from odoo.tools import SQL

BENCH_ACCOUNT = "Amazon MX (benchmark)"
#: Products whose internal reference matches a benchmark SKU: mapping and price list rules get exercised.
BENCH_PRODUCTS = 2000


def _status(name):
    """A value in kB from /proc/self/status (VmRSS, VmHWM), or 0 where there is no procfs."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(name + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _reset_peak_rss():
    """Linux: writing 5 to clear_refs resets the peak resident set size (VmHWM) of the process."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as f:
            f.write("5")
        return True
    except OSError:
        return False


def setup(env, url, token_url):
    """The benchmark connection on the simulator, its MXN price list and the matching products."""
    mxn = env.ref("base.MXN")
    mxn.active = True
    company = env.company
    pricelist = env["product.pricelist"].create({"name": "Amazon MX (benchmark)", "currency_id": mxn.id,
                                                 "company_id": company.id})
    warehouse = env["stock.warehouse"].search([("company_id", "=", company.id)], limit=1)
    fba = env["stock.warehouse"].create({"name": "Amazon FBA (benchmark)", "code": "FBAB",
                                         "company_id": company.id})
    account = env["amazon.account"].create({
        "name": BENCH_ACCOUNT, "company_id": company.id, "region": "NA",
        "marketplace_id": env.ref("bind_amazon_connector.marketplace_mx").id,
        "seller_id": "A3SIMSELLER0001", "lwa_client_id": "sim-client-id",
        "lwa_client_secret": "sim-client-secret", "refresh_token": "Atzr|sim-refresh-token",
        "endpoint_override": url, "token_url_override": token_url, "state": "authorized",
        "pricelist_id": pricelist.id, "warehouse_id": warehouse.id, "fba_warehouse_id": fba.id,
    })
    env["product.product"].create([
        {"name": f"Producto benchmark {n}", "default_code": f"BENCH-{n:06d}", "type": "consu", "is_storable": True}
        for n in range(BENCH_PRODUCTS)
    ])
    env.cr.commit()
    return {"account_id": account.id}


def _db_writes(env):
    env.flush_all()
    env.cr.execute(
        """SELECT COALESCE(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) FROM pg_stat_xact_user_tables
            WHERE relname IN ('amazon_listing', 'product_pricelist_item', 'amazon_listing_conflict_product_rel')"""
    )
    return int(env.cr.fetchone()[0])


def measure(env, account_id, rows):
    """First import of a fresh catalogue (timed, peak memory), then a second import of the same report."""
    account = env["amazon.account"].browse(account_id).with_context(
        amazon_pacing_speed=1000.0, amazon_report_poll_interval=0.05, amazon_report_wait=120)
    env.cr.execute(SQL("DELETE FROM amazon_listing WHERE account_id = %s", account.id))
    env.cr.execute(SQL("DELETE FROM product_pricelist_item WHERE pricelist_id = %s", account.pricelist_id.id))
    env.cr.commit()
    env.invalidate_all()

    rss_before = _status("VmRSS")
    peak_reset = _reset_peak_rss()
    start = time.perf_counter()
    state = env["amazon.listing.sync"]._import_listings(account)
    env.cr.commit()
    seconds = time.perf_counter() - start
    peak = _status("VmHWM")
    created = account.listing_import_created

    env.invalidate_all()
    writes_before = _db_writes(env)
    start = time.perf_counter()
    state2 = env["amazon.listing.sync"]._import_listings(account)
    writes = _db_writes(env) - writes_before
    reimport_seconds = time.perf_counter() - start
    result = {
        "rows": rows, "state": state, "reimport_state": state2, "created": created,
        "seconds": round(seconds, 2), "reimport_seconds": round(reimport_seconds, 2),
        "rss_before_kb": rss_before, "peak_rss_kb": peak, "peak_reset": peak_reset,
        "reimport_writes": writes, "reimport_writes_counted": account.listing_import_writes,
        "mapped": env["amazon.listing"].search_count([("account_id", "=", account.id),
                                                      ("mapping_state", "=", "mapped")]),
        "price_rules": len(account.pricelist_id.item_ids),
    }
    env.cr.commit()
    return result


def _trace_slow_queries(threshold=0.5):
    """BENCH_SLOW_SQL=1: print the queries slower than ``threshold`` seconds (diagnosis)."""
    from odoo.sql_db import Cursor

    execute = Cursor.execute

    def timed(cr, query, params=None, log_exceptions=True):
        start = time.perf_counter()
        try:
            return execute(cr, query, params, log_exceptions)
        finally:
            spent = time.perf_counter() - start
            if spent > threshold:
                print(f"SLOW_SQL {spent:.2f}s {str(getattr(query, 'code', query))[:300]!r}", flush=True)  # pylint: disable=print-used

    Cursor.execute = timed


def main(env):
    """Entry point for the shell: parameters come from BENCH_* environment variables."""
    if os.environ.get("BENCH_SLOW_SQL"):
        _trace_slow_queries()
    action = os.environ["BENCH_ACTION"]
    if action == "setup":
        result = setup(env, os.environ["BENCH_SIM_URL"], os.environ["BENCH_SIM_TOKEN_URL"])
    else:
        result = measure(env, int(os.environ["BENCH_ACCOUNT_ID"]), int(os.environ["BENCH_ROWS"]))
    print("BENCH_RESULT " + json.dumps(result), flush=True)  # pylint: disable=print-used
