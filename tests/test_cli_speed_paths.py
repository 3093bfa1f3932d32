"""What a route or timeline command loads: the fast paths stay fast (no timings, the paths themselves).

A route imports neither pandas nor networkx (only tables and exports need them),
an undated one none of the event machinery, and a dated one resolves no selector
once the network's masks are cached (:mod:`routesim.events.maskcache`). Each
command runs in a fresh interpreter, as from the shell.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT

USER_EVENT = """
events:
  - id: speed-path-closure
    date: 2020-01-01
    action: close
    where: M5:Homs:Hama
    source: test
"""

#: Runs the CLI in-process, then prints (last line) the modules of interest loaded and the selectors resolved.
_PROBE = """
import json, sys
watch = json.loads(sys.argv[1])
resolved = []
if sys.argv[2] == "count":
    import routesim.network.graph as graph
    real = graph.resolve
    def counting(network, selector):
        resolved.append(selector)
        return real(network, selector)
    graph.resolve = counting
from routesim.cli import main
try:
    main(sys.argv[3:])
except SystemExit as exc:
    if exc.code not in (0, None):
        raise
print(json.dumps({"loaded": sorted(m for m in watch if m in sys.modules), "resolved": len(resolved)}))
"""

HEAVY = ["pandas", "pyarrow", "networkx", "osmnx", "geopandas", "shapely", "simpy"]
#: Not needed before a date is asked for (scipy: resolving selectors, snapping, the control zones).
EVENT_MACHINERY = ["routesim.events.eventset", "routesim.events.files", "routesim.control", "scipy.sparse"]


def _probe(*args: str, count: bool = False, cache: Path | None = None) -> dict[str, object]:
    # A private cache: other tests' entries can evict a shared one's (the cache keeps the newest files).
    env = {**os.environ, "ROUTESIM_CACHE": str(cache)} if cache is not None else None
    res = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(HEAVY + EVENT_MACHINERY), "count" if count else "-", *args],
        capture_output=True, text=True, cwd=ROOT, timeout=300, env=env,
    )
    assert res.returncode == 0, res.stderr
    assert "Traceback" not in res.stderr
    return dict(json.loads(res.stdout.strip().splitlines()[-1]))


@pytest.fixture(scope="module")
def closure(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("speed") / "closure.yaml"
    path.write_text(USER_EVENT, encoding="utf-8")
    return str(path)


def test_an_undated_route_loads_no_table_graph_or_event_machinery():
    out = _probe("route", "Damascus", "Aleppo", "--network", "syria-osm")
    assert out["loaded"] == [], out


@pytest.mark.parametrize("command", ["route", "timeline"])
def test_a_dated_command_reads_its_masks_back_and_loads_no_tables(command, closure, tmp_path):
    events = ["--events", "none", "--events", closure]
    when = ["--date", "2020-06-01"] if command == "route" else ["--start", "2019-06-01", "--end", "2020-06-01"]
    argv = [command, "Damascus", "Aleppo", *when, *events, "--network", "syria-osm"]
    _probe(*argv, cache=tmp_path)  # fills the cache
    out = _probe(*argv, count=True, cache=tmp_path)
    assert out["resolved"] == 0, out
    assert set(out["loaded"]).isdisjoint(HEAVY), out
