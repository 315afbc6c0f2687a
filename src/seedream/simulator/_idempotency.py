"""Idempotency keys on the generation POST, as the vendor's clients rely on them.

spec-facts, "What the vendor's own clients do": the gateway ledger returns the
original task to a POST that repeats an ``Idempotency-Key`` (marked by the
header ``idempotency-replayed: true``) instead of creating a second one. What
the facts do not give is assumed, and the spec marks it ``x-assumed``: a key
reused with another body, or while its first request is still being served,
gets 409 (codes ``idempotency_conflict`` / ``paid_outcome_unknown``, as
EvoLink's public CLI names them); a key is remembered for 24 simulated hours
from its first request; keys belong to the API key that sent them; only an
answer that created a task is remembered (a refusal created nothing, so the
same key may try again); any non-empty value is a key (the clients send
``run_`` + 32 hex digits, but nothing says the gateway refuses another).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["Claim", "IdempotencyStore", "body_digest"]


def body_digest(raw: bytes) -> str:
    """The same JSON document, the same digest (key order and spacing do not matter)."""
    canonical = json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass
class _Entry:
    digest: str
    expires_at: float  # clock.monotonic()
    answer: dict[str, Any] | None = None  # None while the first request is being served


@dataclass(frozen=True)
class Claim:
    """What a POST with a key must do: ``new`` (serve it, then :meth:`IdempotencyStore.finish`), or not."""

    outcome: Literal["new", "replay", "conflict", "in_progress"]
    answer: dict[str, Any] | None = None


class IdempotencyStore:
    def __init__(self, lifetime: float) -> None:
        self._lifetime = lifetime  # real seconds
        self._lock = threading.Lock()
        # Insertion order is expiry order (one lifetime for all), so pruning pops from the front.
        self._entries: OrderedDict[tuple[str, str], _Entry] = OrderedDict()

    def claim(self, owner: str, key: str, digest: str, now: float) -> Claim:
        with self._lock:
            self._prune(now)
            entry = self._entries.get((owner, key))
            if entry is None:
                self._entries[(owner, key)] = _Entry(digest, now + self._lifetime)
                return Claim("new")
            if entry.digest != digest:
                return Claim("conflict")
            if entry.answer is None:
                return Claim("in_progress")
            return Claim("replay", entry.answer)

    def finish(self, owner: str, key: str, answer: dict[str, Any] | None) -> None:
        """Remember ``answer`` for the key, or forget the key (``None``: the request created nothing)."""
        with self._lock:
            if answer is None:
                self._entries.pop((owner, key), None)
            elif (entry := self._entries.get((owner, key))) is not None:
                entry.answer = answer

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def _prune(self, now: float) -> None:
        while self._entries:
            first = next(iter(self._entries.values()))
            if first.expires_at > now:
                return
            self._entries.popitem(last=False)
