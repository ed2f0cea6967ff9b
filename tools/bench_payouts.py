#!/usr/bin/env python3
"""Payout booking benchmark (issue #28), for `make bench`.

Prints:
  payouts_seconds_per_transaction: X   seconds the connector takes to book one released sale transaction against
                                       its posted invoice (payment, reconciliation, cash-basis IVA entry), the
                                       settlement's deposit included
  payouts_ratio_vs_batched_orm: X      connector time / bare ORM code reaching the same books 50 invoices at a
                                       time (Odoo's payment wizard, then the deposit), the floor (goal <= 1.2)
  payouts_share_posting_payments: X    share of the connector's booking time posting the payments' entries
  payouts_share_cash_basis: X          share of it making the cash-basis IVA entries (cProfile)
and informative lines (the books of both, to compare: invoices paid, payments, journals, cash-basis entries,
what is left open on the clearing account).

How: a database copied from the test template gets the addon; this process hosts the SP-API simulator. One
`odoo-bin shell` creates the connection and the posted invoices of three sets of Amazon orders (connector,
floor, profiled); the simulator gets a released sale transaction per order of the connector's and the
profiled sets (and the connector's settlement its deposit); a second shell reads them as the payouts job does
(not timed); a third books them, timed, then the floor's set with bare ORM code, then the profiled set under
cProfile (benchmarks/odoo_payouts.py). Same run, same database.

Usage: python3 tools/bench_payouts.py [--transactions 1000] [--profiled 200] [--wizard 0] [--grouped 0]
       [--payments sale|batch] [--keep-db]
"""
import sys
import uuid
from datetime import timedelta
from pathlib import Path

TOOLS = Path(__file__).resolve().parent
sys.path.insert(0, str(TOOLS))
import dev  # noqa: E402

DB = "bac_bench_payouts"
SETTLEMENT_REPORT = "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2"
# as benchmarks/odoo_payouts.py (which imports Odoo, not importable here)
AMOUNT = 116.00
PREFIXES = {"connector": "702", "floor": "703", "profiled": "704", "wizard": "705", "grouped": "706"}


def order_id(kind, n):
    return f"{PREFIXES[kind]}-{n:07d}-0000001"


def publish_deposit(sim, group, amount):
    """Amazon's V2 settlement report of ``group``: its summary row gives the deposit (two hours ago)."""
    deposit = sim.now() - timedelta(hours=2)
    start = sim.now() - timedelta(days=14)
    columns = ["settlement-id", "settlement-start-date", "settlement-end-date", "deposit-date", "total-amount",
               "currency", "transaction-type", "order-id", "amount-type", "amount-description", "amount"]
    stamp = "%Y-%m-%d %H:%M:%S UTC"
    summary = [group, start.strftime(stamp), deposit.strftime(stamp), deposit.strftime(stamp), f"{amount:.2f}",
               "MXN", "", "", "", "", ""]
    sim.set_report_document(SETTLEMENT_REPORT, "\t".join(columns) + "\r\n" + "\t".join(summary) + "\r\n",
                            encoding="cp1252")


def main():
    ap = dev.bench_options(__doc__)
    ap.add_argument("--transactions", type=int, default=1000, help="released sale transactions to book")
    ap.add_argument("--profiled", type=int, default=None,
                    help="transactions booked under cProfile for the shares (default: a fifth, 20 to 200)")
    ap.add_argument("--wizard", type=int, default=0,
                    help="also pay this many invoices with Odoo's payment wizard, 50 at a time (informative)")
    ap.add_argument("--payments", choices=("sale", "batch"), default="sale",
                    help="the connection's 'Payments of released sales' (batch: the floor has more payments)")
    ap.add_argument("--grouped", type=int, default=0,
                    help="also pay this many invoices one payment per buyer and batch of 50 (informative)")
    ns = dev.bench_parse(ap, __file__)
    from spapi_simulator import factory

    n = ns.transactions
    profiled = ns.profiled if ns.profiled is not None else max(20, min(200, n // 5))
    with dev.bench_run(DB, "odoo_payouts", speed=1e6, keep_db=ns.keep_db) as (sim, odoo_shell):
        dev.say(f"Posting 2 x {n} + {profiled} + {ns.wizard} invoices of Amazon orders")
        setup = odoo_shell({"BENCH_ACTION": "setup", "BENCH_SIM_URL": sim.url, "BENCH_SIM_TOKEN_URL": sim.token_url,
                            "BENCH_SELLER_ID": sim.seller_id, "BENCH_TRANSACTIONS": str(n),
                            "BENCH_PROFILED": str(profiled), "BENCH_WIZARD": str(ns.wizard),
                            "BENCH_GROUPED": str(ns.grouped), "BENCH_PAYMENTS": ns.payments})
        posted = sim.now() - timedelta(days=1)
        for kind, count in (("connector", n), ("profiled", profiled)):
            group = f"FEG-BENCH-{kind}-{uuid.uuid4().hex[:8]}"
            for i in range(count):
                sim.add_transaction(factory.make_transaction(
                    order_id(kind, i), group_id=group, principal=f"{AMOUNT:.2f}", commission="0.00",
                    posted=posted, seller_id=sim.seller_id))
            if kind == "connector":
                publish_deposit(sim, group, AMOUNT * count)
        sim.advance(600)
        dev.say("Reading Amazon's transactions and the deposit (not timed)")
        read = odoo_shell({"BENCH_ACTION": "read", "BENCH_ACCOUNT_ID": str(setup["account_id"])})
        dev.say(f"  read: {read}")
        dev.say(f"Booking {n} released sales: connector, then the bare ORM floor, then {profiled} under cProfile")
        result = odoo_shell({"BENCH_ACTION": "measure", "BENCH_ACCOUNT_ID": str(setup["account_id"])})

    connector, floor = result["connector"], result["floor"]
    for name in ("connector", "floor", "wizard", "grouped"):
        if name in result:
            dev.say(f"  books of the {name}: {result[name]}")
    for seconds, where in result.get("top", [])[:15]:
        dev.say(f"  profile: {seconds:8.2f} s cumulative  {where}")
    print(f"payouts_seconds_per_transaction: {result['connector_seconds'] / max(n, 1):.4f}")
    print(f"payouts_ratio_vs_batched_orm: {result['connector_seconds'] / result['floor_seconds']:.3f}")
    print(f"payouts_floor_seconds_per_transaction: {result['floor_seconds'] / max(n, 1):.4f}")
    if "wizard_seconds" in result:
        print(f"payouts_wizard_seconds_per_transaction: {result['wizard_seconds'] / max(ns.wizard, 1):.4f}")
    if "grouped_seconds" in result:
        print(f"payouts_grouped_seconds_per_transaction: {result['grouped_seconds'] / max(ns.grouped, 1):.4f}")
    shares = result.get("shares", {})
    print(f"payouts_profiled_seconds_per_transaction: "
          f"{result.get('profiled_seconds', 0) / max(result.get('profiled_transactions', 1), 1):.4f}")
    print(f"payouts_share_posting_payments: {shares.get('posting_payment_entries', 0):.3f}")
    print(f"payouts_share_cash_basis: {shares.get('cash_basis_entries', 0):.3f}")
    print(f"payouts_share_reconcile: {shares.get('reconcile', 0):.3f}")
    print(f"payouts_transactions: {n}")
    keys = ("invoices", "invoices_paid", "payment_journals", "cash_basis_entries", "clearing_unreconciled",
            "clearing_balance") + (("payments",) if ns.payments == "sale" else ())  # batch: fewer payments
    same = all(connector[key] == floor[key] for key in keys)
    print(f"payouts_same_books: {int(same)}")
    ok = same and connector["invoices_paid"] == n and connector["transactions_done"] == n
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
