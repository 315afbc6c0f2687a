"""Hostile result links and storage answers: refused, and nothing is ever written outside the target directory.

Every case goes through the whole client (``Seedream.download``, and
``AsyncSeedream.download`` for a share): the task query answers ``completed``
with the case's result links, a scripted storage host answers them. The
sweep crosses link shapes (traversal-looking paths, encoded dots, backslashes,
NUL, ``Content-Disposition`` file names, other schemes, no host) with
``Content-Type`` headers and bodies (PNG, JPEG, HTML, SVG, GIF, WebP, a
mismatch of the two, too large declared or streamed), and adds redirects (to
other hosts, schemes, ports, ``file:``, the metadata address, loops, long
chains), hostile task ids (which name the files) and a planted symlink.

The verdict comes from the documented contract (docs/workflow.md, "Downloads"): a link is
fetched only when it is http(s) with a host; an answer is saved only when its
type says PNG or JPEG (or nothing / octet-stream) and the magic bytes agree,
within the size cap, after redirects within the same scheme, host and port
only. Around each case: the whole pytest temporary tree and the parents of
the target are compared before and after, hosts a case must not reach are
checked against the storage host's log, and the target holds at most the
saved images (no ``.part``).
"""

from __future__ import annotations

import asyncio
import itertools
import os
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
import pytest

from seedream import AsyncSeedream, DownloadError, Ledger, Seedream
from seedream._download import file_stem

from .conftest import Figures, SecretWitness
from .helpers import SENTINEL_KEY, jpeg_bytes, png_bytes

pytestmark = pytest.mark.reliability

MARK = f"pwned-{uuid.uuid4().hex[:12]}"
CAP = 64 * 1024
PNG = png_bytes()
JPEG = jpeg_bytes()
API = "https://api.evolink.ai"
CDN = "https://cdn.storage.test"
TASK = "task-unified-1757165031-hostile"

Serve = Callable[[httpx.Request], httpx.Response]


@dataclass
class Case:
    name: str
    urls: list[str]
    serve: Serve
    saved: int  # images the contract says are saved (before the first refusal)
    task_id: str = TASK
    forbidden_hosts: tuple[str, ...] = ("evil.test", "169.254.169.254", "cdn.storage.test:8443")
    symlink_to: Path | None = None
    extension: str = "png"


@dataclass
class Storage:
    """The scripted storage host: serves the current case, logs every request."""

    serve: Serve = field(default=lambda request: httpx.Response(500))
    log: list[httpx.URL] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.log.append(request.url)
        return self.serve(request)


@dataclass
class Api:
    """Answers a task query with a completed task holding the current case's links."""

    task_id: str = TASK
    urls: list[str] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        assert request.url.host == "api.evolink.ai"
        body = {"id": self.task_id, "status": "completed", "progress": 100, "results": self.urls, "created": 1}
        return httpx.Response(200, json=body)


class Chunks(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A body in 4 KiB chunks, for the sync and the async client alike (no Content-Length of its own)."""

    def __init__(self, body: bytes) -> None:
        self.parts = [body[i : i + 4096] for i in range(0, len(body), 4096)]

    def __iter__(self) -> Iterator[bytes]:
        yield from self.parts

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for part in self.parts:
            yield part


def _answer(body: bytes, media: str | None, *, length: str | None = "auto", stream: bool = False) -> Serve:
    def serve(request: httpx.Request) -> httpx.Response:
        headers = {} if media is None else {"content-type": media}
        if length not in ("auto", None):
            headers["content-length"] = length
        if stream:  # the cap must hold while streaming, whatever the headers said
            return httpx.Response(200, stream=Chunks(body), headers=headers)
        return httpx.Response(200, content=body, headers=headers)

    return serve


def _redirect(location: str, status: int = 302, then: Serve | None = None) -> Serve:
    def serve(request: httpx.Request) -> httpx.Response:
        if then is not None and request.url.path.startswith("/final"):
            return then(request)
        return httpx.Response(status, headers={"location": location})

    return serve


# -- the sweep: link shapes x content types x bodies -------------------------------------------------------------------

LINKS: dict[str, bool] = {  # link -> fetchable (http(s) with a host)
    f"{CDN}/{MARK}.png": True,
    f"{CDN}/../../../../tmp/{MARK}.png": True,
    f"{CDN}/%2e%2e/%2e%2e/%2e%2e/{MARK}.png": True,
    f"{CDN}/a/..%2f..%2f..%2f{MARK}.png": True,
    f"{CDN}/..\\..\\..\\{MARK}.png": True,
    f"{CDN}/%00{MARK}.png?filename=../../{MARK}.png&response-content-disposition=attachment": True,
    f"{CDN}/" + "deep/" * 400 + f"{MARK}.png": True,
    f"http://cdn.storage.test:8080/{MARK}.jpg#../../{MARK}": True,
    f"file:///tmp/{MARK}.png": False,
    f"ftp://cdn.storage.test/{MARK}.png": False,
    "data:image/png;base64,iVBORw0KGgo=": False,
    "javascript:alert(1)": False,
    f"//cdn.storage.test/{MARK}.png": False,
    f"cdn.storage.test/{MARK}.png": False,
    "": False,
    "https:///nohost.png": False,
    f"gopher://cdn.storage.test/{MARK}": False,
}
BIG_PNG = PNG + b"\0" * CAP  # PNG magic, then more than the cap
BODIES: dict[str, tuple[bytes, str | None]] = {  # body -> (bytes, what the magic says)
    "png": (PNG, "png"),
    "jpeg": (JPEG, "jpg"),
    "html": (b"<!doctype html><script>alert(1)</script>", None),
    "svg": (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', None),
    "gif": (b"GIF89a" + b"\0" * 64, None),
    "webp": (b"RIFF\x24\0\0\0WEBPVP8 " + b"\0" * 32, None),
    "empty": (b"", None),
    "too-big-png": (BIG_PNG, "png"),
}
TYPES: dict[str | None, str | None] = {  # Content-Type -> what it declares (None: defer to the bytes; "bad": refused)
    "image/png": "png",
    "IMAGE/PNG; charset=binary": "png",
    "image/jpeg": "jpg",
    "image/jpg": "jpg",
    None: None,
    "application/octet-stream": None,
    "text/html": "bad",
    "image/svg+xml": "bad",
    "image/gif": "bad",
    "image/webp": "bad",
    "application/json": "bad",
    "text/plain": "bad",
}


def _sweep_cases() -> Iterator[Case]:
    for (link, fetchable), (body_name, (body, actual)), (media, declared) in itertools.product(
        LINKS.items(), BODIES.items(), TYPES.items()
    ):
        if not fetchable and (body_name, media) != ("png", "image/png"):
            continue  # a link that must not be fetched: one perfect answer behind it is the sharpest check
        ok = fetchable and declared != "bad" and actual is not None and declared in (None, actual)
        ok = ok and len(body) <= CAP
        streamed = body_name == "too-big-png" and media is None  # no Content-Length either
        yield Case(
            f"{link[:60]!r} {body_name} as {media}",
            [link],
            _answer(body, media, length=None if streamed else "auto", stream=streamed),
            int(ok),
            extension=actual or "png",
        )


def _redirect_cases() -> Iterator[Case]:
    final = _answer(PNG, "image/png")
    for status in (301, 302, 303, 307, 308):
        yield Case(f"{status} within the host", [f"{CDN}/start.png"], _redirect("/final.png", status, final), 1)
    for location in (
        f"https://evil.test/{MARK}.png",
        f"http://cdn.storage.test/{MARK}.png",  # https -> http
        f"https://cdn.storage.test:8443/{MARK}.png",
        f"file:///tmp/{MARK}.png",
        "javascript:alert(1)",
        f"//evil.test/{MARK}.png",
        "http://169.254.169.254/latest/meta-data/",
        "https://user@evil.test/x.png",
        "",
    ):
        yield Case(f"redirect to {location!r}", [f"{CDN}/start.png"], _redirect(location), 0)
    yield Case("redirect loop", [f"{CDN}/loop.png"], _redirect(f"{CDN}/loop.png"), 0)

    hops = iter(range(1000))

    def chain(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"location": f"/hop-{next(hops)}.png"})

    yield Case("more than 3 hops", [f"{CDN}/hop.png"], chain, 0)
    content_disposition = {
        "content-type": "image/png",
        "content-disposition": f'attachment; filename="../../{MARK}.png"',
    }
    yield Case(
        "Content-Disposition names a file outside",
        [f"{CDN}/x.png"],
        lambda request: httpx.Response(200, content=PNG, headers=content_disposition),
        1,
    )
    yield Case(
        "declared small, streams past the cap",
        [f"{CDN}/x.png"],
        _answer(BIG_PNG, "image/png", length="10", stream=True),
        0,
    )
    yield Case("declared huge", [f"{CDN}/x.png"], _answer(PNG, "image/png", length=str(10**12)), 0)
    yield Case("second of three links is hostile", [f"{CDN}/a.png", f"file:///tmp/{MARK}.png", f"{CDN}/c.png"],
               _answer(PNG, "image/png"), 1)  # fmt: skip
    for status in (403, 404, 410, 400, 418, 204):
        yield Case(f"storage answers {status}", [f"{CDN}/x.png"], lambda request, s=status: httpx.Response(s), 0)


HOSTILE_TASK_IDS = (
    f"task-unified-../../../../tmp/{MARK}",
    "task-unified-/etc/passwd",
    f"task-unified-..\\..\\{MARK}",
    f"task-unified-\x00{MARK}",
    "task-unified-..",
    f"task-unified-%2e%2e%2f{MARK}",
    "task-unified-" + "a" * 400,
    f"task-unified-C:\\Windows\\{MARK}",
    f"task-unified-~/{MARK}",
)


def _task_id_cases() -> Iterator[Case]:
    for task_id in HOSTILE_TASK_IDS:
        yield Case(f"task id {task_id[:40]!r}", [f"{CDN}/x.png"], _answer(PNG, "image/png"), 1, task_id=task_id)


# -- the checks --------------------------------------------------------------------------------------------------------


def _stat_tree(root: Path, skip: Path) -> dict[str, tuple[int, int]]:
    """path -> (size, mtime_ns) of everything under ``root`` but ``skip``."""
    found: dict[str, tuple[int, int]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        if Path(dirpath) == skip:
            dirnames[:] = []
            continue
        for name in filenames + dirnames:
            if Path(dirpath, name) == skip:
                continue  # the test's own directory, which the cases fill
            stat = os.lstat(os.path.join(dirpath, name))
            found[os.path.join(dirpath, name)] = (stat.st_size, stat.st_mtime_ns)
    return found


def _marked_near(target: Path) -> list[str]:
    """Files named after MARK in the target's parents, the working directory and /tmp (where traversal lands)."""
    places = [*target.parents, Path.cwd()]
    return [str(place / name) for place in places if place.is_dir() for name in os.listdir(place) if MARK in name]


class Runner:
    def __init__(self, root: Path, witness: SecretWitness) -> None:
        self.root = root
        self.witness = witness
        self.api = Api()
        self.storage = Storage()
        self.counts: Counter[str] = Counter()
        self.problems: list[str] = []
        self.ledger = Ledger(root / "ledger.sqlite3")
        self.cases = 0
        kwargs: dict[str, Any] = {"base_url": API, "ledger": self.ledger, "max_image_bytes": CAP}
        self.client = Seedream(
            SENTINEL_KEY,
            transport=httpx.MockTransport(self.api),
            download_transport=httpx.MockTransport(self.storage),
            sleep=lambda seconds: None,
            **kwargs,
        )

        async def no_sleep(seconds: float) -> None:
            return None

        self.loop = asyncio.new_event_loop()
        self.aclient = AsyncSeedream(
            SENTINEL_KEY,
            transport=httpx.MockTransport(self.api),
            download_transport=httpx.MockTransport(self.storage),
            sleep=no_sleep,
            **kwargs,
        )

    def close(self) -> None:
        self.client.close()
        self.loop.run_until_complete(self.aclient.close())
        self.loop.close()
        self.ledger.close()

    def _fail(self, text: str) -> None:
        if len(self.problems) < 20:
            self.problems.append(text)
        self.counts["problems"] += 1

    def run(self, case: Case) -> None:
        self.cases += 1
        case_dir = self.root / "cases" / f"{self.cases:04d}"
        target = case_dir / "out"
        target.mkdir(parents=True)
        if case.symlink_to is not None:
            (target / f"{file_stem(case.task_id, 0)}.png").symlink_to(case.symlink_to)
        self.api.task_id, self.api.urls = case.task_id, case.urls
        self.storage.serve, self.storage.log = case.serve, []
        use_async = self.cases % 5 == 0
        try:
            if use_async:
                files = self.loop.run_until_complete(self.aclient.download(case.task_id, target))
            else:
                files = self.client.download(case.task_id, target)
            outcome = "saved"
        except DownloadError as error:
            self.witness.see_error(error)
            files, outcome = [], "refused"
        except Exception as error:  # anything else is a finding
            self._fail(f"{case.name}: {type(error).__name__} escaped: {error}")
            return
        self.counts[f"{outcome} ({'async' if use_async else 'sync'})"] += 1
        if case.saved == len(case.urls) and outcome != "saved":
            self._fail(f"{case.name}: refused an acceptable answer")
        if case.saved < len(case.urls) and outcome != "refused":
            self._fail(f"{case.name}: saved what the contract refuses ({[f.path.name for f in files]})")
        planted = [] if case.symlink_to is None else [f"{file_stem(case.task_id, 0)}.png"]
        present = sorted(p.name for p in target.iterdir())
        expected = sorted([*planted, *(f"{file_stem(case.task_id, i)}.{case.extension}" for i in range(case.saved))])
        if present != expected:
            self._fail(f"{case.name}: the target holds {present}, expected {expected}")
        if any((p.is_symlink() or not p.is_file()) and p.name not in planted for p in target.iterdir()):
            self._fail(f"{case.name}: the target holds something else than regular files")
        if planted and os.readlink(target / planted[0]) != str(case.symlink_to):
            self._fail(f"{case.name}: the planted symlink was changed")
        if sorted(p.name for p in case_dir.iterdir()) != ["out"]:
            self._fail(f"{case.name}: something was written next to the target: {sorted(case_dir.iterdir())}")
        reached = {f"{url.host}:{url.port}" if url.port else url.host for url in self.storage.log}
        if reached & set(case.forbidden_hosts):
            self._fail(f"{case.name}: reached {sorted(reached & set(case.forbidden_hosts))}")
        if any(url.scheme not in ("http", "https") for url in self.storage.log):
            self._fail(f"{case.name}: fetched {self.storage.log}")
        marked = _marked_near(target)
        if marked:
            self._fail(f"{case.name}: files named after the link appeared at {marked}")


@pytest.fixture
def runner(tmp_path: Path, witness: SecretWitness) -> Iterator[Runner]:
    made = Runner(tmp_path, witness)
    yield made
    made.close()


def test_hostile_downloads_are_refused_and_nothing_lands_outside_the_target(
    runner: Runner, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, figures: Figures
) -> None:
    basetemp = tmp_path_factory.getbasetemp()
    before = _stat_tree(basetemp, tmp_path)
    outside = tmp_path / "outside" / "keep.txt"  # a file a planted symlink points at
    outside.parent.mkdir()
    outside.write_bytes(b"keep me")
    cases = [*_sweep_cases(), *_redirect_cases(), *_task_id_cases()]
    # A symlink planted at the final name, pointing outside: refused (the module will not write through it).
    cases.append(Case("symlink planted at the final name", [f"{CDN}/x.png"], _answer(PNG, "image/png"), 0,
                      symlink_to=outside))  # fmt: skip
    for case in cases:
        runner.run(case)
    assert outside.read_bytes() == b"keep me"
    after = _stat_tree(basetemp, tmp_path)
    changed = {path for path in before.keys() | after.keys() if before.get(path) != after.get(path)}
    figures.update(
        cases=len(cases),
        outcomes=dict(sorted(runner.counts.items())),
        refused_by_contract=sum(case.saved < len(case.urls) for case in cases),
        changed_outside_the_test_directory=len(changed),
    )
    assert runner.problems == [], "\n".join(runner.problems)
    assert changed == set(), sorted(changed)[:5]
    assert not [unquote(str(p)) for p in Path("/tmp").iterdir() if MARK in p.name]
