"""The cache of event masks: what it reads back is what resolution gives, and it never goes stale.

The cache folder is the test session's ``$ROUTESIM_CACHE`` (see ``conftest.py``);
tests that damage or move the cache use their own folder.
"""

from __future__ import annotations

import numpy as np
import pytest

from routesim import load_network
from routesim.events.eventset import EventSet
from routesim.events.files import builtin_library_path, read_event_files
from routesim.events.maskcache import (
    MAX_SELECTORS,
    MaskCache,
    bind_mask_cache,
    bound_mask_cache,
    selector_key,
)
from routesim.io.cache import mask_cache
from routesim.network.selection import resolve

from .conftest import run_cli

USER_EVENT = """
events:
  - id: test-closure
    date: {date}
    action: close
    where: {where}
    source: test
"""


def _library():
    records, problems = read_event_files([builtin_library_path()])
    assert not problems
    return records


def _no_resolution(network, monkeypatch):
    """Make any resolution on ``network`` fail the test: masks must come from the cache file."""
    def refuse(selector):
        raise AssertionError(f"resolved {selector!r} instead of reading it from the cache")

    monkeypatch.setattr(network, "select", refuse)


def _own_cache(network, folder):
    """Bind ``network`` to a cache in ``folder`` with the identity of its usual one."""
    usual = bound_mask_cache(network)
    assert usual is not None
    identity = usual.identity
    bind_mask_cache(network, MaskCache(folder=lambda: folder, identity=lambda: identity))
    return usual


@pytest.mark.parametrize("name", ["syria-sketch", "syria-osm"])
def test_cached_masks_equal_a_fresh_resolution(name, monkeypatch):
    network = load_network(name)
    records = _library()
    EventSet(network, records)  # resolves (or reads) and stores every selector
    cache = bound_mask_cache(network)
    assert cache is not None and cache.path.is_file()
    _no_resolution(network, monkeypatch)
    cached = EventSet(network, records)
    monkeypatch.undo()
    for rec in cached.records:
        fresh = resolve(network, rec.event.selector())
        assert np.array_equal(cached.mask(rec.event.id), fresh), rec.event.id
        assert cached.mask(rec.event.id).dtype == bool


def test_an_edited_where_is_resolved_afresh_and_the_rest_is_read_back(tmp_path, monkeypatch):
    network = load_network("syria-sketch")
    usual = _own_cache(network, tmp_path / "cache")
    try:
        f = tmp_path / "user.yaml"
        f.write_text(USER_EVENT.format(date="2020-01-01", where="M5:Homs:Hama"), encoding="utf-8")
        first = EventSet(network, read_event_files([f])[0])
        assert np.array_equal(first.mask("test-closure"), resolve(network, "M5:Homs:Hama"))

        f.write_text(USER_EVENT.format(date="2020-01-01", where="M5:Hama:Aleppo"), encoding="utf-8")
        edited = EventSet(network, read_event_files([f])[0])
        fresh = resolve(network, "M5:Hama:Aleppo")
        assert np.array_equal(edited.mask("test-closure"), fresh)
        assert not np.array_equal(edited.mask("test-closure"), first.mask("test-closure"))
        stored = bound_mask_cache(network).load(network.edges.n)
        assert {selector_key("M5:Homs:Hama"), selector_key("M5:Hama:Aleppo")} <= set(stored)

        # Another date, the same where: no resolution at all, and the state follows the new date.
        f.write_text(USER_EVENT.format(date="2021-06-01", where="M5:Hama:Aleppo"), encoding="utf-8")
        _no_resolution(network, monkeypatch)
        redated = EventSet(network, read_event_files([f])[0])
        monkeypatch.undo()
        assert np.array_equal(redated.mask("test-closure"), fresh)
        assert not redated.state_at(_day("2021-01-01")).closed.any()
        assert redated.state_at(_day("2021-06-01")).closed[:, fresh].all()
    finally:
        bind_mask_cache(network, usual)


def test_the_network_identity_follows_its_files_and_kind(tmp_path):
    f = tmp_path / "net.rsnet"
    f.write_bytes(b"one")
    a = mask_cache("roads:car:5.0", [f])
    assert a.identity is not None
    f.write_bytes(b"two, longer")
    b = mask_cache("roads:car:5.0", [f])
    assert b.identity is not None
    assert a.identity != b.identity and a.path != b.path
    assert mask_cache("roads:truck:5.0", [f]).identity != b.identity
    assert mask_cache("roads:car:5.0", [f]).identity == b.identity
    f.unlink()
    missing = mask_cache("roads:car:5.0", [f]).identity
    assert missing is not None and missing != b.identity  # a missing file counts as such


def test_a_file_changed_after_loading_disables_the_cache(tmp_path):
    # The network in memory was read from the old file: its masks must not be stored as the new one's.
    f = tmp_path / "net.rsnet"
    f.write_bytes(b"as loaded")
    cache = mask_cache("roads:car:5.0", [f])
    f.write_bytes(b"rebuilt meanwhile")
    assert cache.identity is None and cache.path is None
    assert cache.load(3) == {}
    cache.save(3, {selector_key("M5"): np.array([0, 2])})
    assert not list(tmp_path.glob("*.masks.npz"))


def test_a_changed_network_file_gets_another_cache_file(tmp_path):
    network = load_network("syria-sketch")
    cache = bound_mask_cache(network)
    assert cache is not None
    data = tmp_path / "segments.csv"
    data.write_text("a,b\n", encoding="utf-8")
    before = mask_cache("syria-sketch", [data]).path
    data.write_text("a,b\n1,2\n", encoding="utf-8")
    after = mask_cache("syria-sketch", [data]).path
    assert before is not None and after is not None and after != before


def _valid_file(network, folder):
    """A cache file of ``network`` in ``folder`` holding the library's masks."""
    usual = _own_cache(network, folder)
    EventSet(network, _library())
    path = bound_mask_cache(network).path
    assert path.is_file()
    return usual, path


def _garbage(path):
    path.write_bytes(b"\x00garbage, not an npz\xff" * 10)


def _empty(path):
    path.write_bytes(b"")


def _truncated(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _foreign(path):
    cache = MaskCache(folder=lambda: path.parent, identity=lambda: "0" * 64)
    cache.save(7, {selector_key("M5"): np.array([1, 2])})
    cache.path.replace(path)


def _out_of_range(path):
    with np.load(path) as data:
        members = {k: np.asarray(data[k]) for k in data.files}
    members["indices"] = members["indices"] + 10**6
    with path.open("wb") as fh:
        np.savez(fh, **members)


def _plain_npy(path):
    with path.open("wb") as fh:
        np.save(fh, np.arange(5))


def _header_not_a_mapping(path):
    with np.load(path) as data:
        members = {k: np.asarray(data[k]) for k in data.files}
    members["header"] = np.frombuffer(b"[1, 2, 3]", dtype=np.uint8)
    with path.open("wb") as fh:
        np.savez(fh, **members)


def _runs_not_tiling(path):
    with np.load(path) as data:
        members = {k: np.asarray(data[k]) for k in data.files}
    members["offsets"] = members["offsets"][::-1].copy()
    with path.open("wb") as fh:
        np.savez(fh, **members)


@pytest.mark.parametrize(
    "damage",
    [_garbage, _empty, _truncated, _foreign, _out_of_range, _plain_npy, _header_not_a_mapping, _runs_not_tiling],
)
def test_a_corrupt_cache_file_is_ignored_and_rebuilt(damage, tmp_path, monkeypatch):
    network = load_network("syria-sketch")
    usual, path = _valid_file(network, tmp_path / "cache")
    try:
        damage(path)
        assert bound_mask_cache(network).load(network.edges.n) == {}
        records = _library()
        rebuilt = EventSet(network, records)
        for rec in rebuilt.records:
            assert np.array_equal(rebuilt.mask(rec.event.id), resolve(network, rec.event.selector())), rec.event.id
        _no_resolution(network, monkeypatch)
        EventSet(network, records)  # the rewritten file serves every selector
    finally:
        monkeypatch.undo()
        bind_mask_cache(network, usual)


def test_an_unwritable_cache_costs_only_the_resolution(tmp_path):
    network = load_network("syria-sketch")
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the cache folder should be", encoding="utf-8")
    usual = _own_cache(network, blocked / "cache")
    try:
        records = _library()
        eset = EventSet(network, records)
        assert len(eset) == len(records)
    finally:
        bind_mask_cache(network, usual)


def test_the_latest_selectors_are_kept_when_the_file_is_trimmed(tmp_path):
    cache = MaskCache(folder=lambda: tmp_path, identity=lambda: "f" * 64)
    entries = {f'"s{i}"': np.array([i % 5]) for i in range(MAX_SELECTORS + 10)}
    latest = [f'"s{MAX_SELECTORS + 9}"', '"s0"']
    cache.save(5, entries, first=latest)
    stored = cache.load(5)
    assert len(stored) == MAX_SELECTORS
    assert set(latest) <= set(stored)
    assert all(np.array_equal(stored[k], entries[k]) for k in stored)


def test_selectors_that_are_no_json_are_resolved_not_cached():
    assert selector_key({"area": {"place": "Homs", "radius_km": 5.0}}) == '{"area":{"place":"Homs","radius_km":5.0}}'
    assert selector_key(["M5", "M4"]) == selector_key(("M5", "M4"))
    assert selector_key({"bbox": [float("nan"), 0, 1, 1]}) is None
    assert selector_key({"bbox": object()}) is None


def test_the_cli_rebuilds_a_corrupt_cache_without_a_traceback(tmp_path):
    network = load_network("syria-osm")
    cache = bound_mask_cache(network)
    assert cache is not None and cache.path is not None
    events = tmp_path / "closure.yaml"
    events.write_text(USER_EVENT.format(date="2020-01-01", where="M5:Homs:Hama"), encoding="utf-8")
    args = ["route", "Damascus", "Aleppo", "--date", "2020-06-01", "--network", "syria-osm",
            "--events", "none", "--events", str(events), "--format", "json"]
    first = run_cli(*args)
    assert first.returncode == 0, first.stderr
    assert selector_key("M5:Homs:Hama") in cache.load(network.edges.n)
    _garbage(cache.path)
    again = run_cli(*args)
    assert again.returncode == 0, again.stderr
    assert "Traceback" not in again.stderr
    assert again.stdout == first.stdout
    assert selector_key("M5:Homs:Hama") in cache.load(network.edges.n)  # rewritten


def _day(text):
    from datetime import date

    return date.fromisoformat(text)
