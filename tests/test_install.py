"""Installed as users install it, the addon's tests import without the repository: Odoo imports every
installed addon's tests package in any test run, whatever the tags, so a failing import breaks everyone's run."""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
IMPORT_TESTS = """
import sys
from odoo.tools import config
config.parse_config(["--addons-path=" + sys.argv[1]])
from odoo.modules.module import initialize_sys_path
initialize_sys_path()
import odoo.addons.bind_amazon_connector.tests as tests
print("LOADED" if hasattr(tests, "test_flow_runner") else "NOT LOADED")
"""


def odoo_src():
    try:
        import odoo
    except ImportError:
        pytest.skip("Odoo 19.0 is not importable here (make setup links it into the virtualenv)")
    return Path(odoo.__path__[0]).parent


def import_tests(pythonpath, addons_path, tmp_path):
    """Import the addon's tests package the way Odoo's test runner does, in a fresh interpreter whose path has
    neither the repository's root nor the current folder."""
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(pythonpath), "HOME": str(tmp_path)}
    return subprocess.run([sys.executable, "-c", IMPORT_TESTS, addons_path], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300, check=False)


def test_pip_installed_addon_loads_its_tests_with_the_simulator(tmp_path):
    src = odoo_src()
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                    "--target", str(target), str(REPO)], check=True, capture_output=True, timeout=300)
    assert (target / "spapi_simulator" / "scenarios" / "demo.json").is_file()
    run = import_tests(target, f"{target / 'odoo' / 'addons'},{src / 'addons'}", tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.strip().splitlines()[-1] == "LOADED"


def test_addon_copied_without_the_simulator_loads_no_test_and_says_why(tmp_path):
    src = odoo_src()
    addons = tmp_path / "addons"
    shutil.copytree(REPO / "bind_amazon_connector", addons / "bind_amazon_connector",
                    ignore=shutil.ignore_patterns("__pycache__"))
    run = import_tests(tmp_path / "nothing", f"{addons},{src / 'addons'}", tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.strip().splitlines()[-1] == "NOT LOADED"
    assert "the SP-API simulator is not installed" in run.stderr
