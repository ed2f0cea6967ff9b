#!/usr/bin/env python3
"""Listings import benchmark (issue #4), for `make bench`.

Prints:
  listings_10k_seconds: X              first import of a 10,000-row report (request, poll, download, import)
  listings_rss_ratio_50k_vs_10k: X     peak resident memory of the import, 50,000 rows / 10,000 rows
  listings_reimport_writes: N          rows written by a second import of the same 10,000-row report
and a few more informative lines (listings_50k_seconds, listings_*_peak_rss_mb, ...).

How: a database copied from the test template gets the addon; this process hosts the SP-API simulator
(so its memory is not counted) serving generated Windows-1252 reports; each size is measured in its own
`odoo-bin shell` process (benchmarks/odoo_listings.py), whose peak RSS is reset right
before the import.

Usage: python3 tools/bench_listings.py [--sizes 10000,50000] [--keep-db]
"""
import sys
from pathlib import Path

TOOLS = Path(__file__).resolve().parent
sys.path.insert(0, str(TOOLS))
import dev  # noqa: E402

DB = "bac_bench_listings"
REPORT_TYPE = "GET_MERCHANT_LISTINGS_ALL_DATA"


def load_listing_common():
    """tests/common/listings.py without importing the tests package (which needs Odoo)."""
    import importlib.util

    path = dev.REPO / dev.ADDON / "tests" / "common" / "listings.py"
    spec = importlib.util.spec_from_file_location(f"{dev.ADDON}.tests.common.listings", path)
    module = importlib.util.module_from_spec(spec)
    module.__package__ = f"{dev.ADDON}.tests.common"
    spec.loader.exec_module(module)
    return module


def main():
    ap = dev.bench_options(__doc__)
    ap.add_argument("--sizes", default="10000,50000")
    ns = dev.bench_parse(ap, __file__)
    sizes = [int(s) for s in ns.sizes.split(",")]
    iter_report_lines = load_listing_common().iter_report_lines

    results = {}
    with dev.bench_run(DB, "odoo_listings", speed=1000.0, keep_db=ns.keep_db) as (sim, odoo_shell):
        setup = odoo_shell({"BENCH_ACTION": "setup", "BENCH_SIM_URL": sim.url, "BENCH_SIM_TOKEN_URL": sim.token_url})
        for size in sizes:
            data = "".join(iter_report_lines(size)).encode("cp1252")
            sim.set_report_document(REPORT_TYPE, data, content_type="text/plain")
            del data
            dev.say(f"Importing a {size}-row listings report")
            results[size] = odoo_shell({"BENCH_ACTION": "measure", "BENCH_ROWS": str(size),
                                        "BENCH_ACCOUNT_ID": str(setup["account_id"])})
            dev.say(f"  {results[size]}")

    def label(size):
        return f"{size // 1000}k" if size % 1000 == 0 else str(size)

    small, large = min(sizes), max(sizes)
    for size in sizes:
        r = results[size]
        print(f"listings_{label(size)}_seconds: {r['seconds']:.2f}")
        print(f"listings_{label(size)}_reimport_seconds: {r['reimport_seconds']:.2f}")
        print(f"listings_{label(size)}_peak_rss_mb: {r['peak_rss_kb'] / 1024:.1f}")
        print(f"listings_{label(size)}_rss_growth_mb: {(r['peak_rss_kb'] - r['rss_before_kb']) / 1024:.1f}")
    if large != small:
        ratio = results[large]["peak_rss_kb"] / max(results[small]["peak_rss_kb"], 1)
        print(f"listings_rss_ratio_{label(large)}_vs_{label(small)}: {ratio:.2f}")
    print(f"listings_reimport_writes: {results[small]['reimport_writes']}")
    ok = all(r["state"] in ("done", "warning") and r["created"] == r["rows"] for r in results.values())
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
