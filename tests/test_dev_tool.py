"""tools/dev.py: the test summary is read from the log of its own run only."""
import importlib.util
from pathlib import Path

import pytest

DEV_PATH = Path(__file__).resolve().parents[1] / "tools" / "dev.py"


@pytest.fixture
def dev(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("bac_dev_tool", DEV_PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "DEVDATA", tmp_path)
    return module


def test_each_run_writes_its_own_empty_log(dev, tmp_path):
    # an earlier run with the same process id (or the same BAC_TEST_DB) left a log: Odoo would append to it
    stale = tmp_path / "bac_test_4242.log"
    stale.write_text("... 1 failed, 0 error(s) of 7 tests when loading database 'bac_test_4242'\n")
    log = dev.run_log_path("bac_test_4242", pid=4242)
    assert log == stale and not log.exists()
    # a database name chosen by BAC_TEST_DB still gets a log per process
    assert dev.run_log_path("bac_ci", pid=11) != dev.run_log_path("bac_ci", pid=12)
    assert dev.run_log_path("bac_ci", pid=11).name == "bac_ci_11.log"


def test_summary_adds_up_every_loading_phase_of_the_run(dev):
    text = ("x INFO db odoo.tests.result: 0 failed, 0 error(s) of 3 tests when loading database 'db'\n"
            "x INFO db odoo.tests.result: 1 failed, 2 error(s) of 40 tests when loading database 'db'\n")
    assert dev.odoo_summary(text) == (43, 3)
    assert dev.odoo_summary("no summary: the module did not install") == (0, 0)


def test_odoo_output_goes_to_the_log_not_into_the_test_output(dev, tmp_path, monkeypatch):
    """`make test` shows the summary and the failures: what Odoo prints while it builds the template (Odoo's
    own mail module makes docutils report an "Unexpected indentation") or runs the tests lands in a log."""
    calls = []

    def fake_run(cmd, **kw):
        calls.append(([str(c) for c in cmd], kw))
        return type("Done", (), {"returncode": 0, "stdout": "", "stderr": ""})()

    monkeypatch.setattr(dev, "run", fake_run)
    monkeypatch.setattr(dev, "drop_db", lambda *a: None)
    monkeypatch.setattr(dev, "copy_db", lambda *a: None)
    db = {"db_host": "localhost", "db_user": "odoo"}
    monkeypatch.setattr(dev, "TEMPLATE_DB", "bac_template_x")
    dev.run_odoo_tests(tmp_path / "odoo.conf", db, tags="/bind_amazon_connector:Nothing")
    odoo_runs = [(cmd, kw) for cmd, kw in calls if any(part.endswith("odoo-bin") for part in cmd)]
    assert len(odoo_runs) == 3  # two steps of the template, the tests
    for cmd, kw in odoo_runs:
        assert "--logfile" in cmd, cmd
        assert kw.get("stderr") not in (None, dev.subprocess.STDOUT), f"{cmd}: Odoo's stderr reaches the terminal"
        assert kw.get("stdout") is not None or "--test-tags" in cmd, f"{cmd}: Odoo's output reaches the terminal"


def test_the_virtualenv_keeps_the_pkg_resources_gevent_needs(dev):
    """Odoo's multi-process mode runs its websocket process on gevent, whose Odoo 19 pin imports pkg_resources:
    setuptools 81 removed it, and that process then restarts twice a second. The virtualenv `make setup` builds
    keeps a setuptools that has it, both when it upgrades its tools and from the requirements."""
    from packaging.requirements import Requirement

    lines = (Path(dev.REPO) / "tools" / "requirements-dev.txt").read_text().splitlines()
    pins = [Requirement(line) for line in lines if line.startswith("setuptools")]
    assert pins and Requirement(dev.SETUPTOOLS) == pins[0]
    for pin in (pins[0], Requirement(dev.SETUPTOOLS)):
        assert not pin.specifier.contains("81.0.0") and pin.specifier.contains("80.10.2"), pin
