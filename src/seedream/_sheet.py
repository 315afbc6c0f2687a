"""Contact sheets: every image of a run or a batch on one PNG grid, and a self-contained HTML gallery.

Each tile shows a thumbnail and a caption (prompt excerpt, pixel size, task
id). The PNG (``contact-sheet.png``) is one picture to glance at or attach;
the gallery (``contact-sheet.html``) embeds every thumbnail as a PNG data
URI, so it opens anywhere without the originals, and links each to its full
image by a path relative to the gallery.

Captions come from the ledger when it knows the file (prompt and task id of
the row that saved it), else from the file itself.
"""

from __future__ import annotations

import base64
import html
import io
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ._ledger import Ledger

__all__ = ["IMAGE_SUFFIXES", "SheetItem", "SheetResult", "collect_images", "write_contact_sheet"]

IMAGE_SUFFIXES = (".png", ".jpeg", ".jpg", ".webp")
SHEET_STEM = "contact-sheet"
#: Thumbnail box in the PNG grid (pixels); the image is fitted inside, letterboxed.
TILE = 256
CAPTION_HEIGHT = 48
PADDING = 8
MAX_COLUMNS = 6
#: Longest side of a gallery thumbnail.
GALLERY_THUMB = 384
_BACKGROUND = (24, 24, 28)
_TILE_BACKGROUND = (40, 40, 46)
_TEXT = (230, 230, 230)
_MUTED = (150, 150, 160)


@dataclass(frozen=True)
class SheetItem:
    path: Path
    prompt: str = ""
    task_id: str = ""
    width: int | None = None
    height: int | None = None

    @property
    def size(self) -> str:
        return f"{self.width}x{self.height}" if self.width and self.height else "size unknown"


@dataclass(frozen=True)
class SheetResult:
    png: Path
    html: Path
    count: int
    #: Where each thumbnail box lies in the PNG (left, top, right, bottom), in item order.
    boxes: tuple[tuple[int, int, int, int], ...]

    def to_dict(self) -> dict[str, object]:
        return {"png": str(self.png), "html": str(self.html), "images": self.count}


def collect_images(directory: str | os.PathLike[str], ledger: Ledger | None = None) -> list[SheetItem]:
    """The images in ``directory`` (not recursive; the sheet's own PNG excluded), captioned from ``ledger``."""
    root = Path(directory).expanduser().resolve()
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: not a directory")
    known: dict[str, SheetItem] = {}
    if ledger is not None:
        for entry in ledger.entries():
            for saved in entry.files:
                known[str(Path(saved.path).resolve())] = SheetItem(
                    Path(saved.path),
                    str(entry.params.get("prompt", "")),
                    entry.task_id or "",
                    saved.width,
                    saved.height,
                )
    items = []
    for path in sorted(root.iterdir()):
        if path.suffix.lower() not in IMAGE_SUFFIXES or path.name.startswith(".") or path.stem == SHEET_STEM:
            continue
        item = known.get(str(path.resolve()))
        items.append(item if item is not None else SheetItem(path, task_id=_task_of(path)))
    return items


def _task_of(path: Path) -> str:
    # Downloads are named <task id>_<index>.<ext> (seedream._download.file_stem).
    stem, _, index = path.stem.rpartition("_")
    return stem if stem.startswith("task-unified-") and index.isdigit() else ""


def write_contact_sheet(
    items: Sequence[SheetItem], directory: str | os.PathLike[str], *, title: str = "seedream contact sheet"
) -> SheetResult:
    """Write ``contact-sheet.png`` and ``contact-sheet.html`` into ``directory``; returns where."""
    from PIL import Image, ImageDraw, ImageFont

    if not items:
        raise ValueError("items: a contact sheet needs at least one image")
    out = Path(directory).expanduser().resolve()
    out.mkdir(parents=True, exist_ok=True)
    columns = min(MAX_COLUMNS, max(1, math.ceil(math.sqrt(len(items)))))
    rows = math.ceil(len(items) / columns)
    cell_w, cell_h = TILE + PADDING, TILE + CAPTION_HEIGHT + PADDING
    sheet = Image.new("RGB", (PADDING + columns * cell_w, PADDING + rows * cell_h), _BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default(size=12)
    boxes: list[tuple[int, int, int, int]] = []
    figures: list[str] = []
    for number, item in enumerate(items):
        left = PADDING + (number % columns) * cell_w
        top = PADDING + (number // columns) * cell_h
        box = (left, top, left + TILE, top + TILE)
        boxes.append(box)
        draw.rectangle(box, fill=_TILE_BACKGROUND)
        with Image.open(item.path) as opened:
            full = opened.size
            opened.draft("RGB", (GALLERY_THUMB, GALLERY_THUMB))  # JPEG: decode at a fraction of the size
            image = opened.convert("RGB")
        image.thumbnail((GALLERY_THUMB, GALLERY_THUMB), Image.Resampling.BILINEAR)
        item = SheetItem(item.path, item.prompt, item.task_id, item.width or full[0], item.height or full[1])
        thumb = image.copy()
        thumb.thumbnail((TILE, TILE), Image.Resampling.BILINEAR)
        sheet.paste(thumb, (left + (TILE - thumb.width) // 2, top + (TILE - thumb.height) // 2))
        lines = [_excerpt(item.prompt or item.path.name, 38), item.size, _excerpt(item.task_id or "-", 38)]
        for row, text in enumerate(lines):
            draw.text((left + 2, top + TILE + 3 + row * 15), text, fill=_TEXT if row == 0 else _MUTED, font=font)
        figures.append(_figure(item, image, out))
    png = out / f"{SHEET_STEM}.png"
    sheet.save(png, "PNG", optimize=False)
    page = out / f"{SHEET_STEM}.html"
    page.write_text(_page(title, figures), encoding="utf-8")
    return SheetResult(png, page, len(items), tuple(boxes))


def _excerpt(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _figure(item: SheetItem, image: object, out: Path) -> str:
    from PIL import Image

    assert isinstance(image, Image.Image)
    thumb = image
    buffer = io.BytesIO()
    thumb.save(buffer, "PNG")  # lossless: the gallery shows the colours the image has
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    try:
        link = os.path.relpath(item.path, out)
    except ValueError:  # another drive (Windows)
        link = item.path.as_uri()
    prompt = html.escape(_excerpt(item.prompt, 160)) if item.prompt else html.escape(item.path.name)
    return (
        f'<figure><a href="{html.escape(Path(link).as_posix(), quote=True)}">'
        f'<img src="data:image/png;base64,{data}" alt="{prompt}" width="{thumb.width}" height="{thumb.height}"></a>'
        f"<figcaption><span class=p>{prompt}</span><span>{html.escape(item.size)}</span>"
        f"<span>{html.escape(item.task_id or '-')}</span></figcaption></figure>"
    )


def _page(title: str, figures: Sequence[str]) -> str:
    style = (
        "body{margin:0;padding:16px;background:#18181c;color:#e6e6e6;font:13px/1.35 system-ui,sans-serif}"
        "h1{font-size:16px;margin:0 0 12px}"
        "main{display:grid;grid-template-columns:repeat(auto-fill,minmax(280px,1fr));gap:12px}"
        "figure{margin:0;background:#28282e;padding:8px;border-radius:6px}"
        "figure a{display:flex;align-items:center;justify-content:center;height:260px}"
        "img{max-width:100%;max-height:260px;image-rendering:auto}"
        "figcaption{display:flex;flex-direction:column;margin-top:6px;color:#9696a0;word-break:break-all}"
        "figcaption .p{color:#e6e6e6}"
    )
    return (
        "<!doctype html>\n<html lang=en><head><meta charset=utf-8>"
        f"<title>{html.escape(title)}</title><style>{style}</style></head>"
        f"<body><h1>{html.escape(title)} ({len(figures)} images)</h1><main>\n"
        + "\n".join(figures)
        + "\n</main></body></html>\n"
    )
