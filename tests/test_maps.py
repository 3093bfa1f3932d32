"""Maps, charts and the report: the pictures themselves are checked, not only that files appear."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from matplotlib.image import imread

from routesim import Network
from routesim.cli.app import main
from routesim.errors import InputFileError, RoutesimError
from routesim.io.graphfiles import EDGE_STATES, edge_state_codes
from routesim.report import style
from routesim.report.maps import render_map
from routesim.report.scene import build_scene

#: The closed colour of the maps as RGB in [0, 1].
CLOSED_RGB = np.array([int(style.STATUS_COLOURS[style.CLOSED][i:i + 2], 16) for i in (1, 3, 5)]) / 255
#: Hama to Aleppo and the country on either side of the M5: a clip keeps the render under 3 s.
M5_BOX = (36.3, 35.0, 37.4, 36.3)

SKETCH_SCENARIO = """\
name: sketch-m5
description: Two weeks of 2016 on the hand-drawn network.
network: syria-sketch
period: {start: 2016-02-20, end: 2016-03-05}
demand:
  - {id: dam-alp, origin: Damascus, destination: Aleppo, trucks_per_day: 40, commodity: general, both_directions: true}
  - {id: homs-hama, origin: Homs, destination: Hama, trucks_per_day: 20, commodity: general}
simulation: {seed: 1}
"""


def sketch_run(folder: Path) -> Path:
    """A real (small) run on the hand-drawn network: two weeks of 2016 with the desert-road closures."""
    from routesim.runner.run import run_scenario
    from routesim.runner.validate import load_scenario

    path = folder / "sketch-m5.yaml"
    path.write_text(SKETCH_SCENARIO, encoding="utf-8")
    out, _ = run_scenario(load_scenario(path), out=folder / "results", progress=False)
    return out


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sketch_run(tmp_path_factory.mktemp("run"))


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """The real command line in this process (the networks stay loaded): status, stdout, stderr."""
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def _closed_near(image: np.ndarray, rows: np.ndarray, cols: np.ndarray, *, reach: int = 1) -> np.ndarray:
    """Per point, whether a pixel within ``reach`` has the closed colour (the palette PNG shifts it slightly)."""
    hit = np.zeros(len(rows), dtype=bool)
    for i, (r, c) in enumerate(zip(rows.tolist(), cols.tolist(), strict=True)):
        window = image[max(r - reach, 0):r + reach + 1, max(c - reach, 0):c + reach + 1, :3]
        hit[i] = bool((np.abs(window - CLOSED_RGB).max(axis=2) < 0.12).any())
    return hit


def test_png_shows_the_m5_closed_north_of_hama_in_2016_and_open_in_2010(osm: Network, tmp_path: Path):
    e = osm.edges
    hama, aleppo = osm.places.get("Hama"), osm.places.get("Aleppo")
    m5 = e.road_edges["M5"]
    lat = e.node_y[e.u[m5]]
    # The M5 between the two cities, their built-up ends left out.
    between = m5[(lat > hama.lat + 0.08) & (lat < aleppo.lat - 0.08)]
    pts = np.array([xy for k in between for xy in e.coords(int(k))])
    assert len(pts) > 500
    share = {}
    for day in ("2016-06-01", "2010-06-01"):
        scene = build_scene(osm, date=day, bbox=M5_BOX)
        out = render_map(scene, tmp_path / f"{day}.png", width_in=6, dpi=100)
        image = imread(out.path)
        assert image.shape[1] == out.size[0] == 600 and image.shape[0] == out.size[1]
        assert 900 < out.size[1] < 1200  # the box's aspect at 35.6° N, the title and the legend below
        rows, cols = out.pixel(pts[:, 0], pts[:, 1])
        assert ((rows >= 0) & (rows < image.shape[0]) & (cols >= 0) & (cols < image.shape[1])).all()
        share[day] = float(_closed_near(image, rows, cols).mean())
        # The legend: a framed box below the map with the closed swatch and dark text.
        left, top, right, bottom = out.legend_box
        assert 0 <= left < right <= image.shape[1] and rows.max() < top < bottom <= image.shape[0]
        legend = image[top:bottom, left:right, :3]
        assert (np.abs(legend - CLOSED_RGB).max(axis=2) < 0.12).sum() > 30
        assert (legend.max(axis=2) < 0.25).sum() > 200
        if day == "2010-06-01":
            # Nothing is closed before the war: the closed colour is nowhere but in the legend.
            outside = image[:top, :, :3]
            assert (np.abs(outside - CLOSED_RGB).max(axis=2) < 0.12).sum() == 0
    assert share["2016-06-01"] > 0.8, share
    assert share["2010-06-01"] == 0.0


def test_state_classes_of_edges_and_map_lines(net: Network):
    assert EDGE_STATES == style.STATUS_NAMES
    state = net.state(closures=["M5:Hama:Aleppo"])
    codes = edge_state_codes(state)
    closed = net.select("M5:Hama:Aleppo")
    assert closed.any() and (codes[closed] == style.CLOSED).all()
    assert (codes[~closed] == style.OPEN).all()
    # A restriction, a night closure and a closure to trucks only are told apart.
    speed = state.speed_factor.copy()
    speed[~closed] = 1.0
    k = int(np.flatnonzero(~closed)[0])
    speed[k] = 0.5
    night = np.zeros_like(state.night_closed)
    night[int(np.flatnonzero(~closed)[1])] = True
    from dataclasses import replace

    from routesim.models.vehicles import vehicle_index

    shut = state.closed.copy()
    j = int(np.flatnonzero(~closed)[2])
    shut[vehicle_index("truck"), j] = True
    varied = replace(state, speed_factor=speed, night_closed=night, closed=shut, _key=[])
    got = edge_state_codes(varied)
    assert got[k] == style.RESTRICTED and got[np.flatnonzero(night)[0]] == style.NIGHT_CLOSED
    assert got[j] == style.RESTRICTED


def test_scene_of_the_sketch_on_a_date_has_routes_places_and_control(net: Network):
    scene = build_scene(net, date="2018-07-01", routes=[("Damascus", "Aleppo")])
    counts = scene.status_counts()
    assert counts["closed"] > 0 and counts["open"] > 0
    assert "2018-07-01" in scene.title
    (route,) = scene.routes
    assert route.reachable and route.distance_km > route.baseline_km + 50  # the desert road is longer
    assert route.path and abs(route.path[0][0, 1] - 33.51) < 0.1  # starts in Damascus
    assert {"Damascus", "Aleppo", "Hama"} <= {p.name for p in scene.places}
    assert scene.controllers and (scene.controller >= 0).any()
    assert scene.attribution == ""  # a hand-drawn network carries no OSM notice
    open_scene = build_scene(net)
    assert open_scene.status_counts()["closed"] == 0 and not (open_scene.controller >= 0).any()


def test_flows_of_a_run_and_criticality_colour_the_lines(net: Network, run_dir: Path, tmp_path: Path):
    scene = build_scene(net, run=run_dir)
    assert scene.trucks.max() > 0
    segs = net.edges.segment_ids[:5]
    table = tmp_path / "crit.csv"
    table.write_text("segment,rank,extra_cost_usd\n" + "".join(f"{s},{i},{100.0 * (i + 1)}\n"
                                                               for i, s in enumerate(segs)), encoding="utf-8")
    scene = build_scene(net, criticality=table)
    assert scene.value_name == "extra_cost_usd"
    assert np.nanmax(scene.value) == 500.0 and np.isfinite(scene.value).sum() >= 5
    out = render_map(scene, tmp_path / "crit.svg")
    assert "extra_cost_usd" in out.path.read_text(encoding="utf-8")  # the colour bar's label
    with pytest.raises(InputFileError, match="did you mean: extra_cost_usd"):
        build_scene(net, criticality=table, value_column="extra_cost")
    e = net.edges
    ids = net.node_ids
    uv = tmp_path / "uv.csv"
    uv.write_text(f"u,v,value\n{ids[e.u[0]]},{ids[e.v[0]]},7\n", encoding="utf-8")
    assert np.nanmax(build_scene(net, criticality=uv).value) == 7.0
    # reopen.csv: an event's edges and a front-line edge take the money their reopening saves.
    reopen = tmp_path / "reopen.csv"
    reopen.write_text("rank,closure,kind,saved_cost_usd,trips_served\n1,m5-rastan-pocket,event,900,3\n"
                      "2,ground:0,ground,40,0\n", encoding="utf-8")
    scene = build_scene(net, criticality=reopen)
    assert scene.value_name == "saved_cost_usd"
    assert np.nanmax(scene.value) == 900.0 and np.nanmin(scene.value) == 40.0
    rastan = np.asarray(net.default_events.mask("m5-rastan-pocket"), dtype=bool)
    assert np.isfinite(scene.value).sum() == len(np.unique(net.edges.geom_line[rastan | (np.arange(net.edges.n) == 0)]))
    with pytest.raises(RoutesimError, match="west must be less than east"):
        build_scene(net, bbox=(38, 33, 36, 35))


def test_map_command_writes_svg_and_html(capsys: pytest.CaptureFixture[str], tmp_path: Path):
    svg = tmp_path / "m.svg"
    code, out, err = _cli(capsys, "map", "--network", "syria-sketch", "--date", "2018-07-01",
                          "--route", "Damascus:Aleppo", "-o", str(svg))
    assert code == 0, err
    assert "Damascus → Aleppo (truck):" in out and f"wrote {svg}" in out
    text = svg.read_text(encoding="utf-8")
    assert "Road network, 2018-07-01" in text and "Legend" in text and "Damascus → Aleppo (truck): 416 km" in text
    page = tmp_path / "m.html"
    code, _, err = _cli(capsys, "map", "--network", "syria-sketch", "--date", "2016-06-01", "-o", str(page))
    assert code == 0, err
    html = page.read_text(encoding="utf-8")
    assert "<svg" in html and "closed (event" in html and "Damascus" in html
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "") and "https://" not in html
    code, _, err = _cli(capsys, "map", "-o", str(tmp_path / "m.jpg"))
    assert code == 2 and "routesim: error:" in err and ".png" in err
    code, _, err = _cli(capsys, "map", "--network", "syria-sketch", "--route", "Damascus", "-o", str(svg))
    assert code == 2 and "ORIGIN:DESTINATION" in err


def test_html_map_labels_places_in_arabic_too(osm: Network):
    from routesim.report.html import map_html

    page = map_html(build_scene(osm, bbox=(36.0, 33.3, 36.6, 33.8), arabic=True))
    assert "Damascus" in page and "دمشق" in page and "© OpenStreetMap contributors" in page


def test_route_geojson_and_export_with_the_state_of_a_day(
    capsys: pytest.CaptureFixture[str], net: Network, tmp_path: Path
):
    code, out, err = _cli(capsys, "route", "Damascus", "Aleppo", "--network", "syria-sketch", "--date",
                          "2018-07-01", "--format", "geojson")
    assert code == 0, err
    doc = json.loads(out)
    route, base = doc["features"]
    assert route["properties"]["role"] == "route" and base["properties"]["role"] == "baseline"
    assert route["properties"]["distance_km"] > base["properties"]["distance_km"]
    lon, lat = route["geometry"]["coordinates"][0]
    assert abs(lat - 33.51) < 0.1 and abs(lon - 36.29) < 0.1
    path = tmp_path / "state.geojson"
    code, _, err = _cli(capsys, "network", "export", str(path), "--network", "syria-sketch", "--date", "2016-06-01")
    assert code == 0, err
    edges = [f["properties"] for f in json.loads(path.read_text())["features"] if f["properties"]["element"] == "edge"]
    expected = edge_state_codes(net.state_at("2016-06-01"))
    assert sum(p["state"] == "closed" for p in edges) == int((expected == style.CLOSED).sum()) > 0
    assert {p["state_date"] for p in edges} == {"2016-06-01"}


def test_timeline_plot_and_daily_chart(capsys: pytest.CaptureFixture[str], net: Network, run_dir: Path,
                                       tmp_path: Path):
    png = tmp_path / "t.png"
    code, out, err = _cli(capsys, "timeline", "Hama", "Aleppo", "--network", "syria-sketch", "--start",
                          "2011-01-01", "--end", "2021-01-01", "--plot", str(png), "--format", "csv")
    assert code == 0, err
    assert out.startswith("start,end") and f"wrote {png}" in err
    image = imread(png)
    assert image.shape[:2] == (504, 1200)
    green = np.abs(image[:, :, :3] - np.array([0x0B, 0x6E, 0x4F]) / 255).max(axis=2) < 0.1
    assert green.sum() > 500  # the hours line is drawn
    from routesim.report.charts import daily_figure, save_figure
    from routesim.report.runs import event_marks, load_run

    run = load_run(run_dir)
    marks = event_marks(net, *run.period)
    assert {m.kind for m in marks} == {"closed", "reopened"}  # the February 2016 desert-road closures
    assert run.daily is not None
    chart = save_figure(daily_figure(run.daily, title="t", marks=marks), tmp_path / "d.png")
    assert imread(chart).shape[:2] == (672, 1200)


def test_report_of_runs_is_one_self_contained_page(run_dir: Path, tmp_path: Path):
    from routesim.report.page import write_report

    out = write_report([run_dir, run_dir], tmp_path / "r.html")
    text = out.read_text(encoding="utf-8")
    assert text.count('src="data:image/png;base64,') == 2 and text.count("<svg") >= 2
    assert "<h2>Comparison</h2>" in text and "Headline figures" in text and "Damascus → Aleppo" in text
    assert "@media print" in text and "break-before:page" in text
    assert "src=\"http" not in text and "href=\"http" not in text
    with pytest.raises(RoutesimError, match="not a complete routesim result"):
        write_report([tmp_path], tmp_path / "x.html")
