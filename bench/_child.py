"""Measurements that need a process of their own for a clean peak-RSS figure.

    python -m bench._child download '{"impl": "bare"|"durable"|"ours", "url": ..., "directory": ..., ...}'
    python -m bench._child concurrency '{"base_url": ..., "durations": [...], "time_scale": ..., "ledger": ...}'

Each prints one JSON line. The peak-RSS growth is the peak during the work
minus the resident size just before it (after imports and client
construction): on Linux the peak is reset just before the work
(``/proc/self/clear_refs``) and read as ``VmHWM``; elsewhere it is
``getrusage``'s ``ru_maxrss`` (see ``_measure.reset_peak_rss``).
:func:`run_child` is the parent's side.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from ._spec_bodies import ROOT

__all__ = ["run_child"]


def run_child(job: str, args: dict[str, Any], timeout: float = 600) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-m", "bench._child", job, json.dumps(args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    lines = [ln for ln in result.stdout.splitlines() if ln.startswith("{")]
    if result.returncode != 0 or not lines:
        tail = (result.stderr or result.stdout).strip().splitlines()[-3:]
        raise RuntimeError(f"bench child {job!r} failed (exit {result.returncode}): {' / '.join(tail)}")
    data: dict[str, Any] = json.loads(lines[-1])
    return data


def _download(args: dict[str, Any]) -> dict[str, Any]:
    import httpx

    from ._measure import current_rss_bytes, peak_rss_bytes, reset_peak_rss

    url, directory = args["url"], Path(args["directory"])
    directory.mkdir(parents=True, exist_ok=True)
    if args["impl"] == "bare":
        client = httpx.Client(timeout=60)
        how = reset_peak_rss()
        before = current_rss_bytes()
        start = time.perf_counter()
        received = 0
        with client.stream("GET", url) as response, open(directory / "result.png", "wb") as out:
            response.raise_for_status()
            for chunk in response.iter_bytes(64 * 1024):
                received += len(chunk)
                out.write(chunk)
        seconds = time.perf_counter() - start
        client.close()
    elif args["impl"] == "durable":
        # The same durability as ours, nothing else: stream, sha256, fsync, atomic rename, directory fsync.
        import hashlib
        import os

        client = httpx.Client(timeout=60)
        how = reset_peak_rss()
        before = current_rss_bytes()
        start = time.perf_counter()
        received = 0
        digest = hashlib.sha256()
        temp = directory / ".result.png.part"
        with client.stream("GET", url) as response, open(temp, "wb") as out:
            response.raise_for_status()
            for chunk in response.iter_bytes(64 * 1024):
                received += len(chunk)
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, directory / "result.png")
        fd = os.open(directory, os.O_RDONLY)
        os.fsync(fd)
        os.close(fd)
        digest.hexdigest()
        seconds = time.perf_counter() - start
        client.close()
    else:
        from seedream_client.models import TaskDetailResponse

        from seedream._sync._workflow import Seedream

        from ._impls import API_KEY

        task_id = "task-unified-1757165031-benchdl1"
        detail = TaskDetailResponse.from_dict(
            {"id": task_id, "status": "completed", "progress": 100, "results": [url], "object": "image.generation.task"}
        )
        seedream = Seedream(
            API_KEY, base_url=args["base_url"], ledger=Path(args["ledger"]), allow_internal_result_hosts=True
        )
        how = reset_peak_rss()
        before = current_rss_bytes()
        start = time.perf_counter()
        saved = seedream.download(detail, directory)
        seconds = time.perf_counter() - start
        received = saved[0].size
        seedream.close()
    after = peak_rss_bytes()
    return {"seconds": seconds, "bytes": received, "rss_before": before, "rss_after": after, "rss_how": how}


async def _concurrency(args: dict[str, Any]) -> dict[str, Any]:
    """All tasks at once on one client: ``ours`` (AsyncSeedream submit + wait) or ``bare`` (httpx.AsyncClient
    POST, then GET every 3 simulated seconds)."""
    import httpx

    from seedream._async._workflow import AsyncSeedream
    from seedream._polling import PollPolicy

    from ._impls import API_KEY
    from ._measure import current_rss_bytes, peak_rss_bytes, reset_peak_rss

    durations: list[float] = args["durations"]
    scale: float = args["time_scale"]
    prompt = "A serene lake reflecting the beautiful sunset"
    polls = 0

    def count(_detail: object) -> None:
        nonlocal polls
        polls += 1

    ours = AsyncSeedream(
        API_KEY,
        base_url=args["base_url"],
        ledger=Path(args["ledger"]),
        polling=PollPolicy().scaled(scale),
        allow_internal_result_hosts=True,  # the simulator serves results on 127.0.0.1
    )
    bare = httpx.AsyncClient(base_url=args["base_url"], headers={"Authorization": f"Bearer {API_KEY}"}, timeout=120)

    # Each task's span (for the figure 4 picture): from the moment its id is known until it is seen finished.
    async def one_ours(i: int, duration: float) -> tuple[float, float]:
        response = await ours.submit(f"{prompt} {i} [sim:duration={duration}]")
        began = time.perf_counter()
        await ours.wait(response, on_progress=count, timeout=600)
        return began, time.perf_counter()

    async def one_bare(i: int, duration: float) -> tuple[float, float]:
        body = {"model": "doubao-seedream-5.0-lite", "prompt": f"{prompt} {i} [sim:duration={duration}]"}
        response = await bare.post("/v1/images/generations", json=body)
        response.raise_for_status()
        began = time.perf_counter()
        task_id = response.json()["id"]
        while True:
            await asyncio.sleep(3.0 * scale)
            count(None)
            detail = await bare.get(f"/v1/tasks/{task_id}")
            detail.raise_for_status()
            if detail.json()["status"] == "completed":
                return began, time.perf_counter()

    one = one_ours if args["impl"] == "ours" else one_bare
    how = reset_peak_rss()
    before = current_rss_bytes()
    start = time.perf_counter()
    try:
        spans = await asyncio.gather(*(one(i, d) for i, d in enumerate(durations)))
        wall = time.perf_counter() - start
        after = peak_rss_bytes()
        # What the polling cost the API: the simulator's own count of task queries, single and batch.
        routes = (await bare.get("/__simulator__/counters")).json()["requests"]
        poll_requests = sum(sum(routes.get(route, {}).values()) for route in _POLL_ROUTES)
    finally:
        await ours.close()
        await bare.aclose()
    return {
        "wall": wall,
        "tasks": len(durations),
        "longest": max(durations) * scale,
        "submitted": max(began for began, _ in spans) - start,
        "poll_requests": poll_requests,
        "batch_requests": sum(routes.get(_POLL_ROUTES[1], {}).values()),
        "last_done": max(end for _, end in spans) - start,
        "timeline": _timeline([(a - start, b - start) for a, b in spans], wall),
        "polls": polls,
        "rss_before": before,
        "rss_after": after,
        "rss_how": how,
    }


_POLL_ROUTES = ("GET /v1/tasks/{task_id}", "POST /v1/tasks/batch")


def _timeline(spans: list[tuple[float, float]], wall: float, samples: int = 120) -> list[list[float]]:
    """[seconds, tasks in flight] at ``samples`` evenly spaced moments (for the figure 4 picture)."""
    points = []
    for k in range(samples + 1):
        t = wall * k / samples
        points.append([round(t, 3), sum(1 for began, ended in spans if began <= t < ended)])
    return points


if __name__ == "__main__":
    job, raw = sys.argv[1], json.loads(sys.argv[2])
    if job == "download":
        out = _download(raw)
    elif job == "concurrency":
        out = asyncio.run(_concurrency(raw))
    else:
        raise SystemExit(f"unknown job {job!r}")
    print(json.dumps(out))
