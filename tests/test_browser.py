"""The HTML outputs in a real browser (Debian's headless chromium, installed by .ci/run), offline.

Every request the page makes goes to a local proxy that records it and refuses
it, so "no external request" is observed, not assumed; console messages come
from chromium's log; the screenshot shows whether the map and the charts drew.
"""

from __future__ import annotations

import http.server
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from matplotlib.image import imread

from routesim import Network
from routesim.report import style

from .test_maps import sketch_run

#: Chromium's own service calls (component updates, sign-in), made whatever the page is: not the page's requests.
BROWSER_SERVICES = ("update.googleapis.com", "accounts.google.com", "clients2.google.com")


def _rgb(hex_colour: str) -> np.ndarray:
    return np.array([int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)]) / 255


@pytest.fixture(scope="module")
def chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing: .ci/run installs Debian's chromium package")
        pytest.skip("no chromium on this machine (apt-get install chromium)")
    return exe


class _Recorder(http.server.BaseHTTPRequestHandler):
    seen: list[str]

    def _refuse(self) -> None:
        self.seen.append(self.path)
        self.send_error(403)

    do_GET = do_POST = do_HEAD = do_CONNECT = _refuse

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass


@pytest.fixture(scope="module")
def proxy() -> Iterator[tuple[int, list[str]]]:
    seen: list[str] = []
    handler = type("Handler", (_Recorder,), {"seen": seen})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], seen
    server.shutdown()
    server.server_close()


@dataclass
class Visit:
    requests: list[str]
    console: list[str]
    image: np.ndarray


def _visit(chromium: str, proxy: tuple[int, list[str]], page: Path, tmp: Path, *, size: str) -> Visit:
    port, seen = proxy
    seen.clear()
    shot = tmp / f"{page.stem}.png"
    args = [
        chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
        "--enable-logging=stderr", "--v=0", f"--user-data-dir={tmp / 'profile'}",
        # Everything to the recording proxy, loopback included: nothing leaves the machine.
        f"--proxy-server=http://127.0.0.1:{port}", "--proxy-bypass-list=<-loopback>",
        "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-default-apps",
        "--disable-features=NetworkTimeServiceQuerying,OptimizationHints,Translate,MediaRouter",
        f"--window-size={size}", "--virtual-time-budget=3000", f"--screenshot={shot}", page.resolve().as_uri(),
    ]
    res = subprocess.run(args, capture_output=True, text=True, timeout=90)
    assert shot.is_file(), res.stderr[-2000:]
    console = [line for line in res.stderr.splitlines() if ":CONSOLE" in line]
    requests = [r for r in seen if not any(host in r for host in BROWSER_SERVICES)]
    return Visit(requests, console, imread(shot)[:, :, :3])


def _near(image: np.ndarray, colour: str, tol: float = 0.08) -> int:
    return int((np.abs(image - _rgb(colour)).max(axis=2) < tol).sum())


def test_the_check_sees_console_errors_and_requests(chromium: str, proxy: tuple[int, list[str]], tmp_path: Path):
    # The control case: a page that fails and fetches must fail every check below.
    bad = tmp_path / "bad.html"
    bad.write_text('<!DOCTYPE html><html><body><img src="http://tiles.example.invalid/1/1/1.png">'
                   "<script>undefinedFunction();</script></body></html>", encoding="utf-8")
    visit = _visit(chromium, proxy, bad, tmp_path, size="400,300")
    assert any("tiles.example.invalid" in r for r in visit.requests)
    assert any("undefinedFunction" in line for line in visit.console)
    assert _near(visit.image, style.STATUS_COLOURS[style.CLOSED]) == 0  # nothing drawn: the map checks fail


def test_html_map_works_offline_in_a_browser(
    chromium: str, proxy: tuple[int, list[str]], net: Network, tmp_path: Path
):
    from routesim.report.html import write_html_map
    from routesim.report.scene import build_scene

    scene = build_scene(net, date="2016-06-01", routes=[("Homs", "Aleppo")])
    page = write_html_map(scene, tmp_path / "map.html")
    visit = _visit(chromium, proxy, page, tmp_path, size="1200,900")
    assert visit.requests == []
    assert visit.console == []
    # The map area (below the header, left of the legend panel) is drawn: roads, closures and the route.
    area = visit.image[140:860, 20:820]
    assert _near(area, style.STATUS_COLOURS[style.CLOSED]) > 300
    assert _near(area, style.ROUTE_COLOUR) > 300
    assert _near(area, style.STATUS_COLOURS[style.OPEN]) > 300
    # The legend panel and the scale bar drew their text (dark pixels) where the script put them.
    assert (visit.image[100:500, 850:1190].max(axis=2) < 0.3).sum() > 500


def test_report_works_offline_in_a_browser(chromium: str, proxy: tuple[int, list[str]], tmp_path: Path):
    from routesim.report.page import write_report

    run = sketch_run(tmp_path)
    page = write_report([run], tmp_path / "report.html")
    visit = _visit(chromium, proxy, page, tmp_path, size="1100,3200")
    assert visit.requests == []
    assert visit.console == []
    image = visit.image
    # The inlined map (flows in blue) and the per-day chart (dispatched and delivered lines) are on the page.
    assert _near(image, style.STATUS_COLOURS[style.CLOSED], tol=0.12) > 500
    blue = (image[:, :, 2] > image[:, :, 0] + 0.25) & (image[:, :, 2] > image[:, :, 1] + 0.15)  # flows, half opaque
    assert blue.sum() > 500
    assert _near(image, "#1d4ed8") + _near(image, "#15803d") > 500
    rows = np.flatnonzero((image.max(axis=2) < 0.9).any(axis=1))
    assert rows.max() - rows.min() > 2000  # the page runs on: scenario, figures, map, chart, tables
