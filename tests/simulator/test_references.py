"""Reference images are fetched where policy allows and judged by the shared rules; breaches fail the task."""

from __future__ import annotations

import io
from collections.abc import Callable

import httpx
import pytest
from PIL import Image

from seedream.simulator import ManualClock, SimulatorApp

from .helpers import Receiver, body

pytestmark = pytest.mark.anyio

Make = Callable[..., SimulatorApp]
ClientFor = Callable[..., httpx.AsyncClient]


def _image(size: tuple[int, int], fmt: str = "PNG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (10, 120, 200)).save(out, fmt)
    return out.getvalue()


async def _outcome(client: httpx.AsyncClient, clock: ManualClock, urls: list[str]) -> dict[str, object]:
    created = await client.post("/v1/images/generations", json=body(prompt="[sim:duration=3]", image_urls=urls))
    assert created.status_code == 200, created.text  # problems surface in the task, never in the POST
    clock.advance(3)
    task: dict[str, object] = (await client.get(f"/v1/tasks/{created.json()['id']}")).json()
    return task


async def test_valid_references_are_fetched_and_the_task_completes(
    make_app: Make, client_for: ClientFor, clock: ManualClock, receiver: Receiver
) -> None:
    receiver.files["/a.png"] = (_image((64, 48)), "image/png")
    receiver.files["/b.jpg"] = (_image((100, 100), "JPEG"), "image/jpeg")
    app = make_app()
    task = await _outcome(client_for(app), clock, [receiver.url("/a.png", "http"), receiver.url("/b.jpg", "http")])
    assert task["status"] == "completed"
    assert app.counters()["references"]["fetched"] == 2


@pytest.mark.parametrize(
    ("payload", "code", "field_text"),
    [
        (_image((10, 10)), "image_dimension_mismatch", "width and height greater than 14 px"),
        (_image((800, 40)), "image_dimension_mismatch", "aspect ratio"),
        (b"<html>not an image</html>", "image_processing_error", "not a readable image"),
    ],
)
async def test_reference_breaking_a_limit_fails_the_task_with_the_vendor_code(
    make_app: Make,
    client_for: ClientFor,
    clock: ManualClock,
    receiver: Receiver,
    payload: bytes,
    code: str,
    field_text: str,
) -> None:
    receiver.files["/ok.png"] = (_image((64, 64)), "image/png")
    receiver.files["/bad"] = (payload, "image/png")
    urls = [receiver.url("/ok.png", "http"), receiver.url("/bad", "http")]
    task = await _outcome(client_for(make_app()), clock, urls)
    assert task["status"] == "failed"
    error = task["error"]
    assert isinstance(error, dict)
    assert error["code"] == code
    assert error["message"].startswith("image_urls[1]") and field_text in error["message"]


async def test_reference_that_cannot_be_downloaded_fails_with_image_processing_error(
    make_app: Make, client_for: ClientFor, clock: ManualClock, receiver: Receiver
) -> None:
    task = await _outcome(client_for(make_app()), clock, [receiver.url("/missing.png", "http")])
    error = task["error"]
    assert isinstance(error, dict)
    assert error["code"] == "image_processing_error" and "HTTP 404" in error["message"]


async def test_the_simulators_own_result_link_works_as_a_reference_without_network(
    make_app: Make, client_for: ClientFor, clock: ManualClock
) -> None:
    app = make_app(outbound="none")
    client = client_for(app)
    first = await _outcome(client, clock, [])
    results = first["results"]
    assert isinstance(results, list)
    second = await _outcome(client, clock, [results[0]])
    assert second["status"] == "completed"
    assert app.counters()["references"] == {"failed": 0, "fetched": 0, "internal": 1, "skipped": 0}


@pytest.mark.parametrize(
    ("overrides", "public"),
    [
        ({"outbound": "none"}, False),
        ({"allow_loopback": False}, False),
        ({"outbound": "loopback"}, True),
    ],
)
async def test_references_the_policy_forbids_are_skipped_not_fetched(
    make_app: Make,
    client_for: ClientFor,
    clock: ManualClock,
    receiver: Receiver,
    overrides: dict[str, object],
    public: bool,
) -> None:
    receiver.files["/bad"] = (b"not an image", "image/png")
    url = "https://images.example.com/cat.png" if public else receiver.url("/bad", "http")
    app = make_app(**overrides)
    task = await _outcome(client_for(app), clock, [url, "https://10.0.0.7/x.png"])
    assert task["status"] == "completed"
    assert app.counters()["references"]["skipped"] == 2
    assert receiver.received == []
