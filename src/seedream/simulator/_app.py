"""The ASGI application: an outer layer for what every API request meets, Starlette for the routes.

Outer layer (plain ASGI, so it holds the server's own ``send`` and can really
drop a connection), in order: counting, added latency, dropped connection or
5xx "before", 404/405 for unknown paths and methods, 401, per-key 429, random
429, the route, then a dropped connection or 5xx "after" (the server acted,
the answer was lost). Paths under ``/__simulator__/`` skip all of it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import weakref
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from .. import _spec
from . import _envelopes as R
from ._callbacks import CallbackAttempt
from ._clock import Clock, SystemClock
from ._config import SimulatorConfig
from ._engine import FILES_PATH, Simulator
from ._faults import FaultPlan, drop_connection, header_seconds, plan_faults
from ._idempotency import body_digest
from ._images import MEDIA_TYPES
from ._references import check_references
from ._state import TASK_PREFIX, reported_seconds
from ._validation import BodyRefused, Generation, read_generation

__all__ = ["SimulatorApp", "create_app"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

CREATE_ROUTE = "POST /v1/images/generations"
TASK_ROUTE = "GET /v1/tasks/{task_id}"
BATCH_ROUTE = "POST /v1/tasks/batch"
LIST_ROUTE = "GET /v1/tasks"
CREDITS_ROUTE = "GET /v1/credits"
MAX_BATCH_IDS = 50  # spec-facts: "at most 50 ids"
REPLAYED_HEADER = "idempotency-replayed"
FILES_ROUTE = "GET /__simulator__/files/{name}"
_KEY_SCOPE = "seedream.simulator.key"
_NO_FAULTS = FaultPlan()
_log = logging.getLogger("seedream.simulator")


def _classify(path: str) -> tuple[str, tuple[str, ...]] | None:
    if path == "/v1/images/generations":
        return CREATE_ROUTE, ("POST",)
    if path == "/v1/tasks/batch":
        return BATCH_ROUTE, ("POST",)
    if path == "/v1/tasks":
        return LIST_ROUTE, ("GET", "HEAD")
    if path == "/v1/credits":
        return CREDITS_ROUTE, ("GET", "HEAD")
    if path.startswith("/v1/tasks/"):
        return TASK_ROUTE, ("GET", "HEAD")
    return None


class SimulatorApp:
    """The simulator as an ASGI application (``httpx.ASGITransport(app)``, uvicorn, schemathesis).

    ``counters()``, ``callback_attempts()``, ``wait_callbacks()`` and ``clock``
    are for tests; ``close()`` (or ``with``) stops callback deliveries.
    """

    def __init__(self, config: SimulatorConfig | None = None, *, clock: Clock | None = None) -> None:
        self.config = config if config is not None else SimulatorConfig()
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.simulator = Simulator(self.config, self.clock)
        self._routes = _build_routes(self.simulator)
        cfg = self.config
        # Without fault knobs there is nothing to draw: skip the per-request RNG (the hot path).
        self._faulty = bool(
            (cfg.fault_latency and cfg.fault_latency_rate) or cfg.fault_drop or cfg.fault_5xx or cfg.fault_429
        )
        self._finalizer = weakref.finalize(self, self.simulator.close)

    # -- public helpers ------------------------------------------------------

    def counters(self) -> dict[str, Any]:
        """The same data as ``GET /__simulator__/counters``."""
        return self.simulator.snapshot()

    def callback_attempts(self) -> list[CallbackAttempt]:
        return self.simulator.callback_attempts()

    def wait_callbacks(self, timeout: float | None = None) -> bool:
        """Block until every scheduled callback delivery has finished; False on timeout."""
        return self.simulator.callbacks.wait_idle(timeout)

    def close(self) -> None:
        self._finalizer()

    def __enter__(self) -> SimulatorApp:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- ASGI ----------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._routes(scope, receive, send)
            return
        path, method = scope["path"], scope["method"]
        counters = self.simulator.counters
        if path.startswith("/__simulator__/") and not path.startswith(FILES_PATH):
            await self._routes(scope, receive, send)
            return
        classified = _classify(path)
        if classified is None and not path.startswith(FILES_PATH):
            counters.request(f"{method} (unmatched)", 404)
            response = R.error_response(404, "not_found", f"No route {method} {path}", "invalid_request_error")
            await _send(response, scope, receive, send)
            return
        route = classified[0] if classified else FILES_ROUTE
        status: list[int] = []

        async def counting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                # Counted before the answer leaves, so a client that has its answer sees it counted.
                status.append(message["status"])
                counters.request(route, message["status"])
            await send(message)

        try:
            if classified is None:
                await self._routes(scope, receive, counting_send)  # result files: no faults, no auth
            else:
                await self._api(scope, receive, send, counting_send, classified[1])
        finally:
            if not status:
                counters.request(route, "dropped")

    async def _api(self, scope: Scope, receive: Receive, raw_send: Send, send: Send, methods: tuple[str, ...]) -> None:
        plan = plan_faults(self.simulator.request_rng(), self.config) if self._faulty else _NO_FAULTS
        counters = self.simulator.counters
        if plan.latency:
            counters.add("faults.latency")
            await asyncio.sleep(plan.latency)
        if plan.drop == "before":
            counters.add("faults.drop_before")
            await drop_connection(receive, raw_send)
            return
        if plan.server_error and plan.server_error[1] == "before":
            counters.add("faults.5xx_before")
            await _send(self._server_error(plan.server_error[0]), scope, receive, send)
            return
        refusal = self._refusal(scope, methods, plan)
        if refusal is not None:
            await _send(refusal, scope, receive, send)
            return
        if not plan.any_after:
            await self._routes(scope, receive, send)
            return

        async def swallow(message: Message) -> None:
            pass  # the server acted; its answer is lost

        await self._routes(scope, receive, swallow)
        if plan.drop == "after":
            counters.add("faults.drop_after")
            await drop_connection(receive, raw_send)
            return
        assert plan.server_error is not None
        counters.add("faults.5xx_after")
        await _send(self._server_error(plan.server_error[0]), scope, receive, send)

    def _refusal(self, scope: Scope, methods: tuple[str, ...], plan: FaultPlan) -> Response | None:
        """405, 401, the per-key 429 or an injected 429, in that order; None lets the request through."""
        if scope["method"] not in methods:
            allow = ", ".join(methods)
            message = f"{scope['method']} is not allowed here; use {allow}"
            return R.error_response(
                405, "method_not_allowed", message, "invalid_request_error", headers={"allow": allow}
            )
        authorization = next((v for k, v in _headers(scope) if k == "authorization"), None)
        key = self.simulator.authenticate(authorization)
        if key is None:
            return R.error_response(401, *R.UNAUTHORIZED, headers={"www-authenticate": "Bearer"})
        wait = self.simulator.admit(key)
        if wait is not None:
            self.simulator.counters.add("faults.rate_limited")
            return R.error_response(429, *R.RATE_LIMITED, headers={"retry-after": header_seconds(wait)})
        if plan.throttle_after is not None:
            self.simulator.counters.add("faults.429")
            retry_after = header_seconds(self.config.real_seconds(plan.throttle_after))
            return R.error_response(429, *R.RATE_LIMITED, headers={"retry-after": retry_after})
        scope[_KEY_SCOPE] = key
        return None

    def _server_error(self, status: int) -> Response:
        if status == 502:
            return Response(R.BAD_GATEWAY_HTML, status_code=502, media_type="text/html")
        if status == 503:
            return R.error_response(
                503, *R.SERVICE_UNAVAILABLE, headers={"retry-after": header_seconds(self.config.real_seconds(2))}
            )
        return R.error_response(500, *R.INTERNAL_ERROR)


def create_app(config: SimulatorConfig | None = None, *, clock: Clock | None = None) -> SimulatorApp:
    """A simulator as an ASGI app. ``clock`` defaults to real time (tests pass a :class:`ManualClock`)."""
    return SimulatorApp(config, clock=clock)


async def _send(response: Response, scope: Scope, receive: Receive, send: Send) -> None:
    await response(scope, receive, send)


def _headers(scope: Scope) -> list[tuple[str, str]]:
    return [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in scope.get("headers", [])]


# host[:port] as a Host header may carry it: a registered name, or an IP literal in brackets.
_NETLOC = re.compile(r"(?:[A-Za-z0-9._~%!$&'()*+,;=-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?")


def _base_url(request: Request) -> str | None:
    """Where the request reached us (the base of result links), or None if its Host header is not a host."""
    base = str(request.base_url).rstrip("/")
    try:
        parts = urlsplit(base)
        port = parts.port
    except ValueError:
        return None
    if not _NETLOC.fullmatch(parts.netloc) or not parts.hostname or port == 0:
        return None
    return base


def _decimal(text: str) -> int | None:
    """A query integer: ASCII digits only (no sign, spaces or underscores); any size the spec allows."""
    if not (text.isascii() and text.isdigit()) or len(text) > 4000:  # int()'s digit limit is 4300
        return None
    return int(text)


# -- routes ----------------------------------------------------------------------


def _build_routes(sim: Simulator) -> Starlette:
    config = sim.config
    list_parameters = _spec.query_parameters("/v1/tasks")

    async def read_body(request: Request) -> bytes | Response:
        """The body, or the answer for one too large (413) or never sent (499)."""
        raw = b""
        try:
            async for chunk in request.stream():
                raw += chunk
                if len(raw) > config.max_body_bytes:
                    return R.error_response(
                        413,
                        "request_too_large",
                        f"request body exceeds {config.max_body_bytes} bytes",
                        "invalid_request_error",
                    )
        except ClientDisconnect:
            # The client hung up before its body was read (its timeout during an added latency): nothing was
            # created and nobody listens; 499 (nginx's "client closed request") is what the counters record.
            return Response(status_code=499)
        return raw

    async def create_generation(request: Request) -> Response:
        raw = await read_body(request)
        if isinstance(raw, Response):
            return raw
        try:
            generation = read_generation(raw, allow_internal_callbacks=config.allow_loopback)
        except BodyRefused as exc:
            return R.error_response(400, "invalid_request", exc.message, "invalid_request_error", param=exc.param)
        except Exception:  # input-driven by construction: nothing has been charged or created yet
            # Every value validation passes is one read_generation can read; landing here is a simulator bug.
            # It is counted and logged, and still answered as what it is: a body this simulator cannot accept.
            sim.counters.add("errors.unreadable_body")
            _log.exception("simulator bug: a body that passed validation could not be read")
            return R.error_response(
                400, "invalid_request", "request body: could not be interpreted", "invalid_request_error"
            )
        idempotency_key = request.headers.get("idempotency-key") or None  # any non-empty value is a key
        if idempotency_key is not None and not config.honour_idempotency_keys:
            sim.counters.add("idempotency.ignored")
            idempotency_key = None
        base_url = _base_url(request)
        if base_url is None:
            return R.error_response(400, *R.BAD_HOST)
        key = request.scope[_KEY_SCOPE]
        if not sim.has_model_access(key):
            return R.error_response(403, *R.MODEL_ACCESS_DENIED)
        if idempotency_key is not None:
            claim = sim.idempotency.claim(key, idempotency_key, body_digest(raw), sim.clock.monotonic())
            if claim.outcome == "conflict":
                sim.counters.add("idempotency.conflicts")
                return R.error_response(409, *R.IDEMPOTENCY_CONFLICT, param="Idempotency-Key")
            if claim.outcome == "in_progress":
                sim.counters.add("idempotency.in_progress")
                return R.error_response(409, *R.IDEMPOTENCY_IN_PROGRESS, param="Idempotency-Key")
            if claim.outcome == "replay":
                sim.counters.add("idempotency.replayed")
                return R.json_response(claim.answer, headers={REPLAYED_HEADER: "true"})
        answer = None
        try:
            answer = await _create(request, generation, base_url=base_url, key=key)
        finally:
            if idempotency_key is not None:  # remembered only if a task was created
                sim.idempotency.finish(key, idempotency_key, answer)
        if answer is None:
            # The 402 details EvoLink documents for sibling models (spec-facts "Error envelope variations").
            details = {"estimated_credits": _cost(generation), "account_balance_credits": sim.credits_remaining}
            return R.json_response({"error": {**R.error_body(*R.INSUFFICIENT_QUOTA)["error"], "details": details}}, 402)
        return R.json_response(answer)

    def _cost(generation: Generation) -> float:
        return round(generation.n * config.credits_per_image, 6)

    async def _create(request: Request, generation: Generation, *, base_url: str, key: str) -> dict[str, Any] | None:
        """Charge and create the task; its answer body, or None when the balance is short (nothing created)."""
        cost = _cost(generation)
        if not sim.charge(cost, key):
            return None
        try:
            failure = None
            if generation.image_urls:
                reader = sim.own_file_reader(request.base_url.netloc)
                failure = await check_references(
                    generation.image_urls, config=config, counters=sim.counters, own_file=reader
                )
            task = sim.create_task(generation, base_url=base_url, reference_failure=failure, cost=cost, key=key)
        except BaseException:
            sim.refund(cost, key)  # nothing was created: a 500 (a bug) or a cancelled request never keeps the money
            raise
        return {
            "created": task.created,
            "id": task.id,
            "model": task.model,
            "object": "image.generation.task",
            "progress": 0,
            "status": "pending",
            "task_info": {"can_cancel": True, "estimated_time": reported_seconds(task, config)},
            "type": "image",
            "usage": {"billing_rule": "per_call", "credits_reserved": cost, "user_group": "default"},
        }

    async def batch_tasks(request: Request) -> Response:
        raw = await read_body(request)
        if isinstance(raw, Response):
            return raw
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError, RecursionError):
            data = None
        ids = data.get("task_ids") if isinstance(data, dict) else None
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            return R.error_response(
                400, "invalid_request", "task_ids: a list of task id strings", "invalid_request_error", param="task_ids"
            )
        if len(ids) > MAX_BATCH_IDS:
            message = f"task_ids: at most {MAX_BATCH_IDS} ids (got {len(ids)})"
            return R.error_response(400, "invalid_request", message, "invalid_request_error", param="task_ids")
        base_url = _base_url(request)
        if base_url is None:
            return R.error_response(400, *R.BAD_HOST)
        tasks = sim.find_tasks(ids)  # unknown (and other accounts') ids are simply absent
        sim.counters.add("batch.ids_requested", len(ids))
        sim.counters.add("batch.ids_found", len(tasks))
        return R.json_response({"data": [sim.task_body(task, base_url=base_url) for task in tasks]})

    async def list_tasks(request: Request) -> Response:
        query = request.query_params
        values: dict[str, Any] = {}
        for name, parameter in list_parameters.items():  # the spec's rules, as the client checks them
            text = query.get(name)
            if text is None:
                values[name] = parameter.default
                continue
            value = _decimal(text) if parameter.is_integer else text
            rule = parameter.violation(value)
            if rule is not None:
                return R.error_response(400, "invalid_request", f"{name}: {rule}", "invalid_request_error", param=name)
            values[name] = value
        body = sim.list_tasks(
            page=values["page"],
            page_size=values["page_size"],
            status=values["status"],
            type_=values["type"],
            model=values["model"],
        )
        return R.json_response(body)

    async def credits(request: Request) -> Response:
        return R.json_response(sim.credits_body(request.scope[_KEY_SCOPE]))

    async def get_task(request: Request) -> Response:
        task_id = request.path_params["task_id"]
        if not task_id.startswith(TASK_PREFIX):
            return R.error_response(400, *R.INVALID_TASK_ID, param="task_id")
        base_url = _base_url(request)
        if base_url is None:
            return R.error_response(400, *R.BAD_HOST)
        task = sim.get_task(task_id)
        if task is None:
            return R.error_response(404, *R.TASK_NOT_FOUND)
        return R.json_response(sim.task_body(task, base_url=base_url))

    async def get_file(request: Request) -> Response:
        entry, state = sim.file(request.path_params["name"])
        if state == "expired":
            sim.counters.add("files.expired")
            return Response(R.EXPIRED_LINK_XML, status_code=403, media_type="application/xml")
        if entry is None or state != "ok":
            return Response(R.NO_SUCH_KEY_XML, status_code=404, media_type="application/xml")
        data = await run_in_threadpool(sim.file_bytes, entry)
        sim.counters.add("files.served")
        return Response(data, media_type=MEDIA_TYPES[entry.fmt], headers={"cache-control": "private, max-age=86400"})

    async def counters(request: Request) -> Response:
        return R.json_response(sim.snapshot())

    async def health(request: Request) -> Response:
        return R.json_response({"status": "ok"})

    async def openapi(request: Request) -> Response:
        return R.json_response(_spec.load_spec())

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "invalid_request")
        return R.error_response(exc.status_code, code, str(exc.detail), "invalid_request_error", headers=exc.headers)

    async def server_error(request: Request, exc: Exception) -> Response:
        return R.error_response(500, *R.INTERNAL_ERROR)

    app = Starlette(
        routes=[
            Route("/v1/images/generations", create_generation, methods=["POST"]),
            Route("/v1/tasks/batch", batch_tasks, methods=["POST"]),
            Route("/v1/tasks", list_tasks, methods=["GET"]),
            Route("/v1/credits", credits, methods=["GET"]),
            Route("/v1/tasks/{task_id:path}", get_task, methods=["GET"]),
            Route(FILES_PATH + "{name}", get_file, methods=["GET"]),
            Route("/__simulator__/counters", counters, methods=["GET"]),
            Route("/__simulator__/health", health, methods=["GET"]),
            Route("/__simulator__/openapi.json", openapi, methods=["GET"]),
        ],
        exception_handlers={HTTPException: http_error, Exception: server_error},
    )
    app.router.redirect_slashes = False
    return app
