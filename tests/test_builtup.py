"""Built-up areas from street density, and per-road speed overrides."""

from __future__ import annotations

import numpy as np
import pytest

from routesim.errors import NetworkError
from routesim.io.syria import load_syria_osm
from routesim.network.builtup import BuiltUpGrid, BuiltUpRule, effective_speed
from routesim.network.overrides import apply_overrides, read_overrides


def _town(x0: float, y0: float, size: float, step: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A square town of streets every ``step`` degrees both ways (vertices and line offsets)."""
    xs, ys, offsets = [], [], [0]
    ticks = np.arange(0.0, size + 1e-12, step)
    for t in ticks:
        xs += [x0 + t, x0 + t]
        ys += [y0, y0 + size]
        offsets.append(len(xs))
        xs += [x0, x0 + size]
        ys += [y0 + t, y0 + t]
        offsets.append(len(xs))
    return np.array(xs), np.array(ys), np.array(offsets)


def test_dense_streets_make_a_town_a_lone_street_does_not():
    x, y, o = _town(36.0, 34.0, 0.03, 0.002)  # about 3 km square, streets every ~200 m
    lone_x, lone_y = np.array([37.0, 37.0]), np.array([34.0, 34.05])
    grid = BuiltUpGrid.from_streets(np.r_[x, lone_x], np.r_[y, lone_y], np.r_[o, o[-1] + 2])
    # A road across the town and on across open country: about 3.3 km of it inside (cell edges blur 0.5 km).
    road_x, road_y = np.array([35.95, 36.1]), np.array([34.015, 34.015])
    road_through = grid.inside_m(road_x, road_y, np.array([0, 2]))[0]
    assert 2500 < road_through < 4500
    along_lone = grid.inside_m(np.array([37.0, 37.0]), np.array([34.01, 34.04]), np.array([0, 2]))[0]
    assert along_lone == 0
    assert 5 < grid.area_km2 < 25


def test_effective_speed_is_the_harmonic_blend():
    # 10 km, 4 of them in town at 48 km/h, 6 at 90: 6/90 + 4/48 h.
    v = effective_speed(np.array([10_000.0]), np.array([4_000.0]), np.array([90.0]), 48.0)[0]
    assert v == pytest.approx(10 / (6 / 90 + 4 / 48))
    # The cap never speeds a road up.
    assert effective_speed(np.array([1000.0]), np.array([1000.0]), np.array([30.0]), 48.0)[0] == pytest.approx(30.0)


def test_rule_file_errors_are_located(tmp_path):
    f = tmp_path / "built_up.csv"
    f.write_text("parameter,value,unit,source\ncell_deg,0.005,deg,x\nmin_density,-1,km/km2,x\n", encoding="utf-8")
    with pytest.raises(NetworkError, match=r"built_up.csv:3: min_density: '-1' is not a positive number"):
        BuiltUpRule.from_csv(f)
    f.write_text("parameter,value,unit,source\nspeed,3,,x\n", encoding="utf-8")
    with pytest.raises(NetworkError, match=r":2: parameter: unknown 'speed'"):
        BuiltUpRule.from_csv(f)


def test_shipped_network_records_its_built_up_rule():
    roads, _ = load_syria_osm()
    info = roads.meta["built_up"]
    assert info["limit_kph"] == BuiltUpRule.from_csv().limit_kph
    assert 1000 < info["area_km2"] < 3000
    inside = roads.line_built_up_m
    assert len(inside) == roads.n_lines and (inside >= 0).all() and (inside <= roads.line_length_m + 1e-6).all()
    # Lines through towns are slower than their class: none faster than the cap inside and the table outside.
    town = (roads.line_length_m > 0) & (inside >= roads.line_length_m * (1 - 1e-9))
    assert town.sum() > 1000 and (roads.line_car_kph[town] <= 48 + 1e-6).all()


def test_overrides_set_speeds_of_the_named_road_in_the_box(tmp_path):
    f = tmp_path / "speed_overrides.csv"
    f.write_text(
        "ref,west,south,east,north,condition,car_kph,truck_kph,source,reason\n"
        "M5,36.6,34.7,36.8,34.9,,30,20,test,a slow stretch north of Homs\n",
        encoding="utf-8",
    )
    roads, _ = load_syria_osm()
    before = roads.line_car_kph.copy()
    report = apply_overrides(roads, read_overrides(f))
    changed = np.flatnonzero(before != roads.line_car_kph)
    assert report[0]["lines"] == len(changed) > 0 and report[0]["km"] > 5
    assert (roads.line_car_kph[changed] == 30).all() and (roads.line_truck_kph[changed] == 20).all()
    refs = {roads.texts[c] for c in roads.line_ref[changed]}
    assert all("M5" in r.split(";") for r in refs)


@pytest.mark.parametrize("row, message", [
    (",,,,,fair,,,s,r", r":2: ref: required"),
    ("M5,36,34,,,fair,,,s,r", r":2: west: give all four"),
    ("M5,,,,,great,,,s,r", r":2: condition: 'great' is not one of good, fair, poor"),
    ("M5,,,,,,-3,,s,r", r":2: car_kph: '-3' is not a positive speed"),
    ("M5,,,,,,,,s,r", r":2: condition: give a condition, car_kph or truck_kph"),
    ("M5,,,,,fair,,,,r", r":2: source: required"),
])
def test_override_errors_are_located(tmp_path, row, message):
    f = tmp_path / "o.csv"
    f.write_text("ref,west,south,east,north,condition,car_kph,truck_kph,source,reason\n" + row + "\n",
                 encoding="utf-8")
    with pytest.raises(NetworkError, match=message):
        read_overrides(f)
