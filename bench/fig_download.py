"""Figure 5: downloading one 3072x3072 result, ours against bare httpx streaming.

The image is a 3072x3072 PNG made for the run (noise-textured so it weighs
what a photo-like result weighs, about 13 MB; the simulator's own images are
flat patterns of about 140 kB, too small to time). A plain Starlette
``FileResponse`` under uvicorn serves it on loopback, from a child process.

Each download runs in a fresh child process (alternating bare and ours) so
its peak-RSS growth is its own. Bare httpx: ``client.stream`` +
``iter_bytes(64 KiB)`` into a file. Equal durability (the baseline ours is
held to): the same plus sha256, fsync, atomic rename and a directory fsync.
Ours: ``Seedream.download`` of a completed task (streamed, sha256, type check,
size cap, deadline and throughput floor, fsync, no-overwrite link, ledger
record).
"""

from __future__ import annotations

from pathlib import Path

from ._child import run_child
from ._context import Context
from ._results import Row, Spread, not_measured
from ._server import serve

__all__ = ["figure_5", "make_result_image"]

SIDE = 3072


def make_result_image(path: Path) -> int:
    from PIL import Image

    size = (SIDE, SIDE)
    noise = Image.effect_noise(size, 24)
    gradient = Image.linear_gradient("L").resize(size)
    image = Image.merge("RGB", (noise, gradient, gradient.transpose(Image.Transpose.ROTATE_90)))
    image.save(path, format="PNG", compress_level=1)
    return path.stat().st_size


def figure_5(ctx: Context) -> list[Row]:
    try:
        import seedream._workflow  # noqa: F401
    except ImportError as exc:
        return [not_measured("5", "download", f"{exc.name} not available yet (issue 6)")]
    files = ctx.workdir / "files"
    files.mkdir(exist_ok=True)
    size = make_result_image(files / "result.png")
    rounds = ctx.pick(7, 2)
    results: dict[str, list[dict[str, float]]] = {"bare": [], "durable": [], "ours": []}
    impls = ("bare", "durable", "ours")
    with serve("echo", {"files": str(files)}) as url:
        for r in range(rounds):
            for impl in impls[r % 3 :] + impls[: r % 3]:  # each order in turn
                target = ctx.workdir / f"dl-{impl}-{r}"
                args = {
                    "impl": impl,
                    "url": f"{url}/files/result.png",
                    "directory": str(target),
                    "base_url": url,
                    "ledger": str(ctx.workdir / f"ledger-dl-{r}.sqlite3"),
                }
                out = run_child("download", args, timeout=120)
                if out["bytes"] != size:
                    raise RuntimeError(f"{impl} download got {out['bytes']} of {size} bytes")
                results[impl].append(out)
    mb = size / 1e6

    def throughput(impl: str) -> list[float]:
        return [o["bytes"] / o["seconds"] / 1e6 for o in results[impl]]

    def growth(impl: str) -> list[float]:
        return [(o["rss_after"] - o["rss_before"]) / 2**20 for o in results[impl]]

    bare_t, durable_t, ours_t = throughput("bare"), throughput("durable"), throughput("ours")
    rows = [
        Row(
            "5",
            "bare httpx streaming: throughput",
            Spread.of(bare_t),
            "MB/s",
            note=f"baseline; {mb:.1f} MB PNG, loopback, {rounds} rounds",
        ),
        Row(
            "5",
            "bare httpx + sha256 + fsync + atomic rename: throughput",
            Spread.of(durable_t),
            "MB/s",
            baseline="bare httpx",
            ratio=Spread.of([d / b for d, b in zip(durable_t, bare_t, strict=True)]),
            note="equal-durability baseline: what ours is held to",
        ),
        Row(
            "5",
            "ours (Seedream.download): throughput",
            Spread.of(ours_t),
            "MB/s",
            baseline="equal durability",
            ratio=Spread.of([o / d for o, d in zip(ours_t, durable_t, strict=True)]),
            floor=0.9,
            note=f"sha256, magic-byte check, deadline, fsync, no-overwrite link, ledger record; "
            f"{Spread.of([o / b for o, b in zip(ours_t, bare_t, strict=True)]).median:.2f}x bare httpx",
        ),
        Row(
            "5",
            "bare httpx streaming: peak RSS growth",
            Spread.of(growth("bare")),
            "MiB",
            note=f"baseline; peak minus RSS before ({results['bare'][0]['rss_how']}), fresh child each",
        ),
    ]
    bare_g, ours_g = growth("bare"), growth("ours")
    ratio = None if min(bare_g) <= 0 else Spread.of([o / b for o, b in zip(ours_g, bare_g, strict=True)])
    rows.append(
        Row(
            "5",
            "ours (Seedream.download): peak RSS growth",
            Spread.of(ours_g),
            "MiB",
            baseline="bare httpx" if ratio else None,
            ratio=ratio,
            note=f"{Spread.of(ours_g).median - Spread.of(bare_g).median:+.1f} MiB vs bare; the file is"
            f" {size / 2**20:.1f} MiB (growth well below it: streamed, not buffered)",
        )
    )
    return rows
