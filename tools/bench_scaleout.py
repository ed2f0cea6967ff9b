#!/usr/bin/env python3
"""Scale-out benchmark: the same order backlog of four connections drained by two Odoo servers, then by one.

    scaleout_speedup_2_servers_4_connections: X   time with one server / time with two (goal >= 1.6)

Each server is a real ``odoo-bin`` with workers and one cron process (``--max-cron-threads``), on its own copy
of a database prepared once: four connections, each to its own SP-API simulator in this process (no
usage-plan limit, so Amazon's quota is not what is measured). The orders scheduled action triggers one job
per connection; the servers share them. The clock runs from the trigger's commit until every order is
imported (the servers' start and registry load are not in it: each server signals when it is ready).

    python3 tools/bench_scaleout.py [--orders 60] [--cron-threads 1] [--keep-db]
"""
import argparse
import os
import signal
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


def count_imported(db, name):
    out = dev.run(dev.psql_cmd(db) + ["-d", name, "-tAc",
                                      "SELECT count(*) FROM amazon_order WHERE state IN ('imported', 'error')"],
                  capture_output=True, text=True, check=False)
    try:
        return int(out.stdout.strip() or 0)
    except ValueError:
        return 0


def wait_ready(procs, timeout=600):
    """Wait until every server has loaded its registry (Odoo's ``ODOO_READY_SIGHUP_PID`` signal), so that the
    clock measures the work and not the start of the servers."""
    deadline = time.monotonic() + timeout
    while _ready["count"] < len(procs):
        if any(proc.poll() is not None for proc in procs):
            dev.fail("an Odoo server stopped while starting (see its log)")
        if time.monotonic() > deadline:
            dev.fail(f"the Odoo servers were not ready in {timeout} s")
        time.sleep(0.2)
    time.sleep(2)  # the master forks its cron worker right after the signal; it then listens for triggers


_ready = {"count": 0}


def _on_ready(signum, frame):
    _ready["count"] += 1


def _cpu_seconds(pid):
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _descendants(roots):
    children = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            pid, rest = stat.read_text().split(" ", 1)
            children.setdefault(int(rest.rsplit(")", 1)[1].split()[1]), []).append(int(pid))
        except (OSError, ValueError, IndexError):
            continue
    found, todo = [], list(roots)
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def cpu_used(db, name, procs):
    """CPU seconds used so far by the Odoo servers' processes and by PostgreSQL's backends of the database."""
    out = dev.run(dev.psql_cmd(db) + ["-d", name, "-tAc",
                                      f"SELECT pid FROM pg_stat_activity WHERE datname = '{name}'"],
                  capture_output=True, text=True, check=False)
    backends = [int(pid) for pid in out.stdout.split() if pid.strip().isdigit()]
    odoo = sum(_cpu_seconds(pid) for pid in _descendants([proc.pid for proc in procs]))
    return odoo, sum(_cpu_seconds(pid) for pid in backends)


def count_conflicts(logs):
    """Pages tried again after a concurrency conflict, over the servers' logs."""
    total = 0
    for log in logs:
        with open(log.name, encoding="utf-8", errors="replace") as text:
            total += sum(1 for line in text if "conflicted with another transaction" in line)
    return total


def drain(conf, db, servers, total, cron_threads, timeout):
    """Seconds ``servers`` Odoo servers take to import the ``total`` orders of a fresh copy of the database."""
    name = f"{DB_SETUP}_{servers}"
    dev.drop_db(conf, name)
    dev.copy_db(db, DB_SETUP, name)
    procs = []
    logs = []
    _ready["count"] = 0
    previous = signal.signal(signal.SIGHUP, _on_ready)
    try:
        for index in range(servers):
            log = open(dev.DEVDATA / f"{name}_server_{index}.log", "w")
            logs.append(log)
            # no HTTP: nothing is served, and without it no long-polling process is (re)started beside the
            # workers; the connector's and the scheduler's info lines say which server ran what
            cmd = dev.odoo_cmd(conf) + [
                "-d", name, "--db-filter", f"^{name}$", "--workers", "2", "--max-cron-threads", str(cron_threads),
                "--no-http", "--log-level", "warn", "--log-handler", "odoo.addons.bind_amazon_connector:INFO",
                "--log-handler", "odoo.addons.base.models.ir_cron:INFO", "--limit-time-real-cron", "300"]
            # development mode: the simulators listen on this machine, which Odoo refuses otherwise
            env = dict(os.environ, ODOO_READY_SIGHUP_PID=str(os.getpid()),
                       ODOO_DEV=os.environ.get("ODOO_DEV") or dev.SIMULATOR_DEV_MODE)
            procs.append(subprocess.Popen([str(c) for c in cmd], stdout=log, stderr=subprocess.STDOUT,
                                          cwd=REPO, start_new_session=True, env=env))
        wait_ready(procs)
        odoo_before, pg_before = cpu_used(db, name, procs)
        # the clock starts when the trigger is committed, not when the shell that commits it has loaded Odoo
        started = dev.bench_shell(conf, name, "from odoo.addons.benchmarks.odoo_scaleout import start\n"
                                              "start(env)\n", label="scale-out start")["at"]
        while time.time() - started < timeout:
            if count_imported(db, name) >= total:
                elapsed = time.time() - started
                odoo_after, pg_after = cpu_used(db, name, procs)
                odoo_cpu, pg_cpu = odoo_after - odoo_before, pg_after - pg_before
                dev.say(f"{servers} server(s): {count_conflicts(logs)} page(s) tried again after a conflict; "
                        f"CPU {odoo_cpu:.1f} s Odoo + {pg_cpu:.1f} s PostgreSQL = "
                        f"{(odoo_cpu + pg_cpu) / elapsed:.2f} cores on average; load {os.getloadavg()[0]:.2f}")
                return elapsed
            time.sleep(0.5)
        dev.fail(f"{servers} server(s) did not import {total} orders in {timeout} s (see {logs[0].name})")
    finally:
        signal.signal(signal.SIGHUP, previous)
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
