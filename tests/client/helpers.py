"""A recording stand-in for the API (httpx.MockTransport: nothing leaves the process) and spec-read bodies."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx

from seedream.testing._spec_cases import success_body

SENTINEL_KEY = "sk-SENTINEL-c3f1a9d27e6b4f08"
BASE_URL = "https://api.evolink.ai"  # the default; only ever reached through MockTransport/respx here
CREATED_BODY: dict[str, Any] = success_body("createImageGeneration")
TASK_BODY: dict[str, Any] = success_body("getTaskDetail")

Reply = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(
        status, content=json.dumps(body).encode(), headers={"content-type": "application/json", **(headers or {})}
    )


class Recorder:
    """Counts and keeps every request; answers each with ``reply`` (a response, an exception to raise, or a function).

    By default it answers a create with the spec's 200 body and a task query with the spec's task example.
    """

    def __init__(self, reply: Reply | None = None) -> None:
        self.reply = reply
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        reply = self.reply
        if reply is None:
            body = CREATED_BODY if request.method == "POST" else TASK_BODY
            return json_response(200, body)
        if isinstance(reply, Exception):
            raise reply
        if isinstance(reply, httpx.Response):
            # a fresh copy each time: a Response can only be read once
            return httpx.Response(reply.status_code, headers=reply.headers, content=reply.content)
        return reply(request)

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)

    @property
    def count(self) -> int:
        return len(self.requests)

    def sent_body(self, index: int = -1) -> Any:
        return json.loads(self.requests[index].content)
