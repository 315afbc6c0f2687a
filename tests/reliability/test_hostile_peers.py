"""Every call ends within its bound + 1 s, whatever a real peer on 127.0.0.1 does; memory stays flat.

The peer (:mod:`.peers`) drips the head or the body one byte at a time, stalls before, inside or after the
head, trickles, sends gzip bombs (up to 1 GiB decoded) and endless chunked bodies, cuts bodies short, and
answers with every broken framing of :data:`.hostile.RAW_HOSTILE`. Each behaviour meets each of the four
calls (``get_task``, ``create_generation``, ``wait``, ``download``), sync and async, with a short bound
(``timeout=`` / ``wait(timeout=)`` / ``DownloadLimits(timeout=)``). The verdict per call: it ended within
the bound + 1 s, with a result or a :class:`SeedreamError` (never anything else); a stall ended as the
call's timeout error naming the deadline; a bomb was refused naming the cap. Variants run concurrently
(the sync ones in a thread pool, then the async ones on one event loop) so the suite stays short; peak RSS
growth over the whole sweep is measured (``VmHWM`` after a ``clear_refs`` reset) and must stay under 64 MiB.
``--thorough`` adds bounds and intervals.

The 1 s is the client's allowance, not the machine's: a heartbeat thread (:class:`Stalls`) measures how long
the process could not run Python code (descheduled on a loaded machine, or the GIL held elsewhere), and the
worst such stall during a call is added to its allowance. A client that ignores a deadline, or blocks the
event loop in Python code, gains nothing from it: the heartbeat thread keeps running through both.
"""

from __future__ import annotations

import asyncio
import os
import resource
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from seedream_client.models import TaskDetailResponse

from seedream import (
    APITimeoutError,
    AsyncSeedream,
    AsyncSeedreamAPI,
    DownloadError,
    Ledger,
    Seedream,
    SeedreamAPI,
    SeedreamError,
    UnexpectedResponseError,
    WaitTimeoutError,
)
from seedream._download import DownloadLimits

from . import peers
from .conftest import Figures, SecretWitness
from .helpers import SENTINEL_KEY

pytestmark = pytest.mark.reliability

SLACK_SECONDS = 1.0
RSS_CAP_MIB = 64
IMAGE_CAP = 1 << 20
CONCURRENCY = 16
OPERATIONS = ("get_task", "create_generation", "wait", "download")


#: Kinds that can never finish in time: the call must end as its own timeout.
SLOW = ("stall", "trickle")
BOMBS = ("bomb", "endless")


class Stalls:
    """A heartbeat thread: how late its short sleeps end is how long the process could not run Python code."""

    TICK = 0.005

    def __init__(self) -> None:
        self._ticks: list[tuple[float, float]] = []  # (when a sleep ended, how late it ended)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="stall-heartbeat", daemon=True)
        self._thread.start()

    def _beat(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            time.sleep(self.TICK)
            ended = time.monotonic()
            self._ticks.append((ended, ended - started - self.TICK))

    def worst(self, start: float, end: float) -> float:
        """The longest stall that ended inside ``[start, end]`` (0.0 when none was measured)."""
        return max((late for at, late in list(self._ticks) if start <= at <= end), default=0.0)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


@dataclass
class Variant:
    index: int  # in the peer's catalogue
    behaviour: peers.Behaviour
    operation: str
    mode: str  # "sync" | "async"
    bound: float


@dataclass
class Outcome:
    variant: Variant
    started: float
    seconds: float
    result: str
    error: BaseException | None


def _rss_now() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _reset_peak() -> bool:
    """Reset the kernel's peak-RSS mark (Linux); False when only ``ru_maxrss`` (never reset) is available."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
        return True
    except OSError:
        return False


def _peak() -> int:
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


class Sweep:
    """The clients (one per mode), the peer, and the verdicts."""

    def __init__(self, root: Path, peer: peers.HostilePeer, witness: SecretWitness) -> None:
        self.root = root
        self.peer = peer
        self.witness = witness
        self.problems: list[str] = []
        self.counts: Counter[str] = Counter()
        self.slowest = 0.0  # the worst overrun of a bound, as measured
        self.worst_stall = 0.0  # the worst process stall excused
        self.unexcused = 0.0  # the worst overrun beyond the stall excused
        self.worst_call = ""
        self.stalls = Stalls()
        self.ledger = Ledger(root / "ledger.sqlite3")
        common: dict[str, Any] = {
            "base_url": peer.base_url,
            "ledger": self.ledger,
            "max_image_bytes": IMAGE_CAP,
            "allow_internal_result_hosts": True,  # the peer is on 127.0.0.1, on purpose
        }
        self.api = SeedreamAPI(SENTINEL_KEY, base_url=peer.base_url)
        self.aapi = AsyncSeedreamAPI(SENTINEL_KEY, base_url=peer.base_url)
        self.clients: dict[float, tuple[Seedream, AsyncSeedream]] = {}
        self._common = common

    def clients_for(self, bound: float) -> tuple[Seedream, AsyncSeedream]:
        if bound not in self.clients:
            limits = DownloadLimits(timeout=bound, min_bytes_per_second=64 * 1024, grace=bound / 3)
            self.clients[bound] = (
                Seedream(SENTINEL_KEY, download_limits=limits, **self._common),
                AsyncSeedream(SENTINEL_KEY, download_limits=limits, **self._common),
            )
        return self.clients[bound]

    async def aclose(self) -> None:
        self.api.close()
        await self.aapi.close()
        for sync, aclient in self.clients.values():
            sync.close()
            await aclient.close()
        self.ledger.close()
        self.stalls.stop()

    def _detail(self, name: str) -> TaskDetailResponse:
        body = {"id": name, "status": "completed", "progress": 100, "results": [self.peer.file_url(name)]}
        return TaskDetailResponse.from_dict(body)

    def sync_call(self, variant: Variant, name: str) -> Callable[[], object]:
        client = self.clients_for(variant.bound)[0]
        bound = variant.bound
        return {
            "get_task": lambda: self.api.get_task(name, timeout=bound),
            "create_generation": lambda: self.api.create_generation(name, timeout=bound),
            "wait": lambda: client.wait(name, timeout=bound),
            "download": lambda: client.download(self._detail(name), self.root / "files" / name),
        }[variant.operation]

    async def async_call(self, variant: Variant, name: str) -> object:
        client = self.clients_for(variant.bound)[1]
        bound = variant.bound
        if variant.operation == "get_task":
            return await self.aapi.get_task(name, timeout=bound)
        if variant.operation == "create_generation":
            return await self.aapi.create_generation(name, timeout=bound)
        if variant.operation == "wait":
            return await client.wait(name, timeout=bound)
        return await client.download(self._detail(name), self.root / "files" / name)

    def judge(self, outcome: Outcome) -> None:
        variant, error = outcome.variant, outcome.error
        label = f"{variant.mode} {variant.operation} vs {variant.behaviour.kind} (bound {variant.bound}s)"
        self.slowest = max(self.slowest, outcome.seconds - variant.bound)
        stall = self.stalls.worst(outcome.started, outcome.started + outcome.seconds)
        self.worst_stall = max(self.worst_stall, stall)
        if outcome.seconds - variant.bound - stall > self.unexcused:
            self.unexcused, self.worst_call = outcome.seconds - variant.bound - stall, f"{label}: {outcome.result}"
        self.counts[outcome.result] += 1
        if error is not None:
            self.witness.see_error(error)
        if outcome.seconds > variant.bound + SLACK_SECONDS + stall:
            self._fail(f"{label}: took {outcome.seconds:.2f}s (the process stalled {stall:.2f}s meanwhile)")
        if error is not None and not isinstance(error, SeedreamError):
            self._fail(f"{label}: {type(error).__name__} escaped: {error!s:.200}")
            return
        kind = variant.behaviour.kind
        if kind.startswith(SLOW) and not _timed_out(variant.operation, error):
            self._fail(f"{label}: ended as {outcome.result}, not as the call's timeout: {error!s:.200}")
        # A bomb is refused at the cap, unless the peer could not even send that much within the bound.
        if kind.startswith(BOMBS) and not (_capped(variant.operation, error) or _timed_out(variant.operation, error)):
            self._fail(f"{label}: ended as {outcome.result}, not refused at the cap: {error!s:.200}")

    def _fail(self, text: str) -> None:
        self.counts["problems"] += 1
        if len(self.problems) < 20:
            self.problems.append(text)


def _timed_out(operation: str, error: BaseException | None) -> bool:
    if operation == "wait":
        return isinstance(error, WaitTimeoutError)
    if operation == "download":
        return isinstance(error, DownloadError) and "within" in str(error)
    return isinstance(error, APITimeoutError) and error.request_sent and "deadline" in str(error)


def _capped(operation: str, error: BaseException | None) -> bool:
    if operation == "download":
        return isinstance(error, DownloadError) and "cap" in str(error)
    return isinstance(error, UnexpectedResponseError) and "cap of" in str(error)


def _outcome(variant: Variant, started: float, result: object = None, error: BaseException | None = None) -> Outcome:
    seconds = time.monotonic() - started
    shown = type(error).__name__ if error is not None else f"returned {type(result).__name__}"
    return Outcome(variant, started, seconds, shown, error)


async def run_sweep(sweep: Sweep, variants: list[Variant]) -> None:
    """Run every variant and judge each as it ends (then drop it: a kept traceback would hold its buffers)."""
    loop = asyncio.get_running_loop()
    gate = asyncio.Semaphore(CONCURRENCY)

    def in_thread(variant: Variant, call: Callable[[], object]) -> Outcome:
        started = time.monotonic()
        try:
            return _outcome(variant, started, result=call())
        except BaseException as error:  # judged, whatever it is
            return _outcome(variant, started, error=error)

    async def one(variant: Variant, pool: ThreadPoolExecutor) -> None:
        name = sweep.peer.name(variant.index)
        if variant.mode == "sync":
            sweep.judge(await loop.run_in_executor(pool, in_thread, variant, sweep.sync_call(variant, name)))
            return
        async with gate:
            started = time.monotonic()
            try:
                outcome = _outcome(variant, started, result=await sweep.async_call(variant, name))
            except Exception as error:  # judged, whatever it is
                outcome = _outcome(variant, started, error=error)
        sweep.judge(outcome)

    with ThreadPoolExecutor(CONCURRENCY) as pool:
        # One mode at a time: 16 threads and 16 tasks together would measure the GIL more than the client.
        for mode in ("sync", "async"):
            await asyncio.gather(*(one(variant, pool) for variant in variants if variant.mode == mode))


@pytest.fixture(scope="module")
def peer(thorough: bool) -> Iterator[peers.HostilePeer]:
    server = peers.HostilePeer(thorough)
    try:
        yield server
    finally:
        server.close()


def test_every_call_ends_within_its_bound_against_dripping_stalling_and_bombing_peers(
    peer: peers.HostilePeer, tmp_path: Path, thorough: bool, figures: Figures, witness: SecretWitness
) -> None:
    bounds = (0.3, 1.0) if thorough else (0.5,)
    catalogue = peers.catalogue(thorough)
    variants = [
        Variant(index, behaviour, operation, mode, bound)
        for bound in bounds
        for index, behaviour in enumerate(catalogue)
        for operation in OPERATIONS
        for mode in ("sync", "async")
    ]
    sweep = Sweep(tmp_path, peer, witness)
    for bound in bounds:
        sweep.clients_for(bound)

    async def main() -> None:
        try:
            await run_sweep(sweep, variants)
        finally:
            await sweep.aclose()

    reset = _reset_peak()
    before = _rss_now() if reset else _peak()
    started = time.monotonic()
    asyncio.run(main())
    wall = time.monotonic() - started
    growth_mib = (_peak() - before) / 2**20
    figures.update(
        variants=len(variants),
        behaviours=len(catalogue),
        calls="get_task, create_generation, wait, download; sync and async",
        bounds_s=list(bounds),
        worst_overrun_s=round(sweep.slowest, 3),
        worst_process_stall_s=round(sweep.worst_stall, 3),
        worst_overrun_beyond_stall_s=round(sweep.unexcused, 3),
        worst_call=sweep.worst_call,
        peak_rss_growth_mib=round(growth_mib, 1),
        peak_rss_how="VmHWM after clear_refs" if reset else "ru_maxrss (never reset: an upper bound)",
        outcomes=dict(sorted(sweep.counts.items())),
        sweep_wall_s=round(wall, 1),
    )
    assert len(variants) >= 500
    assert sweep.problems == [], "\n".join(sweep.problems)
    assert growth_mib < RSS_CAP_MIB


def test_a_one_gib_gzip_bomb_on_get_task_is_refused_at_the_cap_with_flat_memory(
    peer: peers.HostilePeer, thorough: bool, figures: Figures, witness: SecretWitness
) -> None:
    index = next(i for i, b in enumerate(peers.catalogue(thorough)) if b.kind == "gzip bomb 1024 MiB")
    seconds: list[float] = []

    async def refused_twice() -> list[BaseException]:
        errors: list[BaseException] = []
        async with AsyncSeedreamAPI(SENTINEL_KEY, base_url=peer.base_url) as aapi:
            with SeedreamAPI(SENTINEL_KEY, base_url=peer.base_url) as api:
                for mode in ("sync", "async"):
                    started = time.monotonic()
                    try:  # a generous timeout: the cap, not the deadline, must end it
                        if mode == "sync":
                            api.get_task(peer.name(index), timeout=30)
                        else:
                            await aapi.get_task(peer.name(index), timeout=30)
                    except SeedreamError as error:
                        errors.append(error)
                    seconds.append(time.monotonic() - started)
        return errors

    reset = _reset_peak()
    before = _rss_now() if reset else _peak()
    errors = asyncio.run(refused_twice())
    growth_mib = (_peak() - before) / 2**20
    for error in errors:
        witness.see_error(error)
    figures.update(
        decoded_size="1 GiB (about 1 MB on the wire)",
        seconds=[round(s, 3) for s in seconds],
        peak_rss_growth_mib=round(growth_mib, 1),
        errors=[str(e)[:120] for e in errors],
    )
    assert len(errors) == 2 and all(isinstance(e, UnexpectedResponseError) for e in errors)
    assert all("cap of 1,048,576 decoded bytes" in str(e) for e in errors)
    assert growth_mib < RSS_CAP_MIB


def test_a_callers_own_http_client_still_has_stalls_and_body_drips_bounded(
    peer: peers.HostilePeer, thorough: bool, figures: Figures, witness: SecretWitness
) -> None:
    # No socket wrapper on a client we did not build: each phase's timeout is cut to the bound, and the
    # deadline is checked between body chunks. (A head dripped byte by byte needs our own client.)
    import httpx

    kinds = (
        "stall before-head",
        "stall after-head",
        "stall mid-body",
        "drip-body 0.05s/byte",
        "drip-chunked 0.05s/chunk",
    )
    indexes = [i for i, b in enumerate(peers.catalogue(thorough)) if b.kind in kinds]
    took: list[float] = []
    with httpx.Client() as own, SeedreamAPI(SENTINEL_KEY, base_url=peer.base_url, http_client=own) as api:
        for index in indexes:
            started = time.monotonic()
            with pytest.raises(APITimeoutError, match="deadline") as caught:
                api.get_task(peer.name(index), timeout=0.5)
            took.append(time.monotonic() - started)
            witness.see_error(caught.value)
    figures.update(behaviours=len(indexes), seconds=[round(t, 2) for t in took])
    assert len(indexes) == len(kinds) and max(took) < 0.5 + SLACK_SECONDS
