"""Reference images: fetched (where policy allows) and judged by the shared rule module.

The service downloads ``image_urls`` while it works on a task; a breach of the
documented limits fails the task with the vendor's code. The simulator fetches
them when the task is created (so the outcome is fixed, and deterministic),
but reports any problem through the task, never through the POST.

Links the simulator itself issued are read from memory, with no network. URLs
the policy forbids are not fetched and not judged (counted as skipped).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from urllib.parse import urljoin

import httpx

from .. import _rules
from ._config import SimulatorConfig
from ._counters import Counters
from ._policy import Verdict, judge_resolved, pinned

__all__ = ["FetchError", "check_references"]

REFERENCE_TIMEOUT = 10.0  # simulated seconds per download (assumed; the page states none)
_MAX_REDIRECTS = 5


class FetchError(Exception):
    """A reference image could not be downloaded."""


# Returns the bytes of a link this simulator issued, None if the URL is not one, or raises FetchError.
OwnFileReader = Callable[[str], bytes | None]


async def check_references(
    urls: Sequence[object], *, config: SimulatorConfig, counters: Counters, own_file: OwnFileReader
) -> tuple[str, str] | None:
    """``(failure code, message)`` for the first reference image that breaks a rule, else None."""
    client: httpx.AsyncClient | None = None
    try:
        for index, url in enumerate(urls):
            field = f"image_urls[{index}]"
            if not isinstance(url, str):
                continue
            try:
                data = own_file(url)
                if data is not None:
                    counters.add("references.internal")
                else:
                    verdict = await judge_resolved(url, config)
                    if not verdict.allowed:
                        counters.add("references.skipped")
                        continue
                    if client is None:
                        client = httpx.AsyncClient(
                            trust_env=False, follow_redirects=False, timeout=config.real_seconds(REFERENCE_TIMEOUT)
                        )
                    data = await _download(client, url, verdict, config)
                    counters.add("references.fetched")
            except FetchError as exc:
                counters.add("references.failed")
                return "image_processing_error", f"{field}: could not be downloaded ({exc})"
            violations = _rules.check_reference_image(data, field=field)
            if violations:
                return _rules.reference_failure_code(violations[0]), str(violations[0].to_error())
        return None
    finally:
        if client is not None:
            await client.aclose()


async def _download(client: httpx.AsyncClient, url: str, verdict: Verdict, config: SimulatorConfig) -> bytes:
    """GET ``url`` at the address ``verdict`` checked; each redirect hop is resolved and judged afresh."""
    limit = _rules.MAX_REFERENCE_BYTES + 1  # one byte over is enough to report "too large"
    for _ in range(_MAX_REDIRECTS + 1):
        assert verdict.address is not None
        try:
            target, headers, extensions = pinned(url, verdict.address)
            async with client.stream("GET", target, headers=headers, extensions=extensions) as response:
                if response.is_redirect and "location" in response.headers:
                    url = urljoin(url, response.headers["location"])
                    verdict = await judge_resolved(url, config)
                    if not verdict.allowed:
                        raise FetchError("redirected to a host the simulator may not contact")
                    continue
                if not response.is_success:
                    raise FetchError(f"HTTP {response.status_code}")
                chunks: list[bytes] = []
                size = 0
                async for chunk in response.aiter_bytes():
                    chunks.append(chunk)
                    size += len(chunk)
                    if size >= limit:
                        break
                return b"".join(chunks)[:limit]
        except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError, UnicodeError, ValueError) as exc:
            # Whatever the remote end or its Location header does, it fails the task, never the POST.
            raise FetchError(type(exc).__name__) from None
    raise FetchError("too many redirects")
