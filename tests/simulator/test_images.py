"""Result images are real PNG/JPEG files at the pixel size the request implies, n of them."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from PIL import Image

from seedream import _rules
from seedream.simulator import ManualClock, SimulatorApp

from .helpers import body

pytestmark = pytest.mark.anyio

Make = Callable[..., SimulatorApp]
ClientFor = Callable[..., httpx.AsyncClient]


async def _results(client: httpx.AsyncClient, clock: ManualClock, **fields: Any) -> list[str]:
    created = await client.post("/v1/images/generations", json=body(prompt="[sim:duration=1]", **fields))
    assert created.status_code == 200, created.text
    clock.advance(1)
    task = (await client.get(f"/v1/tasks/{created.json()['id']}")).json()
    assert task["status"] == "completed", task
    results: list[str] = task["results"]
    return results


async def _open(client: httpx.AsyncClient, url: str) -> tuple[str, tuple[int, int], str]:
    response = await client.get(url)
    assert response.status_code == 200
    with Image.open(io.BytesIO(response.content)) as image:
        image.load()  # decode fully: a truncated file would fail here
        return str(image.format), image.size, response.headers["content-type"]


@pytest.mark.parametrize(("size", "expected"), [("2560x1440", (2560, 1440)), ("1920x1920", (1920, 1920))])
async def test_pixel_size_is_honoured_exactly(
    make_app: Make, client_for: ClientFor, clock: ManualClock, size: str, expected: tuple[int, int]
) -> None:
    client = client_for(make_app())
    (url,) = await _results(client, clock, size=size)
    assert (await _open(client, url))[1] == expected


# spec-facts.md's table, restated here so the test does not trust the code it checks.
SPEC_FACTS_SIZES = {
    ("1:1", "2K"): (2048, 2048),
    ("1:1", "3K"): (3072, 3072),
    ("4:3", "2K"): (2304, 1728),
    ("4:3", "3K"): (3456, 2592),
    ("3:4", "2K"): (1728, 2304),
    ("3:4", "3K"): (2592, 3456),
    ("16:9", "2K"): (2848, 1600),
    ("16:9", "3K"): (4096, 2304),
    ("9:16", "2K"): (1600, 2848),
    ("9:16", "3K"): (2304, 4096),
    ("3:2", "2K"): (2496, 1664),
    ("3:2", "3K"): (3744, 2496),
    ("2:3", "2K"): (1664, 2496),
    ("2:3", "3K"): (2496, 3744),
    ("21:9", "2K"): (3136, 1344),
    ("21:9", "3K"): (4704, 2016),
}


@pytest.mark.parametrize("ratio", _rules.RATIOS)
@pytest.mark.parametrize("quality", ["2K", "3K"])
async def test_ratio_and_quality_give_the_documented_pixel_size(
    make_app: Make, client_for: ClientFor, clock: ManualClock, ratio: str, quality: str
) -> None:
    client = client_for(make_app())
    (url,) = await _results(client, clock, size=ratio, quality=quality)
    width, height = (await _open(client, url))[1]
    if (ratio, quality) in SPEC_FACTS_SIZES:
        assert (width, height) == SPEC_FACTS_SIZES[ratio, quality]
    elif ratio == "auto":  # derived: as 1:1
        assert (width, height) == SPEC_FACTS_SIZES["1:1", quality]
    else:  # 4:5 and 5:4, derived: that exact ratio, about the pixel count of 3:4 at the same quality
        w, h = (int(part) for part in ratio.split(":"))
        assert width * h == height * w
        reference = SPEC_FACTS_SIZES["3:4", quality]
        assert abs(width * height - reference[0] * reference[1]) / (reference[0] * reference[1]) < 0.02


async def test_default_size_is_2048_square(make_app: Make, client_for: ClientFor, clock: ManualClock) -> None:
    client = client_for(make_app())
    (url,) = await _results(client, clock)
    assert (await _open(client, url))[1] == (2048, 2048)


@pytest.mark.parametrize(
    ("model_params", "fmt", "media_type", "suffix"),
    [
        ({"output_format": "png"}, "PNG", "image/png", ".png"),
        ({"output_format": "jpeg"}, "JPEG", "image/jpeg", ".jpeg"),
        (None, "JPEG", "image/jpeg", ".jpeg"),  # assumed default
    ],
)
async def test_output_format_picks_png_or_jpeg(
    make_app: Make,
    client_for: ClientFor,
    clock: ManualClock,
    model_params: dict[str, str] | None,
    fmt: str,
    media_type: str,
    suffix: str,
) -> None:
    client = client_for(make_app())
    fields = {"model_params": model_params} if model_params else {}
    (url,) = await _results(client, clock, size="3:2", **fields)
    assert url.endswith(suffix)
    assert (await _open(client, url))[0::2] == (fmt, media_type)


async def test_n_images_are_distinct_files(make_app: Make, client_for: ClientFor, clock: ManualClock) -> None:
    client = client_for(make_app())
    urls = await _results(client, clock, n=4, size="1:1")
    assert len(urls) == len(set(urls)) == 4
    payloads = [(await client.get(url)).content for url in urls]
    assert len(set(payloads)) == 4


@pytest.mark.parametrize(("references", "n", "expected"), [(14, 1, 1), (10, 5, 5), (3, 12, 12)])
async def test_n_images_up_to_the_cap_with_references(
    make_app: Make, client_for: ClientFor, clock: ManualClock, references: int, n: int, expected: int
) -> None:
    client = client_for(make_app(outbound="none"))
    urls = [f"https://images.example/{i}.png" for i in range(references)]
    assert len(await _results(client, clock, n=n, image_urls=urls)) == expected


async def test_images_marker_yields_fewer_than_n_as_the_prompt_decides(
    make_app: Make, client_for: ClientFor, clock: ManualClock
) -> None:
    client = client_for(make_app())
    created = await client.post("/v1/images/generations", json=body(prompt="two cats [sim:images=2]", n=5))
    clock.advance(3600)
    assert len((await client.get(f"/v1/tasks/{created.json()['id']}")).json()["results"]) == 2


async def test_images_differ_between_prompts_and_repeat_for_the_same_prompt_and_seed(
    make_app: Make, client_for: ClientFor, clock: ManualClock
) -> None:
    async def payload(app: SimulatorApp, prompt: str) -> bytes:
        client = client_for(app)
        created = await client.post("/v1/images/generations", json=body(prompt=f"{prompt} [sim:duration=1]"))
        clock.advance(1)
        (url,) = (await client.get(f"/v1/tasks/{created.json()['id']}")).json()["results"]
        return (await client.get(url)).content

    first = make_app(seed=11)
    fox, owl = await payload(first, "a fox at dawn"), await payload(first, "an owl at dusk")
    again = await payload(make_app(seed=11), "a fox at dawn")
    other_seed = await payload(make_app(seed=12), "a fox at dawn")
    assert fox != owl
    assert again == fox  # a later task of another simulator with the same seed: the same picture
    assert other_seed != fox


def test_the_prompt_s_first_words_are_drawn_and_markers_left_out() -> None:
    from seedream.simulator._images import image_label, render_image

    assert image_label("[sim:duration=3] a lighthouse on a cliff at dusk, seen from the sea") == (
        "a lighthouse on a cliff at"
    )
    with_label = render_image(2560, 1440, "png", 5, "a lighthouse")
    without = render_image(2560, 1440, "png", 5, "")
    assert with_label != without
    with Image.open(io.BytesIO(with_label)) as image:
        assert image.size == (2560, 1440) and image.format == "PNG"
        # The label band is dark with light text in it: both appear along the bottom.
        band = image.convert("L").crop((0, 1440 - 100, 2560, 1440))
        low, high = band.getextrema()
        assert low < 40 and high > 200
