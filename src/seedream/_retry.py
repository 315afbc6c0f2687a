"""When to try an API call again, and how long to wait first.

The guarded client makes exactly one attempt; this module decides about the
next one. The policy is a handful of named constants and one short decision
ladder (:func:`decide`), applied by the one runner (``_async/_retry.py``, generated into ``_sync/``):

1. attempts exhausted                       -> give up
2. 429 with ``Retry-After`` above the cap   -> give up (retrying sooner than asked is futile)
3. 429                                      -> retry after ``Retry-After``, else backoff
4. connection failed before sending         -> retry with backoff (the server never saw it)
5. GET: 5xx, timeout, connection lost       -> retry with backoff (reading twice is harmless)
6. keyed POST: 5xx, timeout, connection lost, or 409 ``paid_outcome_unknown`` (the key's first request is
   still being served)                      -> replay with the same ``Idempotency-Key`` after backoff
7. POST: 5xx, timeout, connection lost      -> give up, unless ``replay_unsafe_posts``
8. anything else (4xx, bad body)            -> give up

Why POSTs are special: every generation request pre-charges credits for
``n`` images. After a read timeout, a dropped connection or a 5xx the server
may already have created (and charged) the task, so a plain replay can pay
twice for one picture. Only a 429 (the request was refused) and a connection
failure that provably happened before the request left the process are safe.

Every generation POST carries an ``Idempotency-Key`` (``seedream._idempotency``; assumed from the vendor's own
clients, the vendor's page documents none). A POST is *keyed* (step 6) only when the gateway's support for keys
has been established for its base URL by the probe recorded in the ledger: then the gateway answers a repeated
key with the original task (``idempotency-replayed: true``) instead of creating a second one, and a lost answer is
recovered by a replay of the very same request, at most ``max_attempts`` attempts in all (:data:`MAX_ATTEMPTS`).
Without established support, step 7 stands: never replayed. A 409 ``idempotency_conflict`` (the key was used for
another body) is never retried. ``replay_unsafe_posts=True`` restores the other retries for callers who accept the
double-charge risk knowingly.

Every decision is logged at DEBUG on the ``seedream.retry`` logger with the
attempt number, the error class, status and code: never headers, bodies or
the key. ``sleep``, ``clock`` and ``rng`` are injectable for tests.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from typing import Literal

from ._errors import APIConnectionError, APIStatusError, IdempotencyConflictError, RateLimitError

__all__ = [
    "BACKOFF_BASE_SECONDS",
    "BACKOFF_CAP_SECONDS",
    "IN_PROGRESS_CODE",
    "JITTER_FRACTION",
    "MAX_ATTEMPTS",
    "RETRY_AFTER_CAP_SECONDS",
    "Decision",
    "Method",
    "RetryPolicy",
    "backoff_delay",
    "cut_by_deadline",
    "decide",
]

logger = logging.getLogger("seedream.retry")

#: Attempts in all, the first one included.
MAX_ATTEMPTS = 4
#: Delay before the second attempt; doubles with each further attempt.
BACKOFF_BASE_SECONDS = 0.5
#: No backoff delay exceeds this.
BACKOFF_CAP_SECONDS = 8.0
#: A delay is drawn from [delay * (1 - JITTER_FRACTION), delay] so that many clients do not retry in step.
JITTER_FRACTION = 0.5
#: The longest ``Retry-After`` honoured; a server asking for more gets the error passed on instead.
RETRY_AFTER_CAP_SECONDS = 30.0

#: The 409 code of a key whose first request is still being served (assumed: EvoLink's public CLI names it).
IN_PROGRESS_CODE = "paid_outcome_unknown"

Method = Literal["GET", "POST"]


@dataclass(frozen=True)
class RetryPolicy:
    """The retry constants as one value; ``RetryPolicy()`` is the documented default.

    ``replay_unsafe_posts``: also retry a POST after a read timeout, a lost
    connection or a 5xx. Off by default because the first request may have
    created and charged a task the client never heard of; a replay can then
    be charged a second time.
    """

    max_attempts: int = MAX_ATTEMPTS
    base_delay: float = BACKOFF_BASE_SECONDS
    max_delay: float = BACKOFF_CAP_SECONDS
    jitter: float = JITTER_FRACTION
    retry_after_cap: float = RETRY_AFTER_CAP_SECONDS
    replay_unsafe_posts: bool = False

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts: must be at least 1 (got {self.max_attempts})")
        if not 0.0 <= self.jitter <= 1.0:
            raise ValueError(f"jitter: must lie in [0, 1] (got {self.jitter})")
        if self.base_delay < 0 or self.max_delay < 0 or self.retry_after_cap < 0:
            raise ValueError("base_delay, max_delay, retry_after_cap: must not be negative")


@dataclass(frozen=True)
class Decision:
    """The verdict on one failed attempt: retry after ``delay`` seconds, or give up. ``reason`` is for the log."""

    retry: bool
    delay: float
    reason: str


def backoff_delay(attempt: int, policy: RetryPolicy, rng: random.Random) -> float:
    """Exponential backoff with jitter after failed attempt number ``attempt`` (1-based)."""
    ceiling = min(policy.max_delay, policy.base_delay * 2.0 ** (attempt - 1))
    return ceiling * (1.0 - policy.jitter * rng.random())


def _status(error: BaseException) -> int | None:
    return error.status if isinstance(error, APIStatusError) else None


def decide(
    error: BaseException,
    *,
    method: Method,
    attempt: int,
    policy: RetryPolicy,
    rng: random.Random,
    remaining: float | None = None,
    keyed: bool = False,
) -> Decision:
    """Whether to retry after ``error`` ended attempt number ``attempt``; ``remaining`` is the caller's time left.

    ``keyed``: the POST carries an ``Idempotency-Key`` the base URL's gateway is established to honour (step 6).
    """
    status = _status(error)
    decision: Decision
    if attempt >= policy.max_attempts:
        decision = Decision(False, 0.0, f"{attempt} of {policy.max_attempts} attempts used")
    elif isinstance(error, RateLimitError) and error.retry_after is not None:
        if error.retry_after > policy.retry_after_cap:
            decision = Decision(
                False, 0.0, f"Retry-After {error.retry_after:g}s exceeds the cap of {policy.retry_after_cap:g}s"
            )
        else:
            decision = Decision(True, error.retry_after, f"429, honouring Retry-After {error.retry_after:g}s")
    elif isinstance(error, RateLimitError):
        decision = Decision(True, backoff_delay(attempt, policy, rng), "429 without Retry-After, backing off")
    elif isinstance(error, APIConnectionError) and not error.request_sent:
        decision = Decision(True, backoff_delay(attempt, policy, rng), "connection failed before the request was sent")
    elif keyed and method == "POST" and isinstance(error, IdempotencyConflictError) and error.code == IN_PROGRESS_CODE:
        reason = "409: the key's first request is still being served, asking again"
        decision = Decision(True, backoff_delay(attempt, policy, rng), reason)
    elif isinstance(error, APIConnectionError) or (status is not None and status >= 500):
        what = f"HTTP {status}" if status is not None else type(error).__name__
        if method == "GET":
            decision = Decision(True, backoff_delay(attempt, policy, rng), f"{what} on a GET, safe to repeat")
        elif keyed:
            decision = Decision(
                True,
                backoff_delay(attempt, policy, rng),
                f"{what} on a POST, replaying with the same Idempotency-Key (support established for this base URL)",
            )
        elif policy.replay_unsafe_posts:
            decision = Decision(
                True, backoff_delay(attempt, policy, rng), f"{what} on a POST, replaying: replay_unsafe_posts is set"
            )
        else:
            decision = Decision(False, 0.0, f"{what} on a POST: the task may exist and be charged, never replayed")
    else:
        decision = Decision(False, 0.0, f"{type(error).__name__} is not transient")
    if decision.retry and remaining is not None and decision.delay > remaining:
        decision = Decision(False, 0.0, f"waiting {decision.delay:.2f}s would pass the deadline")
    return decision


def cut_by_deadline(error: BaseException, *, at: float, deadline: float, policy: RetryPolicy) -> bool:
    """Whether a read that ended in ``error`` at ``at`` may have ended so only because its deadline was ``deadline``.

    So: an error the ladder retries, got no earlier than one longest retry delay before that deadline (the ladder
    gives up on a retry whose delay would pass it). An error long before it used up the ladder on its own.
    """
    longest = max(policy.max_delay, policy.retry_after_cap)
    if at < deadline - longest:
        return False
    return decide(error, method="GET", attempt=1, policy=policy, rng=random.Random(0)).retry


def _log(operation: str, attempt: int, error: BaseException, decision: Decision) -> None:
    code = getattr(error, "code", None)
    status = _status(error)
    verdict = f"retry in {decision.delay:.2f}s" if decision.retry else "give up"
    logger.debug(
        "%s attempt %d failed (%s%s%s): %s, %s",
        operation,
        attempt,
        type(error).__name__,
        f" {status}" if status is not None else "",
        f" {code}" if isinstance(code, str) else "",
        verdict,
        decision.reason,
    )
