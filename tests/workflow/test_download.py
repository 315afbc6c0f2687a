"""Downloads: streamed to a temp file, checked, renamed; names from the task id; expired links named."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from seedream._download import MAX_REDIRECTS, file_stem, remove_partials
from seedream._errors import DownloadError, LinkExpiredError
from seedream._ledger import Ledger, TaskState
from seedream._retry import RetryPolicy
from seedream._sync._download import download_image
from seedream._sync._workflow import Seedream

from .helpers import (
    SENTINEL_KEY,
    TASK_ID,
    ScriptedServer,
    Sleeps,
    created_response,
    jpeg_bytes,
    json_response,
    png_bytes,
    task_body,
)

URL = "http://127.0.0.1:9/files/a.png"
PNG = png_bytes(8, 6)


def fetch(
    handler: Callable[[httpx.Request], httpx.Response],
    directory: Path,
    *,
    url: str = URL,
    max_bytes: int = 10_000_000,
    sleeps: Sleeps | None = None,
    task_id: str = TASK_ID,
):  # type: ignore[no-untyped-def]
    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        return download_image(
            client,
            url,
            task_id=task_id,
            index=0,
            count=1,
            directory=directory,
            retry=RetryPolicy(),
            max_bytes=max_bytes,
            allow_internal_hosts=True,  # URL is on 127.0.0.1 (never contacted: MockTransport)
            sleep=sleeps or Sleeps(),
        )


def image(body: bytes = PNG, media: str = "image/png", **headers: str) -> Callable[[httpx.Request], httpx.Response]:
    return lambda request: httpx.Response(200, content=body, headers={"content-type": media, **headers})


def test_saved_file_has_checksum_size_pixels_and_a_name_from_the_task(tmp_path: Path) -> None:
    saved = fetch(image(), tmp_path)
    assert saved.path == tmp_path / f"{TASK_ID}_0.png"
    assert saved.path.read_bytes() == PNG
    assert saved.sha256 == hashlib.sha256(PNG).hexdigest()
    assert (saved.size, saved.width, saved.height, saved.media_type) == (len(PNG), 8, 6, "image/png")
    assert [p.name for p in tmp_path.iterdir()] == [saved.path.name]  # no temp file left


def test_jpeg_gets_a_jpg_name(tmp_path: Path) -> None:
    saved = fetch(image(jpeg_bytes(), "image/jpeg"), tmp_path)
    assert saved.path.name.endswith("_0.jpg") and saved.media_type == "image/jpeg"


def test_file_name_never_comes_from_the_url_or_escapes_the_directory(tmp_path: Path) -> None:
    target = tmp_path / "out"
    saved = fetch(image(), target, url="http://127.0.0.1:9/../../etc/passwd%2F..%2Fx.png", task_id="../../evil/task")
    assert saved.path.parent == target
    assert saved.path.name == f"{file_stem('../../evil/task', 0)}.png"
    assert "/" not in file_stem("../../evil/task", 0) and not saved.path.name.startswith(".")
    assert sorted(p.name for p in tmp_path.rglob("*")) == sorted(["out", saved.path.name])


@pytest.mark.parametrize("status", [403, 404, 410])
def test_expired_link_raises_link_expired_error_naming_the_task(tmp_path: Path, status: int) -> None:
    with pytest.raises(LinkExpiredError, match=TASK_ID) as caught:
        fetch(lambda request: httpx.Response(status, text="AccessDenied"), tmp_path)
    assert caught.value.task_id == TASK_ID
    assert "24 hours" in str(caught.value)
    assert list(tmp_path.iterdir()) == []


def test_html_error_page_is_refused_by_content_type(tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match="Content-Type 'text/html'"):
        fetch(image(b"<html>oops</html>", "text/html"), tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_magic_bytes_must_match_png_or_jpeg(tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match="not a PNG or JPEG"):
        fetch(image(b"GIF89a" + b"\0" * 50, "application/octet-stream"), tmp_path)
    with pytest.raises(DownloadError, match="says png but the data is jpg"):
        fetch(image(jpeg_bytes(), "image/png"), tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_neutral_content_type_defers_to_the_magic_bytes(tmp_path: Path) -> None:
    assert fetch(image(PNG, "application/octet-stream"), tmp_path).media_type == "image/png"


def test_size_cap_applies_to_declared_and_streamed_lengths(tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match="exceeds the cap"):
        fetch(image(), tmp_path, max_bytes=len(PNG) - 1)

    def streamed_without_length(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=iter([PNG[:10], PNG[10:]]), headers={"content-type": "image/png"})

    with pytest.raises(DownloadError, match="more than the cap"):
        fetch(streamed_without_length, tmp_path, max_bytes=len(PNG) - 1)
    assert list(tmp_path.iterdir()) == []


def test_connection_lost_mid_stream_leaves_no_file_and_is_retried(tmp_path: Path) -> None:
    attempts = 0

    def flaky(request: httpx.Request) -> httpx.Response:
        nonlocal attempts
        attempts += 1
        if attempts == 1:

            def broken():  # type: ignore[no-untyped-def]
                yield PNG[:20]
                raise httpx.ReadError("connection reset", request=request)

            return httpx.Response(200, content=broken(), headers={"content-type": "image/png"})
        return httpx.Response(200, content=PNG, headers={"content-type": "image/png"})

    sleeps = Sleeps()
    saved = fetch(flaky, tmp_path, sleeps=sleeps)
    assert attempts == 2 and len(sleeps.calls) == 1
    assert saved.path.read_bytes() == PNG
    assert [p.name for p in tmp_path.iterdir()] == [saved.path.name]


def test_storage_5xx_is_retried_then_reported_as_download_error(tmp_path: Path) -> None:
    sleeps = Sleeps()
    with pytest.raises(DownloadError, match="could not be downloaded"):
        fetch(lambda request: httpx.Response(503, text="busy"), tmp_path, sleeps=sleeps)
    assert len(sleeps.calls) == RetryPolicy().max_attempts - 1


def test_redirect_within_the_host_is_followed(tmp_path: Path) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/files/a.png":
            return httpx.Response(302, headers={"location": "/real/a.png"})
        return httpx.Response(200, content=PNG, headers={"content-type": "image/png"})

    assert fetch(handler, tmp_path).sha256 == hashlib.sha256(PNG).hexdigest()


@pytest.mark.parametrize(
    "location", ["http://127.0.0.2:9/a.png", "https://127.0.0.1:9/a.png", "file:///etc/passwd", "http://127.0.0.1:10/a"]
)
def test_redirect_to_another_scheme_or_host_is_refused(tmp_path: Path, location: str) -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(302, headers={"location": location})

    with pytest.raises(DownloadError, match="refused a redirect"):
        fetch(handler, tmp_path)
    assert seen == [URL]


def test_redirect_loops_stop(tmp_path: Path) -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(302, headers={"location": "/files/a.png"})

    with pytest.raises(DownloadError, match="redirects"):
        fetch(handler, tmp_path)
    assert len(seen) == MAX_REDIRECTS + 1


def test_non_http_result_link_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match="http"):
        fetch(image(), tmp_path, url="file:///etc/passwd")


def test_remove_partials_clears_only_this_tasks_temp_files(tmp_path: Path) -> None:
    mine = tmp_path / f".{file_stem(TASK_ID, 1)}.abcd1234.part"
    other = tmp_path / f".{file_stem('task-unified-other', 0)}.abcd1234.part"
    kept = tmp_path / f"{file_stem(TASK_ID, 0)}.png"
    for path in (mine, other, kept):
        path.write_bytes(b"x")
    assert remove_partials(tmp_path, TASK_ID) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([other.name, kept.name])


# -- through the high-level client ------------------------------------------------------------------------------------


def completed(urls: list[str]) -> httpx.Response:
    return json_response(200, task_body("completed", progress=100, results=urls))


def test_download_records_files_and_checksums_in_the_ledger_and_never_sends_the_key(
    make_client: Callable[..., Seedream], ledger: Ledger, tmp_path: Path
) -> None:
    urls = ["http://127.0.0.1:9/f/0.png", "http://127.0.0.1:9/f/1.png"]
    server = ScriptedServer(
        posts=[created_response()],
        gets=[completed(urls)],
        files={"/f/0.png": image(), "/f/1.png": image(png_bytes(4, 4))},
    )
    client = make_client(server)
    files = client.download(client.wait(client.submit("two cats", n=2, directory=tmp_path / "out")), tmp_path / "out")
    assert [(f.index, f.width, f.height) for f in files] == [(0, 8, 6), (1, 4, 4)]
    entry = ledger.get(TASK_ID)
    assert entry is not None and entry.state == TaskState.DOWNLOADED
    assert [(f.index, f.sha256) for f in entry.files] == [(f.index, f.sha256) for f in files]
    file_requests = [r for r in server.requests if r.url.path.startswith("/f/")]
    assert len(file_requests) == 2
    assert all("authorization" not in r.headers for r in file_requests)
    assert all(SENTINEL_KEY not in str(r.headers) for r in file_requests)


def test_download_skips_files_already_saved_intact(make_client: Callable[..., Seedream], tmp_path: Path) -> None:
    urls = ["http://127.0.0.1:9/f/0.png", "http://127.0.0.1:9/f/1.png"]
    server = ScriptedServer(gets=[completed(urls)], files={"/f/0.png": image(), "/f/1.png": image()})
    client = make_client(server)
    first = client.download(TASK_ID, tmp_path)
    first[1].path.write_bytes(b"tampered")
    second = client.download(TASK_ID, tmp_path)
    assert server.count("GET", "/f/0.png") == 1  # intact: kept
    assert server.count("GET", "/f/1.png") == 2  # checksum no longer matches: fetched again
    assert second[1].path.read_bytes() == PNG


def test_expired_link_through_the_client_marks_the_ledger(
    make_client: Callable[..., Seedream], ledger: Ledger, tmp_path: Path
) -> None:
    server = ScriptedServer(
        gets=[completed(["http://127.0.0.1:9/f/0.png"])],
        files={"/f/0.png": httpx.Response(403, text="AccessDenied: Request has expired")},
    )
    with pytest.raises(LinkExpiredError, match=TASK_ID):
        make_client(server).download(TASK_ID, tmp_path)
    entry = ledger.get(TASK_ID)
    assert entry is not None and entry.state == TaskState.EXPIRED


def test_download_of_an_unfinished_task_says_so(make_client: Callable[..., Seedream], tmp_path: Path) -> None:
    server = ScriptedServer(gets=[json_response(200, task_body("processing", progress=40))])
    with pytest.raises(DownloadError, match="processing, not completed"):
        make_client(server).download(TASK_ID, tmp_path)


def test_pixel_size_comes_from_the_header_bytes_for_png_and_jpeg() -> None:
    import io

    from PIL import Image

    from seedream._download import _header_size

    for fmt, kind in (("PNG", "png"), ("JPEG", "jpg")):
        for size in ((16, 9), (3072, 3072), (1, 4000)):
            buffer = io.BytesIO()
            Image.new("RGB", size).save(buffer, format=fmt)
            assert _header_size(buffer.getvalue()[:65536], kind) == size
    assert _header_size(b"\x89PNG\r\n\x1a\n", "png") is None  # too short: Pillow reads the file instead


def test_file_names_are_injective_over_ids_that_sanitise_alike() -> None:
    ids = ["task-unified-1-a.b", "task-unified-1-a/b", "task-unified-1-a-b", "task-unified-1-a_b", "Task-unified-1-a-b"]
    stems = {file_stem(task_id, 0) for task_id in ids}
    assert len(stems) == len(ids) and file_stem("task-unified-1-a-b", 0) == "task-unified-1-a-b_0"
