from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from routesim import Network, load_network

ROOT = Path(__file__).resolve().parents[1]

# Networks built from raw files during the tests are cached here, not in the user's cache.
os.environ.setdefault("ROUTESIM_CACHE", tempfile.mkdtemp(prefix="routesim-test-cache-"))


@pytest.fixture(scope="session")
def net() -> Network:
    """The hand-drawn network: small and fast, for the mechanisms (selectors, events, engines)."""
    return load_network("syria-sketch")


@pytest.fixture(scope="session")
def osm() -> Network:
    """The default network: OpenStreetMap major roads of Syria and its neighbours."""
    return load_network()


def run_cli(*args: str, cwd: Path | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run the real console entry point in a subprocess."""
    return subprocess.run(
        [sys.executable, "-m", "routesim", *args],
        capture_output=True, text=True, cwd=cwd or ROOT, timeout=timeout,
    )
