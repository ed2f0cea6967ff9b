"""The browser tests' screenshots: README's pictures, saved at the tours' ``bac-screenshot:<name>`` steps when
BAC_SCREENSHOTS names a folder (``make screenshots``)."""
import base64
import json
import logging
import os
from pathlib import Path
from unittest.mock import patch

from odoo.tests import common as odoo_test_common

_logger = logging.getLogger(__name__)
SHOT_PREFIX = "bac-screenshot:"


def screenshots_dir():
    """The folder BAC_SCREENSHOTS names, made if missing; None when no screenshots are asked for."""
    shots = os.environ.get("BAC_SCREENSHOTS")
    shots_dir = Path(shots) if shots else None
    if shots_dir:
        shots_dir.mkdir(parents=True, exist_ok=True)
    return shots_dir


def screenshot_console(shots_dir):
    """A console handler of Odoo's browser that also saves a screenshot at each tour ``shot`` step, then
    tells the tour it may go on (``window.bacScreenshotTaken``), with or without screenshots to save."""
    original = odoo_test_common.ChromeBrowser._handle_console

    def handle_console(browser, type, args=None, stackTrace=None, **kw):
        first = str(browser._from_remoteobject(args[0])) if args else ""
        if first.startswith(SHOT_PREFIX):
            name = first[len(SHOT_PREFIX):]

            def taken(name=name):
                browser._websocket_send("Runtime.evaluate", params={
                    "expression": f"window.bacScreenshotTaken = {json.dumps(name)}"})

            def save(done, name=name):
                try:
                    (shots_dir / f"{name}.png").write_bytes(base64.b64decode(done.result()["data"]))
                except Exception as exc:  # noqa: BLE001 - a missing screenshot must not fail the test
                    _logger.warning("Screenshot %s not saved: %s", name, exc)
                taken()

            future = shots_dir and browser._websocket_send("Page.captureScreenshot", with_future=True)
            if future:
                future.add_done_callback(save)
            else:
                taken()
        return original(browser, type, args=args, stackTrace=stackTrace, **kw)

    return patch.object(odoo_test_common.ChromeBrowser, "_handle_console", handle_console)
