"""Static maps of a :class:`~routesim.report.scene.MapScene` with matplotlib (PNG, SVG, PDF).

The figure is built on matplotlib's object API (no pyplot, no global state),
so maps render the same from a command, a test or a notebook. The projection
is plate carrée with the aspect of the map's middle latitude: at Syria's
latitudes a degree east is 0.82 of a degree north, and a scale bar is true to
about 1 % across the country.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from routesim._util.files import atomic_path
from routesim.errors import RoutesimError
from routesim.report import style
from routesim.report.scene import MapScene

#: Output formats matplotlib writes for a map.
STATIC_SUFFIXES = (".png", ".svg", ".pdf")
#: Inches above the map for the title and subtitle.
_HEAD_IN = 0.75
_ROUTE_COLOURS = (style.ROUTE_COLOUR, "#c2410c", "#0e7490", "#a21caf", "#4d7c0f")


@dataclass
class RenderedMap:
    """A map written to ``path``, with what is needed to find things in the picture.

    Attributes
    ----------
    path
        The file written.
    size
        ``(width, height)`` of a raster output in pixels.
    legend_box
        ``(left, top, right, bottom)`` of the legend in pixels from the top-left corner.
    """

    path: Path
    size: tuple[int, int]
    legend_box: tuple[int, int, int, int]
    _transform: Any
    _height: int

    def pixel(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Row and column in the picture of points given in degrees."""
        xy = self._transform.transform(np.column_stack([np.asarray(lon, float), np.asarray(lat, float)]))
        return np.round(self._height - xy[:, 1]).astype(int), np.round(xy[:, 0]).astype(int)


def _palette(path: Path) -> None:
    """Rewrite a PNG with a 256-colour palette: a map has few colours, and the file shrinks to about a third.

    The palette holds every colour of :mod:`routesim.report.style` exactly, so a
    colour drawn on a few pixels only (one closed road, a legend swatch) is never
    merged into a neighbour; the rest (anti-aliased edges, blends) is the image's own octree.
    """
    from matplotlib.colors import to_rgb
    from PIL import Image

    fixed = [*style.STATUS_COLOURS, style.FRONT_COLOUR, style.ROUTE_COLOUR, style.BASELINE_COLOUR, style.FLOW_COLOUR,
             style.OUTLINE_COLOUR, style.CROSSING_COLOUR, style.BORDER_POST_COLOUR, style.SIEGE_COLOUR,
             *style.CONTROLLER_COLOURS.values(), "#ffffff", "#000000"]
    exact = np.array(sorted({tuple(round(255 * c) for c in to_rgb(f)) for f in fixed}), dtype=np.int64)
    with Image.open(path) as im:
        rgb = im.convert("RGB")
    n_own = 256 - len(exact)
    cut = rgb.quantize(colors=n_own, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
    index = np.asarray(cut, dtype=np.int64) + len(exact)
    # Pixels of exactly a legend colour take that colour's own entry; the rest keep the octree's.
    pixels = np.asarray(rgb, dtype=np.int64)
    packed = (pixels[..., 0] << 16) | (pixels[..., 1] << 8) | pixels[..., 2]
    keys = (exact[:, 0] << 16) | (exact[:, 1] << 8) | exact[:, 2]
    at = np.clip(np.searchsorted(keys, packed), 0, len(keys) - 1)
    hit = keys[at] == packed
    index[hit] = at[hit]
    own = (cut.getpalette() or [])[: 3 * n_own]
    out = Image.fromarray(index.astype(np.uint8), mode="P")
    out.putpalette([*exact.ravel().tolist(), *own] + [0] * (768 - 3 * len(exact) - len(own)))
    out.save(path, format="PNG")


def _segments(scene: MapScene, mask: np.ndarray) -> list[np.ndarray]:
    """The lines of ``mask`` as ``(n, 2)`` vertex arrays, for a LineCollection."""
    idx = np.flatnonzero(mask)
    if not len(idx):
        return []
    xy = np.column_stack([scene.x, scene.y])
    return [xy[scene.offsets[i]:scene.offsets[i + 1]] for i in idx.tolist()]


def _nice_km(target: float) -> float:
    """The round length (1, 2 or 5 times a power of ten) at or below ``target`` km."""
    if target <= 0:
        return 1.0
    p = 10 ** math.floor(math.log10(target))
    return max(m * p for m in (1, 2, 5) if m * p <= target)


def render_map(scene: MapScene, path: str | Path, *, width_in: float = 10.0, dpi: int = 150) -> RenderedMap:
    """Draw ``scene`` to ``path`` (.png, .svg or .pdf by extension).

    Parameters
    ----------
    scene
        From :func:`routesim.report.scene.build_scene`.
    path
        Output file; its folder must exist.
    width_in
        Figure width in inches (default 10: a page's width); the height follows the map's extent.
    dpi
        Resolution of a PNG (default 150: 1,500 pixels wide).

    Returns
    -------
    RenderedMap
        The file, its pixel size and where the legend and any point are in the picture.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    target = Path(path)
    if target.suffix.lower() not in STATIC_SUFFIXES:
        raise RoutesimError(f"{target}: a static map is .png, .svg or .pdf")
    fig, ax, legend = draw_map(scene, width_in=width_in)
    from matplotlib import rc_context

    canvas = FigureCanvasAgg(fig)
    # Title, legend and scale stay text in SVG and PDF (searchable, editable); haloed labels become paths.
    with atomic_path(target) as tmp, rc_context({"svg.fonttype": "none", "pdf.fonttype": 42}):
        fig.savefig(tmp, format=target.suffix.lower()[1:], dpi=dpi, facecolor="white")
        if target.suffix.lower() == ".png":
            _palette(tmp)
    # The transform is read after saving: only the draw gives the axes its final, aspect-kept box.
    w, h = (round(v * dpi / fig.dpi) for v in canvas.get_width_height())
    scale = dpi / fig.dpi
    box = legend.get_window_extent()
    legend_box = (int(box.x0 * scale), int(h - box.y1 * scale), int(box.x1 * scale), int(h - box.y0 * scale))
    from matplotlib.transforms import Affine2D

    transform = ax.transData + Affine2D().scale(scale)
    return RenderedMap(target, (w, h), legend_box, transform, h)


def draw_map(scene: MapScene, *, width_in: float = 10.0) -> tuple[Any, Any, Any]:
    """The matplotlib ``Figure``, its map ``Axes`` and legend for ``scene`` (nothing written)."""
    from matplotlib.collections import LineCollection
    from matplotlib.figure import Figure

    w, s, e, n = scene.bbox
    aspect = 1 / math.cos(math.radians(scene.mid_lat))
    map_in = min(max(0.98 * width_in * (n - s) * aspect / (e - w), 3.0), 2.0 * width_in)
    fig = Figure(figsize=(width_in, map_in + _HEAD_IN), dpi=100)
    ax = fig.add_axes((0.01, 0.03, 0.98, 0.89))
    ax.set_xlim(w, e)
    ax.set_ylim(s, n)
    ax.set_aspect(aspect, adjustable="box")
    ax.set_facecolor("#eef3f7")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_color("#9ca3af")
    title = fig.suptitle(scene.title, x=0.01, y=0.985, ha="left", va="top", fontsize=15, fontweight="bold")
    subtitle = fig.text(0.01, 0.935, scene.subtitle, ha="left", va="bottom", fontsize=9, color="#374151")
    handles: list[Any] = []
    zoom = min(3.0, max(1.0, 7.0 / max(e - w, 1e-6)))
    _outline(ax, scene)
    _control(ax, scene, handles, zoom)
    widths = np.asarray(style.CLASS_WIDTH)[np.clip(scene.rank + 1, 0, len(style.CLASS_WIDTH) - 1)] * zoom
    from matplotlib.lines import Line2D

    for k, (colour, label) in enumerate(zip(style.STATUS_COLOURS, style.STATUS_LABELS, strict=True)):
        mask = scene.status == k
        if not mask.any() and k != style.CLOSED:
            continue
        extra = 0.0 if k == style.OPEN else 1.2 * zoom
        lw = widths[mask] + extra
        ax.add_collection(LineCollection(_segments(scene, mask), colors=colour, linewidths=lw,
                                         capstyle="round", zorder=2 + k))
        count = int(mask.sum())
        handles.append(Line2D([], [], color=colour, lw=2.5, label=label if k == style.OPEN else f"{label}: {count}"))
    if scene.front.any():
        ax.add_collection(LineCollection(_segments(scene, scene.front), colors=style.FRONT_COLOUR,
                                         linewidths=0.6 * zoom, zorder=7))
        handles.append(Line2D([], [], color=style.FRONT_COLOUR, lw=1, label="front line or siege ring"))
    _flows(ax, scene, handles)
    _values(fig, ax, scene)
    _points(ax, scene, handles)
    _routes(ax, scene, handles)
    _places(ax, scene)
    _scale_bar(ax, scene)
    # The legend goes under the map, not on it: the figure grows by the legend's rows.
    ncols = 3 if width_in >= 9 else 2 if width_in >= 5.5 else 1
    rows = math.ceil(len(handles) / ncols)
    map_h = fig.get_figheight() - _HEAD_IN
    legend_h = 0.42 + 0.17 * rows
    total = map_h + _HEAD_IN + legend_h
    fig.set_size_inches(width_in, total)
    ax.set_position((0.01, legend_h / total, 0.98, map_h / total))
    subtitle.set_y(1 - 0.62 / total)
    title.set_y(1 - 0.12 / total)
    legend = fig.legend(handles=handles, loc="lower left", bbox_to_anchor=(0.01, 0.02 / total), ncols=ncols,
                        fontsize=7.5, frameon=True, framealpha=1.0, edgecolor="#d1d5db", title="Legend",
                        title_fontsize=8.5, alignment="left", borderaxespad=0.2)
    if scene.attribution:
        ax.text(0.997, 0.004, scene.attribution, transform=ax.transAxes, ha="right", va="bottom", fontsize=7,
                color="#374151", zorder=21, bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "none", "pad": 1.5})
    return fig, ax, legend


def _outline(ax: Any, scene: MapScene) -> None:
    from matplotlib.patches import Polygon

    for ring in scene.outline:
        ax.add_patch(Polygon(ring, closed=True, facecolor="#fbfaf7", edgecolor=style.OUTLINE_COLOUR,
                             linewidth=1.0, zorder=0))


def _control(ax: Any, scene: MapScene, handles: list[Any], zoom: float) -> None:
    """Areas of control: a wide pale band in the controller's colour under each road it held."""
    from matplotlib.collections import LineCollection
    from matplotlib.patches import Patch

    held = scene.controller >= 0
    if not held.any():
        return
    colours = [style.controller_colour(c) for c in scene.controllers]
    idx = np.flatnonzero(held)
    ax.add_collection(LineCollection(_segments(scene, held), colors=[colours[int(scene.controller[i])] for i in idx],
                                     linewidths=4 * zoom, alpha=0.2, capstyle="round", zorder=1))
    labels: dict[str, str] = {}
    for c in sorted(set(scene.controller[held].tolist())):
        name = scene.controllers[c]
        label = f"held by {name}" if name in style.CONTROLLER_COLOURS and name not in style.NEIGHBOURS else (
            "neighbouring state")
        labels.setdefault(label, colours[c])
    for label, colour in labels.items():
        handles.append(Patch(facecolor=colour, alpha=0.45, label=label))


def _flows(ax: Any, scene: MapScene, handles: list[Any]) -> None:
    from matplotlib.collections import LineCollection
    from matplotlib.lines import Line2D

    mask = scene.trucks > 0
    if not mask.any():
        return
    top = float(scene.trucks.max())
    lw = 0.8 + 7.0 * np.sqrt(scene.trucks[mask] / top)
    ax.add_collection(LineCollection(_segments(scene, mask), colors=style.FLOW_COLOUR, linewidths=lw, alpha=0.55,
                                     capstyle="round", zorder=8))
    for share in (1.0, 0.25):
        handles.append(Line2D([], [], color=style.FLOW_COLOUR, alpha=0.55, lw=0.8 + 7.0 * math.sqrt(share),
                              label=f"{top * share:,.0f} trucks (run)"))


def _values(fig: Any, ax: Any, scene: MapScene) -> None:
    from matplotlib import colormaps
    from matplotlib.cm import ScalarMappable
    from matplotlib.collections import LineCollection
    from matplotlib.colors import Normalize

    mask = ~np.isnan(scene.value)
    if not mask.any():
        return
    vals = scene.value[mask]
    lo, hi = float(vals.min()), float(vals.max())
    norm = Normalize(vmin=lo, vmax=hi if hi > lo else lo + 1)
    cmap = colormaps["plasma_r"]
    ax.add_collection(LineCollection(_segments(scene, mask), colors=cmap(norm(vals)), linewidths=2.4,
                                     capstyle="round", zorder=9))
    # Inside the map, above the scale bar: an inset moves with the map when the legend reflows the figure.
    cax = ax.inset_axes((0.6, 0.14, 0.36, 0.022))
    bar = fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), cax=cax, orientation="horizontal")
    bar.ax.tick_params(labelsize=7)
    bar.ax.set_title(scene.value_name, fontsize=8)


def _points(ax: Any, scene: MapScene, handles: list[Any]) -> None:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Ellipse

    cos = math.cos(math.radians(scene.mid_lat))
    for sg in scene.sieges:
        r = sg.radius_km / 111.32
        ax.add_patch(Ellipse((sg.lon, sg.lat), 2 * r / cos, 2 * r, fill=False, edgecolor=style.SIEGE_COLOUR,
                             linestyle="--", linewidth=1.2, zorder=10))
    if scene.sieges:
        handles.append(Line2D([], [], color=style.SIEGE_COLOUR, ls="--", lw=1.2, label=f"siege: {len(scene.sieges)}"))
    if scene.border_posts:
        ax.scatter([p.lon for p in scene.border_posts], [p.lat for p in scene.border_posts], marker="^", s=28,
                   color=style.BORDER_POST_COLOUR, edgecolor="white", linewidth=0.6, zorder=12)
        handles.append(Line2D([], [], marker="^", ls="", color=style.BORDER_POST_COLOUR, label="border post"))
    if scene.crossings:
        ax.scatter([p.lon for p in scene.crossings], [p.lat for p in scene.crossings], marker="D", s=22,
                   color=style.CROSSING_COLOUR, edgecolor="white", linewidth=0.6, zorder=12)
        handles.append(Line2D([], [], marker="D", ls="", color=style.CROSSING_COLOUR,
                              label=f"crossing open: {len(scene.crossings)}"))


def _routes(ax: Any, scene: MapScene, handles: list[Any]) -> None:
    from matplotlib.lines import Line2D

    for i, r in enumerate(scene.routes):
        colour = _ROUTE_COLOURS[i % len(_ROUTE_COLOURS)]
        for piece in r.baseline:
            # A white casing tells the dashed baseline from the black centre line of a front line.
            ax.plot(piece[:, 0], piece[:, 1], color="white", lw=3.4, alpha=0.9, zorder=13)
            ax.plot(piece[:, 0], piece[:, 1], color=style.BASELINE_COLOUR, lw=1.6, ls=(0, (4, 2.5)), zorder=13)
        for piece in r.path:
            ax.plot(piece[:, 0], piece[:, 1], color=colour, lw=3.2, alpha=0.9, solid_capstyle="round", zorder=14)
        handles.append(Line2D([], [], color=colour, lw=3.2, label=r.caption))
    if scene.routes:
        handles.append(Line2D([], [], color=style.BASELINE_COLOUR, lw=1.6, ls=(0, (4, 2.5)),
                              label="baseline (open network)"))


def _places(ax: Any, scene: MapScene) -> None:
    from matplotlib import patheffects

    halo = [patheffects.withStroke(linewidth=2.5, foreground="white")]
    for p in scene.places:
        big = p.kind == "city"
        ax.plot(p.lon, p.lat, "o", ms=3.5 if big else 2.5, color="#111827", zorder=15)
        ax.annotate(p.name, (p.lon, p.lat), xytext=(3, 3), textcoords="offset points", fontsize=8 if big else 6.5,
                    fontweight="bold" if big else "normal", color="#111827", path_effects=halo, zorder=16)
    for p in scene.border_posts:
        ax.annotate(p.name, (p.lon, p.lat), xytext=(3, -8), textcoords="offset points", fontsize=6,
                    color=style.BORDER_POST_COLOUR, path_effects=halo, zorder=16)


def _scale_bar(ax: Any, scene: MapScene) -> None:
    from matplotlib import patheffects

    w, s, e, n = scene.bbox
    km_per_deg = 111.32 * math.cos(math.radians(scene.mid_lat))
    km = _nice_km(0.2 * (e - w) * km_per_deg)
    x1, y0 = e - 0.04 * (e - w), s + 0.06 * (n - s)
    x0 = x1 - km / km_per_deg
    ax.plot([x0, x1], [y0, y0], color="black", lw=3, solid_capstyle="butt", zorder=17)
    ax.plot([x0, (x0 + x1) / 2], [y0, y0], color="white", lw=1.4, solid_capstyle="butt", zorder=18)
    ax.text((x0 + x1) / 2, y0 + 0.012 * (n - s), f"{km:g} km", ha="center", va="bottom", fontsize=8, zorder=18,
            path_effects=[patheffects.withStroke(linewidth=2.5, foreground="white")])
