#!/usr/bin/env python3
"""`make soak`: the whole product under load and faults, checked against what the scenario implies.

Three simulated sellers (SP-API simulators in this process, Amazon's usage plans sped up ``--speed`` times)
hold N orders in all (40 / 30 / 30 %), their listings, FBA stock and payout transactions. Each simulator
answers 10 % of the calls with 429, 2 % with 503 and 1 % after the client's timeout; one orders page is
malformed JSON; one seller's refresh token is revoked, then restored; the third seller also sells in the
United States (one connection, two marketplaces); mid-run Amazon ships some unshipped orders itself and the
warehouse validates the deliveries of others in Odoo (confirmed on Amazon by the shipments job), and Amazon
pays every shipped order (one payout transaction each, booked against its invoice).
Two `odoo-bin` servers (threads, two cron threads each, HTTP on loopback) do all the work through the
addon's scheduled actions (set to run each minute); each is SIGKILLed at least once at a random moment and
restarted. When the work is drained (or the time is up) the servers stop and Odoo is compared with the
scenario; the last line is

    soak: N orders, N sale orders, N invoices, N duplicates, N lost, N totals off, N stock off,
          N left in error, N unhandled errors

(one line) and the exit status is 1 on any duplicate, loss, wrong total, wrong stock or order in error.
A payout transaction not booked counts as lost, one in error as left in error, an invoice of a paid order
with something left to pay as a total off, a delivery validated in Odoo that Amazon does not show shipped as
lost and a package confirmed twice as a duplicate.

    python3 tools/soak.py [--orders 10000] [--quick] [--seed 17] [--keep-db]
"""
import argparse
import os
import random
import re
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import unquote

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tools"))
import dev  # noqa: E402

DB_NAME = "bac_soak"
MX, US = "A1AM78C64UM0Y8", "ATVPDKIKX0DER"
#: Share of the orders per seller; the third one may sell in two marketplaces.
SHARES = (0.4, 0.3, 0.3)
FAULT_RATES = {"throttle": 0.10, "5xx": 0.02, "slow": 0.01}
CLIENT_TIMEOUT = 30.0  # the SP-API layer's default per-call timeout (spapi/config.py)
INITIAL_STOCK = 100000
SCENARIO_DAYS = 3
#: Orders with these Amazon statuses end imported; shipped ones are invoiced.
IMPORTED = {"SHIPPED", "UNSHIPPED", "PARTIALLY_SHIPPED"}
FINAL_ORDER_STATES = {"SHIPPED": "imported", "UNSHIPPED": "imported", "PARTIALLY_SHIPPED": "imported",
                      "CANCELLED": "cancelled", "PENDING": "pending"}
ERROR_LINE = re.compile(r"^\S+ \S+ \d+ (ERROR|CRITICAL) ")
#: PostgreSQL errors are logged by odoo.sql_db whether or not the code handles them: not counted by themselves.
HANDLED_LINE = re.compile(r" odoo\.sql_db: bad query")
#: Odoo stopped a scheduled job over its real-time limit (in threaded mode by reloading the whole server).
TIME_LIMIT_LINE = re.compile(r" odoo\.service\.server: .*real time limit")


def say(msg):
    print(f"[soak {time.strftime('%H:%M:%S')}] {msg}", flush=True)


# ---------------------------------------------------------------- scenario

def build_sellers(n_orders, seed, two_marketplaces, speed):
    """Three simulators with generated sellers; returns their descriptions for the Odoo setup."""
    from spapi_simulator import Simulator, factory, generate_scenario

    now = datetime.now(timezone.utc).replace(microsecond=0)
    sellers = []
    for index, share in enumerate(SHARES):
        count = round(n_orders * share) if index < len(SHARES) - 1 else n_orders - sum(
            round(n_orders * s) for s in SHARES[:-1])
        seller_id = f"A3SOAKSELLER{index + 1:03d}"
        marketplaces = [MX, US] if (two_marketplaces and index == 2) else [MX]
        parts = [(m, count // len(marketplaces) + (1 if i < count % len(marketplaces) else 0))
                 for i, m in enumerate(marketplaces)]
        sim = Simulator(speed=speed, validate=False)
        sim.slow_delay = CLIENT_TIMEOUT + 2
        for part, (marketplace, part_count) in enumerate(parts):
            scenario = generate_scenario(
                n_orders=part_count, n_listings=max(20, part_count // 50), seed=seed * 10 + index * 3 + part,
                days=SCENARIO_DAYS, now=now, seller_id=seller_id, marketplace_id=marketplace, n_transactions=0,
                buyers=max(1, part_count * 2 // 3))  # a third of the orders from buyers who buy again
            # the scenario's listings start with Odoo's quantity: every difference at the end is the sync's
            for item in scenario["listings"]:
                for availability in item.get("fulfillmentAvailability", []):
                    if availability.get("fulfillmentChannelCode") == factory.CHANNEL_MFN:
                        availability["quantity"] = INITIAL_STOCK
            scenario["seller_id"] = seller_id
            scenario["marketplace_id"] = marketplaces[0]
            sim.load(scenario)
        _payout_transactions(sim, factory)
        sim.start()
        sellers.append({"name": f"Soak seller {index + 1}", "seller_id": seller_id, "url": sim.url,
                        "token_url": sim.token_url, "marketplaces": marketplaces,
                        "start": factory.iso(now - timedelta(days=SCENARIO_DAYS, hours=1)), "sim": sim})
    return sellers


def _payout_transactions(sim, factory, posted=None):
    """A released sale transaction per shipped order without one, for the whole amount Amazon charged."""
    with sim.state.lock:
        paid = {e.transaction_id for e in sim.state.transactions}
        entries = [e for e in sim.state.orders.values()
                   if e.status == "SHIPPED" and f"SOAKTXN-{e.order_id}" not in paid]
    for entry in entries:
        order = entry.order()
        first = order["orderItems"][0]
        when = posted or min(datetime.fromtimestamp(entry.updated, timezone.utc) + timedelta(hours=2),
                             sim.now() - timedelta(minutes=20))
        sim.add_transaction(factory.make_transaction(
            entry.order_id, posted=when, sku=first["product"]["sellerSku"], quantity=first["quantityOrdered"],
            principal=order["proceeds"]["grandTotal"]["amount"], marketplace_id=entry.marketplace_id,
            seller_id=sim.seller_id, fulfillment_network="AFN" if entry.fulfilled_by == "AMAZON" else "MFN",
            transaction_id=f"SOAKTXN-{entry.order_id}"), check=False)


# ---------------------------------------------------------------- Odoo servers

class Server:
    def __init__(self, conf, index, log_dir, cron_time_limit=None):
        self.conf, self.index = conf, index
        self.cron_time_limit = cron_time_limit
        self.port = 8170 + index * 10 + random.randrange(9)  # noqa: S311 - a free-ish loopback port
        self.log = log_dir / f"soak_server_{index}.log"
        self.proc = None
        self.kills = 0
        self.starts = 0
        self.exits = 0  # the server stopped by itself (e.g. a scheduled job over Odoo's time limit)
        self.wake_at = None

    def start(self):
        cmd = dev.odoo_cmd(self.conf) + [
            "-d", DB_NAME, "--db-filter", f"^{DB_NAME}$", "--http-port", str(self.port),
            "--http-interface", "127.0.0.1", "--max-cron-threads", "2", "--workers", "0",
            "--logfile", str(self.log), "--log-handler", "httpx:WARNING", "--log-level", "info"]
        if self.cron_time_limit:
            cmd += ["--limit-time-real-cron", str(self.cron_time_limit)]
        # Odoo's development mode: the connector reaches the simulators on loopback only then (or in tests)
        env = {**os.environ, "ODOO_DEV": os.environ.get("ODOO_DEV") or dev.SIMULATOR_DEV_MODE}
        self.proc = subprocess.Popen([str(c) for c in cmd], cwd=REPO, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, env=env)
        self.starts += 1
        # twice: the threads LISTEN only once the server has loaded, a few seconds after the start
        self.wake_at = [time.monotonic() + 5, time.monotonic() + 15]
        say(f"server {self.index} started (pid {self.proc.pid}, port {self.port})")

    def exited(self):
        return self.proc is not None and self.proc.poll() is not None

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.kills += 1
        say(f"server {self.index} SIGKILLed (pid {self.proc.pid})")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def psql(db, sql, database=DB_NAME):
    res = dev.run(dev.psql_cmd(db) + ["-d", database, "-tAc", sql], capture_output=True, text=True, check=False)
    return [line.split("|") for line in res.stdout.splitlines() if line]


def wake_crons(db):
    """Tell the servers' cron threads there is work, as Odoo's ``ir.cron._notifydb`` does.

    They LISTEN on a connection to the ``postgres`` database, and PostgreSQL delivers a NOTIFY only inside
    the database it was sent in: sent in the soak's database, it reached nobody, and every start waited for
    the threads' one-minute poll."""
    psql(db, f"NOTIFY cron_trigger, '{DB_NAME}'", database="postgres")


def listings_imported(db, count):
    done = psql(db, "SELECT count(*) FROM amazon_account WHERE listing_import_state IN ('done', 'warning')")
    return bool(done) and int(done[0][0]) >= count


def progress(db):
    """(orders by state, invoices posted, stock queue, transactions by state, packages not confirmed) read
    directly from PostgreSQL, in one psql call (it runs every few seconds on the servers' cores)."""
    rows = psql(db, """
        SELECT 'order', state, count(*) FROM amazon_order GROUP BY state
        UNION ALL SELECT 'invoices', '', count(*) FROM account_move
                   WHERE move_type = 'out_invoice' AND state = 'posted'
        UNION ALL SELECT 'queue', '', count(*) FROM amazon_stock_push
        UNION ALL SELECT 'txn', state, count(*) FROM amazon_settlement_transaction GROUP BY state
        UNION ALL SELECT 'packages', '', count(*) FROM amazon_shipment WHERE state IN ('pending', 'sending', 'error')
        UNION ALL SELECT 'numbering', substring(query FROM 'SET "name" = ''([^/'']*)/'), count(*)
                    FROM pg_stat_activity
                   WHERE datname = current_database() AND wait_event_type = 'Lock'
                     AND query LIKE 'UPDATE "account_move" SET "name" = %' GROUP BY 2
    """)
    states, txns, single = {}, {}, {}
    for kind, state, count in rows:
        if kind == "order":
            states[state] = int(count)
        elif kind == "txn":
            txns[state] = int(count)
        elif kind == "numbering":
            NUMBERING_WAITS[state] = NUMBERING_WAITS.get(state, 0) + 1
        else:
            single[kind] = int(count)
    NUMBERING_WAITS["samples"] = NUMBERING_WAITS.get("samples", 0) + 1
    return states, single.get("invoices", 0), single.get("queue", 0), txns, single.get("packages", 0)


#: Issue 28's sampling: at each progress read, the jobs waiting for Odoo's lock on a journal's next number
#: (``sequence.mixin._locked_increment`` updates the move's name under the journal's unique index), by the
#: entry's prefix. With one sales journal and one payouts journal per connection there are none to wait for.
NUMBERING_WAITS = {}


# ---------------------------------------------------------------- comparison

def compare(sellers, result, log_paths, odoo_shipped=()):
    expected_orders = sale_orders = invoices = duplicates = lost = totals_off = stock_off = in_error = 0
    problems = []
    for seller in sellers:
        sim = seller["sim"]
        odoo = result["accounts"].get(seller["seller_id"], {"orders": {}, "duplicate_records": 0})
        duplicates += odoo["duplicate_records"]
        with sim.state.lock:
            entries = list(sim.state.orders.values())
        for entry in entries:
            expected_orders += 1
            got = odoo["orders"].get(entry.order_id)
            if got is None:
                lost += 1
                problems.append(f"lost: {entry.order_id} ({entry.status})")
                continue
            sale_orders += min(got["sale_orders"], 1)
            invoices += min(got["invoices"], 1)
            duplicates += max(got["sale_orders"] - 1, 0) + max(got["invoices"] - 1, 0)
            if got["state"] == "error":
                in_error += 1
                problems.append(f"in error: {entry.order_id}: {got['reason']}")
                continue
            want = FINAL_ORDER_STATES.get(entry.status)
            if want and got["state"] != want:
                lost += 1
                problems.append(f"{entry.order_id}: {entry.status} at Amazon, {got['state']} in Odoo")
                continue
            if entry.status in IMPORTED and not got["sale_orders"]:
                lost += 1
                problems.append(f"no sale order: {entry.order_id}")
                continue
            if entry.status == "SHIPPED" and not got["invoices"]:
                lost += 1
                problems.append(f"shipped, not invoiced: {entry.order_id}")
                continue
            if entry.order_id in odoo_shipped and entry.status != "SHIPPED":
                lost += 1
                problems.append(f"shipped in Odoo, {entry.status} at Amazon: {entry.order_id}")
                continue
            if entry.status in IMPORTED:
                grand = float(entry.order()["proceeds"]["grandTotal"]["amount"])
                off = abs((got["total"] or 0) - grand) > 0.005 or (
                    got["invoices"] and abs((got["invoiced"] or 0) - grand) > 0.005)
                if off:
                    totals_off += 1
                    problems.append(f"total: {entry.order_id} Amazon {grand} sale {got['total']} "
                                    f"invoice {got['invoiced']}")
        for sku, qty in result["stock"].get(seller["seller_id"], {}).items():
            try:
                listing = sim.get_listing(sku)
            except KeyError:
                continue
            channels = listing.get("fulfillmentAvailability") or []
            amazon = next((a.get("quantity") for a in channels if a.get("fulfillmentChannelCode") == "DEFAULT"),
                          None)
            if amazon is not None and amazon != qty:
                stock_off += 1
                problems.append(f"stock: {seller['seller_id']} {sku} Amazon {amazon}, Odoo {qty}")
        with sim.state.lock:
            sim_txns = {e.transaction_id for e in sim.state.transactions}
        odoo_txns = result["transactions"].get(seller["seller_id"], {"names": [], "states": {}, "by_name": {}})
        # orders whose payout is booked (one not booked is counted as lost below, not twice)
        paid_orders = {name.removeprefix("SOAKTXN-") for name, state in odoo_txns["by_name"].items()
                       if state == "done"}
        names = odoo_txns["names"]
        duplicates += len(names) - len(set(names))
        missing = sim_txns - set(names)
        lost += len(missing)
        problems += [f"payout transaction not read: {t}" for t in sorted(missing)[:5]]
        for name, state in sorted(odoo_txns["by_name"].items()):
            if state == "error":
                in_error += 1
                problems.append(f"payout transaction in error: {name}")
            elif state in ("to_book", "waiting"):
                lost += 1
                problems.append(f"payout transaction not booked ({state}): {name}")
        for order_id, got in odoo["orders"].items():
            # Amazon paid the whole order and Odoo booked it: its invoice has nothing left to pay
            if order_id in paid_orders and got["invoices"] and abs(got["residual"] or 0) > 0.005:
                totals_off += 1
                problems.append(f"paid by Amazon, {got['residual']} left to pay on the invoice: {order_id}")
        packages = result.get("shipments_by_order", {}).get(seller["seller_id"], {})
        confirmed = {}
        for request in list(sim.requests):
            if request.operation == "confirmShipment" and request.status == 204:
                order_id = unquote(request.path.rsplit("/orders/", 1)[1].split("/")[0])
                confirmed[order_id] = confirmed.get(order_id, 0) + 1
        with sim.state.lock:
            amazon_status = {order_id: e.status for order_id, e in sim.state.orders.items()}
        for order_id, (state, count) in sorted(packages.items()):
            if count > 1 or confirmed.get(order_id, 0) > 1:
                duplicates += max(count, confirmed.get(order_id, 0)) - 1
                problems.append(f"package of {order_id} confirmed {confirmed.get(order_id, 0)} times, "
                                f"{count} packages in Odoo")
            if state == "cancelled" and amazon_status.get(order_id) == "SHIPPED":
                continue  # shipped in Seller Central meanwhile: nothing was left to confirm, rightly not sent
            if state != "done":
                in_error += state == "error"
                lost += state != "error"
                problems.append(f"package of {order_id} not confirmed on Amazon: {state}")
    unhandled = []
    for path in log_paths:
        if path.exists():
            unhandled += unhandled_lines(path.read_text(errors="replace").splitlines())
    return {"orders": expected_orders, "sale_orders": sale_orders, "invoices": invoices, "duplicates": duplicates,
            "lost": lost, "totals_off": totals_off, "stock_off": stock_off, "in_error": in_error,
            "unhandled": len(unhandled)}, problems, unhandled


def unhandled_lines(lines):
    """ERROR lines of a server's log, and its scheduled jobs killed by Odoo's time limit (a reload of the whole
    server in threaded mode). Not counted: what a server logs once told to stop (the harness stops them at the
    end with SIGTERM: the jobs still running lose their cursors)."""
    stopping = set()
    found = []
    for line in lines:
        parts = line.split(" ", 3)
        pid = parts[2] if len(parts) > 2 else None
        if "odoo.service.server: Initiating shutdown" in line:
            stopping.add(pid)
        if pid in stopping:
            continue
        if ERROR_LINE.match(line) and not HANDLED_LINE.search(line) or TIME_LIMIT_LINE.search(line):
            found.append(line)
    return found


# ---------------------------------------------------------------- the run

def drained(sellers, states, invoices, queue, txns, packages, quiet_since):
    expected = sum(len(s["sim"].state.orders) for s in sellers)
    shipped = sum(1 for s in sellers for e in s["sim"].state.orders.values() if e.status == "SHIPPED")
    n_txns = sum(len(s["sim"].state.transactions) for s in sellers)
    return (sum(states.values()) >= expected and not states.get("new") and not states.get("error")
            and invoices >= shipped and queue == 0 and sum(txns.values()) >= n_txns
            and not txns.get("to_book") and not txns.get("waiting") and not packages
            and time.monotonic() > quiet_since)


def main():
    dev.reexec_in_venv(__file__)
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--orders", type=int, default=None, help="orders in all (default 10000; --quick: 1000)")
    ap.add_argument("--quick", action="store_true", default=os.environ.get("QUICK") == "1")
    ap.add_argument("--seed", type=int, default=int(os.environ.get("SOAK_SEED", "17")))
    ap.add_argument("--speed", type=float, default=100.0, help="usage plans run this many times faster")
    ap.add_argument("--minutes", type=float, default=None, help="time limit of the work (default 45; quick 25)")
    ap.add_argument("--one-marketplace", action="store_true",
                    help="the third seller sells in Mexico only (default: also in the United States)")
    ap.add_argument("--cron-time-limit", type=int, default=None,
                    help="Odoo's --limit-time-real-cron for the servers (default: Odoo's own)")
    ap.add_argument("--keep-db", action="store_true")
    ns = ap.parse_args()
    n_orders = ns.orders or (1000 if ns.quick else 10000)
    limit = 60 * (ns.minutes or (25 if ns.quick else 45))
    rng = random.Random(ns.seed)  # noqa: S311 - fault and kill timing, not security
    random.seed(ns.seed)
    sys.path.insert(0, str(REPO))
    began = time.monotonic()

    say(f"{n_orders} orders, three sellers, simulator speed {ns.speed:g}, seed {ns.seed}")
    db = dev.ensure_pg()
    conf = dev.write_conf(db)
    dev.ensure_template(conf, db, dev.TEMPLATE_DB)
    dev.drop_db(conf, DB_NAME)
    dev.copy_db(db, dev.TEMPLATE_DB, DB_NAME)
    say(f"installing {dev.ADDON} in {DB_NAME}")
    dev.run(dev.odoo_cmd(conf) + ["-d", DB_NAME, "-i", dev.ADDON, "--stop-after-init", "--log-level=warn",
                                  "--no-http"])
    sellers = build_sellers(n_orders, ns.seed, not ns.one_marketplace, ns.speed)
    skus = sorted({sku for s in sellers for sku in s["sim"].state.listings})
    spec = [{k: v for k, v in s.items() if k != "sim"} for s in sellers]
    script = ("from odoo.addons.benchmarks.odoo_soak import setup\n"
              f"setup(env, sellers={spec!r}, skus={skus!r}, initial_stock={INITIAL_STOCK})\n")
    info = dev.bench_shell(conf, DB_NAME, script, label="soak setup")
    say(f"connections {info['accounts']}; scheduled actions every minute: {', '.join(info['crons'])}; "
        "the listings first")
    later = info["later"]
    for seller in sellers:
        seller["sim"].set_fault_rates(seed=rng.randrange(10**6), **FAULT_RATES)
        seller["sim"].reset_records()

    servers = [Server(conf, i, dev.DEVDATA, ns.cron_time_limit) for i in range(2)]
    for server in servers:
        server.log.unlink(missing_ok=True)
        server.start()
    # random moments (as shares of the orders imported) for each server's kill and for the faults
    kill_at = [rng.uniform(0.1, 0.45), rng.uniform(0.4, 0.8)]
    events = {"malformed": rng.uniform(0.1, 0.5), "revoke": rng.uniform(0.2, 0.5), "ship": rng.uniform(0.4, 0.7),
              "odoo_ship": rng.uniform(0.5, 0.8)}
    restore_at = shipped_at = odoo_shipped_at = None
    odoo_shipped = set()
    last_payouts = 0.0
    quiet_since = 0.0
    total = n_orders
    started = time.monotonic()
    last_line = 0.0
    pending_restart = {}
    try:
        while True:
            time.sleep(3)
            now = time.monotonic()
            if later and (listings_imported(db, len(sellers)) or now - started > 300):
                ids = ",".join(str(i) for i in later)
                psql(db, f"UPDATE ir_cron SET active = true, nextcall = now() at time zone 'UTC' WHERE id IN ({ids})")
                wake_crons(db)
                say("listings imported (or five minutes passed): the other scheduled actions are on")
                later = []
            states, invoices, queue, txns, packages = progress(db)
            done_share = sum(v for k, v in states.items() if k != "new") / total
            if now - last_line > 30:
                say(f"orders {states}, invoices {invoices}, stock queue {queue}, payouts {txns}, "
                    f"packages to confirm {packages}")
                last_line = now
            for server, share in zip(servers, kill_at, strict=True):
                if server.kills == 0 and server.index not in pending_restart and done_share >= share:
                    time.sleep(rng.uniform(0, 5))
                    server.kill()
                    pending_restart[server.index] = now + rng.uniform(1, 6)
            for server in servers:
                if server.index not in pending_restart and server.exited():
                    # what a service manager does: start it again
                    server.exits += 1
                    say(f"server {server.index} stopped by itself (exit status {server.proc.returncode}): "
                        "restarting it")
                    pending_restart[server.index] = now
            for server in servers:
                # A cron thread that just started listens for triggers but first polls a minute later (Odoo's
                # SLEEP_INTERVAL): once it listens, tell it there is work, as a trigger committed then would.
                if server.wake_at and now >= server.wake_at[0]:
                    wake_crons(db)
                    server.wake_at = server.wake_at[1:]
            for index, when in list(pending_restart.items()):
                if now >= when:
                    servers[index].start()
                    del pending_restart[index]
            if events.get("malformed") is not None and done_share >= events["malformed"]:
                sellers[0]["sim"].inject_fault("searchOrders", "malformed_json")
                say("seller 1: the next orders page is malformed JSON")
                events["malformed"] = None
            if events.get("revoke") is not None and done_share >= events["revoke"]:
                sellers[1]["sim"].revoke_refresh_token()
                sellers[1]["sim"].expire_access_tokens()
                say("seller 2: refresh token revoked (access tokens expired)")
                events["revoke"] = None
                restore_at = now + 60
            if restore_at and now >= restore_at:
                sellers[1]["sim"].restore_refresh_token()
                say("seller 2: refresh token valid again")
                restore_at = None
            if events.get("ship") is not None and done_share >= events["ship"]:
                shipped_at = ship_some(sellers, rng)
                events["ship"] = None
                # Amazon shows an update two minutes later at the earliest (plus the sync's own margin)
                quiet_since = now + 200
            if events.get("odoo_ship") is not None and done_share >= events["odoo_ship"]:
                events["odoo_ship"] = None
                odoo_shipped |= ship_in_odoo(conf, rng)
                odoo_shipped_at = time.monotonic()
                quiet_since = max(quiet_since, odoo_shipped_at + 200)
            if odoo_shipped_at and now - last_payouts > 20:
                # Amazon pays what the shipments job confirmed
                last_payouts = now
                for seller in sellers:
                    _payout_transactions(seller["sim"], factory_module(),
                                         posted=seller["sim"].now() - timedelta(minutes=5))
            all_killed = all(s.kills for s in servers) and not pending_restart
            if all_killed and restore_at is None and shipped_at and odoo_shipped_at and \
                    drained(sellers, states, invoices, queue, txns, packages, quiet_since):
                say("drained")
                break
            if now - started > limit:
                shipped = sum(1 for s in sellers for e in s["sim"].state.orders.values() if e.status == "SHIPPED")
                say(f"time limit ({limit / 60:g} minutes) reached with work pending: orders not done "
                    f"{n_orders - done_share * total:.0f} (in error {states.get('error', 0)}), invoices missing "
                    f"{max(shipped - invoices, 0)}, stock queue {queue}, payouts to book "
                    f"{txns.get('to_book', 0) + txns.get('waiting', 0)}, packages to confirm {packages}; "
                    "comparing what is there")
                break
            if done_share >= 0.999 and not all(s.kills for s in servers):
                kill_at = [min(k, 0.0) if not s.kills else k for k, s in zip(kill_at, servers, strict=True)]
            if done_share >= 0.999 and events.get("ship") is not None:
                events["ship"] = 0.0
            if done_share >= 0.999 and events.get("odoo_ship") is not None:
                events["odoo_ship"] = 0.0
    finally:
        for server in servers:
            server.stop()
    work_seconds = time.monotonic() - started
    say(f"work took {work_seconds:.0f} s; comparing Odoo with the scenario")
    result = dev.bench_shell(conf, DB_NAME, "from odoo.addons.benchmarks.odoo_soak import report\nreport(env)\n",
                             label="soak report")
    counts, problems, unhandled = compare(sellers, result, [s.log for s in servers], odoo_shipped)
    for seller in sellers:
        sim = seller["sim"]
        say(f"{seller['seller_id']}: {len(sim.requests)} calls, faults injected {sim.faults_injected}, "
            f"calls over the usage plan {sim.over_plan or 0}, contract violations {len(sim.contract_violations)}")
        sim.stop()
    say(f"kills: {[s.kills for s in servers]}, exits by themselves: {[s.exits for s in servers]}, "
        f"starts: {[s.starts for s in servers]}; "
        f"deliveries validated in Odoo: {len(odoo_shipped)}, shipment confirmations: {result.get('shipments')}; "
        f"whole run {time.monotonic() - began:.0f} s")
    samples = NUMBERING_WAITS.pop("samples", 0)
    say(f"journal numbering waits: {sum(NUMBERING_WAITS.values())} of {samples} samples "
        f"{dict(sorted(NUMBERING_WAITS.items())) or ''}")
    for line in problems[:30]:
        say("  " + line)
    for line in unhandled[:10]:
        say("  log: " + line[:300])
    if not ns.keep_db:
        dev.drop_db(conf, DB_NAME)
    print(f"soak: {counts['orders']} orders, {counts['sale_orders']} sale orders, {counts['invoices']} invoices, "
          f"{counts['duplicates']} duplicates, {counts['lost']} lost, {counts['totals_off']} totals off, "
          f"{counts['stock_off']} stock off, {counts['in_error']} left in error, "
          f"{counts['unhandled']} unhandled errors", flush=True)
    bad = counts["duplicates"] or counts["lost"] or counts["totals_off"] or counts["stock_off"] or counts["in_error"]
    return 1 if bad else 0


def factory_module():
    from spapi_simulator import factory

    return factory


def ship_in_odoo(conf, rng):
    """The warehouse validates a fifth of the merchant-fulfilled deliveries still open, in Odoo, while the
    servers work; returns their Amazon order numbers."""
    script = ("from odoo.addons.benchmarks.odoo_soak import ship_in_odoo\n"
              f"ship_in_odoo(env, share=0.2, seed={rng.randrange(10**6)})\n")
    result = dev.bench_shell(conf, DB_NAME, script, label="soak warehouse")
    shipped = set(result["shipped"])
    say(f"the warehouse validated {len(shipped)} deliveries in Odoo; {len(result['failed'])} not validated "
        "(left to Amazon)")
    for line in result["failed"][:5]:
        say("  " + line[:200])
    return shipped


def ship_some(sellers, rng):
    """Amazon ships a tenth of the unshipped orders while the servers work (and pays them)."""
    from spapi_simulator import factory

    count = 0
    for seller in sellers:
        sim = seller["sim"]
        with sim.state.lock:
            unshipped = [e.order_id for e in sim.state.orders.values() if e.status == "UNSHIPPED"]
        for order_id in rng.sample(unshipped, len(unshipped) // 10):
            sim.update_order(order_id, status="SHIPPED")
            count += 1
        _payout_transactions(sim, factory, posted=sim.now() - timedelta(minutes=5))
    say(f"{count} unshipped orders shipped on Amazon")
    return time.monotonic()


if __name__ == "__main__":
    sys.exit(main())
