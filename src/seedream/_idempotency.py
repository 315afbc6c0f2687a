"""Idempotency keys on the generation POST: the key, what establishes the gateway's support, what may be replayed.

Source (assumed, not on the vendor's page): EvoLink's own public clients (spec-facts "What the vendor's own
clients do", read 2026-12-01). Both send ``Idempotency-Key: run_<32 hex>`` and the same value in
``X-Evo-Run-Id`` on every generation POST; the newer one replays a lost POST once with the same key "so the
gateway ledger (Idempotency-Key) can return the original task instead of creating a second one", and an answer
carrying ``idempotency-replayed: true`` is such a replay.

What this client does with that:

* every generation POST carries a fresh key (:func:`new_key`), generated once per intent and written into the
  ledger's intent row before the request leaves;
* nothing is ever replayed because the vendor's clients say the gateway honours keys: support is *established*
  per base URL by a probe (``client.probe_idempotency()``, ``seedream idempotency probe``) that sends one valid
  one-image body twice under one key and accepts only one task id with ``idempotency-replayed: true`` on the
  second answer (:func:`judge_probe`). The verdict, with its evidence and time, is kept in the ledger. The probe
  costs one image (two, when the gateway ignores keys: that is the finding). There is deliberately no way to
  *declare* support without the probe: on a gateway that ignores keys a replay is a second charge, which is what
  ``RetryPolicy(replay_unsafe_posts=True)`` already offers to whoever accepts it;
* with support established, a POST whose answer was lost is replayed with its own key (``seedream._retry``,
  step 6) and ``resume`` replays ``unconfirmed`` rows that hold a key, from the request stored in the ledger,
  while the key is younger than :data:`REPLAYABLE_KEY_AGE_SECONDS` (:func:`replay_blocker`).

A key is not a secret (it only names one request of this account); it is stored and logged like a task id.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ._errors import RequestValidationError

__all__ = [
    "IDEMPOTENCY_HEADER",
    "KEY_PREFIX",
    "KEY_RETENTION_SECONDS",
    "PROBE_PROMPT",
    "REPLAYABLE_KEY_AGE_SECONDS",
    "REPLAYED_HEADER",
    "RUN_ID_HEADER",
    "IdempotencySupport",
    "body_digest",
    "check_key",
    "judge_probe",
    "new_key",
    "replay_blocker",
]

IDEMPOTENCY_HEADER = "Idempotency-Key"
#: The vendor's clients send the key's value here too; what the gateway does with it is not documented.
RUN_ID_HEADER = "X-Evo-Run-Id"
#: ``true`` on the original answer given again to a request that repeated its key.
REPLAYED_HEADER = "idempotency-replayed"
#: The vendor's key format is this prefix and 32 lowercase hex digits.
KEY_PREFIX = "run_"
#: How long the gateway is assumed to keep a key (the simulator's default; not documented by the vendor).
KEY_RETENTION_SECONDS = 24 * 3600.0
#: ``resume`` replays a key only while it is younger than this: an hour short of the retention, for clock skew
#: and for the time the request itself took. An older key may be forgotten, and its replay would create a task.
REPLAYABLE_KEY_AGE_SECONDS = KEY_RETENTION_SECONDS - 3600.0
#: The probe's prompt (its key is appended, so the probe's tasks are recognisable in the EvoLink dashboard).
PROBE_PROMPT = "seedream idempotency probe: a plain grey square"

_KEY_SYNTAX = re.compile(r"[!-~]{1,255}")  # visible ASCII, no spaces: any header-safe token

SupportState = Literal["supported", "not_supported", "unproven"]


def new_key() -> str:
    """A fresh key in the vendor's format: ``run_`` and 32 hex digits (128 random bits)."""
    return KEY_PREFIX + secrets.token_hex(16)


def check_key(value: object) -> str:
    """``value`` if it can be sent as an ``Idempotency-Key`` header, else :class:`RequestValidationError`."""
    if not isinstance(value, str) or _KEY_SYNTAX.fullmatch(value) is None:
        raise RequestValidationError(
            "idempotency_key", value, "must be 1-255 visible ASCII characters without spaces (e.g. new_key())"
        )
    return value


def body_digest(body: Mapping[str, Any]) -> str:
    """The same JSON document, the same digest (key order does not matter): tells a stored request intact."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class IdempotencySupport:
    """What is known about a base URL's ``Idempotency-Key`` support; only ``supported`` allows replays.

    ``state``: ``supported``, ``not_supported`` or ``unproven`` (never probed). ``evidence`` says what the
    probe saw (task ids, the replay header); ``checked_at`` is the probe's unix time (None when unproven).
    """

    base_url: str
    state: SupportState = "unproven"
    evidence: str = "never probed: run `seedream idempotency probe` (costs one image)"
    checked_at: float | None = None

    @property
    def established(self) -> bool:
        return self.state == "supported"

    def to_dict(self) -> dict[str, Any]:
        return {
            "base_url": self.base_url,
            "state": self.state,
            "evidence": self.evidence,
            "checked_at": self.checked_at,
        }


def judge_probe(key: str, first: str, second: str, replayed: bool) -> tuple[SupportState, str]:
    """The verdict on a probe: the task ids of its two answers under ``key``, and the second's replay header."""
    if first == second and replayed:
        return "supported", f"key {key}: both answers named task {first}; the second carried {REPLAYED_HEADER}: true"
    if first == second:
        return "not_supported", (
            f"key {key}: both answers named task {first}, but the second lacked {REPLAYED_HEADER}: true "
            "(not the documented replay)"
        )
    return "not_supported", f"key {key}: the second POST created another task ({first}, then {second}): both charged"


def replay_blocker(
    *, key: str | None, stored_digest: str | None, params: Mapping[str, Any], intent_at: float, now: float | None = None
) -> str | None:
    """Why a ledger row's request cannot be replayed with its key, or None when it can."""
    if not key:
        return "its request carried no Idempotency-Key (sent by an older seedream)"
    age = (time.time() if now is None else now) - intent_at
    if age >= REPLAYABLE_KEY_AGE_SECONDS:
        return (
            f"its key is {age / 3600:.1f} h old, past the {REPLAYABLE_KEY_AGE_SECONDS / 3600:.0f} h the gateway is "
            "assumed to remember it: a replay could create a second task"
        )
    if stored_digest is None or body_digest(params) != stored_digest:
        return "the ledger holds its request redacted (URL query strings), not as sent: it cannot be repeated exactly"
    return None
