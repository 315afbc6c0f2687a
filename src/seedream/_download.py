"""Saving result images: streamed, checked, atomically renamed, never outside the target directory.

Each image is streamed into a hidden temporary file *in the target
directory* (so the final rename cannot cross file systems), hashed on the way
(sha256), capped in size, checked for its type (the ``Content-Type`` header
and the magic bytes must both say PNG or JPEG; a neutral
``application/octet-stream`` or missing header defers to the magic bytes),
flushed to disk and only then renamed to its final name with
:func:`os.replace`. A crash therefore leaves either the complete file or a
``.part`` file that :func:`remove_partials` clears, never a truncated image
under the final name.

File names come from the task id and the result index
(``task-unified-...-seedream5lite_0.png``), never from the URL: a hostile or
odd URL cannot choose where a file lands. Names are injective: an id that is
not plain (lowercase letters, digits, ``-``; at most 150 characters) is
sanitised *and* suffixed with a hash of the raw id after a ``.`` (which no
plain name holds), so ``task-1-a.b`` and ``task-1-a/b`` never share a file.
A file is never replaced unless the caller says it owns it (``owned=``, the
workflow's ledger record of that very result): a name already taken is
refused (hard link, which fails on an existing name, then unlink), unless it
holds the very same bytes (this result, placed by a run killed before the
ledger recorded it: kept as it is). Result
links on loopback, private or link-local hosts are refused by the same rule
as callback hosts (:func:`seedream._rules.is_internal_host`) unless
``allow_internal_hosts`` (a local simulator). Every image has a total
deadline and a throughput floor (:class:`DownloadLimits`, enforced by
:class:`seedream._deadline.ThroughputDeadline` on every read). A directory
that cannot be written (read-only, full disk) is a :class:`DownloadError`. Redirects are followed by hand and
only to the same scheme, host and port. The result link lives 24 hours: a
403/404/410 raises :class:`LinkExpiredError` naming the task. Transient
failures (429, 5xx, lost connections) are retried with the GET policy of
:mod:`seedream._retry`.

The download client never carries the API key: result links are plain
(signed) URLs on a storage host, which must not see the key.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx

from ._deadline import ThroughputDeadline
from ._errors import APIConnectionError, DownloadError, LinkExpiredError
from ._rules import is_internal_host

__all__ = [
    "CHUNK_BYTES",
    "DOWNLOAD_GRACE_SECONDS",
    "DOWNLOAD_TIMEOUT_SECONDS",
    "EXPIRED_LINK_STATUSES",
    "MAX_IMAGE_BYTES",
    "MAX_REDIRECTS",
    "MIN_DOWNLOAD_BYTES_PER_SECOND",
    "DownloadLimits",
    "DownloadProgress",
    "SavedFile",
    "ensure_directory",
    "file_stem",
    "remove_partials",
    "sha256_of",
]

#: Largest image accepted (a 4704x2016 PNG is about 20 MB).
MAX_IMAGE_BYTES = 64 * 1024 * 1024
#: Redirect hops followed, each to the same scheme, host and port only.
MAX_REDIRECTS = 3
#: Read and write granularity.
CHUNK_BYTES = 64 * 1024
#: Statuses a storage host answers for a link past its 24 hours.
EXPIRED_LINK_STATUSES = frozenset({403, 404, 410})
#: Longest one result may take, redirects and retries included.
DOWNLOAD_TIMEOUT_SECONDS = 300.0
#: Slowest transfer accepted once the grace period is over: a 20 MB result at this rate takes 5 minutes.
MIN_DOWNLOAD_BYTES_PER_SECOND = 64 * 1024
#: Time a download gets before the throughput floor applies (connection set-up, a slow first byte).
DOWNLOAD_GRACE_SECONDS = 10.0

_MEDIA = {"image/png": "png", "image/jpeg": "jpg", "image/jpg": "jpg", "image/pjpeg": "jpg"}
_NEUTRAL_MEDIA = frozenset({"", "application/octet-stream", "binary/octet-stream"})
_MAGIC = {"png": b"\x89PNG\r\n\x1a\n", "jpg": b"\xff\xd8\xff"}
_MEDIA_OF = {"png": "image/png", "jpg": "image/jpeg"}
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")
_PLAIN_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,149}")  # the documented id shape: used as the name unchanged
_PART_SUFFIX = ".part"
_ERROR_BODY_BYTES = 64 * 1024  # of a storage host's error page: enough for its message
_HEAD_BYTES = 64 * 1024  # kept of each image: its magic bytes and (JPEG: after EXIF) its frame header


@dataclass(frozen=True)
class DownloadLimits:
    """Bounds of one image's download: ``timeout`` in all, and at least ``min_bytes_per_second`` after ``grace``.

    ``DownloadLimits()`` holds the documented defaults; tests against hostile peers use short ones.
    """

    timeout: float = DOWNLOAD_TIMEOUT_SECONDS
    min_bytes_per_second: float = MIN_DOWNLOAD_BYTES_PER_SECOND
    grace: float = DOWNLOAD_GRACE_SECONDS

    def __post_init__(self) -> None:
        if not self.timeout > 0 or self.min_bytes_per_second < 0 or self.grace < 0:
            raise ValueError(
                "DownloadLimits: timeout must be positive, min_bytes_per_second and grace not negative "
                f"(got {self.timeout!r}, {self.min_bytes_per_second!r}, {self.grace!r})"
            )

    def start(self, what: str) -> ThroughputDeadline:
        return ThroughputDeadline(self.timeout, what, min_bytes_per_second=self.min_bytes_per_second, grace=self.grace)


@dataclass(frozen=True)
class SavedFile:
    """One saved image: where, what (sha256, bytes, media type) and its pixel size when cheap to read."""

    task_id: str
    index: int
    path: Path
    sha256: str
    size: int
    media_type: str
    width: int | None
    height: int | None

    def to_dict(self) -> dict[str, object]:
        return {
            "task_id": self.task_id,
            "index": self.index,
            "path": str(self.path),
            "sha256": self.sha256,
            "bytes": self.size,
            "media_type": self.media_type,
            "width": self.width,
            "height": self.height,
        }


@dataclass(frozen=True)
class DownloadProgress:
    """Reported while downloading: image ``index`` of ``count``, ``received`` of ``total`` bytes (None: unknown)."""

    task_id: str
    index: int
    count: int
    received: int
    total: int | None


ProgressCallback = Callable[[DownloadProgress], None]


def file_stem(task_id: str, index: int) -> str:
    """The file name (without extension) for result ``index`` of ``task_id``; distinct ids give distinct names.

    A plain id is used as it is; any other is sanitised to ``[A-Za-z0-9_-]`` and suffixed with ``.`` and 16
    hex digits of the raw id's sha256 (plain names hold no ``.``, so the two kinds cannot meet either).
    """
    if index < 0:
        raise ValueError(f"index: must not be negative (got {index})")
    if _PLAIN_ID.fullmatch(task_id):
        return f"{task_id}_{index}"
    safe = _UNSAFE.sub("-", task_id).strip("-")[:120] or "task"
    digest = hashlib.sha256(task_id.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return f"{safe}.{digest}_{index}"


def ensure_directory(directory: Path, *, task_id: str | None = None) -> None:
    """Create ``directory`` (and parents); :class:`DownloadError` when the file system says no."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        whose = f" for task {task_id}" if task_id else ""
        raise DownloadError(
            f"cannot create the output directory {directory}{whose}: {exc.strerror or exc}", task_id=task_id
        ) from None


def _part_prefix(task_id: str) -> str:
    return f".{file_stem(task_id, 0).rsplit('_', 1)[0]}_"


def _io_error(exc: OSError, directory: Path, task_id: str, index: int, url: str) -> DownloadError:
    reason = "the disk is full" if exc.errno == errno.ENOSPC else (exc.strerror or str(exc))
    return DownloadError(
        f"result {index} of task {task_id} could not be saved into {directory}: {reason}", task_id=task_id, url=url
    )


def remove_partials(directory: Path, task_id: str) -> int:
    """Delete temporary files a killed download of ``task_id`` left in ``directory``; returns how many."""
    removed = 0
    if not directory.is_dir():
        return 0
    prefix = _part_prefix(task_id)
    for entry in directory.iterdir():
        if entry.name.startswith(prefix) and entry.name.endswith(_PART_SUFFIX) and entry.is_file():
            with contextlib.suppress(FileNotFoundError):
                entry.unlink()
                removed += 1
    return removed


def _media_type(response: httpx.Response) -> str:
    header: str = response.headers.get("content-type") or ""
    return header.split(";", 1)[0].strip().lower()


def check_response(response: httpx.Response, *, task_id: str, index: int, max_bytes: int) -> str | None:
    """Refuse a response that cannot be a wanted image; returns the declared kind (``png``/``jpg``) or None."""
    status = response.status_code
    if status in EXPIRED_LINK_STATUSES:
        raise LinkExpiredError(
            f"result link {index} of task {task_id} is gone (HTTP {status}); results are kept for 24 hours, "
            "so this task's images can no longer be downloaded",
            task_id=task_id,
            url=str(response.url),
        )
    if status != 200:
        raise DownloadError(
            f"result {index} of task {task_id}: unexpected HTTP {status} from the storage host",
            task_id=task_id,
            url=str(response.url),
        )
    media = _media_type(response)
    if media not in _MEDIA and media not in _NEUTRAL_MEDIA:
        raise DownloadError(
            f"result {index} of task {task_id}: Content-Type {media!r} is not image/png or image/jpeg",
            task_id=task_id,
            url=str(response.url),
        )
    length = response.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > max_bytes:
        raise DownloadError(
            f"result {index} of task {task_id}: {int(length):,} bytes exceeds the cap of {max_bytes:,}",
            task_id=task_id,
            url=str(response.url),
        )
    return _MEDIA.get(media)


def redirect_target(response: httpx.Response, *, task_id: str) -> httpx.URL | None:
    """The URL a redirect points to, if allowed (same scheme, host, port); None when not a redirect."""
    if response.status_code not in (301, 302, 303, 307, 308):
        return None
    location = response.headers.get("location")
    if not location:
        raise DownloadError(f"task {task_id}: redirect without a Location header", task_id=task_id)
    current = response.request.url
    target = current.join(location)
    if (target.scheme, target.host, target.port) != (current.scheme, current.host, current.port):
        raise DownloadError(
            f"task {task_id}: refused a redirect from {current.scheme}://{current.host} to "
            f"{target.scheme}://{target.host}: only redirects within the same scheme and host are followed",
            task_id=task_id,
            url=str(current),
        )
    return target


def _unusable_location(exc: httpx.InvalidURL, task_id: str, url: str) -> DownloadError:
    # e.g. "Location: javascript:alert(1)": httpx raises InvalidURL (not an HTTPError) from send().
    return DownloadError(
        f"task {task_id}: refused a redirect to an unusable Location ({exc})", task_id=task_id, url=url
    )


def connection_error(exc: httpx.RequestError, request: httpx.Request | None) -> APIConnectionError:
    not_sent = isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout))
    return APIConnectionError(
        f"download failed: {type(exc).__name__}: {exc}", request=request, request_sent=not not_sent
    )


class ImageSink:
    """A temporary file in the target directory that becomes the final image, or disappears.

    Every file-system failure (read-only directory, full disk) becomes a :class:`DownloadError`.
    ``owned``: a file the caller owns (the ledger's record of this very result), which may be replaced
    should it be the final name; any other taken name is refused.
    """

    def __init__(
        self,
        directory: Path,
        *,
        task_id: str,
        index: int,
        declared: str | None,
        max_bytes: int,
        url: str,
        owned: Path | None = None,
    ) -> None:
        self.directory = directory
        self.task_id = task_id
        self.index = index
        self.declared = declared
        self.max_bytes = max_bytes
        self.url = url
        self.owned = owned
        self.received = 0
        self._head = b""
        self._hash = hashlib.sha256()
        self.temp_path = directory / f".{file_stem(task_id, index)}.{secrets.token_hex(4)}{_PART_SUFFIX}"
        try:
            directory.mkdir(parents=True, exist_ok=True)
            self._file: IO[bytes] | None = open(self.temp_path, "xb", buffering=0)  # noqa: SIM115 - finish/abort
        except OSError as exc:
            raise self._io(exc) from None

    def _fail(self, message: str) -> DownloadError:
        return DownloadError(
            f"result {self.index} of task {self.task_id}: {message}", task_id=self.task_id, url=self.url
        )

    def _io(self, exc: OSError) -> DownloadError:
        return _io_error(exc, self.directory, self.task_id, self.index, self.url)

    def write(self, chunk: bytes) -> None:
        assert self._file is not None
        self.received += len(chunk)
        if self.received > self.max_bytes:
            raise self._fail(f"more than the cap of {self.max_bytes:,} bytes")
        if len(self._head) < _HEAD_BYTES:  # the magic bytes and the pixel size are read from here
            self._head += chunk[: _HEAD_BYTES - len(self._head)]
        self._hash.update(chunk)
        try:
            self._file.write(chunk)  # unbuffered: one write per chunk, no copy into a buffer first
        except OSError as exc:
            raise self._io(exc) from None

    def _kind(self) -> str:
        actual = next((kind for kind, magic in _MAGIC.items() if self._head.startswith(magic)), None)
        if actual is None:
            raise self._fail(f"the data is not a PNG or JPEG image (starts {self._head[:8]!r})")
        if self.declared is not None and self.declared != actual:
            raise self._fail(f"Content-Type says {self.declared} but the data is {actual}")
        return actual

    def finish(self) -> SavedFile:
        """Check the type, flush to disk and put it in place; the temporary file is gone either way."""
        assert self._file is not None
        try:
            kind = self._kind()
            final = self.directory / f"{file_stem(self.task_id, self.index)}.{kind}"
            try:
                os.fsync(self._file.fileno())
                self._file.close()
                self._file = None
                if final.resolve().parent != self.directory.resolve():
                    raise self._fail(f"refusing to write outside {self.directory}")
                self._place(final)
            except OSError as exc:
                raise self._io(exc) from None
        except BaseException:
            self.abort()
            raise
        _fsync_directory(self.directory)
        width, height = _header_size(self._head, kind) or _pixel_size(final)
        return SavedFile(
            task_id=self.task_id,
            index=self.index,
            path=final,
            sha256=self._hash.hexdigest(),
            size=self.received,
            media_type=_MEDIA_OF[kind],
            width=width,
            height=height,
        )

    def _place(self, final: Path) -> None:
        if final == self.owned and not final.is_symlink():
            os.replace(self.temp_path, final)
            return
        try:
            os.link(self.temp_path, final, follow_symlinks=False)  # fails on any existing name: no overwrite
        except FileExistsError:
            if final.is_symlink() or sha256_of(final) != self._hash.hexdigest():
                raise self._fail(
                    f"refusing to overwrite {final.name}: a file of that name exists and is not this result's"
                ) from None
            # The very same bytes: this result, placed by a run killed before its ledger record. Kept.
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK, errno.EXDEV):
                raise
            # A file system without hard links: check, then rename (a race here needs a local attacker).
            if os.path.lexists(final):
                raise self._fail(f"refusing to overwrite {final.name}: it exists and is not this result's") from None
            os.replace(self.temp_path, final)
            return
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.temp_path)

    def abort(self) -> None:
        if self._file is not None:
            with contextlib.suppress(OSError):
                self._file.close()
            self._file = None
        with contextlib.suppress(OSError):
            self.temp_path.unlink()


def _fsync_directory(directory: Path) -> None:
    # Makes the rename itself durable; not possible (nor needed) on every platform.
    with contextlib.suppress(OSError, AttributeError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


_JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}  # start-of-frame markers (not DHT, JPG, DAC)


def _header_size(head: bytes, kind: str) -> tuple[int, int] | None:
    """Width and height from the first bytes (PNG IHDR, JPEG SOF): Pillow's import alone costs ~90 ms."""
    if kind == "png":
        if len(head) >= 24 and head[12:16] == b"IHDR":
            return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
        return None
    at = 2
    while at + 9 <= len(head):
        if head[at] != 0xFF:
            return None
        marker = head[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        if marker in (0x01, *range(0xD0, 0xD9)):  # no length
            at += 2
            continue
        if marker in _JPEG_SOF:
            return int.from_bytes(head[at + 7 : at + 9], "big"), int.from_bytes(head[at + 5 : at + 7], "big")
        at += 2 + int.from_bytes(head[at + 2 : at + 4], "big")
    return None  # not within the first bytes: Pillow reads the file


def _pixel_size(path: Path) -> tuple[int | None, int | None]:
    try:
        from PIL import Image

        with Image.open(path) as image:  # reads the header only
            width, height = image.size
            return int(width), int(height)
    except Exception:  # the type was checked already; a header PIL dislikes only loses the size
        return None, None


def sha256_of(path: Path) -> str | None:
    """sha256 of a file, or None when it cannot be read."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(CHUNK_BYTES), b""):
                digest.update(chunk)
    except OSError:
        return None
    return digest.hexdigest()


def _start_url(url: str, task_id: str, allow_internal_hosts: bool) -> httpx.URL:
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise DownloadError(f"task {task_id}: result link is not a URL: {exc}", task_id=task_id, url=url) from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise DownloadError(f"task {task_id}: result link must be http(s) with a host", task_id=task_id, url=url)
    if not allow_internal_hosts and is_internal_host(parsed.host):
        raise DownloadError(
            f"task {task_id}: refused a result link on the internal host {parsed.host} (loopback, private or "
            "link-local); only a local simulator serves results there: opt out with "
            "allow_internal_result_hosts=True or SEEDREAM_ALLOW_INTERNAL_RESULT_HOSTS=1",
            task_id=task_id,
            url=url,
        )
    return parsed


def _total(response: httpx.Response) -> int | None:
    length = response.headers.get("content-length")
    return int(length) if length is not None and length.isdigit() else None


def _too_slow(deadline: ThroughputDeadline, task_id: str, index: int, url: str) -> DownloadError:
    return DownloadError(
        f"result {index} of task {task_id} was not downloaded within {deadline.describe()}", task_id=task_id, url=url
    )
