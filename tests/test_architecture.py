"""The package's shape: layers import only downwards, no import cycles, a fast-starting CLI, a public API."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib

import grimp
import networkx as nx
import pytest

import routesim

from .conftest import ROOT

HEAVY = ("numpy", "pandas", "scipy", "networkx", "osmnx", "simpy", "pydantic", "geopandas", "pyarrow", "shapely")


def _layer_groups() -> list[list[str]]:
    """The layers of the import-linter contract, top first; a group holds independent siblings."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    layers = next(c for c in contracts if c["type"] == "layers")["layers"]
    return [[name.strip() for name in layer.split("|")] for layer in layers]


def _layers() -> list[str]:
    return [name for group in _layer_groups() for name in group]


def test_layer_contract_holds():
    exe = shutil.which("lint-imports")
    assert exe, "import-linter is part of the test extras"
    res = subprocess.run([exe], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "0 broken" in res.stdout


def test_every_subpackage_is_in_a_layer():
    # A new subpackage outside the contract would escape the layer check.
    package = ROOT / "src" / "routesim"
    found = {f"routesim.{p.name}" for p in package.iterdir() if (p / "__init__.py").is_file()}
    found |= {f"routesim.{p.stem}" for p in package.glob("*.py") if p.stem not in ("__init__", "__main__")}
    assert found == set(_layers())


def test_no_import_cycle_between_any_two_modules():
    # Counts every import statement: module level, inside functions, and under TYPE_CHECKING.
    graph = grimp.build_graph("routesim", cache_dir=None)
    g = nx.DiGraph()
    for module in graph.modules:
        for imported in graph.find_modules_directly_imported_by(module):
            # A package importing its own submodules (``__init__`` re-exports) is no cycle of concern.
            if not imported.startswith(module + "."):
                g.add_edge(module, imported)
    cycles = list(nx.simple_cycles(g, length_bound=6))
    assert not cycles, f"import cycles: {cycles[:5]}"


def test_layer_order_of_every_import():
    # The same rule as the contract, checked independently of import-linter.
    rank = {name: i for i, group in enumerate(_layer_groups()) for name in group}
    graph = grimp.build_graph("routesim", cache_dir=None)

    def layer(module: str) -> str | None:
        return next((lay for lay in rank if module == lay or module.startswith(lay + ".")), None)

    upward = []
    for module in graph.modules:
        a = layer(module)
        for imported in graph.find_modules_directly_imported_by(module):
            b = layer(imported)
            # Layers are listed top first: importing a layer listed earlier, or a sibling, goes up.
            if a is not None and b is not None and a != b and rank[b] <= rank[a]:
                upward.append(f"{module} -> {imported}")
    assert not upward, upward


def test_command_line_starts_without_the_heavy_libraries():
    code = f"import sys, routesim.cli; print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "[]"
    helped = subprocess.run([sys.executable, "-m", "routesim", "--help"], capture_output=True, text=True, timeout=60)
    assert helped.returncode == 0 and "route" in helped.stdout


@pytest.mark.parametrize("name", routesim.__all__)
def test_public_api_names_resolve(name):
    assert getattr(routesim, name) is not None
    assert name in dir(routesim)


def test_timeline_is_the_function_not_a_module():
    net = routesim.load_network()
    frame = routesim.timeline(net, "Damascus", "Aleppo", start="2016-01-01", end="2016-02-01")
    assert "Khanasir" in frame["via"].iloc[0]
    with pytest.raises(AttributeError):
        routesim.no_such_name  # noqa: B018
