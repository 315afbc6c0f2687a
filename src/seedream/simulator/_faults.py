"""Fault injection: per-request decisions, the per-key rate limiter, and dropping a connection.

Each API request draws its faults from its own seeded RNG (the n-th request
of a seeded simulator always meets the same faults). A dropped connection
over uvicorn really closes the socket without a response; in-process (no
socket) it raises :class:`httpx.RemoteProtocolError`, the error an httpx
client gets for the same thing on the wire.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import random
import threading
from collections import deque
from dataclasses import dataclass
from typing import Any, Literal

import httpx

from ._config import SimulatorConfig

__all__ = ["FaultPlan", "RateLimiter", "drop_connection", "header_seconds", "plan_faults"]

When = Literal["before", "after"]


@dataclass(frozen=True)
class FaultPlan:
    latency: float = 0.0  # real seconds
    drop: When | None = None
    server_error: tuple[int, When] | None = None
    throttle_after: float | None = None  # simulated seconds for Retry-After

    @property
    def any_after(self) -> bool:
        return self.drop == "after" or (self.server_error is not None and self.server_error[1] == "after")


def plan_faults(rng: random.Random, config: SimulatorConfig) -> FaultPlan:
    """Roll every knob in a fixed order (latency, drop, 5xx, 429) so a seed always gives the same plan."""
    rolls = [rng.random() for _ in range(8)]
    latency = config.real_seconds(config.fault_latency) if rolls[0] < config.fault_latency_rate else 0.0
    drop: When | None = None
    server_error: tuple[int, When] | None = None
    throttle: float | None = None
    if rolls[1] < config.fault_drop:
        drop = "before" if rolls[2] < 0.5 else "after"
    elif rolls[3] < config.fault_5xx:
        status = 500 if rolls[4] < 0.6 else (502 if rolls[4] < 0.8 else 503)
        server_error = (status, "before" if rolls[5] < 0.5 else "after")
    elif rolls[6] < config.fault_429:
        throttle = float(1 + int(rolls[7] * 5))
    return FaultPlan(
        latency=latency if latency > 0 else 0.0, drop=drop, server_error=server_error, throttle_after=throttle
    )


def header_seconds(real_seconds: float) -> str:
    """A Retry-After value: whole seconds from 1 s up; below that a decimal (scaled-down time in tests)."""
    if real_seconds >= 1:
        return str(math.ceil(real_seconds))
    return f"{max(real_seconds, 0.001):.3f}".rstrip("0").rstrip(".")


class RateLimiter:
    """A sliding window per key: at most ``limit`` requests per ``window`` real seconds."""

    def __init__(self, limit: int, window: float) -> None:
        self._limit = limit
        self._window = window
        self._lock = threading.Lock()
        self._seen: dict[str, deque[float]] = {}

    def admit(self, key: str, now: float) -> float | None:
        """None if admitted (and counted), else real seconds until a slot frees up."""
        digest = hashlib.sha256(key.encode()).hexdigest()  # no key material kept in memory maps
        with self._lock:
            seen = self._seen.setdefault(digest, deque())
            while seen and seen[0] <= now - self._window:
                seen.popleft()
            if len(seen) >= self._limit:
                return max(seen[0] + self._window - now, 0.0)
            seen.append(now)
            return None


def _transport_of(send: Any) -> asyncio.BaseTransport | None:
    # uvicorn hands the app its request cycle's bound `send`; the cycle holds the socket's transport.
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    return transport if isinstance(transport, asyncio.BaseTransport) else None


async def drop_connection(receive: Any, send: Any) -> None:
    """Close the connection without answering (raw ``send`` from the server, not a wrapper)."""
    transport = _transport_of(send)
    if transport is None:
        raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
    if isinstance(transport, asyncio.WriteTransport):
        transport.abort()
    else:
        transport.close()
    # Let the server see the disconnect, so it neither answers nor complains about a missing response.
    while True:
        message = await receive()
        if message.get("type") == "http.disconnect":
            return
