"""Everything the simulator can be told: keys, time, faults, money, and where it may connect to.

Durations are *simulated* seconds: the simulator multiplies each one by
``time_scale`` to get real seconds (``time_scale=0.01`` runs a 45-second task
in 0.45 s, and a 24-hour link lifetime in 14.4 minutes).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any, Literal
from urllib.parse import urlsplit

__all__ = ["OUTBOUND_CHOICES", "Outbound", "OutputFormat", "SimulatorConfig"]

Outbound = Literal["public", "loopback", "none"]
OutputFormat = Literal["png", "jpeg"]
OUTBOUND_CHOICES: tuple[Outbound, ...] = ("public", "loopback", "none")
_RATES = ("fault_429", "fault_5xx", "fault_drop", "fault_latency_rate", "task_failure_rate")


@dataclass(frozen=True, kw_only=True)
class SimulatorConfig:
    """How a simulator behaves. Every field has a safe default; bad values raise ``ValueError`` naming the field.

    Keys are left out of ``repr`` so a printed config never shows them.
    """

    # Bearer tokens accepted; empty accepts any non-empty token (a missing one still gets 401).
    api_keys: tuple[str, ...] = field(default=(), repr=False)
    # Keys that authenticate but may not use the model: POST answers 403 model_access_denied.
    no_access_keys: tuple[str, ...] = field(default=(), repr=False)
    # Real seconds per simulated second.
    time_scale: float = 1.0
    # Same seed + same request sequence = same ids, durations, failures, faults and images. None: random.
    seed: int | None = None
    # How long result links work after a task completes (the vendor's 24 hours).
    link_lifetime: float = 86_400.0
    # Account balance; None is unlimited. POST pre-charges ``n * credits_per_image`` and answers 402 when short;
    # a failed task's charge comes back when it fails ("Failed tasks are refunded"). GET /v1/credits reads it.
    credits: float | None = None
    # The spec's example `credits_reserved` for one image.
    credits_per_image: float = 1.8
    # Requests per key per `rate_limit_window` simulated seconds (both API routes); None is unlimited.
    rate_limit: int | None = None
    rate_limit_window: float = 60.0
    # Fault injection: the share of API requests that get each fault (0..1), rolled in this order.
    fault_latency: float = 0.0  # simulated seconds added to a request...
    fault_latency_rate: float = 1.0  # ...on this share of requests
    fault_drop: float = 0.0  # connection dropped without a response (before or after the server acted)
    fault_5xx: float = 0.0  # 500/502/503 (before or after the server acted)
    fault_429: float = 0.0  # 429 with Retry-After
    # Share of tasks that fail with a server-side code from the vendor's table.
    task_failure_rate: float = 0.0
    # Test switch: accept internal callback hosts and talk to loopback (127.0.0.0/8, ::1, localhost).
    allow_loopback: bool = False
    # Where reference fetches and callbacks may go: public hosts (+ loopback if allowed), loopback only, nowhere.
    outbound: Outbound = "public"
    # Loopback test receivers rarely speak TLS: deliver https callbacks to loopback hosts over http.
    loopback_callbacks_over_http: bool = True
    # Base of result links; None derives it from each request's Host header.
    public_base_url: str | None = None
    # `model_params.output_format` when the request gives none (assumed: the page states no default).
    default_output_format: OutputFormat = "jpeg"
    # Larger request bodies get 413.
    max_body_bytes: int = 1 << 20
    # Idempotency-Key on the generation POST (assumed from the vendor's clients, spec-facts "What the vendor's
    # own clients do"): same key + same body -> the original answer with `idempotency-replayed: true` and no
    # second charge; same key + another body -> 409 idempotency_conflict. False ignores keys (a gateway
    # without support), so a client's safe default can be tested.
    honour_idempotency_keys: bool = True
    # How long a key is remembered, from its first request (simulated seconds; 24 hours).
    idempotency_key_lifetime: float = 86_400.0

    def __post_init__(self) -> None:
        for name in ("api_keys", "no_access_keys"):
            object.__setattr__(self, name, _keys(name, getattr(self, name)))
        _positive_finite("time_scale", self.time_scale)
        _positive_finite("link_lifetime", self.link_lifetime)
        _positive_finite("rate_limit_window", self.rate_limit_window)
        _positive_finite("idempotency_key_lifetime", self.idempotency_key_lifetime)
        if not isinstance(self.honour_idempotency_keys, bool):
            raise ValueError(f"honour_idempotency_keys: True or False (got {self.honour_idempotency_keys!r})")
        _non_negative_finite("credits_per_image", self.credits_per_image)
        _non_negative_finite("fault_latency", self.fault_latency)
        if self.credits is not None:
            _non_negative_finite("credits", self.credits)
        for name in _RATES:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
                raise ValueError(f"{name}: a rate between 0 and 1 (got {value!r})")
        if self.seed is not None and (isinstance(self.seed, bool) or not isinstance(self.seed, int)):
            raise ValueError(f"seed: an integer or None (got {self.seed!r})")
        if self.rate_limit is not None and (
            isinstance(self.rate_limit, bool) or not isinstance(self.rate_limit, int) or self.rate_limit < 1
        ):
            raise ValueError(f"rate_limit: a positive integer or None (got {self.rate_limit!r})")
        if self.outbound not in OUTBOUND_CHOICES:
            raise ValueError(f"outbound: one of {', '.join(OUTBOUND_CHOICES)} (got {self.outbound!r})")
        if self.default_output_format not in ("png", "jpeg"):
            raise ValueError(f"default_output_format: png or jpeg (got {self.default_output_format!r})")
        if isinstance(self.max_body_bytes, bool) or not isinstance(self.max_body_bytes, int) or self.max_body_bytes < 1:
            raise ValueError(f"max_body_bytes: a positive integer (got {self.max_body_bytes!r})")
        if self.public_base_url is not None:
            parts = urlsplit(self.public_base_url)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ValueError(f"public_base_url: an http(s) URL (got {self.public_base_url!r})")
            object.__setattr__(self, "public_base_url", self.public_base_url.rstrip("/"))

    @classmethod
    def for_tests(cls, **overrides: Any) -> SimulatorConfig:
        """A config for test suites: key ``sk-test``, 100x time, seed 0, loopback only, never the internet."""
        base: dict[str, Any] = {
            "api_keys": ("sk-test",),
            "time_scale": 0.01,
            "seed": 0,
            "allow_loopback": True,
            "outbound": "loopback",
        }
        return cls(**(base | overrides))

    def replace(self, **changes: Any) -> SimulatorConfig:
        return replace(self, **changes)

    def real_seconds(self, simulated: float) -> float:
        return simulated * self.time_scale


def _keys(name: str, value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        value = (value,)
    if not isinstance(value, (tuple, list, set, frozenset)):
        raise ValueError(f"{name}: a sequence of key strings")
    keys = tuple(value)
    for key in keys:
        if not isinstance(key, str) or not key or any(c.isspace() for c in key):
            raise ValueError(f"{name}: each key a non-empty string without whitespace")
    return keys


def _positive_finite(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name}: a positive finite number (got {value!r})")


def _non_negative_finite(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise ValueError(f"{name}: a non-negative finite number (got {value!r})")
