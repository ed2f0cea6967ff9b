"""The documents: README.rst is a user's manual in Spanish and English of at most 600 lines, with the commands and
the sections a user needs; measurements live in docs/benchmarks.rst, one table; every document renders as
reStructuredText without warnings (PyPI and the Apps page show them, and a broken title level makes docutils drop
the rest of the section)."""
import ast
import io
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.rst"
BENCHMARKS = REPO / "docs" / "benchmarks.rst"
MAX_README_LINES = 600

# Words only one of the two languages uses, so that a section kept in one language only is found.
SPANISH = {"el", "la", "los", "las", "de", "del", "que", "con", "por", "para", "una", "se", "su", "sus", "y"}
ENGLISH = {"the", "and", "of", "to", "with", "is", "are", "its", "each", "when", "it", "on", "from"}

# Each part of the manual, by the Spanish and English words of its title.
SECTIONS = [("Qué hace", "What it does"), ("Instalar", "Install"), ("Configuración", "Configuration"),
            ("Publicaciones", "Listings"), ("Ventas", "Orders"), ("Envíos", "Shipments"),
            ("Existencias", "Stock"), ("Pagos de Amazon", "Payouts"), ("CFDI de comisiones", "Commission CFDI"),
            ("Información general", "Overview"), ("Producción", "Deployment"),
            ("Solución de problemas", "Troubleshooting")]

COMMANDS = ["make demo", "make test", "make setup", "make lint", "make bench", "make soak"]

BENCHMARK_COLUMNS = ["Figure", "Command", "Value", "Machine", "Date"]
BENCHMARK_FIGURES = ["orders_ratio_vs_batched_orm", "orders_ratio_vs_orm", "orders_spapi_calls_per_order",
                     "orders_rss_ratio_5k_vs_1k", "listings_10k_seconds", "listings_rss_ratio_50k_vs_10k",
                     "listings_reimport_writes", "stock_patch_calls_per_changed_sku", "stock_time_vs_usage_plan",
                     "shipments_calls_per_package", "soak_drain_time_vs_usage_plan", "soak_drain_calls_over_plan",
                     "scaleout_speedup_2_servers_4_connections", "Full soak", "Quick soak"]


def readme():
    return README.read_text(encoding="utf-8")


def top_sections(text):
    """{title: body} of README's sections underlined with '='."""
    lines = text.splitlines()
    heads = [i for i in range(1, len(lines))
             if re.fullmatch(r"=+", lines[i]) and lines[i - 1].strip() and len(lines[i]) >= len(lines[i - 1])
             and not (i >= 2 and re.fullmatch(r"=+", lines[i - 2]))]
    return {lines[h - 1]: "\n".join(lines[h + 1:(nxt - 1 if nxt else len(lines))])
            for h, nxt in zip(heads, [*heads[1:], None], strict=True)}


def words(text):
    return re.findall(r"[a-záéíóúñü]+", text.lower())


def test_readme_is_at_most_600_lines():
    count = len(readme().splitlines())
    assert count <= MAX_README_LINES, f"README.rst has {count} lines; the manual keeps to {MAX_README_LINES}"


def test_readme_has_each_section_in_both_languages():
    sections = top_sections(readme())
    for spanish, english in SECTIONS:
        titles = [t for t in sections if spanish in t and english in t]
        assert titles, f"README.rst has no section titled in Spanish and English '{spanish} / {english}'"
        body = words(sections[titles[0]])
        assert sum(w in SPANISH for w in body) >= 5, f"'{titles[0]}' has no Spanish text"
        assert sum(w in ENGLISH for w in body) >= 5, f"'{titles[0]}' has no English text"


def test_readme_says_the_commands_and_where_odoo_comes_from():
    text = readme()
    for command in COMMANDS:
        assert re.search(rf"\b{command}\b", text), f"README.rst does not mention {command}"
    for needed in ("ODOO_SRC", "/opt/odoo19/src", "PyPI", "Debian", "19.0"):
        assert needed in text


def test_readme_shows_every_screenshot_that_exists():
    text = readme()
    shown = set(re.findall(r"\.\. image:: (docs/screenshots/\S+)", text))
    assert shown, "README.rst shows no screenshot"
    for path in shown:
        assert (REPO / path).is_file(), f"README.rst shows {path}, which does not exist"
    for path in (REPO / "docs" / "screenshots").glob("*.png"):
        assert f"docs/screenshots/{path.name}" in shown, f"README.rst does not show {path.name}"


def test_measurements_live_in_benchmarks_not_in_readme():
    text = readme()
    for figure in BENCHMARK_FIGURES[:13]:
        assert figure not in text, f"README.rst quotes the measurement {figure}: it belongs in docs/benchmarks.rst"
    assert "docs/benchmarks.rst" in text


def test_benchmarks_is_one_table_with_its_columns():
    docutils_core = pytest.importorskip("docutils.core")
    doctree = docutils_core.publish_doctree(BENCHMARKS.read_text(encoding="utf-8"),
                                            settings_overrides={"report_level": 5})
    tables = [n for n in doctree.findall() if n.tagname == "table"]
    assert len(tables) == 1, f"docs/benchmarks.rst has {len(tables)} tables, not one"
    rows = [n for n in tables[0].findall() if n.tagname == "row"]
    header, body = rows[0], rows[1:]
    assert [e.astext() for e in header.children] == BENCHMARK_COLUMNS
    for row in body:
        cells = [e.astext().strip() for e in row.children]
        assert len(cells) == len(BENCHMARK_COLUMNS) and all(cells), f"incomplete row: {cells}"
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", cells[-1]), f"date {cells[-1]!r} of {cells[0]!r}"
    figures = " ".join(row.children[0].astext() for row in body)
    for figure in BENCHMARK_FIGURES:
        assert figure in figures, f"docs/benchmarks.rst has no row for {figure}"


@pytest.mark.parametrize("name", ["README.rst", "docs/design.rst", "docs/benchmarks.rst"])
def test_renders_without_warnings(name):
    docutils_core = pytest.importorskip("docutils.core")
    messages = io.StringIO()
    docutils_core.publish_doctree((REPO / name).read_text(encoding="utf-8"), source_path=str(REPO / name),
                                  settings_overrides={"warning_stream": messages, "report_level": 2,
                                                      "halt_level": 5})
    assert messages.getvalue() == ""


def test_the_addon_description_renders_as_odoo_renders_it_without_warnings():
    """Odoo's Apps page shows static/description/index.html, else the manifest's ``description`` rendered by
    docutils (as ``ir.module.module._get_desc`` does); either must be clean: a docutils message is printed on
    the installing server's output and an error drops text from the page."""
    docutils_core = pytest.importorskip("docutils.core")
    manifest = ast.literal_eval((REPO / "bind_amazon_connector" / "__manifest__.py").read_text(encoding="utf-8"))
    index = REPO / "bind_amazon_connector" / "static" / "description" / "index.html"
    assert index.is_file() and "<" in index.read_text(encoding="utf-8")
    messages = io.StringIO()
    docutils_core.publish_string(source=manifest.get("description") or "", writer_name="html", settings_overrides={
        "embed_stylesheet": False, "doctitle_xform": False, "output_encoding": "unicode", "xml_declaration": False,
        "file_insertion_enabled": False, "warning_stream": messages, "report_level": 2, "halt_level": 5})
    assert messages.getvalue() == "", f"the manifest's description: {messages.getvalue()}"
