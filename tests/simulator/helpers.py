"""Shared helpers for the simulator tests: request bodies, spec checks, the loopback receiver's state."""

from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import httpx

MODEL = "doubao-seedream-5.0-lite"
KEY = "sk-test"
AUTH = {"Authorization": f"Bearer {KEY}"}


def body(prompt: str = "a lighthouse at dusk", **fields: Any) -> dict[str, Any]:
    return {"model": MODEL, "prompt": prompt, **fields}


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float  # time.monotonic() on arrival

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """Records every request; POSTs get ``script`` (ints or ``"hang"``) then ``default``; GETs get ``files``."""

    port: int = 0
    script: deque[int | str] = field(default_factory=deque)
    default: int = 200
    hang_seconds: float = 1.0
    files: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    changed: threading.Condition = field(default_factory=threading.Condition)

    def url(self, path: str = "/hook", scheme: str = "https") -> str:
        return f"{scheme}://127.0.0.1:{self.port}{path}"

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        with self.changed:
            self.changed.wait_for(lambda: len(self.received) >= count, timeout)
            return list(self.received)


def assert_matches_spec(operation_id: str, response: httpx.Response) -> dict[str, Any]:
    """The response's JSON body, after checking it against the spec's schema for its status."""
    from seedream import _spec

    validator = _spec.operation_response_validator(operation_id, response.status_code)
    assert validator is not None, f"{operation_id} does not document status {response.status_code}"
    assert response.headers["content-type"].startswith("application/json")
    data: dict[str, Any] = response.json()
    validator.validate(data)
    return data
