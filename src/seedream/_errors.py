"""The one exception tree of the ``seedream`` runtime.

Every error the runtime raises derives from :class:`SeedreamError`::

    SeedreamError
    ├── ConfigurationError          the client cannot be set up (no API key, malformed key or base URL)
    ├── RequestValidationError      a request breaks a spec constraint or prose rule; nothing was sent
    ├── APIError                    something went wrong talking to the API
    │   ├── APIStatusError          the server answered with an error status or an unusable body
    │   │   ├── BadRequestError             400
    │   │   ├── AuthenticationError         401
    │   │   ├── InsufficientQuotaError      402
    │   │   ├── PermissionDeniedError       403 (e.g. model_access_denied)
    │   │   ├── NotFoundError               404 (unknown or expired task id)
    │   │   ├── IdempotencyConflictError    409: the Idempotency-Key is taken (another body, or still in progress)
    │   │   ├── RateLimitError              429, with ``retry_after`` seconds when sent
    │   │   ├── ServerError                 5xx, non-IANA ones too (520 from a CDN)
    │   │   └── UnexpectedResponseError     other undocumented status, 4xx without the envelope, unusable 200 body
    │   └── APIConnectionError      no usable answer: ``request_sent`` says if the server may have it
    │       └── APITimeoutError
    ├── TaskError                   about a task rather than one HTTP exchange
    │   ├── TaskFailedError         the task ended ``failed``: vendor ``code``/``message``, ``retryable``
    │   ├── TaskCancelledError      the task ended ``cancelled``
    │   └── WaitTimeoutError        the caller's deadline passed before the task ended
    ├── DownloadError               a result could not be saved (type, size, magic bytes, I/O)
    │   └── LinkExpiredError        the 24-hour result link is gone (403/404 after expiry)
    └── LedgerError                 the local task ledger cannot be read or written

:data:`STATUS_TO_ERROR` is the one status→class map; :func:`error_for_status`
turns any HTTP response into the right instance without ever raising while
parsing. No exception text or ``repr`` holds the API key (messages built from
a response body are redacted with ``redact=``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from datetime import UTC
from typing import TYPE_CHECKING, Any

import httpx

from ._redaction import cut, redact_bytes
from ._redaction import redact as _redact_text

if TYPE_CHECKING:
    from ._drift import DriftMonitor

__all__ = [
    "STATUS_TO_ERROR",
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ConfigurationError",
    "DownloadError",
    "IdempotencyConflictError",
    "InsufficientQuotaError",
    "LedgerError",
    "LinkExpiredError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "RequestValidationError",
    "SeedreamError",
    "ServerError",
    "TaskCancelledError",
    "TaskError",
    "TaskFailedError",
    "UnexpectedResponseError",
    "WaitTimeoutError",
    "error_code",
    "error_for_status",
    "parse_retry_after",
]

_VALUE_LIMIT = 80
_BODY_LIMIT = 200


def _short(value: object, limit: int = _VALUE_LIMIT) -> str:
    return cut(repr(value), limit)  # redacted first: a cut made before could keep the start of a key


_CLEAN_DEPTH = 32  # deeper than any answer or request of the API; a hostile body may nest ~1,000 deep


def _shown_value(value: object) -> str:
    """A refused value for a message: short, and a long path keeps its end (the file name says which file)."""
    looks_like_path = isinstance(value, os.PathLike) or (isinstance(value, str) and value.startswith(os.sep))
    if looks_like_path and len(str(value)) > _VALUE_LIMIT:
        text = _redact_text(str(value))
        if len(text) > _VALUE_LIMIT:
            return repr("..." + text[-(_VALUE_LIMIT - 5) :])
        return repr(text)
    return _short(value)


def _clean(value: Any, depth: int = 0) -> Any:
    if isinstance(value, str):
        return _redact_text(value)
    if isinstance(value, (bytes, bytearray)):
        return redact_bytes(bytes(value))
    if isinstance(value, (Mapping, list, tuple)) and depth >= _CLEAN_DEPTH:
        return f"<{type(value).__name__} nested deeper than {_CLEAN_DEPTH} levels>"  # kept short, never recursed
    if isinstance(value, Mapping) and not isinstance(value, httpx.Headers):
        return {_redact_text(k) if isinstance(k, str) else k: _clean(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v, depth + 1) for v in value]
    if isinstance(value, tuple) and not hasattr(value, "_fields"):  # named tuples keep their type
        return tuple(_clean(v, depth + 1) for v in value)
    return value


class SeedreamError(Exception):
    """Base class of every error the seedream runtime raises.

    Its arguments and every text, bytes or mapping attribute set on it are
    redacted (``seedream._redaction``) as they are stored: whatever a server
    echoed, ``str``, ``repr``, ``args`` and the fields never hold an API key.
    """

    def __init__(self, *args: object) -> None:
        super().__init__(*(_clean(arg) for arg in args))

    def __setattr__(self, name: str, value: Any) -> None:
        # ``__notes__`` is the list add_note appends to after setting it: a cleaned copy would lose the first note
        # (add_note redacts each note instead).
        super().__setattr__(name, value if name == "__notes__" else _clean(value))

    def add_note(self, note: str, /) -> None:
        super().add_note(_redact_text(note))


class ConfigurationError(SeedreamError, ValueError):
    """The client cannot be set up as asked: no API key, a malformed key or base URL, conflicting options.

    The message never contains the key itself.
    """


class RequestValidationError(SeedreamError, ValueError):
    """A request value breaks a rule; raised before any HTTP request is made.

    ``field`` is the JSON path (``image_urls[3]``), ``value`` the offending
    value, ``rule`` the rule in words and ``rule_id`` its id in the rule module
    (``None`` for constraints checked straight from the bundled spec).
    """

    def __init__(self, field: str, value: object, rule: str, rule_id: str | None = None) -> None:
        self.field = field
        self.value = value
        self.rule = rule
        self.rule_id = rule_id
        super().__init__(f"{field}: {rule} (got {_shown_value(value)})")


class APIError(SeedreamError):
    """An exchange with the API failed."""

    def __init__(self, message: str, *, request: httpx.Request | None = None) -> None:
        self.message = message
        self.request = request
        super().__init__(message)


class APIStatusError(APIError):
    """The server answered, but not with the documented success.

    Fields: ``status`` (int, even for non-IANA codes), ``code``, ``message``,
    ``type``, ``param`` from the error envelope when there is one (``code`` as
    sent: a string, or an integer such as ``400``, as a vendor page shows),
    ``request_id`` from the response headers, ``headers`` and the ``body``
    (both redacted), and ``task_id``: the id of a task the answer proves was
    created although it is unusable otherwise (a create answer with a good
    ``id`` and a broken field), else None.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int,
        code: str | int | None = None,
        type: str | None = None,
        param: str | None = None,
        request_id: str | None = None,
        headers: Mapping[str, str] | None = None,
        body: bytes = b"",
        response: httpx.Response | None = None,
        task_id: str | None = None,
    ) -> None:
        super().__init__(message, request=response.request if response is not None and _has_request(response) else None)
        self.task_id = task_id
        self.status = status
        self.code = code
        self.type = type
        self.param = param
        self.request_id = request_id
        self.headers: Mapping[str, str] = headers if headers is not None else {}
        self.body = body
        self.response = response

    def __str__(self) -> str:
        parts = [f"HTTP {self.status}"]
        if self.code is not None and self.code != "":
            parts.append(str(self.code))
        text = f"{' '.join(parts)}: {self.message}"
        if self.param:
            text += f" (param: {self.param})"
        if self.request_id:
            text += f" [request id {self.request_id}]"
        return text


class BadRequestError(APIStatusError):
    """400: the server rejected the request's parameters."""


class AuthenticationError(APIStatusError):
    """401: missing, invalid or expired API key."""


class InsufficientQuotaError(APIStatusError):
    """402: the account has no credits left."""


class PermissionDeniedError(APIStatusError):
    """403: the key may not use this model or resource (e.g. ``model_access_denied``)."""


class NotFoundError(APIStatusError):
    """404: unknown or expired task id."""


class IdempotencyConflictError(APIStatusError):
    """409 (assumed, see the spec): the ``Idempotency-Key`` is taken.

    Used for another body (``idempotency_conflict``), or its first request is still being served
    (``paid_outcome_unknown``). This request created nothing; what the key's first request did is not said.
    """


class RateLimitError(APIStatusError):
    """429: too many requests. ``retry_after`` is the server's hint in seconds, if any."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ServerError(APIStatusError):
    """5xx: the server failed. A POST that got one may still have been charged."""


class UnexpectedResponseError(APIStatusError):
    """An undocumented status, a non-IANA status such as 520, or a body that cannot be parsed."""


class APIConnectionError(APIError):
    """No usable answer arrived.

    ``request_sent`` is False only when the failure provably happened before
    the request left the process (DNS, refused connection, connect timeout);
    then a POST is safe to retry. Otherwise the server may have acted on it.
    """

    def __init__(self, message: str, *, request: httpx.Request | None = None, request_sent: bool = True) -> None:
        super().__init__(message, request=request)
        self.request_sent = request_sent


class APITimeoutError(APIConnectionError):
    """The request timed out (connect timeouts have ``request_sent`` False)."""


class TaskError(SeedreamError):
    """An error about a task as a whole."""

    def __init__(self, message: str, *, task_id: str) -> None:
        super().__init__(message)
        self.task_id = task_id


class TaskFailedError(TaskError):
    """The task ended with status ``failed``.

    ``code``/``message`` are the task's ``error`` object; ``retryable`` is the
    vendor's word on the code (server-side codes: retry later; caller codes:
    fix the request). ``task`` is the parsed task.
    """

    def __init__(
        self, *, task_id: str, code: str | int | None, message: str | None, retryable: bool, task: object = None
    ) -> None:
        self.code = code
        self.error_message = message
        self.retryable = retryable
        self.task = task
        hint = "retry later" if retryable else "fix the request"
        shown = "unknown_error" if code is None or code == "" else code
        super().__init__(f"task {task_id} failed: {shown}: {message or ''} ({hint})", task_id=task_id)


class TaskCancelledError(TaskError):
    """The task ended with status ``cancelled``."""


class WaitTimeoutError(TaskError):
    """The caller's deadline passed before the task ended; the task itself goes on.

    ``drift``: the drift the client's monitor saw in the answers about this task
    (``seedream._drift.describe`` of each): a status value the client does not
    know, say, would keep any wait from seeing the task end.
    """

    def __init__(
        self, message: str, *, task_id: str, last_status: str | None = None, drift: tuple[str, ...] = ()
    ) -> None:
        super().__init__(message, task_id=task_id)
        self.last_status = last_status
        self.drift = drift


class DownloadError(SeedreamError):
    """A result could not be downloaded and saved."""

    def __init__(self, message: str, *, task_id: str | None = None, url: str | None = None) -> None:
        super().__init__(message)
        self.task_id = task_id
        self.url = url


class LinkExpiredError(DownloadError):
    """The result link no longer works (the vendor keeps results for 24 hours)."""


class LedgerError(SeedreamError):
    """The local ledger cannot be opened, read or written.

    ``task_id`` names a task that exists (and is charged) but that the
    ledger could not record: keep it, or the task is lost to ``resume``.
    """

    def __init__(self, message: str, *, task_id: str | None = None) -> None:
        super().__init__(message)
        self.task_id = task_id


STATUS_TO_ERROR: Mapping[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    402: InsufficientQuotaError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: IdempotencyConflictError,
    429: RateLimitError,
}

_REQUEST_ID_HEADERS = ("x-request-id", "request-id", "x-trace-id", "x-evolink-request-id")


def _has_request(response: httpx.Response) -> bool:
    try:
        response.request  # noqa: B018 - raises RuntimeError when unset
    except RuntimeError:
        return False
    return True


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or HTTP date); None if absent or unusable."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        from datetime import datetime
        from email.utils import parsedate_to_datetime

        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    if seconds != seconds or seconds in (float("inf"), float("-inf")):
        return None
    return max(0.0, seconds)


_NOT_JSON: Any = object()


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return _NOT_JSON


def _envelope(data: Any) -> Mapping[str, Any] | None:
    error = data.get("error") if isinstance(data, dict) else None
    return error if isinstance(error, dict) else None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def error_code(value: object) -> str | int | None:
    """``error.code`` kept with its JSON type: a string, or an integer (a vendor page shows ``400``); else None."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return _text(value)


def _shown_code(code: str | int | None, secrets: tuple[str, ...]) -> str | int | None:
    return _redacted(code, secrets) if isinstance(code, str) else code


def _redacted(text: str, secrets: tuple[str, ...]) -> str:
    text = _redact_text(text, secrets)
    for secret in secrets:  # keys too short for the registry (tests), exactly as given
        if secret:
            text = text.replace(secret, "***")
    return text


def error_for_status(
    response: httpx.Response,
    *,
    reason: str | None = None,
    redact: tuple[str, ...] = (),
    task_id: str | None = None,
    body: bytes | None = None,
    drift: DriftMonitor | None = None,
    operation: str | None = None,
) -> APIStatusError:
    """The exception for an error (or unusable) response; never raises while parsing.

    ``reason`` marks a response whose body could not be used (a 200 that does
    not parse): the result is then an :class:`UnexpectedResponseError` saying
    why. A documented 4xx without the error envelope (an HTML page from a
    proxy, say) is an :class:`UnexpectedResponseError` too, except 429: a
    rate limit is a rate limit whoever sends it, and ``Retry-After`` is kept.
    ``redact`` lists strings (the API key) that must not appear in the message,
    should a server echo them back; ``body`` keeps the raw bytes. Pass ``body``
    when the response was streamed (its decoded, size-capped bytes).
    ``drift`` (with the ``operation`` answered) is shown the answer, parsed once here.
    """
    status = response.status_code
    body = redact_bytes(response.content if body is None else body)
    data = _json(body)
    if drift is not None and operation is not None:
        drift.observe(operation, response, body if data is _NOT_JSON else data)
    envelope = _envelope(data)
    headers = {_redact_text(k): _redact_text(v) for k, v in response.headers.items()}
    request_id = next((headers[h] for h in _REQUEST_ID_HEADERS if h in headers), None)

    def shown(value: object) -> str | None:  # every field str() prints: a server may echo the key in any
        text = _text(value)
        return None if text is None else _redacted(text, redact)

    fields: dict[str, Any] = {
        "status": status,
        "code": _shown_code(error_code(envelope.get("code")), redact) if envelope else None,
        "type": shown(envelope.get("type")) if envelope else None,
        "param": shown(envelope.get("param")) if envelope else None,
        "request_id": shown(request_id),
        "headers": headers,
        "body": body,
        "response": response,
        "task_id": task_id,
    }
    message = _text(envelope.get("message")) if envelope else None
    if reason is not None:
        text = f"{reason}; body starts {_short(body, _BODY_LIMIT)}"
        return UnexpectedResponseError(_redacted(text, redact), **fields)
    cls = STATUS_TO_ERROR.get(status)
    if cls is None and 500 <= status <= 599:
        cls = ServerError
    if cls is None or (envelope is None and status < 500 and cls is not RateLimitError):
        # Undocumented status, or a documented one without the error envelope.
        what = "undocumented status" if cls is None else "error status without the documented error envelope"
        text = message or f"{what} {status}; body starts {_short(body, _BODY_LIMIT)}"
        return UnexpectedResponseError(_redacted(text, redact), **fields)
    text = _redacted(
        message or f"HTTP {status} without an error message; body starts {_short(body, _BODY_LIMIT)}", redact
    )
    if cls is RateLimitError:
        return RateLimitError(text, retry_after=parse_retry_after(response.headers.get("retry-after")), **fields)
    return cls(text, **fields)
