# GENERATED FILE - DO NOT EDIT. scripts/unasync.py from src/seedream/_async/_download.py; run `nox -s regenerate`.
"""Saving one result image (see ``seedream._download``): redirects by hand, retried, within its deadline."""

from __future__ import annotations

from pathlib import Path

import httpx

from .._download import (
    _ERROR_BODY_BYTES,
    CHUNK_BYTES,
    MAX_IMAGE_BYTES,
    MAX_REDIRECTS,
    DownloadLimits,
    DownloadProgress,
    ImageSink,
    ProgressCallback,
    SavedFile,
    _start_url,
    _too_slow,
    _total,
    _unusable_location,
    check_response,
    connection_error,
    redirect_target,
)
from .._errors import APIError, DownloadError, error_for_status
from .._retry import RetryPolicy
from ._answers import raw_body, read_answer
from ._primitives import Sleep, default_sleep
from ._retry import call_with_retries

__all__ = ["download_image"]


def download_image(
    client: httpx.Client,
    url: str,
    *,
    task_id: str,
    index: int,
    count: int,
    directory: Path,
    retry: RetryPolicy,
    max_bytes: int = MAX_IMAGE_BYTES,
    limits: DownloadLimits | None = None,
    allow_internal_hosts: bool = False,
    owned: Path | None = None,
    on_progress: ProgressCallback | None = None,
    sleep: Sleep = default_sleep,
) -> SavedFile:
    """Save result ``index`` of ``task_id`` from ``url`` into ``directory`` (see ``seedream._download``).

    File writes are small and synchronous on both sides."""
    start = _start_url(url, task_id, allow_internal_hosts)
    deadline = (limits or DownloadLimits()).start("DownloadLimits")
    phases = deadline.timeouts(client.timeout.as_dict())

    def attempt() -> SavedFile:
        target = start
        for _hop in range(MAX_REDIRECTS + 1):
            request = client.build_request("GET", target, extensions={"timeout": phases})
            try:
                response = client.send(request, stream=True, follow_redirects=False)
            except httpx.RequestError as exc:
                if deadline.expired():
                    raise _too_slow(deadline, task_id, index, url) from exc
                raise connection_error(exc, request) from exc
            except httpx.InvalidURL as exc:  # httpx builds the next request even when not following a redirect
                raise _unusable_location(exc, task_id, url) from None
            try:
                next_url = redirect_target(response, task_id=task_id)
                if next_url is not None:
                    target = next_url
                    continue
                if response.status_code == 429 or response.status_code >= 500:
                    body, _ = read_answer(response, deadline, _ERROR_BODY_BYTES)
                    raise error_for_status(response, body=body)  # transient: the retry runner decides
                declared = check_response(response, task_id=task_id, index=index, max_bytes=max_bytes)
                total = _total(response)
                sink = ImageSink(
                    directory,
                    task_id=task_id,
                    index=index,
                    declared=declared,
                    max_bytes=max_bytes,
                    url=url,
                    owned=owned,
                )
                chunks, decoder = raw_body(response, CHUNK_BYTES)  # our decoder: bounded even for a gzip bomb
                try:
                    for chunk in chunks:
                        deadline.received(len(chunk))
                        deadline.check(request)
                        for piece in decoder.feed(chunk):
                            sink.write(piece)
                        if on_progress is not None:
                            on_progress(DownloadProgress(task_id, index, count, sink.received, total))
                except httpx.DecodingError as exc:
                    sink.abort()
                    raise DownloadError(f"result {index} of task {task_id}: {exc}", task_id=task_id, url=url) from None
                except httpx.RequestError as exc:
                    sink.abort()
                    if deadline.expired():
                        raise _too_slow(deadline, task_id, index, url) from exc
                    raise connection_error(exc, request) from exc
                except BaseException:
                    sink.abort()
                    raise
                return sink.finish()
            except httpx.RequestError as exc:  # while reading an error page
                if deadline.expired():
                    raise _too_slow(deadline, task_id, index, url) from exc
                raise connection_error(exc, request) from exc
            finally:
                response.close()
        raise DownloadError(f"task {task_id}: more than {MAX_REDIRECTS} redirects", task_id=task_id, url=url)

    token = deadline.enter()
    try:
        return call_with_retries(
            attempt,
            method="GET",
            operation=f"download {task_id}[{index}]",
            policy=retry,
            sleep=sleep,
            deadline=deadline.at,
        )
    except APIError as exc:
        raise DownloadError(
            f"result {index} of task {task_id} could not be downloaded: {exc}", task_id=task_id, url=url
        ) from exc
    finally:
        deadline.leave(token)
