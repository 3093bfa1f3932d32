"""Hostile input: every bad file, value, target or signal gets a clean error, nothing runs away,
results are never lost (issue 17).

Each case asserts what a user sees: exit status 2 (130 for Ctrl-C), no traceback,
a message naming the file (and the line where there is one), and nothing
written outside the results folder. Most cases run the CLI in this process
(:func:`routesim.cli.main`); the signal cases need a real process.
"""

from __future__ import annotations

import errno
import itertools
import json
import math
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from routesim import load_network
from routesim._util import files as filesmod
from routesim._util import yamlio
from routesim._util.files import FolderLocked, atomic_dir, clean_stale, exchange, folder_lock, lock_path
from routesim.cli import main
from routesim.demand.prices import Series
from routesim.errors import InputFileError, NetworkError
from routesim.io.graphfiles import save_network
from routesim.runner.estimate import SizeLimits, check_run_size, estimate_run
from routesim.runner.validate import load_scenario

from .conftest import ROOT

BASE = """\
name: hostile
network: syria-sketch
period: {start: 2016-01-01, end: 2016-01-03}
events: {builtin: false}
demand:
  - {origin: Damascus, destination: Homs, trucks_per_day: 10}
"""


def write(folder: Path, name: str, text: str | bytes) -> Path:
    path = folder / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def cli(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    """Run the CLI entry point in this process: (status, stdout, stderr)."""
    with pytest.raises(SystemExit) as exit_info:
        main([str(a) for a in args])
    out, err = capsys.readouterr()
    code = exit_info.value.code
    return (code if isinstance(code, int) else 0 if code is None else 1), out, err


def refused(capsys: pytest.CaptureFixture[str], path: Path, *args: str | Path, line: int | None = None,
            says: str = "") -> str:
    """``routesim validate path`` exits 2 with a located message and no traceback."""
    code, _, err = cli(capsys, "validate", path, *args)
    assert code == 2, err
    assert "Traceback" not in err
    where = f"{path}:{line}:" if line is not None else f"{path}"
    assert where in err, err
    assert says in err, err
    return err


def problem(path: Path) -> yamlio.Problem:
    with pytest.raises(InputFileError) as exc_info:
        load_scenario(path)
    assert all(p.file == str(path) for p in exc_info.value.problems), exc_info.value.problems
    return exc_info.value.problems[0]


# --- YAML structure -----------------------------------------------------------------------------------------


def test_alias_bomb_is_refused_fast(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    levels = "abcdefghij"
    text = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
        f"{b}: &{b} [{','.join([f'*{a}'] * 9)}]\n" for a, b in itertools.pairwise(levels)
    )
    path = write(tmp_path, "bomb.yaml", text)
    assert len(path.read_bytes()) < 700
    t0 = time.perf_counter()
    err = refused(capsys, path, line=7, says=f"more than {yamlio.MAX_NODES:,} values")
    assert time.perf_counter() - t0 < 2.0, err


def test_aliases_within_the_bound_still_work(tmp_path: Path) -> None:
    doc = yamlio.loads("base: &b {x: 1, y: [1, 2]}\nc:\n  <<: *b\n  x: 3\nd: *b\n", tmp_path / "f.yaml")
    assert doc.data == {"base": {"x": 1, "y": [1, 2]}, "c": {"x": 3, "y": [1, 2]}, "d": {"x": 1, "y": [1, 2]}}
    doc.data["d"]["y"].append(3)  # aliases are copies: changing one leaves the anchor alone
    assert doc.data["base"]["y"] == [1, 2]
    assert doc.line(("c", "x")) == 4 and doc.line(("d", "y")) == 5


@pytest.mark.parametrize(("name", "extra", "line", "says"), [
    ("nul", "description: a\x00b\n", 7, "NUL byte"),
    ("deep", "description: " + "[" * 5000 + "]" * 5000 + "\n", 7, f"nested more than {yamlio.MAX_DEPTH}"),
    ("recursive", "x: &a [1, *a]\n", 7, "recursive alias *a"),
    ("listkey", "? [a, b]\n: 1\n", 7, "cannot be a key"),
    ("mapkey", "{a: 1}: 2\n", 7, "cannot be a key"),
    ("duplicate", "name: again\n", 7, "duplicate key 'name'"),
    ("undefined", "description: *nowhere\n", 7, "names no anchor"),
    ("two-documents", "---\nname: x\n", 7, "second YAML document"),
], ids=lambda v: v if isinstance(v, str) and len(v) < 20 and "\n" not in v else "")
def test_hostile_yaml_gets_a_located_error(tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str,
                                           extra: str, line: int, says: str) -> None:
    refused(capsys, write(tmp_path, f"{name}.yaml", BASE + extra), line=line, says=says)


def test_invalid_utf8_is_located(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "latin1.yaml", BASE.encode() + "description: caf\u00e9\n".encode("latin-1"))
    refused(capsys, path, line=7, says="not UTF-8")
    bom = write(tmp_path, "bom.yaml", b"\xef\xbb\xbf" + BASE.encode())
    assert load_scenario(bom).scenario.name == "hostile"


# --- values ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("old", "new", "line", "says"), [
    ("trucks_per_day: 10", "trucks_per_day: .inf", 6, "finite number"),
    ("trucks_per_day: 10", "trucks_per_day: .nan", 6, "finite number"),
    ("period: {start: 2016-01-01, end: 2016-01-03}", "date: 9999-12-31", 3, "outside the supported dates"),
    ("end: 2016-01-03", "end: 2216-01-03", 3, "outside the supported dates"),
    ("name: hostile", 'name: "hostile\\n"', 1, "name"),
    ("name: hostile", "name: ../escape", 1, "name"),
])
def test_bad_values_are_located(tmp_path: Path, capsys: pytest.CaptureFixture[str], old: str, new: str, line: int,
                                says: str) -> None:
    assert old in BASE
    refused(capsys, write(tmp_path, "s.yaml", BASE.replace(old, new)), line=line, says=says)


def test_closure_ending_before_it_starts_is_located(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = BASE + "closures:\n  - where: M5:Damascus:Homs\n    date: 2016-01-02\n    end: 2016-01-01\n"
    refused(capsys, write(tmp_path, "s.yaml", text), line=10,
            says="closures[0].end: Value error, 2016-01-01 must be after")


def test_model_errors_point_at_their_field_not_line_1(tmp_path: Path) -> None:
    text = BASE.replace("trucks_per_day: 10}", "trucks_per_day: 10,\n     vehicle: lorry}")
    p = problem(write(tmp_path, "s.yaml", text))
    assert (p.line, p.field) == (7, "demand[0].vehicle") and "unknown vehicle 'lorry'" in p.message


def test_event_file_problems_are_found_by_validate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    events = write(tmp_path, "ev.yaml", "events:\n  - id: cut\n    date: 2016-01-01\n    action: close\n"
                                        "    where: M99:Nowhere:Elsewhere\n")
    path = write(tmp_path, "s.yaml", BASE.replace("{builtin: false}", "{builtin: false, files: [ev.yaml]}"))
    code, _, err = cli(capsys, "validate", path)
    assert code == 2 and f"{events}:5: where: selector 'M99:Nowhere:Elsewhere'" in err and "Traceback" not in err


# --- size estimate ------------------------------------------------------------------------------------------


def test_a_billion_trucks_a_day_is_refused_by_the_estimate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "s.yaml", BASE.replace("trucks_per_day: 10", "trucks_per_day: 1e9"))
    err = refused(capsys, path, line=6, says="run too large: 2,000,000,000 trips is more than the limit")
    assert "--max-trips" in err
    code, out, _ = cli(capsys, "validate", path, "--allow-large")
    assert code == 0 and "estimate: 2,000,000,000 trips" in out
    code, _, err = cli(capsys, "run", path, "--out", tmp_path / "out")
    assert code == 2 and "run too large" in err and not (tmp_path / "out").exists()


def test_two_hundred_replications_of_a_year_are_estimated(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = BASE.replace("2016-01-03", "2017-01-01").replace("trucks_per_day: 10", "trucks_per_day: 1670")
    path = write(tmp_path, "s.yaml", text)
    loaded = load_scenario(path)
    est = estimate_run(loaded, replications=200)
    assert est.trips == 1670 * 366 * 200 and est.replications == 200
    assert est.output_bytes > 10e9  # every trip of every replication in trips.csv
    with pytest.raises(InputFileError, match="fewer replications"):
        check_run_size(loaded, est, SizeLimits(max_trips=50_000_000))
    check_run_size(loaded, est, SizeLimits(max_memory=2**40))  # within the limits: runs
    code, out, _ = cli(capsys, "validate", path)
    assert code == 0 and "estimate: 611,220 trips (1,670/day × 366 days)" in out


def test_a_century_long_period_is_refused(tmp_path: Path) -> None:
    text = BASE.replace("2016-01-01, end: 2016-01-03", "1950-01-01, end: 2050-01-01").replace(
        "trucks_per_day: 10", "trucks_per_day: 2000")
    loaded = load_scenario(write(tmp_path, "s.yaml", text))
    est = estimate_run(loaded)
    assert est.days == 36525 and est.trips == 2000 * 36525
    with pytest.raises(InputFileError, match="of memory is more than the limit"):
        check_run_size(loaded, est, SizeLimits(max_memory=8 * 2**30))


# --- price CSVs -----------------------------------------------------------------------------------------------


def priced(tmp_path: Path, csv: bytes) -> Path:
    write(tmp_path, "diesel.csv", csv)
    return write(tmp_path, "s.yaml", BASE + "costs:\n  diesel: {file: diesel.csv, currency: SYP}\n")


@pytest.mark.parametrize(("csv", "line", "says"), [
    (b"date,value\n2016-01-01,180\n2016-02-01,caf\xe9\n", 3, "not UTF-8"),
    (b"date,value\n2016-01-01,180\n2016-02-01,-5\n", 3, "positive finite number"),
    (b"date,value\n2016-01-01,0\n", 2, "positive finite number"),
    (b"date,value\n2016-01-01,nan\n", 2, "positive finite number"),
    (b"date,value\n2016-01-01,inf\n", 2, "positive finite number"),
    (b"date,value\n9999-01-01,180\n", 2, "outside the supported dates"),
    (b"date,value\n2016-01-01,180\n2016-01-01,190\n", 3, "given twice"),
    (b"day,price\n2016-01-01,180\n", 1, "expected columns date,value"),
])
def test_bad_price_csv_is_found_by_validate(tmp_path: Path, capsys: pytest.CaptureFixture[str], csv: bytes,
                                            line: int, says: str) -> None:
    path = priced(tmp_path, csv)
    _, _, err = cli(capsys, "validate", path)
    assert f"{tmp_path / 'diesel.csv'}:{line}:" in err and says in err and "Traceback" not in err, err


def test_price_csv_with_a_bom_is_read(tmp_path: Path) -> None:
    csv = write(tmp_path, "p.csv", b"\xef\xbb\xbfdate,value\r\n2016-01,180\r\n2016-06-01,200\r\n")
    s = Series.from_csv(csv)
    assert s.values == (180.0, 200.0)
    load_scenario(priced(tmp_path, csv.read_bytes()))


# --- networks -------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("exports")
    net = load_network("syria-sketch")
    return {s: save_network(net, folder / f"sketch.{s}") for s in ("graphml", "geojson", "gpkg")}


def graphml_with(exports: dict[str, Path], folder: Path, name: str, length: str) -> Path:
    text = exports["graphml"].read_text(encoding="utf-8")
    key = text.split('attr.name="length"')[0].rsplit('<key id="', 1)[1].split('"')[0]
    start = text.index(f'<data key="{key}">') + len(f'<data key="{key}">')
    return write(folder, name, text[:start] + length + text[text.index("</data>", start):])


@pytest.mark.parametrize(("length", "says"), [("-1640.2", "no usable 'length'"), ("nan", "no usable 'length'"),
                                              ("0", "no usable 'length'"), ("abc", "not a readable GraphML")])
def test_graphml_with_bad_lengths_is_refused(exports: dict[str, Path], tmp_path: Path, length: str, says: str) -> None:
    path = graphml_with(exports, tmp_path, "bad.graphml", length)
    with pytest.raises(NetworkError, match=says) as exc_info:
        load_network(path)
    assert str(path) in str(exc_info.value)


def test_geojson_with_negative_lengths_never_gives_a_negative_route(exports: dict[str, Path], tmp_path: Path) -> None:
    data = json.loads(exports["geojson"].read_text(encoding="utf-8"))
    for f in data["features"]:
        if f["properties"].get("element") == "edge":
            f["properties"]["length"] = -abs(float(f["properties"]["length"]))
    path = write(tmp_path, "neg.geojson", json.dumps(data))
    with pytest.raises(NetworkError, match="200 of 200 edges have no usable 'length'"):
        load_network(path)


@pytest.mark.parametrize(("name", "damage", "says"), [
    ("cut.graphml", lambda b: b[: len(b) // 2], "not a readable GraphML"),
    ("empty.graphml", lambda b: b"", "not a readable GraphML"),
    ("cut.geojson", lambda b: b[: len(b) // 2], "cannot read GeoJSON"),
    ("cut.gpkg", lambda b: b[: len(b) // 3], "cannot read GeoPackage"),
    ("noise.gpkg", lambda b: b"\x00noise" * 100, "cannot read GeoPackage"),
])
def test_malformed_network_files_name_the_file(exports: dict[str, Path], tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str], name: str,
                                               damage: Callable[[bytes], bytes], says: str) -> None:
    source = exports[name.rsplit(".", 1)[1]]
    path = write(tmp_path, name, damage(source.read_bytes()))
    scenario = write(tmp_path, "s.yaml", BASE.replace("network: syria-sketch", f"network: {name}"))
    err = refused(capsys, scenario, line=2, says=says)
    assert str(path) in err


def test_a_geojson_without_edge_ids_is_refused(exports: dict[str, Path], tmp_path: Path) -> None:
    data = json.loads(exports["geojson"].read_text(encoding="utf-8"))
    for f in data["features"]:
        f["properties"].pop("u", None)
    with pytest.raises(NetworkError, match="no column u"):
        load_network(write(tmp_path, "nou.geojson", json.dumps(data)))


# --- results: corrupt, unwritable, locked, replaced atomically -------------------------------------------------


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real result folder of the base scenario."""
    folder = tmp_path_factory.mktemp("result")
    scenario = write(folder, "s.yaml", BASE)
    with pytest.raises(SystemExit) as exit_info:
        main(["run", str(scenario), "--out", str(folder / "out")])
    assert exit_info.value.code == 0
    return folder / "out" / "hostile"


@pytest.mark.parametrize(("table", "content", "says"), [
    ("summary.csv", b"\x00\xff garbage", "unreadable table"),
    ("summary.csv", b"", "unreadable table"),
    ("summary.csv", b"engine,metric,value,unit,low,high\nsim,a,xx,u,,\n", "summary.csv:2: value: damaged table"),
    ("summary.csv", b"engine,metric,value,unit,low,high\nsim,a,1,u,,\nsim,a,2,u,,\n", "engine, metric repeated"),
    ("summary.csv", b"metric\n", "no column value"),
    ("manifest.json", b"{", "unreadable manifest"),
])
def test_compare_of_a_corrupt_result_is_an_error(result: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                 table: str, content: bytes, says: str) -> None:
    import shutil

    damaged = tmp_path / "damaged"
    shutil.copytree(result, damaged)
    write(damaged, table, content)
    code, _, err = cli(capsys, "compare", result, damaged)
    assert code == 2 and says in err and str(damaged) in err and "Traceback" not in err, err


def test_unwritable_targets_are_clean_errors(result: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = write(tmp_path, "a-file", "not a folder")
    scenario = write(tmp_path, "s.yaml", BASE)
    for args in (["run", scenario, "--out", blocker / "sub"], ["schema", blocker / "schemas"],
                 ["network", "export", blocker / "x.graphml", "--network", "syria-sketch"]):
        code, _, err = cli(capsys, *args)
        assert code == 2 and str(blocker) in err and "Traceback" not in err, (args, err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file", "s.yaml"]


def test_permission_denied_and_full_disk_are_clean_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    scenario = write(tmp_path, "s.yaml", BASE)
    out = tmp_path / "out"
    real_mkdir = Path.mkdir

    def denied(self: Path, *args: object, **kwargs: object) -> None:
        if self == out:
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        real_mkdir(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "mkdir", denied)
    code, _, err = cli(capsys, "run", scenario, "--out", out)
    assert code == 2 and f"{out}: cannot write here: Permission denied" in err
    monkeypatch.undo()

    import routesim.runner.run as runmod

    def full(frame: object, path: Path, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(runmod, "write_table", full)
    code, _, err = cli(capsys, "run", scenario, "--out", out)
    assert code == 2 and "No space left on device" in err and str(out / "hostile") in err, err
    assert [p.name for p in out.iterdir()] == []  # the temporary folder and the lock are gone


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_out_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "ro"
    out.mkdir()
    out.chmod(0o555)
    try:
        code, _, err = cli(capsys, "run", write(tmp_path, "s.yaml", BASE), "--out", out)
    finally:
        out.chmod(0o755)
    assert code == 2 and str(out) in err and "Traceback" not in err


def test_a_second_run_into_a_locked_folder_stops_and_the_first_result_stays(
        result: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = {p.name: p.read_bytes() for p in result.iterdir()}
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from pathlib import Path; from routesim._util.files import "
         "folder_lock\nwith folder_lock(Path(sys.argv[1])):\n print('held', flush=True); time.sleep(30)",
         str(result)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        code, _, err = cli(capsys, "run", result.parent.parent / "s.yaml", "--out", result.parent)
        assert code == 2 and "another routesim run (pid" in err and str(result) in err, err
        with pytest.raises(FolderLocked), atomic_dir(result):
            pass
    finally:
        holder.kill()
        holder.wait()
    assert {p.name: p.read_bytes() for p in result.iterdir()} == before


def test_result_is_replaced_in_one_exchange(tmp_path: Path) -> None:
    a, b = write(tmp_path, "a", "A"), write(tmp_path, "b", "B")
    assert exchange(a, b) and (a.read_text(), b.read_text()) == ("B", "A")
    target = tmp_path / "r"
    for text in ("old", "new"):
        with atomic_dir(target) as tmp:
            write(tmp, "x", text)
    assert (target / "x").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b", "r"]  # no temporaries, no lock left


def test_a_failure_between_the_two_renames_keeps_the_old_result(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "r"
    with atomic_dir(target) as tmp:
        write(tmp, "x", "old")
    monkeypatch.setattr(filesmod, "exchange", lambda a, b: False)  # a system without renameat2
    calls = []
    real_replace = os.replace

    def killed_on_second(src: os.PathLike[str], dst: os.PathLike[str]) -> None:
        calls.append(src)
        if len(calls) == 2:
            raise KeyboardInterrupt  # as if killed between the renames
        real_replace(src, dst)

    monkeypatch.setattr(filesmod.os, "replace", killed_on_second)
    with pytest.raises(KeyboardInterrupt), atomic_dir(target) as tmp:
        write(tmp, "x", "new")
    monkeypatch.undo()
    assert (target / "x").read_text() == "old"
    # A hard kill (no clean-up at all) leaves the old result hidden: the next writer puts it back.
    hidden = tmp_path / ".r.old-4242-abc"
    hidden.mkdir()
    os.replace(target, hidden / "r")
    with folder_lock(target):
        clean_stale(target)
    assert (target / "x").read_text() == "old" and not hidden.exists()


def test_stale_temporary_folders_are_cleaned(tmp_path: Path) -> None:
    (tmp_path / ".r.tmp-99999-dead").mkdir()
    (tmp_path / ".other.tmp-99998-dead").mkdir()
    lock_path(tmp_path / "other").write_text("pid 99998\n")  # its run was killed: no one holds it
    with atomic_dir(tmp_path / "r") as tmp:
        write(tmp, "x", "1")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r"]


# --- signals (real processes) --------------------------------------------------------------------------------


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(x) for x in text.split()]


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs /proc")
@pytest.mark.parametrize("workers", [None, 2])
def test_ctrl_c_early_in_a_run_exits_130_without_traceback(tmp_path: Path, workers: int | None) -> None:
    text = BASE.replace("2016-01-03", "2016-07-01").replace("trucks_per_day: 10", "trucks_per_day: 3000")
    scenario = write(tmp_path, "s.yaml", text + "simulation: {replications: 4}\n")
    out = tmp_path / "out"
    args = [sys.executable, "-m", "routesim", "run", str(scenario), "--out", str(out)]
    args += ["--workers", str(workers)] if workers else []
    proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        # Ctrl-C as a terminal sends it (to the whole job), once the run is busy: its workers started, or simulating.
        while time.monotonic() < deadline and proc.poll() is None:
            busy = len(_children(proc.pid)) >= 2 if workers else (out / ".hostile.lock").exists()
            if busy:
                break
            time.sleep(0.05)
        time.sleep(0.3)
        assert proc.poll() is None, proc.communicate()
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:  # a failed test leaves no process of its own behind
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
    assert proc.returncode == 130, err
    assert err == "routesim: interrupted\n"
    assert [p.name for p in out.iterdir()] == []  # no half-written result, no temporary folder, no lock


def test_estimates_are_finite_for_any_scenario_the_models_accept(tmp_path: Path) -> None:
    text = BASE.replace("trucks_per_day: 10", "trucks_per_day: 1e300")
    est = estimate_run(load_scenario(write(tmp_path, "s.yaml", text)))
    assert est.trips == 2**62 and math.isfinite(est.peak_memory)


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs /proc")
def test_ctrl_c_in_a_sweep_with_workers_exits_130_and_keeps_no_half_table(tmp_path: Path) -> None:
    """Ctrl-C once a two-process sweep is busy: exit 130, one line, no traceback from the workers,
    and no sweep table that looks complete (finished variants stay recorded for the resume)."""
    out = tmp_path / "out"
    args = [sys.executable, "-m", "routesim", "sweep", str(ROOT / "scenarios/sweeps/m4-reopening.yaml"),
            "--out", str(out), "--workers", "2"]
    proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None and len(_children(proc.pid)) < 2:
            time.sleep(0.05)
        time.sleep(0.5)  # the workers load the network (~1 s): the sweep is busy, far from done
        assert proc.poll() is None, proc.communicate()
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
    assert proc.returncode == 130, err
    assert err == "routesim: interrupted\n"
    assert not list(out.rglob("sweep.csv")) and not [p for p in out.rglob(".*") if p.is_dir()]
