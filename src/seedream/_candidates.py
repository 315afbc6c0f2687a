"""Which listed tasks could be an ``unconfirmed`` ledger row: shown to the user, never merged.

A POST whose answer was lost leaves a row ``unconfirmed`` (or ``intent``, when the process died): the task may
exist and be charged. ``GET /v1/tasks`` lists this account's tasks, newest first, without the request that made
each one, so a listed task can only be *placed*: same model, created within the row's request window. That is
a hint, not proof (another process, another machine or the dashboard may have created it), so nothing here
writes the ledger; a row's candidates are for the user to check.

The window: from the intent's recorded time (written before the POST left) to the moment the last attempt gave
up (the row's ``updated_at``, or for a bare ``intent`` row the intent time plus :data:`REQUEST_WINDOW_SECONDS`),
widened by ``skew`` seconds on each side for the difference between our clock and the server's.
Tasks the ledger already holds for another row are never candidates: they are proven to be someone else's.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from seedream_client.models import TaskListItem
from seedream_client.types import Unset

from ._ledger import LedgerEntry, TaskState

__all__ = [
    "CLOCK_SKEW_SECONDS",
    "REQUEST_WINDOW_SECONDS",
    "Candidate",
    "UnconfirmedRow",
    "created_unix",
    "match_candidates",
    "request_window",
]

#: How far our clock and the server's may disagree (seconds), each way.
CLOCK_SKEW_SECONDS = 120.0
#: How long a POST whose end was never recorded (an ``intent`` row) can have been in flight: the vendor's clients'
#: 120 s generation timeout, once retried.
REQUEST_WINDOW_SECONDS = 240.0
_UNKNOWN = (TaskState.INTENT, TaskState.UNCONFIRMED)


@dataclass(frozen=True)
class Candidate:
    """A listed task that could be the row's: its id and what the list said about it."""

    task_id: str
    created: float
    status: str | None
    credits_used: float | None

    def to_dict(self) -> dict[str, Any]:
        return dict(vars(self))


@dataclass(frozen=True)
class UnconfirmedRow:
    """One row whose outcome is unknown, its request window and the listed tasks that fall in it (not proof)."""

    local_id: str
    state: str
    model: str | None
    intent_at: float
    window: tuple[float, float]
    candidates: tuple[Candidate, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {
            "local_id": self.local_id,
            "state": self.state,
            "model": self.model,
            "intent_at": self.intent_at,
            "window": list(self.window),
            "candidates": [c.to_dict() for c in self.candidates],
        }

    def describe(self) -> str:
        if not self.candidates:
            return "no listed task of this model was created in the request's window"
        ids = ", ".join(c.task_id for c in self.candidates)
        return f"listed tasks that could be it (same model, created in the request's window; not proof): {ids}"


def created_unix(value: object) -> float | None:
    """A list item's ``created_at`` (unix seconds, or an ISO 8601 date-time) as unix seconds; None if neither."""
    if isinstance(value, (bool, Unset)):
        return None
    if isinstance(value, (int, float)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str):
        try:
            when = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return when.timestamp() if when.tzinfo is not None else None  # a local time of unknown zone places nothing
    return None


def request_window(entry: LedgerEntry, *, skew: float = CLOCK_SKEW_SECONDS) -> tuple[float, float]:
    """When the row's task can have been created, in unix seconds (see the module docstring)."""
    end = entry.updated_at if entry.state == TaskState.UNCONFIRMED else entry.intent_at + REQUEST_WINDOW_SECONDS
    return entry.intent_at - skew, max(end, entry.intent_at) + skew


def _text(value: object) -> str | None:
    return None if isinstance(value, Unset) or value is None else str(value)


def match_candidates(
    entries: Iterable[LedgerEntry],
    items: Sequence[TaskListItem],
    *,
    known: Iterable[str] = (),
    skew: float = CLOCK_SKEW_SECONDS,
) -> list[UnconfirmedRow]:
    """Each ``intent``/``unconfirmed`` row of ``entries`` with the ``items`` that could be it.

    ``known``: task ids the ledger holds for other rows (never candidates).
    """
    taken = set(known)
    rows: list[UnconfirmedRow] = []
    for entry in entries:
        if entry.state not in _UNKNOWN:
            continue
        model = entry.params.get("model") if isinstance(entry.params, Mapping) else None
        start, end = request_window(entry, skew=skew)
        found = []
        for item in items:
            task_id = _text(item.id)
            created = created_unix(item.created_at)
            if task_id is None or task_id in taken or created is None or not start <= created <= end:
                continue
            if model is not None and _text(item.model) != model:
                continue
            used = item.credits_used
            found.append(
                Candidate(
                    task_id,
                    created,
                    _text(item.status),
                    float(used) if isinstance(used, (int, float)) and not isinstance(used, bool) else None,
                )
            )
        rows.append(
            UnconfirmedRow(
                entry.local_id,
                str(entry.state),
                model if isinstance(model, str) else None,
                entry.intent_at,
                (start, end),
                tuple(found),
            )
        )
    return rows
