"""Response bodies: the spec's error envelope for every error status, and safe JSON encoding."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from starlette.responses import Response

__all__ = [
    "error_body",
    "error_response",
    "json_response",
    "short",
]


def json_response(data: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    # ASCII-escaped: request text echoed in a message may hold lone surrogates, which UTF-8 cannot encode.
    content = json.dumps(data, ensure_ascii=True, allow_nan=False, separators=(",", ":"))
    return Response(content, status_code=status, headers=dict(headers or {}), media_type="application/json")


def error_body(code: str | int, message: str, type_: str, param: str | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message, "type": type_}
    if param is not None:
        error["param"] = param
    return {"error": error}


def error_response(
    status: int,
    code: str | int,
    message: str,
    type_: str,
    *,
    param: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    return json_response(error_body(code, message, type_, param), status, headers)


def short(value: object, limit: int = 80) -> str:
    shown = repr(value)
    return shown if len(shown) <= limit else shown[: limit - 3] + "..."


# The spec's example bodies, one per status it documents.
UNAUTHORIZED = ("unauthorized", "Invalid or expired token", "authentication_error")
INSUFFICIENT_QUOTA = ("insufficient_quota", "Insufficient quota. Please top up your account.", "insufficient_quota")
MODEL_ACCESS_DENIED = (
    "model_access_denied",
    "Token does not have access to model: doubao-seedream-5.0-lite",
    "invalid_request_error",
)
RATE_LIMITED = ("rate_limit_exceeded", "Too many requests, please try again later", "rate_limit_error")
INTERNAL_ERROR = ("internal_error", "Internal server error", "api_error")
SERVICE_UNAVAILABLE = ("service_unavailable", "Service temporarily unavailable", "api_error")
INVALID_TASK_ID = ("invalid_task_id", "Task id must start with task-unified-", "invalid_request_error")
BAD_HOST = ("invalid_request", "Host header: not a valid host[:port]", "invalid_request_error")
# Assumed (spec 409 on the generation POST): the codes EvoLink's public CLI maps for these two cases.
IDEMPOTENCY_CONFLICT = (
    "idempotency_conflict",
    "This Idempotency-Key was already used for a different request",
    "invalid_request_error",
)
IDEMPOTENCY_IN_PROGRESS = (
    "paid_outcome_unknown",
    "The first request with this Idempotency-Key is still being processed; retry with the same key",
    "invalid_request_error",
)
TASK_NOT_FOUND = ("resource_not_found", "Task not found or expired", "invalid_request_error")
BAD_GATEWAY_HTML = b"<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>"
EXPIRED_LINK_XML = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b"<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>"
)
NO_SUCH_KEY_XML = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b"<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>"
)
