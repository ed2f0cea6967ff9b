"""The Odoo side of the benchmarks, run inside ``odoo-bin shell`` by ``tools/bench_*.py``."""
