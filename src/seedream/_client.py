"""The guarded, single-attempt client (``SeedreamAPI`` / ``AsyncSeedreamAPI``): what both share.

One exchange per call, no retries: retrying, waiting for a task and
downloading live in the high-level ``Seedream`` client (``_retry``,
``_polling``, ``_workflow``), which decides what is safe to repeat. This layer
guarantees that

- nothing invalid leaves the process: every body is checked against the
  spec's constraints (generated validators) and the prose rules
  (``_rules``) before any HTTP request, else :class:`RequestValidationError`;
- every request carries ``Authorization: Bearer <key>`` and our
  ``User-Agent``, whichever ``httpx`` client or transport is used, and a finite
  timeout (connect 10 s, read/write/pool 120 s unless told otherwise);
- ``timeout`` bounds the *whole* call, body included, whatever the server
  does (a :class:`~seedream._deadline.Deadline`: a server dripping one byte a
  second or stalling gets :class:`APITimeoutError` naming it), and an answer's
  decoded size is capped while it streams (``max_answer_bytes``, 1 MiB: a
  gzip bomb is refused after 1 MiB of output, not parsed);
- every answer becomes a generated model or an exception of the one tree
  (``_errors``); transport failures say whether the request can have left.

The sync and async classes share everything but the lines that do I/O (``_Base`` here);
those are written once, in ``seedream/_async/_api.py``, and generated into ``seedream/_sync/_api.py``.
"""

from __future__ import annotations

import json
import platform
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _dist_version
from typing import Any

import httpx
from seedream_client.models import (
    CreditsResponse,
    ImageGenerationRequestModel,
    ImageGenerationResponse,
    TaskDetailResponse,
    TaskListResponse,
)
from seedream_client.types import quote_segment

from ._answers import (
    ACCEPT_ENCODING,
    MAX_BATCH_IDS,
    TaskBatch,
    parse_batch_response,
    parse_create_response,
    parse_credits_response,
    parse_list_response,
    parse_task_response,
)
from ._deadline import Deadline
from ._drift import BATCH, CREATE, CREDITS, LIST, TASK, DriftMonitor
from ._errors import (
    APIConnectionError,
    APITimeoutError,
    ConfigurationError,
    RequestValidationError,
    error_for_status,
)
from ._idempotency import IDEMPOTENCY_HEADER, REPLAYED_HEADER, RUN_ID_HEADER, check_key, new_key
from ._redaction import register_secret, scrub_exception
from ._rules import validate_request
from ._settings import DEFAULT_TIMEOUT, resolve_base_url, resolve_key, resolve_timeout, total_seconds
from ._spec import QueryParameter, query_parameters

__all__ = [
    "USER_AGENT",
    "CreateAnswer",
    "TimeoutLike",
]

CREATE_PATH = "/v1/images/generations"
TASK_PATH = "/v1/tasks/"
LIST_PATH = "/v1/tasks"
CREDITS_PATH = "/v1/credits"
BATCH_PATH = "/v1/tasks/batch"

TimeoutLike = float | httpx.Timeout

_MODEL = ImageGenerationRequestModel.DOUBAO_SEEDREAM_5_0_LITE.value


@dataclass(frozen=True)
class CreateAnswer:
    """A generation POST's answer with what the headers said: the key it carried, whether it was a replay.

    ``replayed``: the answer carried ``idempotency-replayed: true`` (the original answer to an earlier request
    with the same ``idempotency_key``; no second task was created).
    """

    response: ImageGenerationResponse
    idempotency_key: str
    replayed: bool


def _package_version() -> str:
    try:
        return _dist_version("seedream")
    except PackageNotFoundError:  # running from a source tree without installing
        return "0+unknown"


USER_AGENT = f"seedream/{_package_version()} (python {platform.python_version()}; httpx {httpx.__version__})"

# One encoder, built once: ``json.dumps(..., separators=...)`` builds a new one per call.
_encode_utf8 = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode


class _Secret:
    """Holds the key; its repr never shows it (debuggers, ``vars()``, tracebacks with locals)."""

    __slots__ = ("value",)

    def __init__(self, value: str) -> None:
        self.value = value

    def __repr__(self) -> str:
        return "'***'"


def _plain(value: Any) -> Any:
    """Enum members (``ImageGenerationRequestQuality.TWO_K``) as their wire value; plain strings as they are."""
    return value.value if isinstance(value, Enum) else value


def _encode(body: Mapping[str, Any]) -> bytes:
    # The json-text rule has refused surrogates and non-finite numbers already; this is the last net.
    try:
        return _encode_utf8(body).encode("utf-8")
    except (TypeError, ValueError, RecursionError) as exc:
        raise RequestValidationError("(body)", body, f"must be JSON-serialisable ({exc})") from None


def _checked_id(task_id: object, field: str) -> str:
    if not isinstance(task_id, str) or not task_id.strip():
        raise RequestValidationError(field, task_id, "a non-empty string (the id returned by create_generation)")
    return task_id


def _task_path(task_id: object) -> str:
    return TASK_PATH + quote_segment(_checked_id(task_id, "task_id"))


def _batch_ids(task_ids: object) -> list[str]:
    """The ids of one batch query, each checked as ``get_task`` checks its id; repeats asked once."""
    if isinstance(task_ids, (str, bytes)) or not isinstance(task_ids, Sequence):
        raise RequestValidationError("task_ids", task_ids, "type: must be a list of task id strings, not one string")
    ids = list(dict.fromkeys(_checked_id(task_id, f"task_ids[{i}]") for i, task_id in enumerate(task_ids)))
    if not ids:
        raise RequestValidationError("task_ids", task_ids, "minItems: at least one task id")
    if len(ids) > MAX_BATCH_IDS:
        raise RequestValidationError(
            "task_ids", f"{len(ids)} ids", f"maxItems: at most {MAX_BATCH_IDS} ids per request (split the list)"
        )
    return ids


def _query_value(name: str, value: object) -> str:
    """``value`` as its query-string text, checked against the spec's rule for it; else RequestValidationError.

    Beyond the spec, a blank string filter is refused as the caller's mistake (it would match nothing)."""
    value = _plain(value)
    parameter = query_parameters(LIST_PATH).get(name) or QueryParameter(name, {"type": "string"})
    rule = parameter.violation(value)
    if rule is None and isinstance(value, str) and not value.strip():
        rule = "a non-empty string"
    if rule is not None:
        raise RequestValidationError(name, value, f"must be {rule} (spec: GET {LIST_PATH})")
    return str(value)


class _Base:
    """Configuration, body building, request building and error mapping: everything but the I/O."""

    _http: httpx.Client | httpx.AsyncClient

    def __init__(
        self,
        api_key: str | None,
        base_url: str | None,
        timeout: TimeoutLike | None,
        allow_internal_callbacks: bool,
        max_answer_bytes: int,
    ) -> None:
        key = resolve_key(api_key)
        self._key = _Secret(key)
        register_secret(key)  # from now on no exception, log record, ledger row or CLI line of this process shows it
        self.base_url = resolve_base_url(base_url)
        self.timeout = DEFAULT_TIMEOUT if timeout is None else resolve_timeout(timeout, "timeout")
        self._timeout_ext = self.timeout.as_dict()
        self._total = total_seconds(self.timeout)
        if isinstance(max_answer_bytes, bool) or not isinstance(max_answer_bytes, int) or max_answer_bytes < 1:
            raise ConfigurationError(f"max_answer_bytes must be a positive integer, got {max_answer_bytes!r}")
        self.max_answer_bytes = max_answer_bytes
        self.allow_internal_callbacks = bool(allow_internal_callbacks)
        self._create_url = httpx.URL(self.base_url + CREATE_PATH)
        self._batch_url = httpx.URL(self.base_url + BATCH_PATH)
        # Sent with every request, over whatever the httpx client has (httpx.Headers masks the key in repr).
        self._auth = httpx.Headers(
            {
                "Authorization": f"Bearer {key}",
                "User-Agent": USER_AGENT,
                "Accept": "application/json",
                "Accept-Encoding": ACCEPT_ENCODING,  # what _answers decodes (httpx adds br/zstd when installed)
            }
        )
        self._own = True
        self._get_headers = self._auth
        self._post_headers = self._auth
        #: Judges every answer against the spec and records drift (``seedream._drift``); None turns it off.
        self.drift_monitor: DriftMonitor | None = DriftMonitor()

    @property
    def _redact(self) -> tuple[str, ...]:
        return (self._key.value,)

    def _adopt(self, own: bool) -> None:
        """Precompute the headers of every request (for a client we built, its defaults too: they never change)."""
        self._own = own
        self._get_headers = httpx.Headers(self._http.headers if own else None)
        self._get_headers.update(self._auth)
        if own:  # every URL we call is on the base URL's host
            self._get_headers["Host"] = self._create_url.netloc.decode("ascii")
        self._post_headers = self._get_headers.copy()
        self._post_headers["Content-Type"] = "application/json"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r}, timeout={self.timeout!r}, api_key='***')"

    # -- bodies ---------------------------------------------------------------------------------

    def build_body(
        self,
        prompt: str,
        *,
        n: int | None = None,
        size: str | None = None,
        quality: str | None = None,
        image_urls: Sequence[str] | None = None,
        output_format: str | None = None,
        web_search: bool = False,
        callback_url: str | None = None,
        prompt_priority: str | None = None,
        extra_body: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The validated wire body for a generation request; :class:`RequestValidationError` otherwise.

        Enum fields take plain strings (``quality="2K"``, ``size="16:9"``) or
        the generated enum members. ``extra_body`` adds fields the spec does not
        know (they are sent as given); it may not repeat a field given here.
        """
        body: dict[str, Any] = {"model": _MODEL, "prompt": prompt}
        if n is not None:
            body["n"] = int(n) if type(n) is float and n.is_integer() else n
        if size is not None:
            body["size"] = _plain(size)
        if quality is not None:
            body["quality"] = _plain(quality)
        if prompt_priority is not None:
            body["prompt_priority"] = _plain(prompt_priority)
        if image_urls is not None:
            if isinstance(image_urls, (str, bytes)):
                raise RequestValidationError(
                    "image_urls", image_urls, "type: must be an array of URIs, not a single string"
                )
            body["image_urls"] = list(image_urls) if isinstance(image_urls, (list, tuple)) else image_urls
        if output_format is not None or web_search:
            if not isinstance(web_search, bool):
                raise RequestValidationError("web_search", web_search, "type: must be a boolean")
            params: dict[str, Any] = {}
            if output_format is not None:
                params["output_format"] = _plain(output_format)
            if web_search:
                params["tools"] = [{"type": "web_search"}]
            body["model_params"] = params
        if callback_url is not None:
            body["callback_url"] = callback_url
        if extra_body:
            if not isinstance(extra_body, Mapping):
                raise RequestValidationError("extra_body", extra_body, "type: must be a mapping of extra fields")
            for key, value in extra_body.items():
                if key in body:
                    raise RequestValidationError(
                        f"extra_body.{key}", value, "already set by a keyword argument (or the fixed model)"
                    )
                body[key] = value
        validate_request(body, allow_internal_callbacks=self.allow_internal_callbacks)
        return body

    @staticmethod
    def list_query(
        *,
        page: int | None = None,
        page_size: int | None = None,
        status: str | None = None,
        type_: str | None = None,
        model: str | None = None,
    ) -> dict[str, str]:
        """The checked query of ``GET /v1/tasks`` (rules read from the spec); :class:`RequestValidationError` else.

        None leaves a parameter out (the server's default: page 1, 20 per page, no filter).
        """
        given = {"page": page, "page_size": page_size, "status": status, "type": type_, "model": model}
        return {name: _query_value(name, value) for name, value in given.items() if value is not None}

    def _checked(self, body: object) -> bytes:
        if not isinstance(body, Mapping):
            raise RequestValidationError("(body)", body, "type: must be an object")
        validate_request(body, allow_internal_callbacks=self.allow_internal_callbacks)
        return _encode(body)

    # -- requests -------------------------------------------------------------------------------

    def _deadline(self, timeout: TimeoutLike | None) -> tuple[Deadline, dict[str, Any]]:
        """The whole call's deadline and the request's per-phase timeouts, each cut to it."""
        if timeout is None:
            phases, total, what = self._timeout_ext, self._total, "the client's timeout"
        else:
            given = resolve_timeout(timeout, "timeout")
            phases, total, what = given.as_dict(), total_seconds(given), "timeout="
        deadline = Deadline(total, what)
        return deadline, {"timeout": deadline.timeouts(phases)}

    def _request(self, method: str, url: httpx.URL, content: bytes | None, extensions: dict[str, Any]) -> httpx.Request:
        http = self._http
        if self._own:
            # Our own client: its defaults are already in the precomputed headers.
            headers = (self._get_headers if content is None else self._post_headers).copy()
        elif not http.cookies and not http.params:
            # A caller's client: its current default headers, ours on top (it may change them between calls).
            headers = http.headers.copy()
            headers.update(self._get_headers if content is None else self._post_headers)
            headers["Host"] = url.netloc.decode("ascii")
        else:
            # A caller's client with cookies or default query parameters: httpx's own merge.
            request = http.build_request(
                method, url, headers=self._get_headers if content is None else self._post_headers, content=content
            )
            request.extensions["timeout"] = extensions["timeout"]
            return request
        # Built directly: httpx's generic path (merge, re-normalise, encode) costs ~10 us per call; this ~2 us.
        if content is None:
            content = b""
        else:
            headers["Content-Length"] = str(len(content))
        request = httpx.Request(method, url, headers=headers, stream=httpx.ByteStream(content), extensions=extensions)
        request.read()  # so hooks and transports can look at request.content
        return request

    def _create_request(self, body: bytes, extensions: dict[str, Any], idempotency_key: str) -> httpx.Request:
        request = self._request("POST", self._create_url, body, extensions)
        # As the vendor's clients send it (seedream._idempotency): the key, and the same value as the run id.
        request.headers[IDEMPOTENCY_HEADER] = idempotency_key
        request.headers[RUN_ID_HEADER] = idempotency_key
        return request

    @staticmethod
    def _key_to_send(idempotency_key: str | None) -> str:
        """The key a create call sends: the caller's (checked), else a fresh one."""
        return new_key() if idempotency_key is None else check_key(idempotency_key)

    def _task_request(self, task_id: str, extensions: dict[str, Any]) -> httpx.Request:
        return self._request("GET", httpx.URL(self.base_url + _task_path(task_id)), None, extensions)

    def _list_request(self, query: Mapping[str, str], extensions: dict[str, Any]) -> httpx.Request:
        return self._request("GET", httpx.URL(self.base_url + LIST_PATH, params=dict(query)), None, extensions)

    def _credits_request(self, extensions: dict[str, Any]) -> httpx.Request:
        return self._request("GET", httpx.URL(self.base_url + CREDITS_PATH), None, extensions)

    def _batch_request(self, task_ids: list[str], extensions: dict[str, Any]) -> httpx.Request:
        return self._request("POST", self._batch_url, _encode({"task_ids": task_ids}), extensions)

    # -- answers --------------------------------------------------------------------------------

    def _checked_answer(self, response: httpx.Response, body: bytes, over: bool, operation: str) -> None:
        """Raise for an error status or an answer past the size cap (an error page is kept to its first bytes)."""
        if response.status_code != 200:
            raise error_for_status(
                response, redact=self._redact, body=body, drift=self.drift_monitor, operation=operation
            )
        if over:
            reason = (
                f"answer larger than the cap of {self.max_answer_bytes:,} decoded bytes (max_answer_bytes); "
                "refused while reading it"
            )
            raise error_for_status(response, reason=reason, redact=self._redact, body=body)

    def _created(self, response: httpx.Response, body: bytes, over: bool, idempotency_key: str) -> CreateAnswer:
        self._checked_answer(response, body, over, CREATE)
        parsed = parse_create_response(response, redact=self._redact, body=body, drift=self.drift_monitor)
        replayed = response.headers.get(REPLAYED_HEADER, "").strip().lower() == "true"
        return CreateAnswer(parsed, idempotency_key, replayed)

    def _task(self, response: httpx.Response, body: bytes, over: bool) -> TaskDetailResponse:
        self._checked_answer(response, body, over, TASK)
        return parse_task_response(response, redact=self._redact, body=body, drift=self.drift_monitor)

    def _listed(self, response: httpx.Response, body: bytes, over: bool) -> TaskListResponse:
        self._checked_answer(response, body, over, LIST)
        return parse_list_response(response, redact=self._redact, body=body, drift=self.drift_monitor)

    def _balance(self, response: httpx.Response, body: bytes, over: bool) -> CreditsResponse:
        self._checked_answer(response, body, over, CREDITS)
        return parse_credits_response(response, redact=self._redact, body=body, drift=self.drift_monitor)

    def _batch(self, response: httpx.Response, body: bytes, over: bool, asked: list[str]) -> TaskBatch:
        self._checked_answer(response, body, over, BATCH)
        return parse_batch_response(response, asked, redact=self._redact, body=body, drift=self.drift_monitor)

    def _transport_error(
        self, exc: httpx.HTTPError | httpx.InvalidURL, request: httpx.Request, deadline: Deadline
    ) -> APIConnectionError:
        what = f"{request.method} {request.url.copy_with(query=None)}"
        scrub_exception(exc)  # it is chained as the cause: an echoed Location may carry the key
        detail = str(exc).replace(self._key.value, "***") or type(exc).__name__
        if isinstance(exc, httpx.TimeoutException) and deadline.expired():
            sent = not isinstance(exc, (httpx.ConnectTimeout, httpx.PoolTimeout))
            return APITimeoutError(
                f"{what}: no complete answer within {deadline.describe()}"
                + ("; the server may have received the request" if sent else "; the request was not sent"),
                request=request,
                request_sent=sent,
            )
        if isinstance(exc, httpx.InvalidURL):
            # httpx builds the redirect request even when not following it: a Location such as
            # "javascript:alert(1)" raises InvalidURL (not an HTTPError) from send().
            return APIConnectionError(
                f"{what}: answered with an unusable redirect Location ({detail}); the server may have acted on it",
                request=request,
                request_sent=True,
            )
        # Provably never sent: no connection was made, or the pool had none to give.
        if isinstance(exc, (httpx.ConnectTimeout, httpx.PoolTimeout)):
            return APITimeoutError(f"{what}: timed out before sending ({detail})", request=request, request_sent=False)
        if isinstance(exc, httpx.TimeoutException):
            return APITimeoutError(f"{what}: timed out ({detail})", request=request, request_sent=True)
        if isinstance(exc, (httpx.ConnectError, httpx.UnsupportedProtocol)):
            return APIConnectionError(f"{what}: could not connect ({detail})", request=request, request_sent=False)
        return APIConnectionError(
            f"{what}: {type(exc).__name__} ({detail}); the server may have received it",
            request=request,
            request_sent=True,
        )
