"""Contact sheets of a 12-image run: a PNG grid of 12 distinct tiles, and a gallery a real browser shows whole.

The gallery test drives Debian's chromium headless (``.ci/run`` installs it
when absent): it opens the page from a file:// URL, takes a screenshot, and
looks in the screenshot for each image's own background colour. Without
chromium the test skips on a developer machine and fails in CI (``CI`` set).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from seedream._async._workflow import AsyncSeedream
from seedream._cli import app
from seedream._download import SavedFile
from seedream._polling import PollPolicy
from seedream._sheet import SheetItem, SheetResult, collect_images, write_contact_sheet
from seedream.simulator import SimulatorConfig, run_simulator

KEY = "sk-sheet-test-7a6b5c"
SCALE = 0.01
CHROMIUM = "/usr/bin/chromium"
TOLERANCE = 4  # per channel: a browser scaling a solid area keeps its colour within this
PROMPTS = [f"{animal} in a {place} [sim:duration=2]" for animal in ("fox", "owl", "hare") for place in
           ("forest", "desert", "harbour", "field")]  # fmt: skip


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, list[SavedFile]]]:
    """12 one-image tasks made by the simulator and downloaded, with their ledger."""
    root = tmp_path_factory.mktemp("sheet")
    config = SimulatorConfig.for_tests(api_keys=(KEY,), time_scale=SCALE, seed=14_000_003)

    async def make(base_url: str) -> list[SavedFile]:
        client = AsyncSeedream(
            KEY,
            base_url=base_url,
            ledger=root / "ledger.sqlite3",
            polling=PollPolicy().scaled(SCALE),
            allow_internal_result_hosts=True,  # the simulator serves its results on 127.0.0.1
        )
        async with client:
            made = await asyncio.gather(
                *(client.generate(p, directory=root / "images", size="2560x1440", output_format="png") for p in PROMPTS)
            )
        return [f for generation in made for f in generation.files]

    with run_simulator(config) as server:
        files = asyncio.run(make(server.base_url))
    yield root, files


def _sheet(root: Path, files: list[SavedFile]) -> SheetResult:
    items = [SheetItem(f.path, PROMPTS[i], f.task_id, f.width, f.height) for i, f in enumerate(files)]
    return write_contact_sheet(items, root / "images")


def test_sheet_of_a_12_image_run_is_a_png_with_12_distinct_tiles(run: tuple[Path, list[SavedFile]]) -> None:
    root, files = run
    assert len(files) == 12
    result = _sheet(root, files)
    with Image.open(result.png) as sheet:
        sheet.verify()
    with Image.open(result.png) as sheet:
        assert sheet.format == "PNG"
        tiles = [hashlib.sha256(sheet.crop(box).tobytes()).hexdigest() for box in result.boxes]
        # A tile is a picture, not an empty box: more than the letterbox colour in it.
        assert all(len(sheet.crop(box).getcolors(1 << 16) or range(1 << 16)) > 8 for box in result.boxes)
    assert len(tiles) == len(set(tiles)) == 12


def test_sheet_command_captions_from_the_ledger_and_skips_its_own_png(run: tuple[Path, list[SavedFile]]) -> None:
    root, files = run
    items = collect_images(root / "images", None)
    assert len(items) == 12 and all(item.task_id for item in items)  # task ids read back from the file names
    result = CliRunner().invoke(
        app, ["sheet", str(root / "images"), "--ledger", str(root / "ledger.sqlite3"), "--json"]
    )
    assert result.exit_code == 0, result.output
    page = (root / "images" / "contact-sheet.html").read_text()
    assert page.count("<figure>") == 12
    assert all(f.task_id in page for f in files)
    assert "fox in a forest" in page  # prompt captions from the ledger
    assert "<script" not in page and "http" not in page.replace('href="task-unified', "")  # self-contained


def _background(path: Path) -> tuple[int, int, int]:
    with Image.open(path) as image:
        colours = image.convert("RGB").resize((160, 90), Image.Resampling.NEAREST).getcolors(1 << 16)
    assert colours
    return max(colours)[1]


def _near(a: tuple[int, int, int], b: tuple[int, int, int], tolerance: int) -> bool:
    return all(abs(x - y) <= tolerance for x, y in zip(a, b, strict=True))


def test_gallery_screenshot_in_headless_chromium_shows_every_image(
    run: tuple[Path, list[SavedFile]], tmp_path: Path
) -> None:
    if shutil.which(CHROMIUM) is None:
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: .ci/run installs it (apt-get install chromium)")
        pytest.skip(f"{CHROMIUM} not installed (CI installs it)")
    root, files = run
    result = _sheet(root, files)
    backgrounds = [_background(f.path) for f in files]
    # Each image's colour tells it from the others (the gallery's thumbnails are lossless PNGs).
    assert all(not _near(a, b, 2 * TOLERANCE) for i, a in enumerate(backgrounds) for b in backgrounds[i + 1 :])
    shot = tmp_path / "shot.png"
    subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-extensions", "--hide-scrollbars", f"--user-data-dir={tmp_path / 'profile'}",
         "--window-size=1400,1800", f"--screenshot={shot}", result.html.as_uri()],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    with Image.open(shot) as image:
        assert image.format == "PNG"
        pixels = {colour: count for count, colour in image.convert("RGB").getcolors(1 << 24) or []}
    for number, colour in enumerate(backgrounds):
        seen = sum(count for pixel, count in pixels.items() if _near(pixel, colour, TOLERANCE))
        assert seen > 2000, f"image {number + 1} ({PROMPTS[number]}, colour {colour}) is not in the screenshot"
