"""The one redaction boundary: no API key in the process's own output, whatever a server echoes.

A server (or anything between it and us) can repeat the key it was sent in
any field of any answer: error envelopes, task ids, ``error.message``,
result URLs, headers. Every place such text enters the process goes
through this module, with the keys of every client built so far
(:func:`register_secret` is called by the guarded client's constructor):

- parsed JSON bodies (:func:`redact_data`) before they become models, so a
  returned model, an exception, the ledger and the CLI only ever see the
  redacted text;
- exception messages and fields (``SeedreamError`` redacts its own
  arguments and attributes), and messages cut to a length only *after*
  redaction (:func:`cut`), so no cut leaves part of a key behind;
- log records of ``seedream``, ``httpx`` and ``httpcore`` (a
  :class:`logging.Filter` on each of their loggers: httpx logs request URLs
  at INFO, httpcore raw response headers at DEBUG);
- the ledger's writes and the CLI's output streams.

Each key is searched for as sent and in the forms a server's echo may take
on the way back (JSON- and ``repr``-escaped, percent-encoded). Keys shorter
than :data:`MIN_SECRET_LENGTH` are too short to be told apart from ordinary
text (no real key is that short) and are not searched for.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import threading
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, quote_plus

__all__ = [
    "LOGGERS",
    "MASK",
    "MIN_SECRET_LENGTH",
    "RedactingFilter",
    "active_secrets",
    "cut",
    "holds_secret",
    "install_log_filters",
    "json_may_hold_secret",
    "redact",
    "redact_bytes",
    "redact_data",
    "register_secret",
    "scrub_exception",
]

MASK = "***"
MIN_SECRET_LENGTH = 6
#: Loggers whose records may carry server-supplied text (httpx: request URLs; httpcore: raw headers).
LOGGERS = (
    "seedream",
    "seedream.retry",
    "seedream.workflow",
    "seedream.ledger",
    "seedream.download",
    "seedream.cli",
    "httpx",
    "httpcore",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "httpcore.socks",
)

_ROOTS = frozenset(name.split(".", 1)[0] for name in LOGGERS)

_lock = threading.Lock()
_secrets: set[str] = set()
_text_pattern: re.Pattern[str] | None = None
_bytes_pattern: re.Pattern[bytes] | None = None


def _forms(secret: str) -> set[str]:
    return {
        secret,
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=True)[1:-1],
        repr(secret)[1:-1],
        quote(secret, safe=""),
        quote(secret),
        quote_plus(secret),
    }


def register_secret(secret: str) -> None:
    """Redact ``secret`` from now on, everywhere this module is applied (for the life of the process)."""
    global _text_pattern, _bytes_pattern
    if not isinstance(secret, str) or len(secret) < MIN_SECRET_LENGTH:
        return
    with _lock:
        if secret not in _secrets:
            _secrets.add(secret)
            forms = sorted({form for known in _secrets for form in _forms(known)}, key=len, reverse=True)
            _text_pattern = re.compile("|".join(re.escape(form) for form in forms))
            encoded = [form.encode("utf-8", "surrogatepass") for form in forms]
            _bytes_pattern = re.compile(b"|".join(re.escape(form) for form in encoded))
    install_log_filters()


def active_secrets() -> tuple[str, ...]:
    with _lock:
        return tuple(_secrets)


def _pattern_for(extra: Iterable[str]) -> re.Pattern[str] | None:
    more = [s for s in extra if isinstance(s, str) and len(s) >= MIN_SECRET_LENGTH and s not in _secrets]
    if not more:
        return _text_pattern
    forms = sorted({form for s in (*_secrets, *more) for form in _forms(s)}, key=len, reverse=True)
    return re.compile("|".join(re.escape(form) for form in forms))


def redact(text: str, extra: Iterable[str] = ()) -> str:
    """``text`` with every registered key (and those in ``extra``) replaced by ``***``."""
    pattern = _pattern_for(extra) if extra else _text_pattern
    if pattern is None or not isinstance(text, str) or pattern.search(text) is None:
        return text  # the very object when nothing matched (a str enum member stays one)
    return pattern.sub(MASK, text)


def holds_secret(text: str) -> bool:
    pattern = _text_pattern
    return pattern is not None and isinstance(text, str) and pattern.search(text) is not None


def redact_bytes(data: bytes) -> bytes:
    pattern = _bytes_pattern
    if pattern is None or not data:
        return data
    return pattern.sub(MASK.encode(), data)


def cut(text: str, limit: int) -> str:
    """``text`` redacted, *then* shortened to ``limit`` characters (a cut made first could keep part of a key)."""
    text = redact(text)
    return text if len(text) <= limit else text[: max(0, limit - 3)] + "..."


def redact_data(value: Any) -> Any:
    """A decoded JSON value with every string in it (object keys too) redacted; the value itself if none held one."""
    if _text_pattern is None:
        return value
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list):
        items = [redact_data(item) for item in value]
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    if isinstance(value, dict):
        pairs = [(redact_data(key), redact_data(item)) for key, item in value.items()]
        if all(k is key and v is item for (k, v), (key, item) in zip(pairs, value.items(), strict=True)):
            return value
        return dict(pairs)
    return value


def json_may_hold_secret(content: bytes) -> bool:
    """Cheap test before walking a decoded body: a key can only be there as sent or behind a JSON escape."""
    pattern = _bytes_pattern
    return pattern is not None and (b"\\" in content or pattern.search(content) is not None)


def scrub_exception(error: BaseException) -> BaseException:
    """A foreign exception (httpx, OSError) about to be chained: its arguments redacted in place; returned."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        with contextlib.suppress(AttributeError, TypeError):  # an exception type with read-only args
            current.args = tuple(redact(a) if isinstance(a, str) else a for a in current.args)
        current = current.__cause__ or current.__context__
    return error


class RedactingFilter(logging.Filter):
    """Rewrites a record that would show a registered key: message, arguments and traceback, redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        if _text_pattern is None:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a record that cannot format: its parts, each redacted
            message = f"{record.msg} {record.args}"
        if holds_secret(message):
            record.msg = redact(message)
            record.args = None
        if record.exc_info and not record.exc_text:
            text = logging.Formatter().formatException(record.exc_info)
            if holds_secret(text):
                record.exc_text = redact(text)
        elif record.exc_text and holds_secret(record.exc_text):
            record.exc_text = redact(record.exc_text)
        if record.stack_info and holds_secret(record.stack_info):
            record.stack_info = redact(record.stack_info)
        return True


_FILTER = RedactingFilter()


def install_log_filters() -> None:
    """Put the redacting filter on every logger that may carry server text (idempotent)."""
    known = [name for name in logging.root.manager.loggerDict if name.split(".", 1)[0] in _ROOTS]
    for name in {*LOGGERS, *known}:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
