from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from routesim import Network, load_network

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def net() -> Network:
    return load_network()


def run_cli(*args: str, cwd: Path | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run the real console entry point in a subprocess."""
    return subprocess.run(
        [sys.executable, "-m", "routesim", *args],
        capture_output=True, text=True, cwd=cwd or ROOT, timeout=timeout,
    )
