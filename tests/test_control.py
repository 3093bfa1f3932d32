"""Who held the ground: front lines, crossings and sieges close roads by date, for an actor."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from routesim.control import ControlMap, read_control
from routesim.errors import InputFileError
from routesim.events.eventset import load_events

HEADERS = {
    "control.csv": "place,lat,lon,date,controller,source,note",
    "relations.csv": "a,b,date,end,relation,source,note",
    "crossings.csv": "id,name,lat,lon,date,end,sides,actors,fee_usd,delay_min,capacity_trucks_per_day,source,note",
    "sieges.csv": "id,name,lat,lon,radius_km,besieged,date,end,corridors,source,note",
}
#: Government holds the M5 towns and the desert road; the opposition holds Idlib's M5 towns from 2012.
HELD = """Damascus,,,2011-01-01,government,t,
Homs,,,2011-01-01,government,t,
Hama,,,2011-01-01,government,t,
Aleppo,,,2011-01-01,government,t,
Salamiyah,,,2011-01-01,government,t,
Ithriya,,,2011-01-01,government,t,
Khanasir,,,2011-01-01,government,t,
Morek,,,2011-01-01,government,t,
Latakia,,,2011-01-01,government,t,
Khan Shaykhun,,,2012-01-01,opposition,t,
Maarat al-Numan,,,2012-01-01,opposition,t,
Saraqib,,,2012-01-01,opposition,t,
Idlib,,,2012-01-01,opposition,t,
Khan Shaykhun,,,2019-08-23,government,t,
Maarat al-Numan,,,2020-01-28,government,t,
Saraqib,,,2020-02-27,government,t,
"""


def tables(tmp_path: Path, **rows: str) -> Path:
    folder = tmp_path / "control"
    folder.mkdir(exist_ok=True)
    for name, header in HEADERS.items():
        key = name.removesuffix(".csv")
        (folder / name).write_text(header + "\n" + rows.get(key, ""), encoding="utf-8")
    return folder


def events(net, folder: Path):
    return load_events(net, builtin=False, control=read_control([folder], builtin=False))


def test_front_line_closes_the_m5_until_the_ground_changes(net, tmp_path):
    ev = events(net, tables(tmp_path, control=HELD))
    before = net.route("Damascus", "Aleppo", date="2011-06-01", events=ev)
    war = net.route("Damascus", "Aleppo", date="2016-06-01", events=ev)
    after = net.route("Damascus", "Aleppo", date="2020-03-20", events=ev)
    assert before.roads == ("M5",) and after.roads == ("M5",)
    assert "Khanasir" in war.via and "Saraqib" not in war.via and war.distance_km > before.distance_km + 50
    # The change of hands is an epoch boundary.
    days = ev.boundaries(np.datetime64("2019-01-01").astype(object), np.datetime64("2021-01-01").astype(object))
    assert [str(d) for d in days[1:]] == ["2019-08-23", "2020-01-28", "2020-02-27"]


def test_allies_have_no_front(net, tmp_path):
    ally = "government,opposition,2015-01-01,2017-01-01,allied,t,\n"
    ev = events(net, tables(tmp_path, control=HELD, relations=ally))
    assert net.route("Damascus", "Aleppo", date="2016-06-01", events=ev).roads == ("M5",)
    assert "Khanasir" in net.route("Damascus", "Aleppo", date="2018-06-01", events=ev).via


def test_crossing_opens_the_front_to_its_actors_at_its_fee_and_delay(net, tmp_path):
    morek = net.places.get("Morek")  # the M5 front north of Hama
    crossing = f"morek,Morek,{morek.lat},{morek.lon},2013-01-01,,government|opposition,un,50,90,,t,\n"
    idlib_pocket = "Ariha,,,2012-01-01,opposition,t,\nJisr al-Shughur,,,2012-01-01,opposition,t,\n"
    ev = events(net, tables(tmp_path, control=HELD + idlib_pocket, crossings=crossing))
    shut = net.route("Hama", "Idlib", date="2016-06-01", events=ev)
    assert not shut.reachable
    state = ev.state_at(np.datetime64("2016-06-01").astype(object), actor="un")
    ground = ev.control.ground(np.datetime64("2016-06-01").astype(object), actor="un")
    assert ground.fee_usd.max() == 50 and ground.delay_s.max() == 90 * 60
    un = net.route("Hama", "Idlib", state=state, vehicle="truck")
    assert un.reachable and un.fees_usd >= 50
    with pytest.raises(ValueError, match="unknown actor 'tourist'"):
        ev.control.ground(np.datetime64("2016-06-01").astype(object), actor="tourist")


def test_crossing_capacity_queues_trucks_in_the_simulation(net, tmp_path):
    """A crossing whose daily capacity the sources give is a queue: 120 trucks a day is one lane
    clearing 5 an hour, so 40 UN trucks sent in two hours wait in line there for hours."""
    from datetime import date, timedelta

    from routesim.demand.flows import Flow, TruckClass
    from routesim.sim import SimConfig, simulate

    morek = net.places.get("Morek")
    crossing = f"morek,Morek,{morek.lat},{morek.lon},2013-01-01,,government|opposition,un,,10,120,t,\n"
    idlib_pocket = "Ariha,,,2012-01-01,opposition,t,\nJisr al-Shughur,,,2012-01-01,opposition,t,\n"
    ev = events(net, tables(tmp_path, control=HELD + idlib_pocket, crossings=crossing))
    day = date(2016, 6, 1)
    state = ev.state_at(day, actor="un")
    at = state.queue_tph > 0
    assert at.any() and np.allclose(state.queue_tph[at], 5.0) and (state.queue_lanes[at] == 1).all()
    assert (state.delay_s[at] == 600).all()  # the crossing's fixed 10 minutes as well

    class Flat:
        def diesel_syp_per_l(self, d):
            return 100.0

        def syp_per_usd(self, d):
            return 100.0

    flows = [Flow("convoy", "Hama", "Idlib", 40, TruckClass(), depart_hours=(6.0, 8.0))]
    res = simulate(net, ev, flows, SimConfig(start=day, end=day + timedelta(days=1), actor="un", drain_days=3), Flat())
    done = res.trips[res.trips["status"] == "delivered"]
    assert len(done) == 40
    assert done["queue_hours"].max() > 4.0  # the last of 40 trucks waits for ~35 before it
    # Commercial trucks may not use this crossing: none is sent.
    shut = simulate(net, ev, flows, SimConfig(start=day, end=day + timedelta(days=1)), Flat())
    assert shut.summary["trips_unserved"] == 40 and shut.summary["trips_dispatched"] == 0


def test_siege_cuts_off_the_city_except_by_its_corridor(net, tmp_path):
    deir = net.places.get("Deir ez-Zor")
    siege = f"deir,Deir ez-Zor,{deir.lat},{deir.lon},8,government,2015-01-01,2017-09-05,,t,\n"
    ev = events(net, tables(tmp_path, control=HELD, sieges=siege))
    assert not net.route("Damascus", "Deir ez-Zor", date="2016-06-01", events=ev).reachable
    assert net.route("Damascus", "Deir ez-Zor", date="2018-01-01", events=ev).reachable


def test_unknown_place_and_bad_rows_are_located(net, tmp_path):
    folder = tables(tmp_path, control="Aleppo,,,2011-01-01,government,t,\nHamaq,,,2011-01-01,government,t,\n")
    with pytest.raises(InputFileError, match=r"control.csv:3: place: unknown place 'Hamaq'; close matches: Hama"):
        ControlMap(net, read_control([folder], builtin=False))
    bad = tables(tmp_path, control="Aleppo,,,2011-13-01,government,t,\n",
                 sieges="s,S,35,38,0,x,2014-01-01,2013-01-01,nope,t,\n")
    with pytest.raises(InputFileError) as err:
        read_control([bad], builtin=False)
    text = str(err.value)
    assert "control.csv:2: date: '2011-13-01' is not a date" in text
    assert "sieges.csv:2: radius_km: 0 is outside" in text and "sieges.csv:2: end: 2013-01-01 is not after" in text


def test_cli_and_scenario_actors_are_the_engines():
    from typing import get_args

    from routesim.cli.app import Actor
    from routesim.control import ACTORS
    from routesim.models.scenario import Actor as ScenarioActor

    assert tuple(a.value for a in Actor) == ACTORS
    assert get_args(ScenarioActor) == ACTORS


def test_control_layer_polygon_overrides_the_nearest_place(net, tmp_path):
    import json

    folder = tables(tmp_path, control=HELD)
    # Opposition holds a box around Khanasir in 2016: the desert road is cut there too.
    box = [[37.2, 35.9], [37.7, 35.9], [37.7, 36.3], [37.2, 36.3], [37.2, 35.9]]
    layer = {"type": "FeatureCollection", "features": [{
        "type": "Feature", "geometry": {"type": "Polygon", "coordinates": [box]},
        "properties": {"controller": "opposition", "date": "2016-01-01", "end": "2017-01-01", "source": "t"},
    }]}
    (folder / "khanasir.geojson").write_text(json.dumps(layer), encoding="utf-8")
    ev = events(net, folder)
    cut = net.route("Damascus", "Aleppo", date="2016-06-01", events=ev)
    assert "Khanasir" not in cut.via
    assert "Khanasir" in net.route("Damascus", "Aleppo", date="2017-06-01", events=ev).via
    bad = dict(layer, features=[{"type": "Feature", "geometry": None, "properties": {"date": "2016-01-01"}}])
    (folder / "khanasir.geojson").write_text(json.dumps(bad), encoding="utf-8")
    with pytest.raises(InputFileError) as err:
        read_control([folder], builtin=False)
    assert "features[0].properties.controller: required" in str(err.value)
    assert "features[0].geometry: expected a GeoJSON Polygon" in str(err.value)
