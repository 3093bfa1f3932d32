"""The interactive map: one self-contained HTML file (inline SVG and a few lines of script).

Why no Leaflet, folium, pydeck or plotly: folium and pydeck load their
libraries and tiles from the web, and plotly's offline bundle is 3.5 MB of
script to draw a few hundred lines. The map needs no tiles (the roads *are* the
map), so it is written as SVG with a small inline script for panning, zooming,
layer switches and a scale bar. The file opens offline in any browser, holds
nothing fetched from anywhere, prints as vector graphics, and its lines are
simplified to the map's resolution (0.2 of a pixel of the full view), which
keeps the whole country at a few megabytes.
"""

from __future__ import annotations

import html
import math
from pathlib import Path

import numpy as np

from routesim._util.files import atomic_path
from routesim.report import style
from routesim.report.scene import MapScene

#: Width of the SVG's user space: coordinates are written with one decimal of these units.
VIEW_WIDTH = 1000.0
_ROUTE_COLOURS = (style.ROUTE_COLOUR, "#c2410c", "#0e7490", "#a21caf", "#4d7c0f")


class _Projection:
    """Plate carrée with the aspect of the map's middle latitude, in SVG units (y down)."""

    def __init__(self, scene: MapScene) -> None:
        w, s, e, n = scene.bbox
        self.west, self.north = w, n
        self.cos = math.cos(math.radians(scene.mid_lat))
        self.k = VIEW_WIDTH / ((e - w) * self.cos)
        self.height = (n - s) * self.k

    def xy(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return (np.asarray(lon) - self.west) * self.cos * self.k, (self.north - np.asarray(lat)) * self.k

    @property
    def km_per_unit(self) -> float:
        return 111.32 / self.k


def _simplified(scene: MapScene, mask: np.ndarray, proj: _Projection) -> list[str]:
    """SVG path data of the lines of ``mask``, simplified to 0.2 units, one ``M…L…`` string per line."""
    import shapely

    idx = np.flatnonzero(mask)
    if not len(idx):
        return []
    lengths = scene.offsets[idx + 1] - scene.offsets[idx]
    pos = np.repeat(scene.offsets[idx] - np.r_[0, np.cumsum(lengths)[:-1]], lengths) + np.arange(lengths.sum())
    x, y = proj.xy(scene.x[pos], scene.y[pos])
    offsets = np.r_[0, np.cumsum(lengths)]
    lines = shapely.from_ragged_array(shapely.GeometryType.LINESTRING, np.column_stack([x, y]), (offsets,))
    coords, (offs,) = shapely.to_ragged_array(shapely.simplify(lines, 0.2))[1:]
    text = np.char.add(np.char.add(np.char.mod("%.1f", coords[:, 0]), ","), np.char.mod("%.1f", coords[:, 1]))
    out = []
    for a, b in zip(offs[:-1].tolist(), offs[1:].tolist(), strict=True):
        if b - a >= 2:
            out.append("M" + text[a] + "L" + " ".join(text[a + 1:b].tolist()))
    return out


def _path(d: list[str], attrs: str, title: str = "") -> str:
    if not d:
        return ""
    tip = f"<title>{html.escape(title)}</title>" if title else ""
    return f'<path d="{"".join(d)}" {attrs}>{tip}</path>'


def _pieces(pieces: list[np.ndarray], proj: _Projection) -> str:
    out = []
    for p in pieces:
        x, y = proj.xy(p[:, 0], p[:, 1])
        pts = [f"{a:.1f},{b:.1f}" for a, b in zip(x.tolist(), y.tolist(), strict=True)]
        out.append("M" + pts[0] + "L" + " ".join(pts[1:]))
    return "".join(out)


def _layers(scene: MapScene, proj: _Projection) -> list[tuple[str, str, str, str]]:
    """``(id, legend label, legend swatch CSS, SVG content)`` of each layer, drawn in order."""
    layers: list[tuple[str, str, str, str]] = []
    esc = html.escape
    if scene.outline:
        rings = []
        for ring in scene.outline:
            x, y = proj.xy(ring[:, 0], ring[:, 1])
            rings.append("M" + " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(x.tolist(), y.tolist(), strict=True)) + "Z")
        layers.append(("outline", "country outline", f"border:1px solid {style.OUTLINE_COLOUR}",
                       f'<path d="{"".join(rings)}" fill="#fbfaf7" stroke="{style.OUTLINE_COLOUR}" class="ns" '
                       'stroke-width="1"/>'))
    held = scene.controller >= 0
    if held.any():
        groups: dict[str, list[str]] = {}
        for c in sorted(set(scene.controller[held].tolist())):
            name = scene.controllers[c]
            groups.setdefault(name, []).extend(_simplified(scene, scene.controller == c, proj))
        parts = []
        for name, d in groups.items():
            parts.append(_path(d, f'stroke="{style.controller_colour(name)}" stroke-width="7" stroke-opacity="0.22" '
                                  'class="ns" fill="none" stroke-linecap="round"', f"held by {name}"))
        names = ", ".join(n for n in groups if n not in style.NEIGHBOURS)
        layers.append(("control", f"areas of control ({names})", "background:linear-gradient(90deg,"
                       + ",".join(style.controller_colour(n) for n in groups) + ")", "".join(parts)))
    widths = np.asarray(style.CLASS_WIDTH) * 1.6
    for k, (colour, label) in enumerate(zip(style.STATUS_COLOURS, style.STATUS_LABELS, strict=True)):
        mask = scene.status == k
        if not mask.any():
            continue
        parts = []
        for rank in range(-1, len(widths) - 1):
            sub = mask & (scene.rank == rank)
            lw = widths[rank + 1] + (0 if k == style.OPEN else 1.5)
            parts.append(_path(_simplified(scene, sub, proj),
                               f'stroke="{colour}" stroke-width="{lw:.2f}" class="ns" fill="none" '
                               'stroke-linecap="round"'))
        text = label if k == style.OPEN else f"{label}: {int(mask.sum())} lines"
        layers.append((style.STATUS_NAMES[k], text, f"background:{colour}", "".join(parts)))
    if scene.front.any():
        layers.append(("front", "front line or siege ring", f"background:{style.FRONT_COLOUR}",
                       _path(_simplified(scene, scene.front, proj),
                             f'stroke="{style.FRONT_COLOUR}" stroke-width="0.8" class="ns" fill="none"')))
    if (scene.trucks > 0).any():
        top = float(scene.trucks.max())
        share = np.sqrt(scene.trucks / top)
        parts = []
        for b in range(8):
            sub = (scene.trucks > 0) & (np.minimum((share * 8).astype(int), 7) == b)
            parts.append(_path(_simplified(scene, sub, proj),
                               f'stroke="{style.FLOW_COLOUR}" stroke-width="{1 + 1.1 * (b + 1):.1f}" '
                               'stroke-opacity="0.55" class="ns" fill="none" stroke-linecap="round"'))
        layers.append(("flows", f"trucks of the run (widest {top:,.0f})", f"background:{style.FLOW_COLOUR}",
                       "".join(parts)))
    ok = ~np.isnan(scene.value)
    if ok.any():
        from matplotlib import colormaps
        from matplotlib.colors import to_hex

        lo, hi = float(scene.value[ok].min()), float(scene.value[ok].max())
        span = hi - lo if hi > lo else 1.0
        cmap = colormaps["plasma_r"]
        parts = []
        for b in range(8):
            sub = ok & (np.minimum(((np.nan_to_num(scene.value) - lo) / span * 8).astype(int), 7) == b)
            parts.append(_path(_simplified(scene, sub, proj),
                               f'stroke="{to_hex(cmap((b + 0.5) / 8))}" stroke-width="3" class="ns" fill="none" '
                               'stroke-linecap="round"'))
        stops = ",".join(to_hex(cmap(t / 4)) for t in range(5))
        layers.append(("value", f"{esc(scene.value_name)}: {lo:,.4g} … {hi:,.4g}",
                       f"background:linear-gradient(90deg,{stops})", "".join(parts)))
    marks = []
    for sg in scene.sieges:
        x, y = proj.xy(np.array([sg.lon]), np.array([sg.lat]))
        radius = sg.radius_km / proj.km_per_unit
        marks.append(f'<circle cx="{x[0]:.1f}" cy="{y[0]:.1f}" r="{radius:.2f}" fill="none" '
                     f'stroke="{style.SIEGE_COLOUR}" '
                     f'stroke-dasharray="4 3" class="ns" stroke-width="1.2"><title>siege: {esc(sg.name)} '
                     f'({esc(sg.note)})</title></circle>')
    if marks:
        layers.append(("sieges", f"sieges in force: {len(scene.sieges)}", f"border:2px dashed {style.SIEGE_COLOUR}",
                       "".join(marks)))
    for lid, label, points, colour, shape in (
        ("posts", "border posts", scene.border_posts, style.BORDER_POST_COLOUR, "tri"),
        ("crossings", "crossings open", scene.crossings, style.CROSSING_COLOUR, "dia"),
    ):
        if not points:
            continue
        out = []
        for p in points:
            x, y = proj.xy(np.array([p.lon]), np.array([p.lat]))
            note = f" ({esc(p.note)})" if p.note else ""
            out.append(f'<g class="mk {shape}" transform="translate({x[0]:.1f},{y[0]:.1f})"><path fill="{colour}" '
                       f'stroke="white"/><title>{esc(p.name)}{note}</title></g>')
        layers.append((lid, f"{label}: {len(points)}", f"background:{colour}", "".join(out)))
    for i, route in enumerate(scene.routes):
        colour = _ROUTE_COLOURS[i % len(_ROUTE_COLOURS)]
        body = ""
        if route.baseline:
            body += (f'<path d="{_pieces(route.baseline, proj)}" stroke="{style.BASELINE_COLOUR}" stroke-width="1.5" '
                     'stroke-dasharray="5 4" class="ns" fill="none"><title>baseline (open network)</title></path>')
        if route.path:
            body += (f'<path d="{_pieces(route.path, proj)}" stroke="{colour}" stroke-width="4" stroke-opacity="0.9" '
                     f'class="ns" fill="none" stroke-linecap="round"><title>{esc(route.caption)}</title></path>')
        layers.append((f"route{i}", esc(route.caption) + " — dashed: baseline", f"background:{colour}", body))
    labels = []
    for p in scene.places:
        x, y = proj.xy(np.array([p.lon]), np.array([p.lat]))
        big = " city" if p.kind == "city" else ""
        ar = f'<tspan class="ar" dx="4">{esc(p.arabic)}</tspan>' if p.arabic else ""
        title = f"{esc(p.name)} {esc(p.arabic)}".strip()
        labels.append(f'<g class="pl{big}" transform="translate({x[0]:.1f},{y[0]:.1f})"><circle/>'
                      f'<text x="4" y="-4">{esc(p.name)}{ar}</text><title>{title}</title></g>')
    if labels:
        layers.append(("places", "place labels", "background:#111827", "".join(labels)))
    return layers


_CSS = """
*{box-sizing:border-box}body{margin:0;font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#111827}
header{padding:10px 16px 4px}h1{font-size:20px;margin:0}header p{margin:2px 0;color:#374151;font-size:13px}
#wrap{position:relative;margin:0 16px;border:1px solid #9ca3af;background:#eef3f7;height:calc(100vh - 120px);
min-height:420px;overflow:hidden}
#map{width:100%;height:100%;display:block;cursor:grab;touch-action:none}#map.drag{cursor:grabbing}
.ns{vector-effect:non-scaling-stroke}
.pl circle{fill:#111827}.pl text{font-size:calc(var(--k,1)*11px);paint-order:stroke;stroke:#fff;
stroke-width:calc(var(--k,1)*3px);fill:#111827}.pl.city text{font-weight:700;font-size:calc(var(--k,1)*13px)}
.ar{font-weight:400}
#legend{position:absolute;right:8px;top:8px;background:rgba(255,255,255,.94);border:1px solid #d1d5db;padding:6px 10px;
max-width:330px;font-size:12px;max-height:calc(100% - 16px);overflow:auto}
#legend summary{font-weight:700;cursor:pointer;margin-bottom:2px}
#legend label{display:flex;gap:6px;align-items:center;margin:2px 0}
.sw{display:inline-block;width:22px;height:8px;flex:none;border-radius:2px}
#tools{position:absolute;left:8px;top:8px;display:flex;flex-direction:column;gap:4px}
#tools button{width:30px;height:30px;font-size:16px;border:1px solid #9ca3af;background:#fff;border-radius:3px;
cursor:pointer}
#scale{position:absolute;left:8px;bottom:8px;background:rgba(255,255,255,.85);padding:2px 6px;font-size:12px}
#scale div{height:6px;border:2px solid #111;border-top:none}
#attr{position:absolute;right:8px;bottom:6px;background:rgba(255,255,255,.85);padding:1px 6px;font-size:11px}
@media print{#tools{display:none}#wrap{height:auto;aspect-ratio:var(--ar);border:none}body{margin:0}}
"""

_JS = """
(function(){
const svg=document.getElementById('map'),vb0=svg.viewBox.baseVal,full=[vb0.x,vb0.y,vb0.width,vb0.height];
let v=full.slice();const kmu=KMU;
function fit(){const r=svg.getBoundingClientRect();if(!r.width)return 1;
 return Math.max(v[2]/r.width,v[3]/r.height);}
function apply(){svg.setAttribute('viewBox',v.join(' '));const k=fit();svg.style.setProperty('--k',k);
 svg.querySelectorAll('.pl circle').forEach(c=>c.setAttribute('r',(c.parentNode.classList.contains('city')?3.2:2.4)*k));
 svg.querySelectorAll('.mk.tri path').forEach(p=>p.setAttribute('d',`M0,${-6*k}L${5.2*k},${3*k}L${-5.2*k},${3*k}Z`));
 svg.querySelectorAll('.mk.dia path').forEach(p=>p.setAttribute('d',`M0,${-5*k}L${5*k},0L0,${5*k}L${-5*k},0Z`));
 svg.querySelectorAll('.mk path').forEach(p=>p.setAttribute('stroke-width',k));
 const target=120*k*kmu,p=Math.pow(10,Math.floor(Math.log10(target)));
 const km=[5,2,1].map(m=>m*p).find(x=>x<=target)||p;
 const bar=document.querySelector('#scale div');bar.style.width=(km/kmu/k)+'px';
 document.querySelector('#scale span').textContent=km+' km';}
function zoom(f,cx,cy){const r=svg.getBoundingClientRect(),k=fit();
 const ox=(r.width*k-v[2])/2,oy=(r.height*k-v[3])/2;
 const px=v[0]-ox+(cx-r.left)*k,py=v[1]-oy+(cy-r.top)*k;
 const w=Math.min(full[2]*1.5,Math.max(full[2]/200,v[2]*f)),h=v[3]*w/v[2];
 v=[px-(px-v[0])*w/v[2],py-(py-v[1])*h/v[3],w,h];apply();}
svg.addEventListener('wheel',e=>{e.preventDefault();zoom(e.deltaY>0?1.25:0.8,e.clientX,e.clientY);},{passive:false});
let drag=null;
svg.addEventListener('pointerdown',e=>{drag=[e.clientX,e.clientY];svg.setPointerCapture(e.pointerId);
 svg.classList.add('drag');});
svg.addEventListener('pointermove',e=>{if(!drag)return;const k=fit();v[0]-=(e.clientX-drag[0])*k;
 v[1]-=(e.clientY-drag[1])*k;drag=[e.clientX,e.clientY];apply();});
svg.addEventListener('pointerup',()=>{drag=null;svg.classList.remove('drag');});
const r0=()=>svg.getBoundingClientRect();
document.getElementById('zin').onclick=()=>{const r=r0();zoom(0.67,r.left+r.width/2,r.top+r.height/2);};
document.getElementById('zout').onclick=()=>{const r=r0();zoom(1.5,r.left+r.width/2,r.top+r.height/2);};
document.getElementById('zreset').onclick=()=>{v=full.slice();apply();};
document.querySelectorAll('#legend input').forEach(i=>i.addEventListener('change',()=>{
 document.getElementById('L-'+i.value).style.display=i.checked?'':'none';}));
window.addEventListener('resize',apply);apply();
})();
"""


def map_html(scene: MapScene) -> str:
    """The interactive map of ``scene`` as one HTML page (styles and script inline)."""
    proj = _Projection(scene)
    layers = _layers(scene, proj)
    esc = html.escape
    groups = "".join(f'<g id="L-{lid}">{body}</g>' for lid, _, _, body in layers)
    legend = "".join(
        f'<label><input type="checkbox" value="{lid}" checked><span class="sw" style="{swatch}"></span>{label}</label>'
        for lid, label, swatch, _ in layers if lid != "outline")
    attribution = f'<div id="attr">{esc(scene.attribution)}</div>' if scene.attribution else ""
    body = (
        f'<div id="wrap" style="--ar:{VIEW_WIDTH:.0f}/{proj.height:.0f}">'
        f'<svg id="map" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {VIEW_WIDTH:.0f} {proj.height:.1f}" '
        f'preserveAspectRatio="xMidYMid meet" role="img" aria-label="{esc(scene.title)}">{groups}</svg>'
        '<div id="tools"><button id="zin" title="zoom in">+</button><button id="zout" title="zoom out">−</button>'
        '<button id="zreset" title="whole map">⟲</button></div>'
        f'<details id="legend" open><summary>Legend</summary>{legend}</details>'
        f'<div id="scale"><span></span><div></div></div>{attribution}</div>'
        f"<script>{_JS.replace('KMU', repr(proj.km_per_unit))}</script>"
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{esc(scene.title)}</title><style>{_CSS}</style></head><body>"
        f"<header><h1>{esc(scene.title)}</h1><p>{esc(scene.subtitle)}</p>"
        "<p>Drag to pan, scroll or +/− to zoom; hover a line or point for its name; untick a layer to hide it "
        "(click Legend to fold it).</p>"
        f"</header>{body}</body></html>"
    )


def write_html_map(scene: MapScene, path: str | Path) -> Path:
    """Write the interactive map of ``scene`` to ``path`` (atomically); returns the path."""
    target = Path(path)
    with atomic_path(target) as tmp:
        tmp.write_text(map_html(scene), encoding="utf-8")
    return target

