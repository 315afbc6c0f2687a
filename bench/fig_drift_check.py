"""Micro benchmark: the cost of ``seedream._expectations.check_body`` on one answer.

Figure-1 style: per-call CPU time in rounds whose order rotates, reported as
ratios against a baseline measured in the same rounds. Two baselines:

* ``json.loads`` of the same bytes: what any client pays to read the answer
  (``check_body`` parses too, so its ratio includes that parse);
* one bare-httpx create call over ``httpx.MockTransport`` (figure 1's
  baseline), against ``check_body`` on the already parsed body: what a
  client that parses the answer anyway adds per call with the monitor on.

Run: ``python -m bench.fig_drift_check`` (``--quick`` for a short run).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable

import httpx

from . import _measure
from ._impls import make_bare, mock_handler
from ._results import Spread

__all__ = ["main", "measure"]


def _answers() -> dict[str, tuple[str, int, bytes]]:
    from seedream.testing._drift_cases import correct_answer

    return {
        "create 200": ("createImageGeneration", 200, correct_answer("createImageGeneration", 200).body),
        "task 200 completed": ("getTaskDetail", 200, correct_answer("getTaskDetail", 200, "completed").body),
        "create 400": ("createImageGeneration", 400, correct_answer("createImageGeneration", 400).body),
    }


def measure(*, calls: int, rounds: int) -> list[tuple[str, Spread, Spread, Spread, Spread]]:
    """Per answer: (label, µs on bytes, × json.loads, µs on the parsed body, that × one bare-httpx call)."""
    from seedream._expectations import check_body

    bare = make_bare("https://bench.test", transport=httpx.MockTransport(mock_handler()))
    out = []
    try:
        for label, (operation, status, body) in _answers().items():
            if check_body(operation, status, body):  # the benchmark must time the clean path
                raise RuntimeError(f"benchmark sanity check: {label} is not a clean answer")

            def check(op: str = operation, st: int = status, data: bytes = body) -> object:
                return check_body(op, st, data, content_type="application/json")

            def parse(data: bytes = body) -> object:
                return json.loads(data)

            def check_parsed(op: str = operation, st: int = status, data: object = json.loads(body)) -> object:
                return check_body(op, st, data, content_type="application/json")

            impls: dict[str, Callable[[], object]] = {
                "json.loads": parse,
                "check_body": check,
                "check_body parsed": check_parsed,
                "bare httpx": bare.call,
            }
            samples = _measure.rounds(impls, calls=calls, rounds=rounds, warmup=max(50, calls // 10))
            cpu = {name: by_clock["cpu"] for name, by_clock in samples.items()}
            out.append(
                (
                    label,
                    Spread.of([s * 1e6 for s in cpu["check_body"]]),
                    _measure.ratio_spread(cpu["check_body"], cpu["json.loads"]),
                    Spread.of([s * 1e6 for s in cpu["check_body parsed"]]),
                    _measure.ratio_spread(cpu["check_body parsed"], cpu["bare httpx"]),
                )
            )
    finally:
        bare.close()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="few calls and rounds (a smoke run, not a figure)")
    args = parser.parse_args(argv)
    calls, rounds = (200, 3) if args.quick else (5000, 9)
    print(f"{'answer':<20} {'bytes µs':>9} {'× json.loads':>13} {'parsed µs':>10} {'parsed × bare httpx call':>25}")
    for label, cost, vs_parse, parsed, vs_call in measure(calls=calls, rounds=rounds):
        print(
            f"{label:<20} {cost.median:>9.2f} {vs_parse.median:>12.2f}× {parsed.median:>10.2f} {vs_call.median:>24.3f}×"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
