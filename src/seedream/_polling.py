"""When to ask about a task next: a pure scheduler, cheap to simulate.

The API says how long a task should take (``task_info.estimated_time``) and
how far along it is (``progress``, 0..100). The scheduler uses both:

* the first poll comes at :data:`FIRST_POLL_FRACTION` of the estimate (no
  point asking while the task cannot be done yet);
* while the task reports progress, the finish is predicted from the progress
  rate between the last two observations (or since submission when there is
  one) and the next poll is aimed at that moment;
* once the predicted finish has passed, polls back off from
  :data:`MIN_INTERVAL_SECONDS` by :data:`BACKOFF_FACTOR` per poll, with
  jitter, capped at :data:`MAX_INTERVAL_SECONDS`.

Times are seconds since the task was created, on the API's clock. The
scheduler never sleeps and never reads a clock: :class:`PollScheduler` takes
observations and returns delays, so a thousand simulated tasks cost
milliseconds (see ``bench/poll_simulation.py``). The total deadline and the
terminal statuses are the caller's loop (``_workflow``) and
:func:`is_terminal`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace

__all__ = [
    "BACKOFF_FACTOR",
    "DEFAULT_ESTIMATE_SECONDS",
    "FIRST_POLL_FRACTION",
    "MAX_INTERVAL_SECONDS",
    "MIN_INTERVAL_SECONDS",
    "POLL_JITTER_FRACTION",
    "TERMINAL_STATUSES",
    "PollPolicy",
    "PollScheduler",
    "is_terminal",
]

#: Share of ``estimated_time`` after which the first poll comes.
FIRST_POLL_FRACTION = 0.8
#: Estimate used when the API gives none.
DEFAULT_ESTIMATE_SECONDS = 20.0
#: Shortest gap between two polls.
MIN_INTERVAL_SECONDS = 1.0
#: Longest gap between two polls.
MAX_INTERVAL_SECONDS = 15.0
#: Growth of the gap per poll once the predicted finish has passed.
BACKOFF_FACTOR = 1.5
#: Each gap is shortened by up to this share, so that many waiting clients spread out.
POLL_JITTER_FRACTION = 0.1

#: Statuses after which a task never changes (``cancelled`` comes from callbacks, outside the status enum).
TERMINAL_STATUSES = frozenset({"completed", "failed", "cancelled"})


def is_terminal(status: str | None) -> bool:
    return status in TERMINAL_STATUSES


@dataclass(frozen=True)
class PollPolicy:
    """The scheduler's constants as one value; ``PollPolicy()`` is the documented default."""

    first_poll_fraction: float = FIRST_POLL_FRACTION
    default_estimate: float = DEFAULT_ESTIMATE_SECONDS
    min_interval: float = MIN_INTERVAL_SECONDS
    max_interval: float = MAX_INTERVAL_SECONDS
    backoff_factor: float = BACKOFF_FACTOR
    jitter: float = POLL_JITTER_FRACTION

    def __post_init__(self) -> None:
        if not 0.0 < self.first_poll_fraction <= 1.0:
            raise ValueError(f"first_poll_fraction: must lie in (0, 1] (got {self.first_poll_fraction})")
        if not 0.0 < self.min_interval <= self.max_interval:
            raise ValueError("min_interval, max_interval: need 0 < min_interval <= max_interval")
        if self.default_estimate <= 0:
            raise ValueError(f"default_estimate: must be positive (got {self.default_estimate})")
        if self.backoff_factor < 1.0:
            raise ValueError(f"backoff_factor: must be at least 1 (got {self.backoff_factor})")
        if not 0.0 <= self.jitter < 1.0:
            raise ValueError(f"jitter: must lie in [0, 1) (got {self.jitter})")

    def scaled(self, factor: float) -> PollPolicy:
        """The same policy with every duration multiplied by ``factor`` (for a sped-up simulator)."""
        if factor <= 0:
            raise ValueError(f"factor: must be positive (got {factor})")
        return replace(
            self,
            default_estimate=self.default_estimate * factor,
            min_interval=self.min_interval * factor,
            max_interval=self.max_interval * factor,
        )


@dataclass
class PollScheduler:
    """Delays between polls of one task.

    ``estimated_time``: the API's estimate in seconds (None or <= 0: the
    policy's default). Call :meth:`first_poll_at`, then after each poll
    :meth:`observe` and :meth:`next_delay`.
    """

    estimated_time: float | None = None
    policy: PollPolicy = field(default_factory=PollPolicy)
    rng: random.Random = field(default_factory=random.Random)
    _points: list[tuple[float, int]] = field(default_factory=list, init=False)
    _overdue_polls: int = field(default=0, init=False)

    @property
    def estimate(self) -> float:
        """The estimate in use: the API's (0 means "under a second"), else the policy's default."""
        if self.estimated_time is None or self.estimated_time < 0:
            return self.policy.default_estimate
        return float(self.estimated_time)

    def first_poll_at(self) -> float:
        """Seconds after creation at which the first poll is due."""
        return max(self.policy.min_interval, self.policy.first_poll_fraction * self.estimate)

    def observe(self, elapsed: float, progress: int | None, estimated_time: float | None = None) -> None:
        """Record what a poll at ``elapsed`` seconds after creation saw."""
        if estimated_time is not None and estimated_time >= 0:
            self.estimated_time = estimated_time
        if progress is not None and 0 < progress < 100:
            if self._points and progress < self._points[-1][1]:
                self._points.clear()  # progress went backwards: the old rate is worthless
            if not self._points or progress > self._points[-1][1]:
                self._points.append((elapsed, progress))

    def predicted_finish(self) -> float:
        """Seconds after creation at which the task should end, from progress if it moved, else the estimate."""
        if len(self._points) >= 2:
            (t1, p1), (t2, p2) = self._points[-2], self._points[-1]
            if t2 > t1:
                return t2 + (100 - p2) * (t2 - t1) / (p2 - p1)
        if self._points:
            t, p = self._points[-1]
            if t > 0:
                return t * 100 / p
        return self.estimate

    def next_delay(self, elapsed: float) -> float:
        """Seconds to wait after a poll at ``elapsed`` that found the task still running."""
        policy = self.policy
        until_finish = self.predicted_finish() - elapsed
        if until_finish >= policy.min_interval:
            self._overdue_polls = 0
            delay = min(until_finish, policy.max_interval)
        else:
            delay = min(policy.max_interval, policy.min_interval * policy.backoff_factor**self._overdue_polls)
            self._overdue_polls += 1
        return max(policy.min_interval, delay * (1.0 - policy.jitter * self.rng.random()))
