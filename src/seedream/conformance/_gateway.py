"""The one door of the stateful phase: every request schemathesis sends passes the spend guard on the wire.

schemathesis sends requests of its own besides each step's case: the checks'
probes (``ignored_auth`` without and with a wrong key), control requests, the
retries of auth inference. They take neither the step's session nor its hooks
(a probe drops the session it was given), and the headers a step's case holds
are not the ones that leave (the call's own headers and the auth provider win),
so a guard asked about the case judged a request that was never sent: run
against a stand-in with ``--allow-spend 3``, 13 to 16 tasks were created.

:class:`GuardedGateway` is a WSGI application set as the stateful schema's
``app``: schemathesis then reaches the server *only* through it, for the steps
and for every request of every check. It sees each request as it would go out
(method, path, final headers, body bytes), asks :class:`SpendGuard` before
forwarding it, and tells the guard the answer. A refused request is not sent:
:class:`SpendRefused` is raised to the caller (the state machine drops that
scenario).
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

__all__ = ["GuardedGateway", "SpendRefused"]

# Hop-by-hop and framing headers: set again by whoever sends the next hop.
_NOT_FORWARDED = {"connection", "keep-alive", "transfer-encoding", "te", "upgrade", "host", "content-length"}
_NOT_RETURNED = _NOT_FORWARDED | {"content-encoding"}  # httpx hands over the decoded body


class SpendRefused(Exception):
    """The spend guard refused a request before it was sent (the cap is spent, or the guard tripped)."""


def _json(body: bytes) -> Any:
    """The body as the guard judges it: parsed JSON, else None (a body that does not parse cannot be billed)."""
    try:
        return json.loads(body) if body else None
    except ValueError:
        return None


class GuardedGateway:
    """A WSGI app forwarding each request to ``origin`` (or ``asgi_app``) once ``guard`` admits it.

    ``sent`` and ``refused`` count requests by ``"METHOD path"``.
    """

    def __init__(self, guard: Any, *, origin: str | None = None, asgi_app: Any = None, timeout: float = 60.0) -> None:
        if (origin is None) == (asgi_app is None):
            raise ValueError("GuardedGateway: give exactly one of origin (a URL) and asgi_app")
        self.guard = guard
        self.sent: Counter[str] = Counter()
        self.refused: Counter[str] = Counter()
        self._asgi_app = asgi_app
        self._client: httpx.Client | None = None
        if origin is not None:
            parts = urlsplit(origin)  # the path arrives whole: schemathesis puts the base path in front of it
            self._client = httpx.Client(base_url=f"{parts.scheme}://{parts.netloc}", timeout=timeout)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        method = str(environ["REQUEST_METHOD"]).upper()
        path = quote(str(environ.get("PATH_INFO", "")), safe="/%:@!$&'()*+,;=-._~")
        target = path + (f"?{environ['QUERY_STRING']}" if environ.get("QUERY_STRING") else "")
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length > 0 else b""
        headers = {
            name[5:].replace("_", "-").title(): str(value)
            for name, value in environ.items()
            if name.startswith("HTTP_") and name[5:].replace("_", "-").lower() not in _NOT_FORWARDED
        }
        if environ.get("CONTENT_TYPE"):
            headers["Content-Type"] = str(environ["CONTENT_TYPE"])
        parsed = _json(body)
        route = f"{method} {path}"
        billable = self.guard.could_be_billed(method, path, headers, parsed)
        if not self.guard.admit(method, path, headers, parsed):
            self.refused[route] += 1
            raise SpendRefused(f"the spend guard refused {route} (billable: {billable})")
        self.sent[route] += 1
        response = self._forward(method, target, headers, body)
        self.guard.observe(method, headers, parsed, billable, response.status_code, path=path)
        content = response.content
        returned = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in _NOT_RETURNED]
        returned.append(("Content-Length", str(len(content))))
        phrase = response.reason_phrase or _phrase(response.status_code)
        start_response(f"{response.status_code} {phrase}", returned)
        return [content]

    def _forward(self, method: str, target: str, headers: dict[str, str], body: bytes) -> httpx.Response:
        if self._client is not None:
            return self._client.request(method, target, headers=headers, content=body)

        async def go() -> httpx.Response:  # the embedded simulator, in-process
            transport = httpx.ASGITransport(app=self._asgi_app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
                response = await client.request(method, target, headers=headers, content=body)
                await response.aread()
                return response

        return asyncio.run(go())


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:  # a status the stdlib does not know (a vendor's 520): still a valid status line
        return "Unknown"
