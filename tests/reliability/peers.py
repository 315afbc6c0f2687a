"""Hostile peers: a real HTTP/1.1 server on 127.0.0.1 whose every answer misbehaves in time, size or framing.

One asyncio server in a child process of its own (so its buffers never count against the client's memory)
serves the :func:`catalogue` of *behaviours* at once; the request names its behaviour (the task id of
``GET /v1/tasks/{id}``, the prompt of ``POST /v1/images/generations``, the file name of
``GET /files/{name}.png``, all made by :func:`task_name`). Behaviours drip the status line and headers
or the body one byte at a time, stall before or inside the answer, trickle, send gzip bombs and endless
chunked bodies, or send broken framing (:data:`.hostile.RAW_HOSTILE`). Every connection is bounded: the
server closes it after :data:`CONNECTION_CAP_SECONDS` whatever it was doing, and
:meth:`HostilePeer.close` ends the process.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import re
import subprocess
import sys
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from seedream.testing._spec_cases import success_body

from .helpers import png_bytes
from .hostile import RAW_HOSTILE

__all__ = ["CONNECTION_CAP_SECONDS", "Behaviour", "HostilePeer", "catalogue", "gzip_bomb", "task_name"]

#: No connection lives longer than this, whatever its behaviour (stalls included).
CONNECTION_CAP_SECONDS = 20.0

Writer = asyncio.StreamWriter
Act = Callable[[Writer, bytes, str], Awaitable[None]]  # (writer, the good body, its content type)


@cache
def gzip_bomb(decoded: int) -> bytes:
    """A gzip stream of ``decoded`` zero bytes (1 GiB makes about 1 MB), built once per size."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    block = bytes(1 << 20)
    parts = [compressor.compress(block) for _ in range(decoded >> 20)]
    parts.append(compressor.compress(bytes(decoded & ((1 << 20) - 1))))
    parts.append(compressor.flush())
    return b"".join(parts)


@dataclass(frozen=True)
class Behaviour:
    """What the peer does with one request: ``act(writer, body)`` where ``body`` is the operation's good body."""

    kind: str
    act: Act


def _head(length: int | None, content_type: str, extra: str = "") -> bytes:
    framing = f"Content-Length: {length}\r\n" if length is not None else "Transfer-Encoding: chunked\r\n"
    return f"HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\n{framing}{extra}\r\n".encode()


async def _drip(writer: Writer, data: bytes, interval: float) -> None:
    for index in range(len(data)):
        writer.write(data[index : index + 1])
        await writer.drain()
        await asyncio.sleep(interval)


def drip_head(interval: float) -> Behaviour:
    async def act(writer: Writer, body: bytes, media: str) -> None:
        await _drip(writer, _head(len(body), media) + body, interval)

    return Behaviour(f"drip-head {interval}s/byte", act)


def drip_body(interval: float) -> Behaviour:
    async def act(writer: Writer, body: bytes, media: str) -> None:
        writer.write(_head(len(body), media))
        await _drip(writer, body, interval)

    return Behaviour(f"drip-body {interval}s/byte", act)


def drip_chunked(interval: float) -> Behaviour:
    async def act(writer: Writer, body: bytes, media: str) -> None:
        writer.write(_head(None, media))
        for index in range(len(body)):
            writer.write(b"1\r\n" + body[index : index + 1] + b"\r\n")
            await writer.drain()
            await asyncio.sleep(interval)
        writer.write(b"0\r\n\r\n")

    return Behaviour(f"drip-chunked {interval}s/chunk", act)


def trickle(bytes_per_tick: int, tick: float) -> Behaviour:
    """Fast enough for every read timeout, far too slow for any deadline or throughput floor."""

    async def act(writer: Writer, body: bytes, media: str) -> None:
        padded = body + b" " * (512 << 10)  # JSON allows trailing spaces; an image gets them after its own end
        writer.write(_head(len(padded), media))
        for start in range(0, len(padded), bytes_per_tick):
            writer.write(padded[start : start + bytes_per_tick])
            await writer.drain()
            await asyncio.sleep(tick)

    return Behaviour(f"trickle {bytes_per_tick}B/{tick}s", act)


def stall(where: str) -> Behaviour:
    async def act(writer: Writer, body: bytes, media: str) -> None:
        whole = _head(len(body), media) + body
        cut = {"before-head": 0, "mid-head": 20, "after-head": len(_head(len(body), media)), "mid-body": len(whole) - 5}
        writer.write(whole[: cut[where]])
        await writer.drain()
        await asyncio.sleep(CONNECTION_CAP_SECONDS)

    return Behaviour(f"stall {where}", act)


def bomb(decoded: int, encoding: str = "gzip") -> Behaviour:
    async def act(writer: Writer, body: bytes, media: str) -> None:
        data = gzip_bomb(decoded)
        writer.write(_head(len(data), media, extra=f"Content-Encoding: {encoding}\r\n"))
        writer.write(data)
        await writer.drain()

    return Behaviour(f"{encoding} bomb {decoded >> 20} MiB", act)


def endless(content_type: str | None = None) -> Behaviour:
    """A chunked body that never ends, at full speed: only a size cap (or the deadline) stops the reader."""

    async def act(writer: Writer, body: bytes, media: str) -> None:
        writer.write(_head(None, content_type or media))
        block = b" " * 65536
        chunk = f"{len(block):x}\r\n".encode() + block + b"\r\n"
        writer.write(f"{len(body):x}\r\n".encode() + body + b"\r\n")
        for _ in range(1 << 16):  # 4 GiB at most, then the connection cap
            writer.write(chunk)
            await writer.drain()

    return Behaviour(f"endless chunked {content_type or 'body'}", act)


def cut_short() -> Behaviour:
    async def act(writer: Writer, body: bytes, media: str) -> None:
        writer.write(_head(len(body) + 1000, media) + body[:10])
        await writer.drain()

    return Behaviour("body shorter than Content-Length", act)


def raw(data: bytes, label: str) -> Behaviour:
    async def act(writer: Writer, body: bytes, media: str) -> None:
        writer.write(data)
        await writer.drain()

    return Behaviour(f"raw framing {label}", act)


@cache
def _png_bomb(png: bytes) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    parts = [compressor.compress(png), *(compressor.compress(bytes(1 << 20)) for _ in range(256))]
    return b"".join([*parts, compressor.flush()])


def small_gzip_bomb_in_png() -> Behaviour:
    """An image whose Content-Encoding expands past the image cap (the body starts as a PNG)."""

    async def act(writer: Writer, body: bytes, media: str) -> None:
        data = _png_bomb(body)
        writer.write(_head(len(data), "image/png", "Content-Encoding: gzip\r\n") + data)
        await writer.drain()

    return Behaviour("gzip bomb behind a PNG 256 MiB", act)


# -- the catalogue -------------------------------------------------------------------------------------------------


def catalogue(thorough: bool) -> list[Behaviour]:
    """Every behaviour of the sweep, in a fixed order (a request names one by its index)."""
    intervals = (0.01, 0.05, 0.2, 0.5) + ((0.02, 0.1, 1.0) if thorough else ())
    found: list[Behaviour] = []
    for interval in intervals:
        found += [drip_head(interval), drip_body(interval), drip_chunked(interval)]
    found += [trickle(64, 0.01), trickle(1024, 0.05), trickle(1, 0.001)]
    found += [stall(where) for where in ("before-head", "mid-head", "after-head", "mid-body")]
    found += [bomb(16 << 20), bomb(64 << 20), bomb(1 << 30), bomb(64 << 20, "gzip, gzip")]
    found += [endless(), endless("image/png"), cut_short(), small_gzip_bomb_in_png()]
    found += [raw(data, f"#{index}") for index, data in enumerate(RAW_HOSTILE)]
    return found


# -- the server --------------------------------------------------------------------------------------------------------

PNG = png_bytes(8, 8)
_GOOD = {
    "task": json.dumps(
        {**success_body("getTaskDetail"), "id": "{id}", "status": "processing", "progress": 10}
    ).encode(),
    "create": json.dumps(success_body("createImageGeneration")).encode(),
    "file": PNG,
}
_NAME = re.compile(r"task-unified-1757165031-b(\d{4})n\d+")


def task_name(index: int, serial: int) -> str:
    """The task id (prompt, file name) that makes the peer play behaviour ``index``; ``serial`` keeps it unique."""
    return f"task-unified-1757165031-b{index:04d}n{serial:06d}"


class _Server:
    """The asyncio server of the child process."""

    def __init__(self, behaviours: list[Behaviour]) -> None:
        self.behaviours = behaviours

    async def serve(self) -> None:
        server = await asyncio.start_server(self._handle, "127.0.0.1", 0, backlog=1024)
        print(f"PORT {server.sockets[0].getsockname()[1]}", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, _wait_for_stdin_eof)
        os._exit(0)  # the parent is done: drop every connection at once, stalled ones included

    async def _handle(self, reader: asyncio.StreamReader, writer: Writer) -> None:
        try:
            async with asyncio.timeout(CONNECTION_CAP_SECONDS):
                await self._answer(reader, writer)
        except (OSError, TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError, KeyError):
            pass
        finally:
            writer.close()

    async def _answer(self, reader: asyncio.StreamReader, writer: Writer) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, path = lines[0].split(" ")[:2]
        length = next((int(v) for k, _, v in (ln.partition(":") for ln in lines) if k.lower() == "content-length"), 0)
        body = await reader.readexactly(length) if length else b""
        if method == "POST" and path == "/v1/tasks/batch":
            # No batch endpoint here (a gateway without it): the client polls each task, so each behaviour
            # meets the wait that named it.
            missing = b'{"error": {"code": "not_found", "message": "no such route", "type": "not_found_error"}}'
            writer.write(b"HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\n")
            writer.write(f"Content-Length: {len(missing)}\r\n\r\n".encode() + missing)
            await writer.drain()
            return
        if method == "POST":
            name, good, media = json.loads(body)["prompt"], _GOOD["create"], "application/json"
        elif path.startswith("/files/"):
            name, good, media = path.rsplit("/", 1)[1].removesuffix(".png"), _GOOD["file"], "image/png"
        else:
            name = path.rsplit("/", 1)[1]
            good, media = _GOOD["task"].replace(b"{id}", name.encode()), "application/json"  # about the task asked
        match = _NAME.fullmatch(name)
        if match is None:
            return
        await self.behaviours[int(match.group(1))].act(writer, good, media)
        await writer.drain()


def _wait_for_stdin_eof() -> None:
    while sys.stdin.read(65536):
        pass


class HostilePeer:
    """The peer in a child process (its buffers and bombs never count against the client's memory).

    ``name(index)`` gives a fresh task id for behaviour ``index`` of :func:`catalogue`; closing stdin stops it.
    ``bombs=False`` skips building the gzip bombs (4 s of CPU) for a peer that will not be asked for them.
    """

    def __init__(self, thorough: bool = False, *, bombs: bool = True) -> None:
        root = Path(__file__).resolve().parents[1]  # the folder pytest puts on sys.path for this package
        flags = ["1" if thorough else "0", "bombs" if bombs else "no-bombs"]
        self._process = subprocess.Popen(
            [sys.executable, "-m", f"{__package__}.peers", *flags],
            cwd=root,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._process.stdout is not None
        line = self._process.stdout.readline().strip()
        if not line.startswith("PORT "):
            self.close()
            raise RuntimeError(f"the hostile peer did not start (said {line!r})")
        self.port = int(line.split()[1])
        self._serial = itertools.count()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def name(self, index: int) -> str:
        return task_name(index, next(self._serial))

    def file_url(self, name: str) -> str:
        return f"{self.base_url}/files/{name}.png"

    def close(self) -> None:
        assert self._process.stdin is not None and self._process.stdout is not None
        self._process.stdin.close()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process.stdout.close()


def _main() -> None:
    thorough, bombs = sys.argv[1] == "1", sys.argv[2] == "bombs"
    behaviours = catalogue(thorough)
    if bombs:  # built before answering: no request waits for them
        for size in (16 << 20, 64 << 20, 1 << 30):
            gzip_bomb(size)
        _png_bomb(PNG)
    asyncio.run(_Server(behaviours).serve())


if __name__ == "__main__":
    _main()
