"""``tools/bench_drain.py`` (one of ``make bench``'s figures) runs end to end on a short backlog.

The SP-API layer refuses loopback addresses outside tests and development mode; the benchmark runs outside
both, and once printed nothing but that refusal. Plain Python: no Odoo."""
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_drain_benchmark_prints_its_figures_without_throttling():
    # 25 pages, usage plan 100 times faster than Amazon's: about 10 s. The client's send margin is a tenth of
    # the plan's spacing; at 1,000 times (6 ms) a scheduling hiccup on a busy machine made one call arrive
    # early and counted it over the plan.
    res = subprocess.run([sys.executable, str(REPO / "tools" / "bench_drain.py"), "--pages", "25", "--speed", "100"],
                         capture_output=True, text=True, timeout=120, check=False,
                         env={"PATH": "/usr/bin:/bin", "BENCH_REEXEC": "1"})
    assert res.returncode == 0, res.stderr[-2000:]
    figures = dict(line.split(": ", 1) for line in res.stdout.splitlines() if ": " in line)
    ratio = float(figures["soak_drain_time_vs_usage_plan"])
    assert 0.9 <= ratio <= 3.0, res.stdout  # never faster than the plan; wide above: a shared CI machine
    assert figures["soak_drain_calls_over_plan"] == "0"
