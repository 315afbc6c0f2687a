"""The retry runner: :func:`seedream._retry.decide` applied to one call until it succeeds or gives up."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from .._errors import APIConnectionError, APIStatusError
from .._retry import Method, RetryPolicy, _log, decide
from ._primitives import Call, Sleep, default_sleep

__all__ = ["call_with_retries"]

T = TypeVar("T")


async def call_with_retries(
    call: Call[T],
    *,
    method: Method,
    operation: str,
    policy: RetryPolicy,
    sleep: Sleep = default_sleep,
    clock: Callable[[], float] = time.monotonic,
    rng: random.Random | None = None,
    deadline: float | None = None,
    keyed: bool = False,
) -> T:
    """Run ``call`` until it succeeds or :func:`decide` gives up; then its last error propagates.

    ``deadline`` is a ``clock()`` value after which no retry is started; ``keyed``: see :func:`decide`.
    """
    rng = rng or random.Random()
    attempt = 0
    while True:
        attempt += 1
        try:
            return await call()
        except (APIStatusError, APIConnectionError) as error:
            remaining = None if deadline is None else deadline - clock()
            decision = decide(
                error, method=method, attempt=attempt, policy=policy, rng=rng, remaining=remaining, keyed=keyed
            )
            _log(operation, attempt, error, decision)
            if not decision.retry:
                raise
        await sleep(decision.delay)
