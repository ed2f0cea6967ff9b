"""README.rst and the design map render as reStructuredText without warnings: PyPI and the Apps page show
them, and a broken title level makes docutils drop the rest of the section."""
import io
from pathlib import Path

import pytest

docutils_core = pytest.importorskip("docutils.core")

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("name", ["README.rst", "docs/design.rst"])
def test_renders_without_warnings(name):
    messages = io.StringIO()
    docutils_core.publish_doctree((REPO / name).read_text(encoding="utf-8"), source_path=str(REPO / name),
                                  settings_overrides={"warning_stream": messages, "report_level": 2,
                                                      "halt_level": 5})
    assert messages.getvalue() == ""
