"""Polls per task and detection latency: the adaptive scheduler against fixed-interval polling.

Two measurements, neither of which sleeps:

* pure model (default): each task has an estimate ``E`` (what
  ``task_info.estimated_time`` says), a true duration spread around it, an
  optional time in ``pending`` and a progress model; ``seedream._polling`` is
  driven as ``seedream._workflow`` drives it.
* ``--simulator``: ``AsyncSeedream.wait`` itself against the embedded
  simulator (in-process ASGI, real time scale 1) on a manual clock that the
  client's injected sleep advances; latency is measured against each task's
  true end inside the simulator.

    python bench/poll_simulation.py [--tasks 2000] [--seed 1] [--simulator]
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
from collections.abc import Callable
from dataclasses import dataclass

from seedream._polling import PollPolicy, PollScheduler

ProgressModel = Callable[[float, float, float], int]  # (t, queue, duration) -> progress while running


def linear(t: float, queue: float, duration: float) -> int:
    return 0 if t < queue else min(99, int(100 * (t - queue) / (duration - queue)))


def simulator_like(t: float, queue: float, duration: float) -> int:
    """seedream.simulator: 0 while pending, then 1 + 98 * share done."""
    return 0 if t < queue else max(1, min(99, 1 + int(98 * (t - queue) / (duration - queue))))


def steps_of_10(t: float, queue: float, duration: float) -> int:
    return linear(t, queue, duration) // 10 * 10


def none(t: float, queue: float, duration: float) -> int:
    return 0


@dataclass
class Outcome:
    polls: int
    latency: float


def fixed(duration: float, interval: float) -> Outcome:
    polls = max(1, math.ceil(duration / interval))
    return Outcome(polls, polls * interval - duration)


def adaptive(
    duration: float, estimate: float, queue: float, model: ProgressModel, rng: random.Random, policy: PollPolicy
) -> Outcome:
    scheduler = PollScheduler(estimated_time=estimate, policy=policy, rng=rng)
    t = scheduler.first_poll_at()
    polls = 0
    while True:
        polls += 1
        if t >= duration:
            return Outcome(polls, t - duration)
        scheduler.observe(t, model(t, queue, duration))
        t += scheduler.next_delay(t)


def run(tasks: int, seed: int, policy: PollPolicy) -> None:
    rng = random.Random(seed)
    scenarios = {
        "simulator model, n=1 (E=14 s, D in [0.75E, 1.25E])": (14.0, 0.75, 1.25, simulator_like),
        "simulator model, n=4 (E=32 s, D in [0.75E, 1.25E])": (32.0, 0.75, 1.25, simulator_like),
        "E=45 s, D in [0.6E, 1.4E], linear progress": (45.0, 0.6, 1.4, linear),
        "E=45 s, D in [0.6E, 1.4E], progress in 10% steps": (45.0, 0.6, 1.4, steps_of_10),
        "E=45 s, D in [0.6E, 1.4E], no progress reported": (45.0, 0.6, 1.4, none),
        "E=20 s, D in [0.5E, 2.0E], linear progress": (20.0, 0.5, 2.0, linear),
        "E=20 s, D in [0.5E, 2.0E], no progress reported": (20.0, 0.5, 2.0, none),
    }
    print(f"{tasks} tasks per scenario, pending time in [0, 0.1E] (simulator model: 0.5-2 s), seed {seed}\n")
    header = f"{'scenario':52} {'strategy':10} {'polls/task':>10} {'mean lat s':>10} {'p95 lat s':>9}"
    print(header)
    print("-" * len(header))
    for name, (estimate, low, high, model) in scenarios.items():
        results: dict[str, list[Outcome]] = {"adaptive": [], "fixed 3 s": [], "fixed 10 s": []}
        for _ in range(tasks):
            duration = estimate * rng.uniform(low, high)
            queue = (
                min(rng.uniform(0.5, 2.0), duration / 4) if model is simulator_like else rng.uniform(0, 0.1 * estimate)
            )
            results["adaptive"].append(adaptive(duration, estimate, queue, model, rng, policy))
            results["fixed 3 s"].append(fixed(duration, 3.0))
            results["fixed 10 s"].append(fixed(duration, 10.0))
        for strategy, outcomes in results.items():
            latencies = sorted(o.latency for o in outcomes)
            print(
                f"{name:52} {strategy:10} {statistics.mean(o.polls for o in outcomes):10.2f}"
                f" {statistics.mean(latencies):10.2f} {latencies[int(0.95 * len(latencies))]:9.2f}"
            )
        print()


async def on_simulator(tasks: int, seed: int, n: int, interval: float | None) -> list[Outcome]:
    """``interval`` None: ``AsyncSeedream.wait``; else fixed polling every ``interval`` seconds."""
    import httpx

    from seedream._async._workflow import AsyncSeedream
    from seedream.simulator import ManualClock, SimulatorConfig, create_app

    clock = ManualClock()
    outcomes: list[Outcome] = []

    async def sleep(seconds: float) -> None:
        clock.advance(seconds)

    with create_app(SimulatorConfig(api_keys=("sk-bench",), seed=seed, outbound="none"), clock=clock) as app:
        transport = httpx.ASGITransport(app=app)
        async with AsyncSeedream(
            "sk-bench",
            base_url="http://127.0.0.1:9",  # a Host header only: ASGITransport opens no socket
            ledger=":memory:",
            transport=transport,
            download_transport=transport,
            allow_internal_result_hosts=True,  # the simulator's result links name 127.0.0.1
            sleep=sleep,
            clock=clock.monotonic,
            rng=random.Random(seed),
        ) as client:
            for _ in range(tasks):
                response = await client.submit("a lighthouse", n=n)
                polls = 0
                if interval is None:

                    def count(_: object) -> None:
                        nonlocal polls
                        polls += 1

                    await client.wait(response, on_progress=count)
                else:
                    while True:
                        await sleep(interval)
                        polls += 1
                        if str((await client.api.get_task(str(response.id))).status) == "completed":
                            break
                task = app.simulator.get_task(str(response.id))
                assert task is not None
                outcomes.append(Outcome(polls, clock.monotonic() - task.ends_at))
    return outcomes


def run_simulator(tasks: int, seed: int) -> None:
    import asyncio

    print(f"{tasks} tasks per row on the simulator (time scale 1, manual clock), seed {seed}\n")
    header = f"{'n':>2} {'strategy':10} {'polls/task':>10} {'mean lat s':>10} {'p95 lat s':>9}"
    print(header)
    print("-" * len(header))
    for n in (1, 2, 4):
        for name, interval in (("adaptive", None), ("fixed 3 s", 3.0), ("fixed 10 s", 10.0)):
            outcomes = asyncio.run(on_simulator(tasks, seed, n, interval))
            latencies = sorted(o.latency for o in outcomes)
            print(
                f"{n:>2} {name:10} {statistics.mean(o.polls for o in outcomes):10.2f}"
                f" {statistics.mean(latencies):10.2f} {latencies[int(0.95 * len(latencies))]:9.2f}"
            )
        print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--simulator", action="store_true", help="measure on the embedded simulator")
    args = parser.parse_args()
    if args.simulator:
        run_simulator(args.tasks, args.seed)
    else:
        run(args.tasks, args.seed, PollPolicy())


if __name__ == "__main__":
    main()
