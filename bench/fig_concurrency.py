"""Figure 4: 1,000 tasks in flight on one ``AsyncSeedream`` against the time-scaled simulator.

The simulator runs in a child process (``run_simulator``, ``time_scale``
0.05); the client in another (so its peak RSS is its own). Each task's
duration is set with the simulator's ``[sim:duration=S]`` prompt marker,
uniform in [40, 80] simulated seconds (2–4 s real), so the longest task is
known. All tasks are submitted at once (``asyncio.gather``) and waited for
with the default poll schedule scaled to the simulator's time. The figure
is the wall time for all of them against the longest single task: 1.00×
would be perfect overlap. The same tasks on a bare ``httpx.AsyncClient``
(POST, then GET every 3 simulated seconds) show what httpx and the
simulator cost by themselves; each run gets a fresh simulator.
"""

from __future__ import annotations

import random
import subprocess
from typing import Any

from ._child import run_child
from ._context import Context
from ._results import Row, Spread, not_measured
from ._server import serve

__all__ = ["figure_4"]

TIME_SCALE = 0.05
LOW, HIGH = 40.0, 80.0


def figure_4(ctx: Context) -> list[Row]:
    try:
        from seedream._async._workflow import AsyncSeedream  # noqa: F401
        from seedream.simulator import SimulatorConfig, run_simulator  # noqa: F401
    except ImportError as exc:
        return [not_measured("4", "1,000 tasks in flight", f"{exc.name or exc} not available yet (issues 4, 6)")]
    tasks = ctx.pick(1000, 50)
    rng = random.Random(4)
    durations = [round(rng.uniform(LOW, HIGH), 1) for _ in range(tasks)]
    out: dict[str, dict[str, Any]] = {}
    missing: dict[str, str] = {}
    # The bare baseline gets a deadline so that the whole bench stays near its 10-minute budget.
    for impl, deadline in (("bare", 200.0), ("ours", 400.0)):
        with serve("simulator", {"time_scale": TIME_SCALE}) as url:  # fresh each: no inherited tasks
            args = {"impl": impl, "base_url": url, "durations": durations, "time_scale": TIME_SCALE}
            args["ledger"] = str(ctx.workdir / f"ledger-c-{impl}.sqlite3")
            try:
                out[impl] = run_child("concurrency", args, timeout=deadline)
            except subprocess.TimeoutExpired:
                missing[impl] = f"took longer than {deadline:.0f} s"
    longest = max(durations) * TIME_SCALE
    bare_name = f"bare httpx.AsyncClient, {tasks:,} tasks: wall time"
    ours_name = f"ours (AsyncSeedream submit + wait), {tasks:,} tasks: wall time"
    rows = [
        Row(
            "4",
            "longest single task",
            Spread.of([longest]),
            "s",
            note=f"baseline; time_scale {TIME_SCALE}, durations {LOW:.0f}–{HIGH:.0f} simulated s, one round",
        )
    ]
    for impl, name in (("bare", bare_name), ("ours", ours_name)):
        if impl in missing:
            rows.append(not_measured("4", name, missing[impl]))
            continue
        o = out[impl]
        note = f"{o['polls'] / tasks:.1f} polls per task"
        if impl == "bare":
            note = f"POST, then GET every 3 simulated s; {note}"
        else:
            note = (
                (f"{o['wall'] / out['bare']['wall']:.2f}× bare; " if "bare" in out else "") + note + "; ledger on disk"
            )
        rows.append(
            Row(
                "4",
                name,
                Spread.of([o["wall"]]),
                "s",
                baseline="longest task",
                ratio=Spread.of([o["wall"] / longest]),
                note=note,
                extra={"timeline": o.get("timeline", [])},
            )
        )
    growth = {k: (v["rss_after"] - v["rss_before"]) / 2**20 for k, v in out.items()}
    if "bare" in growth:
        rows.append(
            Row(
                "4",
                "bare httpx.AsyncClient: peak RSS growth",
                Spread.of([growth["bare"]]),
                "MiB",
                note=f"baseline; {out['bare']['rss_how']}",
            )
        )
    if "ours" in growth:
        base = growth.get("bare", 0.0)
        rows.append(
            Row(
                "4",
                "ours: peak RSS growth",
                Spread.of([growth["ours"]]),
                "MiB",
                baseline="bare httpx" if base > 0 else None,
                ratio=Spread.of([growth["ours"] / base]) if base > 0 else None,
                note=f"{growth['ours'] * 1024 / tasks:.0f} KiB per task;"
                f" peak {out['ours']['rss_after'] / 2**20:.0f} MiB; {out['ours']['rss_how']}",
            )
        )
    return rows
