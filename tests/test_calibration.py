"""The network calibration (``scripts/calibrate_network.py``) and the data READMEs that report it.

The tables in ``data/network/README.md`` must be the script's output, and the
figures its prose states must be the script's figures, so that the docs cannot
drift from the code. The data docs must not cite machine-local paths nor be
written in the first person.
"""

from __future__ import annotations

import csv
import difflib
import importlib.util
import io
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from routesim import Network

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "calibrate_network.py"
NETWORK_README = ROOT / "data" / "network" / "README.md"


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("calibrate_network", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their module by name
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def calib() -> ModuleType:
    return _load_script()


@pytest.fixture(scope="module")
def tables(calib: ModuleType, net: Network) -> dict[str, list[dict[str, Any]]]:
    return calib.collect(calib.Calibration(net))


@pytest.fixture(scope="module")
def readme() -> str:
    return NETWORK_README.read_text(encoding="utf-8")


def _row(rows: list[dict[str, Any]], key: str, value: str) -> dict[str, Any]:
    hits = [r for r in rows if r[key] == value]
    assert len(hits) == 1, f"{value!r}: {len(hits)} rows"
    return hits[0]


def _readme_table(readme: str, heading: str) -> list[dict[str, str]]:
    """The first pipe table after ``### heading``, as dicts keyed by its header."""
    assert f"### {heading}\n" in readme, f"no section '### {heading}' in data/network/README.md"
    section = readme.split(f"### {heading}\n", 1)[1].splitlines()
    first = next(i for i, ln in enumerate(section) if ln.startswith("|"))
    lines = []
    for ln in section[first:]:
        if not ln.startswith("|"):
            break
        lines.append(ln)
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    return [dict(zip(header, (c.strip() for c in ln.strip("|").split("|")), strict=True)) for ln in lines[2:]]


# -- docs and code agree --------------------------------------------------------------------


@pytest.mark.parametrize("table", ["baseline", "closures", "checks"])
def test_readme_tables_are_the_script_output(calib: ModuleType, tables: dict, readme: str, table: str) -> None:
    expected = calib.markdown_table(table, tables[table])
    if expected not in readme:
        rows = _readme_table(readme, calib.TITLES[table])
        got = ["| " + " | ".join(r.values()) + " |" for r in rows]
        diff = "\n".join(difflib.unified_diff(got, expected.splitlines()[2:], "README", "script", lineterm=""))
        pytest.fail(
            f"data/network/README.md, table '{calib.TITLES[table]}' differs from "
            f"`python scripts/calibrate_network.py --format markdown`:\n{diff}"
        )


def test_headline_figures(tables: dict, readme: str) -> None:
    base, closures, checks = tables["baseline"], tables["closures"], tables["checks"]
    row = _row(base, "pair", "Damascus → Aleppo")
    assert (round(row["km"]), round(row["car_h"], 2)) == (353, 4.50)
    desert = _row(closures, "pair", "Damascus → Aleppo, desert road (M4 west also closed)")
    assert (round(desert["km"]), round(desert["car_h"], 2)) == (416, 6.53)
    assert desert["refs"] == "M5 > Salamiyah road > Desert road"
    dated = _row(closures, "pair", "Damascus → Aleppo on 2016-03-01 (event library)")
    assert (round(dated["km"]), round(dated["car_h"], 2)) == (416, 6.53)
    hama = _row(checks, "check", "Desert detour through Hama")
    assert round(hama["detour_km"]) == 98
    # The README table values, parsed, give the same figures.
    md = _row(_readme_table(readme, "Baseline"), "pair", "Damascus → Aleppo")
    assert (md["km"], md["car h"]) == ("353", "4.50")
    md = _row(_readme_table(readme, "Published figures compared with the model"), "check", "Desert detour through Hama")
    assert md["km"] == "242 (+98)"


def test_published_lengths_are_the_segment_lengths(tables: dict) -> None:
    checks = tables["checks"]
    for name, km in (("Hama–Salamiyah", 33), ("Homs–Salamiyah", 45), ("Ithriya–Khanasir", 55)):
        row = _row(checks, "check", name)
        assert row["km"] == pytest.approx(km), name
        assert row["query"].startswith("segment `"), name


def test_readme_prose_states_the_script_figures(tables: dict, readme: str) -> None:
    base = {r["pair"]: r for r in tables["baseline"]}
    runs = {r["pair"]: r for r in tables["closures"]}
    checks = {r["check"]: r for r in tables["checks"]}
    hama = checks["Desert detour through Hama"]
    damascus = checks["Desert detour from Damascus"]
    forced = checks["Desert detour from Damascus through Hama (forced)"]
    ghab = runs["Damascus → Aleppo (best)"]
    ghab_hama = runs["Hama → Aleppo (best)"]
    desert = runs["Damascus → Aleppo, desert road (M4 west also closed)"]
    desert_hama = runs["Hama → Aleppo, desert road (M4 west also closed)"]
    salamiyah = checks["Salamiyah–Aleppo (desert road)"]
    tabqa = runs["Damascus → Salamiyah → Ithriya → Tabqa → Aleppo (forced)"]
    poor = checks["Desert road `poor` instead of `fair` (what-if)"]
    expected = [
        f"**+{hama['detour_km']:.0f} km** over the M5 ({hama['km']:.0f} vs {base['Hama → Aleppo']['km']:.0f})",
        f"**+{damascus['detour_km']:.0f} km** ({damascus['km']:.0f} vs {base['Damascus → Aleppo']['km']:.0f}), "
        f"in {damascus['h']:.2f} h",
        f"Going through Hama instead gives +{forced['detour_km']:.0f} km and {forced['h']:.2f} h.",
        f"Salamiyah → Aleppo on the desert road is {salamiyah['km']:.0f} km",
        f"The route via Tabqa takes {tabqa['car_h']:.1f} h.",
        f"It is {ghab['km'] - desert['km']:.0f} km longer than the desert route but "
        f"{desert['car_h'] - ghab['car_h']:.1f} h faster ({ghab['car_h']:.2f} vs {desert['car_h']:.2f} h). "
        f"From Hama it is {desert_hama['car_h'] - ghab_hama['car_h']:.1f} h faster.",
        f"the Damascus–Aleppo detour would take about {poor['h']:.1f} h by car",
        f"At 55 km/h it comes to {desert['car_h']:.1f} h",
    ]
    missing = [text for text in expected if text not in readme]
    assert not missing, "data/network/README.md does not state the script's figures:\n" + "\n".join(missing)
    assert 5.4 <= damascus["h"] <= 6.6  # "within the 5.4-6.6 h band"
    assert 80 <= hama["detour_km"] <= 100  # "Target: 80-100"


def test_closed_segments_as_stated(net: Network, readme: str) -> None:
    m = re.search(r"(\d+) segments, from `([^`]+)` through `([^`]+)`", readme)
    assert m, "README no longer states which segments M5:Hama:Aleppo closes"
    segments = set(net.edges.segment[net.select("M5:Hama:Aleppo")])
    assert len(segments) == int(m.group(1))
    assert {m.group(2), m.group(3)} <= segments


# -- the script runs ------------------------------------------------------------------------


def test_script_runs(calib: ModuleType) -> None:
    proc = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr
    for title in calib.TITLES.values():
        assert title in proc.stdout
    assert "Damascus → Aleppo" in proc.stdout


def test_script_csv(calib: ModuleType) -> None:
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--format", "csv", "--table", "checks"],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.DictReader(io.StringIO(proc.stdout)))
    assert [r["check"] for r in rows] == [c.name for c in calib.CHECKS]
    assert all(r["source"] for r in rows)
    first = rows[0]
    assert round(float(first["km"])) == 353 and round(float(first["h"]), 2) == 4.50


def test_every_check_names_a_public_source(calib: ModuleType) -> None:
    for check in calib.CHECKS:
        assert check.source and not FORBIDDEN.search(check.source), check.name
        assert check.km is not None or check.hours is not None, check.name
        assert (check.query is None) != (check.segment is None), check.name


# -- the data docs --------------------------------------------------------------------------

#: An absolute path (a root-level folder and at least one more level, not inside a URL or a relative
#: ``../`` path), or a first-person word.
FORBIDDEN = re.compile(r"(?<![\w:/.~-])/[A-Za-z_][\w.-]*/[\w.-]+|\b(?:I|me|my|My|myself|Myself|mine)\b")


def test_data_docs_cite_no_machine_paths_and_use_the_project_voice() -> None:
    docs = sorted(p for p in (ROOT / "data").rglob("*") if p.suffix.lower() in (".md", ".rst", ".txt"))
    assert docs, "no docs found under data/"
    offending = [
        f"{p.relative_to(ROOT)}:{n}: {line.strip()}"
        for p in docs
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if FORBIDDEN.search(line)
    ]
    assert not offending, "machine paths or first-person words in data docs:\n" + "\n".join(offending)
