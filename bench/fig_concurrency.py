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

What polling costs the API is counted by the simulator itself (task queries,
single and batch, per task): the client asks about up to 50 tasks in one
``POST /v1/tasks/batch`` (target: at most 0.2 requests per task). A second run
of 10,000 tasks (ours only) holds the wall time to the time it took to submit
them plus the longest task (target 1.3×) and the peak RSS growth to 100 MiB.
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
#: Targets of issue 13: polling requests per task, wall time against submission + longest task, RSS growth.
POLL_TARGET, WALL_TARGET, RSS_BUDGET_MIB = 0.2, 1.3, 100.0


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
            except RuntimeError as exc:  # one run failing (a dropped connection) must not hide the other
                missing[impl] = str(exc)[-200:]
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
    for impl, label in (("bare", "bare httpx.AsyncClient"), ("ours", "ours")):
        if impl in out:
            rows.append(_poll_row(f"{label}: polling requests per task", out[impl], tasks, impl == "ours"))
    rows += _many(ctx)
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


def _poll_row(name: str, o: dict[str, Any], tasks: int, held: bool) -> Row:
    per_task = o["poll_requests"] / tasks
    note = f"{o['poll_requests']:,} task queries for {tasks:,} tasks ({o['batch_requests']:,} batch); "
    note += f"{o['polls'] / tasks:.1f} polls (answers read) per task; counted by the simulator"
    if not held:
        return Row("4", name, Spread.of([per_task]), "requests", note="baseline; " + note)
    return Row(
        "4",
        name,
        Spread.of([per_task]),
        "requests",
        baseline="one request per task",
        ratio=Spread.of([per_task]),
        target=POLL_TARGET,
        note=note,
    )


def _many(ctx: Context) -> list[Row]:
    """10,000 tasks on one client: wall time against submission + longest task, RSS growth, polling cost."""
    tasks = ctx.pick(10_000, 300)
    rng = random.Random(10)
    durations = [round(rng.uniform(LOW, HIGH), 1) for _ in range(tasks)]
    label = f"ours, {tasks:,} tasks"
    with serve("simulator", {"time_scale": TIME_SCALE}) as url:
        args = {"impl": "ours", "base_url": url, "durations": durations, "time_scale": TIME_SCALE}
        args["ledger"] = str(ctx.workdir / "ledger-c-many.sqlite3")
        try:
            o = run_child("concurrency", args, timeout=900)
        except subprocess.TimeoutExpired:
            return [not_measured("4", f"{label}: wall time", "took longer than 900 s")]
        except RuntimeError as exc:
            return [not_measured("4", f"{label}: wall time", str(exc)[-200:])]
    longest = max(durations) * TIME_SCALE
    bound = o["submitted"] + longest
    growth = (o["rss_after"] - o["rss_before"]) / 2**20
    return [
        Row(
            "4",
            f"{label}: wall time",
            Spread.of([o["wall"]]),
            "s",
            baseline="submission time + longest task",
            ratio=Spread.of([o["wall"] / bound]),
            target=WALL_TARGET,
            note=f"submitted in {o['submitted']:.1f} s, longest task {longest:.1f} s; ledger on disk",
        ),
        Row(
            "4",
            f"{label}: peak RSS growth",
            Spread.of([growth]),
            "MiB",
            baseline=f"{RSS_BUDGET_MIB:.0f} MiB budget",
            ratio=Spread.of([growth / RSS_BUDGET_MIB]),
            target=1.0,
            note=f"{growth * 1024 / tasks:.1f} KiB per task; {o['rss_how']}",
        ),
        _poll_row(f"{label}: polling requests per task", o, tasks, True),
    ]
