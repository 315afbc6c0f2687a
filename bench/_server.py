"""A server in a child process, so its CPU never mixes with the measured client's.

    python -m bench._server echo '{"files": DIR}'      # plain Starlette + uvicorn: the spec's 200 body, DIR's files
    python -m bench._server simulator '{"time_scale": 0.01}'   # seedream.simulator.run_simulator(SimulatorConfig(...))

The child prints ``READY <base_url>`` and serves on 127.0.0.1 until its
standard input closes. :func:`serve` is the parent's side.
"""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ._spec_bodies import ROOT

__all__ = ["serve"]


@contextmanager
def serve(kind: str, config: dict[str, Any] | None = None) -> Iterator[str]:
    """Start the child, yield its base URL, stop it on exit."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench._server", kind, json.dumps(config or {})],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdin is not None and proc.stdout is not None
    try:
        line = proc.stdout.readline().strip()
        if not line.startswith("READY "):
            raise RuntimeError(f"bench server {kind!r} did not start (said {line!r}, exit {proc.poll()})")
        yield line.split(" ", 1)[1]
    finally:
        proc.stdin.close()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stdout.close()


def _wait_for_stdin_eof() -> None:
    while sys.stdin.read(65536):
        pass


def _echo(config: dict[str, Any]) -> None:
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import FileResponse, Response
    from starlette.routing import Route

    from ._spec_bodies import create_200_body

    body = create_200_body()

    async def create(request: Request) -> Response:
        await request.body()
        return Response(body, media_type="application/json")

    files = Path(config["files"]) if "files" in config else None

    async def file(request: Request) -> Response:
        name = Path(request.path_params["name"]).name
        if files is None or not (files / name).is_file():
            return Response(status_code=404)
        return FileResponse(files / name, media_type="image/png")

    routes = [Route("/v1/images/generations", create, methods=["POST"]), Route("/files/{name}", file)]
    app = Starlette(routes=routes)
    # proto=IPPROTO_TCP: asyncio sets TCP_NODELAY on accepted sockets only then (else 40 ms delayed-ACK stalls)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off"))

    def stop_on_eof() -> None:
        _wait_for_stdin_eof()
        server.should_exit = True

    threading.Thread(target=stop_on_eof, daemon=True).start()

    async def main() -> None:
        task = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started:
            await asyncio.sleep(0.01)
        print(f"READY http://127.0.0.1:{port}", flush=True)
        await task

    asyncio.run(main())


def _simulator(config: dict[str, Any]) -> None:
    from seedream.simulator import SimulatorConfig, run_simulator  # issue 4

    from ._impls import API_KEY

    config = {"api_keys": (API_KEY,), "seed": 1, "allow_loopback": True, **config}
    with run_simulator(SimulatorConfig(**config)) as server:
        print(f"READY {server.base_url}", flush=True)
        _wait_for_stdin_eof()


if __name__ == "__main__":
    kind, raw = sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "{}"
    if kind == "echo":
        _echo(json.loads(raw))
    elif kind == "simulator":
        _simulator(json.loads(raw))
    else:
        raise SystemExit(f"unknown server kind {kind!r}")
