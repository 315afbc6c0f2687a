"""Downloads against a scripted API and storage host on 127.0.0.1: names, ownership, disks, counts, hosts.

- names are injective: ids that sanitise alike (``task-unified-1-a.b``, ``task-unified-1-a/b``, ...) get
  distinct files, each matching the sha256 the ledger keeps;
- a file already at the final name that is not this result's is never overwritten;
- a read-only directory and a full disk (a real tmpfs when the tests run as root, else a failing ``fsync``)
  end as :class:`DownloadError`, and the CLI prints one ``error:`` line, no traceback;
- more result links than the request can produce (``n``, capped at 15 minus references) is a protocol
  error before anything is fetched;
- result links on loopback, private and link-local hosts are refused without a connection, unless the
  caller opts out (``allow_internal_result_hosts=True`` or ``SEEDREAM_ALLOW_INTERNAL_RESULT_HOSTS=1``).
"""

from __future__ import annotations

import contextlib
import errno
import io
import json
import os
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
from PIL import Image
from typer.testing import CliRunner

from seedream import DownloadError, Ledger, Seedream, UnexpectedResponseError
from seedream._cli import app
from seedream._download import DownloadLimits, file_stem, sha256_of

from .conftest import Figures, SecretWitness
from .helpers import SENTINEL_KEY, png_bytes, sha256

pytestmark = pytest.mark.reliability

OPT_OUT_ENV = "SEEDREAM_ALLOW_INTERNAL_RESULT_HOSTS"


class Storage(ThreadingHTTPServer):
    """The API's task query and the storage host in one loopback server; counts every request."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.tasks: dict[str, list[str]] = {}  # task id -> result links
        self.files: dict[str, bytes] = {}  # path -> body
        self.requests: Counter[str] = Counter()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def serve(self, task_id: str, bodies: list[bytes]) -> list[str]:
        links = []
        for index, body in enumerate(bodies):
            path = f"/files/{len(self.files)}-{index}.png"
            self.files[path] = body
            links.append(self.base_url + path)
        self.tasks[task_id] = links
        return links


class _Handler(BaseHTTPRequestHandler):
    server: Storage

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self.server.requests[self.path] += 1
        if self.path.startswith("/v1/tasks/"):
            task_id = unquote(self.path.removeprefix("/v1/tasks/"))
            links = self.server.tasks.get(task_id, [])
            body = json.dumps({"id": task_id, "status": "completed", "progress": 100, "results": links}).encode()
            media = "application/json"
        else:
            body, media = self.server.files.get(self.path, b""), "image/png"
        self.send_response(200)
        self.send_header("Content-Type", media)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def storage() -> Iterator[Storage]:
    server = Storage()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def _client(storage: Storage, ledger: Ledger, **kwargs: Any) -> Seedream:
    kwargs.setdefault("allow_internal_result_hosts", True)  # the storage host is on 127.0.0.1, on purpose
    return Seedream(SENTINEL_KEY, base_url=storage.base_url, ledger=ledger, sleep=lambda s: None, **kwargs)


def _png(seed: int, side: int = 16) -> bytes:
    image = Image.effect_noise((side, side), 40 + seed).convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


# -- names -------------------------------------------------------------------------------------------------------------

COLLIDING_IDS = (
    "task-unified-1-a.b",
    "task-unified-1-a/b",
    "task-unified-1-a\\b",
    "task-unified-1-a b",
    "task-unified-1-a-b",
    "task-unified-1-a_b",
    "task-unified-1-A-B",
    "task-unified-1-a..b",
    "-task-unified-1-a-b-",
    "task-unified-1-a-b.",
    "task-unified-1-a\x00b",
    "task-unified-1-aé-b",
    "task-unified-1-" + "a" * 300,
    "task-unified-1-" + "a" * 300 + "b",
)


def test_task_ids_that_sanitise_alike_get_distinct_files_each_matching_the_ledger(
    storage: Storage, tmp_path: Path, figures: Figures, witness: SecretWitness
) -> None:
    stems = {file_stem(task_id, index) for task_id in COLLIDING_IDS for index in range(3)}
    assert len(stems) == 3 * len(COLLIDING_IDS)
    assert all(stem.casefold() not in {s.casefold() for s in stems - {stem}} for stem in stems)  # case-blind too
    target = tmp_path / "out"
    with Ledger(tmp_path / "ledger.sqlite3") as ledger, _client(storage, ledger) as client:
        for seed, task_id in enumerate(COLLIDING_IDS):
            storage.serve(task_id, [_png(seed)])
            client.download(task_id, target)
        recorded = {task_id: ledger.get(task_id) for task_id in COLLIDING_IDS}
    names = sorted(p.name for p in target.iterdir())
    intact = 0
    for task_id, entry in recorded.items():
        assert entry is not None and len(entry.files) == 1
        item = entry.files[0]
        assert (
            sha256_of(Path(item.path)) == item.sha256 == sha256(storage.files[urlsplit(storage.tasks[task_id][0]).path])
        )
        intact += 1
    figures.update(task_ids=len(COLLIDING_IDS), files=len(names), intact_per_ledger=intact)
    assert len(names) == len(COLLIDING_IDS)


def test_a_file_already_at_the_final_name_is_never_overwritten(
    storage: Storage, tmp_path: Path, witness: SecretWitness
) -> None:
    task_id = "task-unified-1757165031-owned"
    target = tmp_path / "out"
    target.mkdir()
    theirs = target / f"{file_stem(task_id, 0)}.png"
    theirs.write_bytes(b"someone else's file")
    storage.serve(task_id, [_png(1)])
    with Ledger(tmp_path / "ledger.sqlite3") as ledger, _client(storage, ledger) as client:
        with pytest.raises(DownloadError, match="refusing to overwrite") as caught:
            client.download(task_id, target)
        witness.see_error(caught.value)
        # Its own file, tampered with, is the ledger's: that one is fetched again and replaced.
        theirs.unlink()
        first = client.download(task_id, target)[0]
        first.path.write_bytes(b"tampered")
        again = client.download(task_id, target)[0]
    assert theirs.read_bytes() == again.path.read_bytes() and sha256_of(again.path) == again.sha256
    assert sorted(p.name for p in target.iterdir()) == [theirs.name]
    # The same bytes already there (a run killed between placing the file and recording it): kept, recorded.
    with Ledger(tmp_path / "fresh-ledger.sqlite3") as ledger, _client(storage, ledger) as client:
        adopted = client.download(task_id, target)[0]
        entry = ledger.get(task_id)
    assert adopted.path == theirs and entry is not None and entry.files[0].sha256 == sha256_of(theirs)


# -- disks -------------------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _tmpfs(path: Path, options: str) -> Iterator[bool]:
    """A tmpfs at ``path`` (True) when this process may mount one, else nothing (False)."""
    path.mkdir(parents=True, exist_ok=True)
    mounted = (
        os.geteuid() == 0
        and subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], capture_output=True).returncode
        == 0
    )
    try:
        yield mounted
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(path)], capture_output=True)


@pytest.fixture
def full_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, str]]:
    """A directory on a 64 KiB tmpfs (real ENOSPC), or, unmountable, one whose ``fsync`` raises ENOSPC."""
    place = tmp_path / "full"
    with _tmpfs(place, "size=64k") as mounted:
        if not mounted:

            def no_space(fd: int) -> None:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

            monkeypatch.setattr(os, "fsync", no_space)
        yield place, "tmpfs size=64k" if mounted else "os.fsync raising ENOSPC"


@pytest.fixture
def read_only(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A read-only directory: a read-only tmpfs as root (root ignores modes), else mode 0o500."""
    place = tmp_path / "ro"
    with _tmpfs(place, "ro,size=64k") as mounted:
        if not mounted:
            place.chmod(0o500)
        try:
            yield place / "out" if mounted else place, "read-only tmpfs" if mounted else "mode 0o500"
        finally:
            if not mounted:
                place.chmod(0o700)


def _cli(storage: Storage, tmp_path: Path, *args: str) -> tuple[int, str, str]:
    env = {
        "EVOLINK_API_KEY": SENTINEL_KEY,
        "SEEDREAM_BASE_URL": storage.base_url,
        OPT_OUT_ENV: "1",  # the storage host is on 127.0.0.1
        "SEEDREAM_LEDGER": str(tmp_path / "cli-ledger.sqlite3"),
    }
    result = CliRunner().invoke(app, list(args), env=env)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("disk", ["full_disk", "read_only"])
def test_a_full_or_read_only_disk_is_a_download_error_and_one_cli_line(
    disk: str,
    storage: Storage,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    figures: Figures,
    witness: SecretWitness,
) -> None:
    target, how = request.getfixturevalue(disk)
    task_id = f"task-unified-1757165031-{disk.replace('_', '-')}"
    storage.serve(task_id, [_png(3, side=256)])  # about 200 kB: more than the 64 KiB tmpfs holds
    with (
        Ledger(tmp_path / "ledger.sqlite3") as ledger,
        _client(storage, ledger) as client,
        pytest.raises(DownloadError) as caught,
    ):
        client.download(task_id, target)
    witness.see_error(caught.value)
    assert caught.value.task_id == task_id
    code, out, err = _cli(storage, tmp_path, "download", task_id, "--out", str(target))
    witness.see(out, err)
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    figures.update(simulated_by=how, library_error=str(caught.value)[:160], cli_error=errors)
    assert code != 0 and "Traceback" not in err + out  # the progress bar may have drawn a line before it
    assert len(errors) == 1 and task_id in errors[0]
    leftovers = [p.name for p in target.iterdir()] if target.is_dir() else []
    assert not [name for name in leftovers if name.endswith(".part")]


# -- counts ------------------------------------------------------------------------------------------------------------


def test_more_result_links_than_the_request_can_produce_is_refused_before_any_fetch(
    storage: Storage, tmp_path: Path, figures: Figures, witness: SecretWitness
) -> None:
    cases = [  # (n, references, links served)
        (1, 0, 10_000),
        (1, 0, 2),
        (4, 0, 5),
        (15, 0, 16),
        (None, 0, 2),
        (10, 14, 2),  # 15 - 14 references: one image at most
    ]
    refused = 0
    with Ledger(tmp_path / "ledger.sqlite3") as ledger, _client(storage, ledger) as client:
        for number, (n, refs, links) in enumerate(cases):
            task_id = f"task-unified-1757165031-count{number}"
            params: dict[str, Any] = {"prompt": "p", "model": "doubao-seedream-5.0-lite"}
            if n is not None:
                params["n"] = n
            if refs:
                params["image_urls"] = [f"https://ref.example/{i}.png" for i in range(refs)]
            local = ledger.record_intent(base_url=storage.base_url, params=params, directory=tmp_path / "out")
            ledger.record_submitted(local, task_id=task_id, status="pending", created=1, estimated_time=5)
            storage.tasks[task_id] = [f"{storage.base_url}/files/never-{i}.png" for i in range(links)]
            started = time.monotonic()
            with pytest.raises(UnexpectedResponseError, match="protocol error") as caught:
                client.download(task_id, tmp_path / "out")
            witness.see_error(caught.value)
            refused += 1
            if links == 10_000:
                figures["ten_thousand_links_refused_in_s"] = round(time.monotonic() - started, 3)
    fetched = sum(count for path, count in storage.requests.items() if path.startswith("/files/"))
    figures.update(cases=len(cases), refused=refused, images_fetched=fetched)
    assert fetched == 0


# -- hosts -------------------------------------------------------------------------------------------------------------

INTERNAL_LINKS = (
    "http://127.0.0.1:{port}/files/x.png",
    "http://localhost:{port}/files/x.png",
    "http://[::1]:{port}/files/x.png",
    "http://10.0.0.7/x.png",
    "http://192.168.1.20/x.png",
    "http://172.16.0.3/x.png",
    "http://169.254.169.254/latest/meta-data/x.png",
    "http://0x7f000001:{port}/files/x.png",
    "http://2130706433:{port}/files/x.png",
    "http://[::ffff:127.0.0.1]:{port}/files/x.png",
    "http://100.64.0.1/x.png",
    "http://0.0.0.0:{port}/files/x.png",
)


def test_result_links_on_internal_hosts_are_refused_without_a_connection_unless_opted_out(
    storage: Storage, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, figures: Figures, witness: SecretWitness
) -> None:
    port = storage.server_address[1]
    storage.files["/files/x.png"] = png_bytes()
    monkeypatch.delenv(OPT_OUT_ENV, raising=False)
    refused = 0
    with (
        Ledger(tmp_path / "ledger.sqlite3") as ledger,
        _client(
            storage,
            ledger,
            allow_internal_result_hosts=None,  # the default: the environment decides, and it says no
        ) as client,
    ):
        for number, link in enumerate(INTERNAL_LINKS):
            task_id = f"task-unified-1757165031-host{number}"
            storage.tasks[task_id] = [link.format(port=port)]
            with pytest.raises(DownloadError, match="internal host") as caught:
                client.download(task_id, tmp_path / "out")
            witness.see_error(caught.value)
            refused += 1
    assert storage.requests["/files/x.png"] == 0
    # The explicit opt-outs: the argument, and the variable the pytest fixtures set.
    task_id = "task-unified-1757165031-optout"
    storage.tasks[task_id] = [f"http://127.0.0.1:{port}/files/x.png"]
    with Ledger(tmp_path / "ledger2.sqlite3") as ledger, _client(storage, ledger) as client:
        assert len(client.download(task_id, tmp_path / "a")) == 1
    monkeypatch.setenv(OPT_OUT_ENV, "1")
    with (
        Ledger(tmp_path / "ledger3.sqlite3") as ledger,
        _client(storage, ledger, allow_internal_result_hosts=None) as c,
    ):
        assert len(c.download(task_id, tmp_path / "b")) == 1
    figures.update(internal_links=len(INTERNAL_LINKS), refused=refused, fetched_before_opt_out=0)
    assert storage.requests["/files/x.png"] == 2


def test_a_trickling_storage_host_ends_at_the_throughput_floor(
    storage: Storage, tmp_path: Path, witness: SecretWitness
) -> None:
    from . import peers

    peer = peers.HostilePeer(bombs=False)
    try:
        index = next(i for i, b in enumerate(peers.catalogue(False)) if b.kind == "trickle 64B/0.01s")
        name = peer.name(index)
        storage.tasks[name] = [peer.file_url(name)]
        limits = DownloadLimits(timeout=30, min_bytes_per_second=64 * 1024, grace=0.5)
        with Ledger(tmp_path / "ledger.sqlite3") as ledger, _client(storage, ledger, download_limits=limits) as c:
            started = time.monotonic()
            with pytest.raises(DownloadError, match="floor of 65,536 bytes/s") as caught:
                c.download(name, tmp_path / "out")
            elapsed = time.monotonic() - started
        witness.see_error(caught.value)
    finally:
        peer.close()
    assert elapsed < 0.5 + 1.0  # the floor, not the 30-s deadline, ended it
