#!/usr/bin/env python3
"""Scale-out benchmark: the same order backlog of four connections drained by two Odoo servers, then by one.

    scaleout_speedup_2_servers_4_connections: X   time with one server / time with two (goal >= 1.6)

Each server is a real ``odoo-bin`` with workers and one cron process (``--max-cron-threads``), on its own copy
of a database prepared once: four connections, each to its own SP-API simulator in this process (no
usage-plan limit, so Amazon's quota is not what is measured). The orders scheduled action triggers one job
per connection; the servers share them. The clock runs from the trigger until every order is imported.

    python3 tools/bench_scaleout.py [--orders 60] [--cron-threads 1] [--keep-db]
"""
import argparse
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tools"))
import dev  # noqa: E402
from bench_orders import scenario  # noqa: E402

DB_SETUP = "bac_bench_scaleout"
CONNECTIONS = 4


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def count_imported(db, name):
    out = dev.run(dev.psql_cmd(db) + ["-d", name, "-tAc",
                                      "SELECT count(*) FROM amazon_order WHERE state IN ('imported', 'error')"],
                  capture_output=True, text=True, check=False)
    try:
        return int(out.stdout.strip() or 0)
    except ValueError:
        return 0


def drain(conf, db, servers, total, cron_threads, timeout):
    """Seconds ``servers`` Odoo servers take to import the ``total`` orders of a fresh copy of the database."""
    name = f"{DB_SETUP}_{servers}"
    dev.drop_db(conf, name)
    dev.copy_db(db, DB_SETUP, name)
    procs = []
    logs = []
    try:
        for index in range(servers):
            log = open(dev.DEVDATA / f"{name}_server_{index}.log", "w")
            logs.append(log)
            cmd = dev.odoo_cmd(conf) + [
                "-d", name, "--db-filter", f"^{name}$", "--workers", "2", "--max-cron-threads", str(cron_threads),
                "--http-port", str(free_port()), "--gevent-port", str(free_port()), "--log-level", "warn",
                "--limit-time-real-cron", "300"]
            procs.append(subprocess.Popen([str(c) for c in cmd], stdout=log, stderr=subprocess.STDOUT,
                                          cwd=REPO, start_new_session=True))
        time.sleep(8)  # workers started and listening
        started = time.monotonic()
        dev.bench_shell(conf, name, "from odoo.addons.benchmarks.odoo_scaleout import start\nstart(env)\n",
                        label="scale-out start")
        while time.monotonic() - started < timeout:
            if count_imported(db, name) >= total:
                return time.monotonic() - started
            time.sleep(1)
        dev.fail(f"{servers} server(s) did not import {total} orders in {timeout} s (see {logs[0].name})")
    finally:
        for proc in procs:
            os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        for log in logs:
            log.close()
    return None


def main():
    dev.reexec_in_venv(__file__)
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--orders", type=int, default=60, help="orders per connection")
    ap.add_argument("--cron-threads", type=int, default=1, help="cron processes per server")
    ap.add_argument("--timeout", type=int, default=1800)
    ap.add_argument("--keep-db", action="store_true")
    ns = ap.parse_args()
    sys.path.insert(0, str(REPO))
    from spapi_simulator import Simulator

    conf = dev.bench_database(DB_SETUP)
    db = dev.ensure_pg()
    sims = [Simulator(scenario(ns.orders, seed=10 + k), speed=1e6, validate=False) for k in range(CONNECTIONS)]
    for sim in sims:
        sim.start()
    try:
        pairs = [(sim.url, sim.token_url) for sim in sims]
        dev.bench_shell(conf, DB_SETUP, "from odoo.addons.benchmarks.odoo_scaleout import setup\n"
                                        f"setup(env, sims={pairs!r})\n", label="scale-out setup")
        total = ns.orders * CONNECTIONS
        times = {}
        for servers in (2, 1):
            dev.say(f"{total} orders of {CONNECTIONS} connections, {servers} Odoo server(s)")
            times[servers] = drain(conf, db, servers, total, ns.cron_threads, ns.timeout)
            dev.say(f"{servers} server(s): {times[servers]:.1f} s")
    finally:
        for sim in sims:
            sim.stop()
        if not ns.keep_db:
            for name in (DB_SETUP, f"{DB_SETUP}_1", f"{DB_SETUP}_2"):
                dev.drop_db(conf, name)
    print(f"scaleout_speedup_2_servers_4_connections: {times[1] / times[2]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
