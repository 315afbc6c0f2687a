"""Figures 1 and 2: cost of one create call, ours against bare httpx, the plain generated client and openai-python.

1. In-process ``httpx.MockTransport`` answering the spec's 200 body: this
   process's CPU time per call.
2. Over loopback to a server in a child process (the simulator under
   uvicorn, or a plain Starlette echo while the simulator is missing):
   wall time per call, client CPU alongside.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from typing import Any

import httpx

from . import _measure
from ._context import Context
from ._impls import Impl, make_bare, make_openai, make_ours, make_plain, mock_handler
from ._results import Row, Spread, not_measured
from ._server import serve

__all__ = ["figure_1", "figure_2"]

# Reference ratios measured on this kind of machine (openapi/sources/toolchain-facts.md).
REFERENCE = {"plain generated client": 1.20, "openai-python": 4.31}
BASE = "bare httpx"
OURS = "seedream SeedreamAPI"  # drift monitor on: the default
MONITOR_OFF = "seedream SeedreamAPI, drift monitor off"  # figure 1: what the monitor costs


def _build(builders: dict[str, Callable[[], Impl]]) -> tuple[dict[str, Impl], dict[str, str]]:
    built: dict[str, Impl] = {}
    missing: dict[str, str] = {}
    for name, build in builders.items():
        try:
            built[name] = build()
        except ImportError as exc:
            missing[name] = (
                f"{exc.name or exc} not importable ({'issue 3' if name == OURS else 'pip install -e .[bench]'})"
            )
        except Exception as exc:  # a broken implementation must not take the other figures with it
            missing[name] = f"{type(exc).__name__}: {exc}".splitlines()[0][:160]
            traceback.print_exc()
    return built, missing


def _rows(
    figure: str, clock: str, unit_scale: float, samples: dict[str, dict[str, list[float]]], target: float
) -> list[Row]:
    rows = []
    base = samples[BASE][clock]
    for name, by_clock in samples.items():
        values = [v * unit_scale for v in by_clock[clock]]
        row = Row(figure, name, Spread.of(values), "µs")
        if name == BASE:
            row.note = "baseline"
        else:
            row.baseline = BASE
            row.ratio = _measure.ratio_spread(by_clock[clock], base)
            if name == OURS:
                row.target = target
                others = [
                    f"{Spread.of(by_clock[clock]).median / Spread.of(samples[o][clock]).median:.2f}× {o}"
                    for o in samples
                    if o not in (BASE, OURS)
                ]
                row.note = ("vs " + ", ".join(others)) if others else ""
            elif figure == "1" and name in REFERENCE:
                row.note = f"reference {REFERENCE[name]:.2f}×"
        if clock == "wall":
            cpu = Spread.of(by_clock["cpu"]).median * unit_scale
            row.note = f"{row.note}; client CPU {cpu:.0f} µs".lstrip("; ")
        rows.append(row)
    return rows


def _missing_rows(figure: str, missing: dict[str, str]) -> list[Row]:
    return [not_measured(figure, name, why) for name, why in missing.items()]


def _run(
    figure: str,
    clock: str,
    builders: dict[str, Callable[[], Impl]],
    measure: Callable[[dict[str, Callable[[], Any]]], dict[str, dict[str, list[float]]]],
) -> list[Row]:
    built, missing = _build(builders)
    try:
        if BASE not in built:
            return _missing_rows(figure, {BASE: missing.get(BASE, "baseline failed")})
        samples = measure({name: impl.call for name, impl in built.items()})
    finally:
        for impl in built.values():
            impl.close()
    rows = _rows(figure, clock, 1e6, samples, 1.10 if figure == "1" else 1.03)
    for row in rows:
        note = built[row.name].note if row.name in built else ""
        if note:
            row.note = f"{row.note}; {note}".lstrip("; ")
    return rows + _missing_rows(figure, missing)


def figure_1(ctx: Context) -> list[Row]:
    handler = mock_handler()
    transport = httpx.MockTransport(handler)
    base_url = "http://127.0.0.1:9"  # never dialled: the mock transport answers
    package = ctx.plain_client()[0]
    builders: dict[str, Callable[[], Impl]] = {
        BASE: lambda: make_bare(base_url, transport),
        "plain generated client": lambda: make_plain(package, base_url, transport),
        "openai-python": lambda: make_openai(base_url, handler),
        OURS: lambda: make_ours(base_url, transport),
        MONITOR_OFF: lambda: make_ours(base_url, transport, drift_monitor=False),
    }
    # 14,000 calls each in short rounds (a few ms), the order rotating: on a shared VM, load (and CPU steal,
    # which inflates process_time) changes faster than 2000-call rounds, so short rounds pair like with like.
    calls, rounds = ctx.pick(50, 40), ctx.pick(280, 5)

    def measure(impls: dict[str, Callable[[], Any]]) -> dict[str, dict[str, list[float]]]:
        return _measure.rounds(impls, calls=calls, rounds=rounds, warmup=ctx.pick(300, 30))

    rows = _run("1", "cpu", builders, measure)
    rows[0].note += f"; {rounds} rounds × {calls} calls per client, tight loop, order rotating"
    return rows


def _server_kind() -> tuple[str, str]:
    try:
        from seedream.simulator import SimulatorConfig, run_simulator  # noqa: F401
    except ImportError as exc:
        return "echo", f"stand-in: plain Starlette echo under uvicorn (seedream.simulator: {exc})"
    return "simulator", "seedream simulator (run_simulator) in a child process"


def figure_2(ctx: Context) -> list[Row]:
    kind, server_note = _server_kind()
    blocks = ctx.pick(15, 3)

    def measure(impls: dict[str, Callable[[], Any]]) -> dict[str, dict[str, list[float]]]:
        # Call by call: the server shares the 2 cores, so coarse rounds would catch different load.
        return _measure.interleaved(
            impls, calls=ctx.pick(3000, 60), blocks=blocks, warmup=ctx.pick(100, 10), budget=ctx.pick(25.0, 2.0)
        )

    where = "create call over loopback"
    try:
        with serve(kind, {}) as url:
            package = ctx.plain_client()[0]
            builders: dict[str, Callable[[], Impl]] = {
                BASE: lambda: make_bare(url),
                "plain generated client": lambda: make_plain(package, url),
                "openai-python": lambda: make_openai(url),
                OURS: lambda: make_ours(url),
            }
            rows = _run("2", "wall", builders, measure)
    except Exception as exc:
        traceback.print_exc()
        return [not_measured("2", where, f"server failed: {type(exc).__name__}: {exc}")]
    for row in rows:
        if row.name == BASE:
            row.note = (
                f"{row.note}; {server_note}; calls interleaved one by one; per block the median call, {blocks} blocks"
            )
            if row.value is not None and row.value.median > 20_000:
                row.note += (
                    "; every answer waits out a ~40 ms delayed ACK: the server's socket has no TCP_NODELAY"
                    " (created without IPPROTO_TCP, so asyncio does not set it)"
                )
    return rows
