"""When to ask about a task next: a pure scheduler, cheap to simulate.

The API says how long a task should take (``task_info.estimated_time``, E)
and how far along it is (``progress``, 0..100). The scheduler spends few
polls where nothing can be learnt and aims the rest at the moment the task
ends:

* **first poll**: :data:`FIRST_POLL_SLACK_SECONDS` after the earliest
  plausible finish (:data:`EARLIEST_FINISH_FRACTION` of E), and no later than
  :data:`FIRST_POLL_FRACTION` of E. The slack is what one poll is worth in
  seconds of detection latency: a later first poll saves a poll on the tasks
  it finds done, an earlier one spares the early finishers a wait. So a short
  task is first asked near its estimate (a 14-s task at 13.3 s: it has few
  polls to spend) and a long one early enough to learn its progress rate
  (a 45-s task at 29.5 s).
* **with progress**: the finish is predicted from the progress rate between
  the last two observations (one observation: since creation), taking
  :data:`FINISH_PROGRESS` as done (many APIs, the simulator among them, hold
  99 until the end). When the finish is near (remaining time at most
  :data:`PROBE_RATIO` of the time elapsed) the next poll is aimed
  :data:`AIM_MARGIN_SECONDS` after it; when it is still far, a probe halfway
  there refines the rate first (a prediction from one observation counts the
  time spent queued as work, and errs late by about that much). Progress
  reported in coarse steps (every value a multiple of
  :data:`COARSE_PROGRESS_STEP` or more) is read as half a step further along.
* **without progress**: polls every :data:`BLIND_STEP_FRACTION` of E, the
  finish being equally likely anywhere near the estimate.
* **overdue** (the predicted finish or the estimate has passed): the gap
  grows by :data:`BACKOFF_FACTOR` per poll from :data:`MIN_INTERVAL_SECONDS`
  (with progress: the prediction was close) or from the blind step (without),
  capped at :data:`MAX_INTERVAL_SECONDS`.

Probes, blind and overdue polls are shortened by up to
:data:`POLL_JITTER_FRACTION` so that many waiting clients spread out; polls
aimed at a predicted finish are not (an early poll only costs another one).

Times are seconds since the task was created, on the API's clock. The
scheduler never sleeps and never reads a clock: :class:`PollScheduler` takes
observations and returns delays, so a thousand simulated tasks cost
milliseconds (see ``bench/poll_simulation.py``, which also holds the
scenarios these constants were tuned on). The total deadline and the
terminal statuses are the caller's loop (``_workflow``) and
:func:`is_terminal`.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field, replace

__all__ = [
    "AIM_MARGIN_SECONDS",
    "BACKOFF_FACTOR",
    "BATCH_WINDOW_SECONDS",
    "BLIND_STEP_FRACTION",
    "COARSE_PROGRESS_STEP",
    "DEFAULT_ESTIMATE_SECONDS",
    "EARLIEST_FINISH_FRACTION",
    "FINISH_PROGRESS",
    "FIRST_POLL_FRACTION",
    "FIRST_POLL_SLACK_SECONDS",
    "MAX_INTERVAL_SECONDS",
    "MIN_INTERVAL_SECONDS",
    "POLL_JITTER_FRACTION",
    "PROBE_RATIO",
    "TERMINAL_STATUSES",
    "PollPolicy",
    "PollScheduler",
    "is_terminal",
]

#: Latest first poll, as a share of ``estimated_time``.
FIRST_POLL_FRACTION = 0.95
#: Share of ``estimated_time`` before which a task is not expected to end.
EARLIEST_FINISH_FRACTION = 0.5
#: The first poll comes this long after the earliest expected finish (unless that is past FIRST_POLL_FRACTION).
FIRST_POLL_SLACK_SECONDS = 7.0
#: Estimate used when the API gives none.
DEFAULT_ESTIMATE_SECONDS = 20.0
#: Shortest gap between two polls.
MIN_INTERVAL_SECONDS = 0.5
#: Longest gap between two polls.
MAX_INTERVAL_SECONDS = 15.0
#: Growth of the gap per poll once the predicted finish has passed.
BACKOFF_FACTOR = 1.3
#: Probes, blind and overdue gaps are shortened by up to this share, so that many waiting clients spread out.
POLL_JITTER_FRACTION = 0.1
#: A poll aimed at the predicted finish comes this long after it.
AIM_MARGIN_SECONDS = 0.1
#: Aim at the finish once the remaining time is at most this share of the time elapsed; else probe halfway.
PROBE_RATIO = 0.5
#: Without progress reports: one poll per this share of the estimate.
BLIND_STEP_FRACTION = 0.12
#: The progress value at which a task is taken to be done (APIs often hold 99 until the end).
FINISH_PROGRESS = 99
#: Progress values all multiples of at least this (after two observations) are read as coarse steps
#: (10: fine-grained progress shares such a factor by chance in about 2 % of pairs).
COARSE_PROGRESS_STEP = 10

#: While several tasks are waited for, polls fall on shared slots this long apart (a poll comes up to this much
#: late, or as much early riding along a query with room), so tasks due at about the same time share one query.
BATCH_WINDOW_SECONDS = 1.0

#: Statuses after which a task never changes (``cancelled`` comes from callbacks, outside the status enum).
TERMINAL_STATUSES = frozenset({"completed", "failed", "cancelled"})


def is_terminal(status: str | None) -> bool:
    return status in TERMINAL_STATUSES


def _share(name: str, value: float, *, low_open: bool = True) -> None:
    if not (0.0 < value <= 1.0 if low_open else 0.0 <= value <= 1.0):
        raise ValueError(f"{name}: must lie in {'(0' if low_open else '[0'}, 1] (got {value})")


@dataclass(frozen=True)
class PollPolicy:
    """The scheduler's constants as one value; ``PollPolicy()`` is the documented default."""

    first_poll_fraction: float = FIRST_POLL_FRACTION
    earliest_finish_fraction: float = EARLIEST_FINISH_FRACTION
    first_poll_slack: float = FIRST_POLL_SLACK_SECONDS
    default_estimate: float = DEFAULT_ESTIMATE_SECONDS
    min_interval: float = MIN_INTERVAL_SECONDS
    max_interval: float = MAX_INTERVAL_SECONDS
    backoff_factor: float = BACKOFF_FACTOR
    jitter: float = POLL_JITTER_FRACTION
    aim_margin: float = AIM_MARGIN_SECONDS
    probe_ratio: float = PROBE_RATIO
    blind_step_fraction: float = BLIND_STEP_FRACTION
    batch_window: float = BATCH_WINDOW_SECONDS

    def __post_init__(self) -> None:
        _share("first_poll_fraction", self.first_poll_fraction)
        _share("earliest_finish_fraction", self.earliest_finish_fraction, low_open=False)
        _share("blind_step_fraction", self.blind_step_fraction)
        if not 0.0 < self.min_interval <= self.max_interval:
            raise ValueError("min_interval, max_interval: need 0 < min_interval <= max_interval")
        if self.default_estimate <= 0:
            raise ValueError(f"default_estimate: must be positive (got {self.default_estimate})")
        if self.backoff_factor < 1.0:
            raise ValueError(f"backoff_factor: must be at least 1 (got {self.backoff_factor})")
        if not 0.0 <= self.jitter < 1.0:
            raise ValueError(f"jitter: must lie in [0, 1) (got {self.jitter})")
        for name in ("first_poll_slack", "aim_margin", "batch_window"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name}: must not be negative (got {getattr(self, name)})")
        if self.probe_ratio <= 0:
            raise ValueError(f"probe_ratio: must be positive (got {self.probe_ratio})")

    def scaled(self, factor: float) -> PollPolicy:
        """The same policy with every duration multiplied by ``factor`` (for a sped-up simulator)."""
        if factor <= 0:
            raise ValueError(f"factor: must be positive (got {factor})")
        return replace(
            self,
            first_poll_slack=self.first_poll_slack * factor,
            default_estimate=self.default_estimate * factor,
            min_interval=self.min_interval * factor,
            max_interval=self.max_interval * factor,
            aim_margin=self.aim_margin * factor,
            batch_window=self.batch_window * factor,
        )


@dataclass
class PollScheduler:
    """Delays between polls of one task.

    ``estimated_time``: the API's estimate in seconds (None or < 0: the
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
        policy, estimate = self.policy, self.estimate
        first = min(
            policy.first_poll_fraction * estimate,
            policy.earliest_finish_fraction * estimate + policy.first_poll_slack,
        )
        return max(policy.min_interval, first)

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
        if not self._points:
            return self.estimate
        half_step, done = 0.0, float(FINISH_PROGRESS)
        if len(self._points) >= 2:
            step = math.gcd(*(p for _, p in self._points))
            if step >= COARSE_PROGRESS_STEP:  # coarse steps: on average half a step further along; done at 100
                half_step, done = step / 2, 100.0
        t2, p2 = self._points[-1]
        if len(self._points) >= 2:
            t1, p1 = self._points[-2]
            return t2 + (done - p2 - half_step) * (t2 - t1) / (p2 - p1)
        return t2 * done / (p2 + half_step) if t2 > 0 else self.estimate

    def next_delay(self, elapsed: float) -> float:
        """Seconds to wait after a poll at ``elapsed`` that found the task still running."""
        policy = self.policy
        until_finish = self.predicted_finish() - elapsed
        blind_step = policy.blind_step_fraction * self.estimate
        if until_finish > 0:
            self._overdue_polls = 0
            if not self._points:  # nothing to aim with: evenly spaced polls around the estimate
                delay = blind_step
            elif until_finish > policy.probe_ratio * elapsed:  # far off: probe halfway to refine the rate
                delay = until_finish / 2
            else:  # near: aim just past the finish; never jittered (an early poll only costs another)
                return max(policy.min_interval, min(until_finish + policy.aim_margin, policy.max_interval))
        else:
            base = policy.min_interval if self._points else max(policy.min_interval, blind_step)
            delay = base * policy.backoff_factor**self._overdue_polls
            self._overdue_polls += 1
        delay = min(delay, policy.max_interval)
        return max(policy.min_interval, delay * (1.0 - policy.jitter * self.rng.random()))
