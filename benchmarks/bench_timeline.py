"""Daily Damascus-Aleppo series 2011-2026: epochs vs a naive day-by-day loop.

Baseline: one route computation per day (state folded and routed each day).
routesim.timeline: one computation per distinct epoch state (+1 for the baseline).

    python benchmarks/bench_timeline.py
"""

from __future__ import annotations

import time
from datetime import date, timedelta

from routesim import load_network, timeline
from routesim.events import as_event_set


def main() -> None:
    net = load_network()
    lib = as_event_set(net, None)
    start, end = date(2011, 1, 1), date(2026, 1, 1)
    calls = 0
    original = type(net).route

    def counting(self, *a, **kw):
        nonlocal calls
        calls += 1
        return original(self, *a, **kw)

    type(net).route = counting  # type: ignore[method-assign]
    try:
        t0 = time.perf_counter()
        rows = timeline(net, "Damascus", "Aleppo", start=start, end=end, as_frame=False)
        t_epochs = time.perf_counter() - t0
        epoch_calls = calls
        calls = 0
        t0 = time.perf_counter()
        day = start
        while day < end:
            net.route("Damascus", "Aleppo", state=lib.state_at(day))
            day += timedelta(days=1)
        t_daily = time.perf_counter() - t0
        daily_calls = calls
    finally:
        type(net).route = original  # type: ignore[method-assign]
    print(f"days: {(end - start).days:,}; epochs: {len(rows)}")
    print(f"route computations: timeline {epoch_calls} (bound: epochs + 1 = {len(rows) + 1}); "
          f"daily loop {daily_calls:,}")
    print(f"time: timeline {t_epochs * 1000:.1f} ms; daily loop (baseline) {t_daily * 1000:.1f} ms; "
          f"ratio {t_daily / t_epochs:.1f}x")


if __name__ == "__main__":
    main()
