"""Settings: every environment variable the runtime reads, the defaults, and how each argument is resolved.

One place, so the CLI, the clients, the ledger and the pytest plugin cannot drift apart: an argument wins, then
its environment variable, then the default; a value that cannot work is a :class:`ConfigurationError` naming it.
"""

from __future__ import annotations

import math
import os
import re

import httpx

from ._errors import ConfigurationError

__all__ = [
    "ALLOW_INTERNAL_RESULT_HOSTS_ENV",
    "API_KEY_ENV",
    "BASE_URL_ENV",
    "DEFAULT_BASE_URL",
    "DEFAULT_CALL_TIMEOUT_SECONDS",
    "DEFAULT_TIMEOUT",
    "LEDGER_ENV",
    "resolve_allow_internal_result_hosts",
    "resolve_base_url",
    "resolve_key",
    "resolve_timeout",
    "total_seconds",
]

#: The API key, when ``api_key`` is not given.
API_KEY_ENV = "EVOLINK_API_KEY"
#: The API base URL, when ``base_url`` is not given.
BASE_URL_ENV = "SEEDREAM_BASE_URL"
#: The ledger file, when ``ledger`` is not given (see ``seedream._ledger.default_ledger_path``).
LEDGER_ENV = "SEEDREAM_LEDGER"
#: Set to 1 by whoever runs a simulator on loopback (the pytest fixtures do) when ``allow_internal_result_hosts``
#: is not given: result links on internal hosts are otherwise refused.
ALLOW_INTERNAL_RESULT_HOSTS_ENV = "SEEDREAM_ALLOW_INTERNAL_RESULT_HOSTS"

DEFAULT_BASE_URL = "https://api.evolink.ai"
# Connect short (a dead host should fail fast); read long enough for the API's
# slowest documented answer with room to spare (creating a task returns at once).
DEFAULT_TIMEOUT = httpx.Timeout(120.0, connect=10.0)
#: Bound of a whole call when the timeout given sets no phase at all (``httpx.Timeout(None)``): never infinite.
DEFAULT_CALL_TIMEOUT_SECONDS = 120.0

_KEY_SHAPE = re.compile(r"[\x21-\x7e]+")  # visible ASCII: anything else cannot travel in a header


def resolve_key(api_key: str | None) -> str:
    """The argument, else ``$EVOLINK_API_KEY``; checked so that it can travel in a header (never shown)."""
    key = api_key if api_key is not None else os.environ.get(API_KEY_ENV)
    if key is None or key == "":
        raise ConfigurationError(f"no API key: pass api_key=... or set {API_KEY_ENV}")
    if not isinstance(key, str):
        raise ConfigurationError(f"api_key must be a string, got {type(key).__name__}")
    if key.lower().startswith("bearer "):
        raise ConfigurationError("api_key starts with 'Bearer ': pass the key alone, the client adds the prefix")
    if not _KEY_SHAPE.fullmatch(key):
        raise ConfigurationError(
            "api_key must be printable ASCII without spaces or line breaks (the value is not shown)"
        )
    return key


def resolve_base_url(base_url: str | None) -> str:
    """The argument, else ``$SEEDREAM_BASE_URL``, else the real API; an absolute http(s) URL, no trailing slash."""
    url = base_url if base_url is not None else (os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL)
    if not isinstance(url, str):
        raise ConfigurationError(f"base_url must be a string, got {type(url).__name__}")
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise ConfigurationError(f"base_url {url!r} is not a URL: {exc}") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ConfigurationError(f"base_url {url!r} must be an absolute http(s) URL")
    if parsed.query or parsed.fragment:
        raise ConfigurationError(f"base_url {url!r} must not carry a query or fragment")
    return url.rstrip("/")


def resolve_timeout(value: object, what: str) -> httpx.Timeout:
    """Seconds (a positive finite number) or an ``httpx.Timeout``, as an ``httpx.Timeout``."""
    if isinstance(value, httpx.Timeout):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if not math.isfinite(value) or value <= 0:
            raise ConfigurationError(f"{what} must be a positive number of seconds, got {value!r}")
        return httpx.Timeout(float(value))
    raise ConfigurationError(f"{what} must be seconds (a number) or an httpx.Timeout, got {type(value).__name__}")


def total_seconds(timeout: httpx.Timeout) -> float:
    """The bound of a whole call: its longest phase (a number ``t`` sets every phase to ``t``)."""
    phases = [value for value in timeout.as_dict().values() if value is not None]
    return max(phases) if phases else DEFAULT_CALL_TIMEOUT_SECONDS


def resolve_allow_internal_result_hosts(value: bool | None) -> bool:
    """The argument, else whether ``$SEEDREAM_ALLOW_INTERNAL_RESULT_HOSTS`` is ``1``."""
    return os.environ.get(ALLOW_INTERNAL_RESULT_HOSTS_ENV, "") == "1" if value is None else value
