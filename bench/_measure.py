"""Timing: warm up, then rounds of a tight loop per implementation, rotating their order between rounds.

Rotating the order cancels slow drift of the machine (other processes, CPU
frequency) instead of charging it to whichever implementation runs last.
Per-round ratios against the baseline come from the same round, so a noisy
round moves numerator and denominator together.
"""

from __future__ import annotations

import gc
import resource
import statistics
import sys
import time
from collections.abc import Callable

from ._results import Spread

__all__ = ["current_rss_bytes", "interleaved", "peak_rss_bytes", "ratio_spread", "reset_peak_rss", "rounds"]


def rounds(
    impls: dict[str, Callable[[], object]],
    *,
    calls: int,
    rounds: int,
    warmup: int,
    round_budget: float | None = None,
) -> dict[str, dict[str, list[float]]]:
    """Seconds per call of each implementation, one sample per round, by clock.

    ``result[name]["cpu"]``: this process's CPU time (``time.process_time``);
    ``result[name]["wall"]``: elapsed time (``time.perf_counter``).
    ``round_budget`` (seconds) caps ``calls`` (and the warm-up) so that the
    slowest implementation's round takes about that long: every
    implementation still runs the same number of calls.
    """
    slowest = 0.0
    for fn in impls.values():
        start = time.perf_counter()
        done = 0
        while done < warmup and (round_budget is None or done < 5 or time.perf_counter() - start < round_budget):
            fn()
            done += 1
        slowest = max(slowest, (time.perf_counter() - start) / done)
    if round_budget is not None:
        calls = max(10, min(calls, int(round_budget / slowest)))
    names = list(impls)
    samples: dict[str, dict[str, list[float]]] = {name: {"cpu": [], "wall": []} for name in names}
    cpu, wall = time.process_time, time.perf_counter
    gc.collect()  # once: a full collection per round would cost more than a short round measures
    for r in range(rounds):
        shift = r % len(names)
        for name in names[shift:] + names[:shift]:
            fn = impls[name]
            c0, w0 = cpu(), wall()
            for _ in range(calls):
                fn()
            w1, c1 = wall(), cpu()
            samples[name]["cpu"].append((c1 - c0) / calls)
            samples[name]["wall"].append((w1 - w0) / calls)
    return samples


def interleaved(
    impls: dict[str, Callable[[], object]],
    *,
    calls: int,
    blocks: int,
    warmup: int,
    budget: float | None = None,
) -> dict[str, dict[str, list[float]]]:
    """Seconds per call, interleaving the implementations call by call; one sample per block, by clock.

    Each step calls every implementation once (the order rotates each step)
    and times each call alone; the steps are cut into ``blocks`` consecutive
    blocks and each block gives, per implementation, the median of its calls.
    On a shared machine a burst of load then hits all implementations alike
    and the medians shrug off the calls it lands on. ``budget`` (seconds) caps
    ``calls`` from the warm-up's pace. Same result shape as :func:`rounds`.
    """
    names = list(impls)
    pace = 0.0
    for fn in impls.values():
        start = time.perf_counter()
        for _ in range(warmup):
            fn()
        pace += (time.perf_counter() - start) / max(warmup, 1)
    if budget is not None and pace > 0:
        calls = max(blocks * 5, min(calls, int(budget / pace)))
    per_block = max(1, calls // blocks)
    cpu, wall = time.process_time, time.perf_counter
    samples: dict[str, dict[str, list[float]]] = {name: {"cpu": [], "wall": []} for name in names}
    gc.collect()
    for _ in range(blocks):
        block: dict[str, dict[str, list[float]]] = {name: {"cpu": [], "wall": []} for name in names}
        for step in range(per_block):
            shift = step % len(names)
            for name in names[shift:] + names[:shift]:
                fn = impls[name]
                c0, w0 = cpu(), wall()
                fn()
                w1, c1 = wall(), cpu()
                block[name]["cpu"].append(c1 - c0)
                block[name]["wall"].append(w1 - w0)
        for name in names:
            for clock in ("cpu", "wall"):
                samples[name][clock].append(statistics.median(block[name][clock]))
    return samples


def ratio_spread(samples: list[float], baseline: list[float]) -> Spread:
    """Per-round ratios; the median is also checked against the ratio of medians (they rarely differ much)."""
    return Spread.of([s / b for s, b in zip(samples, baseline, strict=True)])


def reset_peak_rss() -> str:
    """Restart the peak-RSS count here if the OS allows it; returns how :func:`peak_rss_bytes` measures.

    Linux resets the high-water mark when ``5`` is written to
    ``/proc/self/clear_refs``; the peak is then ``VmHWM`` of
    ``/proc/self/status``. Elsewhere the peak is ``getrusage``'s ``ru_maxrss``,
    which also counts what imports held before the measured work.
    """
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
        return "VmHWM after a clear_refs reset"
    except OSError:
        return "getrusage ru_maxrss (peak since start)"


def peak_rss_bytes() -> int:
    """Peak resident set size: ``VmHWM`` where /proc has it, else ``getrusage`` (kB on Linux, bytes on macOS)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def current_rss_bytes() -> int:
    """Resident set size now (``/proc/self/statm``); the peak so far where that file does not exist."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * resource.getpagesize()
    except (OSError, ValueError, IndexError):
        return peak_rss_bytes()
