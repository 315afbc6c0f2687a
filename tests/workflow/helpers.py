"""Scripted stand-ins for the API and the storage host (httpx.MockTransport: nothing leaves the process)."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from PIL import Image

SENTINEL_KEY = "sk-sentinel-7f3a9c2e5b1d40aa"
BASE_URL = "http://127.0.0.1:9"  # port 9 (discard): never contacted, every test here uses MockTransport
TASK_ID = "task-unified-1757165031-abcd1234"


def png_bytes(width: int = 8, height: int = 6, color: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, format="PNG")
    return buffer.getvalue()


def jpeg_bytes(width: int = 8, height: int = 6) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (10, 200, 10)).save(buffer, format="JPEG")
    return buffer.getvalue()


def task_body(
    status: str,
    *,
    task_id: str = TASK_ID,
    progress: int = 0,
    results: list[str] | None = None,
    estimated: int | None = 10,
    error: dict[str, str] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "created": 1757165031,
        "id": task_id,
        "model": "doubao-seedream-5.0-lite",
        "object": "image.generation.task",
        "progress": progress,
        "status": status,
        "task_info": {"can_cancel": status == "pending"},
        "type": "image",
    }
    if estimated is not None:
        body["task_info"]["estimated_time"] = estimated
    if results is not None:
        body["results"] = results
    if error is not None:
        body["error"] = error
    return body


Reply = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


@dataclass
class ScriptedServer:
    """Answers POSTs and GETs from scripts (the last entry repeats) and serves files by path."""

    posts: list[Reply] = field(default_factory=list)
    gets: list[Reply] = field(default_factory=list)
    files: dict[str, Reply] = field(default_factory=dict)
    requests: list[httpx.Request] = field(default_factory=list)
    on_post: Callable[[httpx.Request], None] | None = None

    def count(self, method: str, prefix: str = "") -> int:
        return sum(1 for r in self.requests if r.method == method and r.url.path.startswith(prefix))

    def _next(self, script: list[Reply], request: httpx.Request) -> httpx.Response:
        reply = script.pop(0) if len(script) > 1 else script[0]
        if isinstance(reply, Exception):
            raise reply
        if callable(reply) and not isinstance(reply, httpx.Response):
            return reply(request)
        return reply

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.method == "POST" and request.url.path == "/v1/images/generations":
            if self.on_post is not None:
                self.on_post(request)
            return self._next(self.posts, request)
        if request.method == "GET" and request.url.path.startswith("/v1/tasks/"):
            return self._next(self.gets, request)
        if request.url.path in self.files:
            return self._next([self.files[request.url.path]], request)
        return httpx.Response(404, json={"error": {"code": "not_found", "message": "no such path"}})

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handler)


def created_response(task_id: str = TASK_ID, estimated: int = 10) -> httpx.Response:
    return httpx.Response(
        200,
        json={
            "created": 1757165031,
            "id": task_id,
            "model": "doubao-seedream-5.0-lite",
            "object": "image.generation.task",
            "progress": 0,
            "status": "pending",
            "task_info": {"can_cancel": True, "estimated_time": estimated},
            "type": "image",
            "usage": {"billing_rule": "per_call", "credits_reserved": 1.8, "user_group": "default"},
        },
    )


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(
        status, content=json.dumps(body).encode(), headers={"content-type": "application/json", **(headers or {})}
    )


def error_response(status: int, code: str, headers: dict[str, str] | None = None) -> httpx.Response:
    return json_response(status, {"error": {"code": code, "message": f"simulated {code}", "type": "error"}}, headers)


class Sleeps:
    """An injected sleep that records and advances a fake monotonic clock instead of waiting."""

    def __init__(self) -> None:
        self.calls: list[float] = []
        self.now = 1000.0

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        self.now += seconds

    async def asleep(self, seconds: float) -> None:
        self(seconds)

    def clock(self) -> float:
        return self.now
