"""A simulator that has drifted from the spec, and the loopback servers the command is run against."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator
from typing import Any

from seedream.simulator import RunningSimulator, SimulatorApp, SimulatorConfig, run_simulator

KEY = "sk-conformance-command"


class StatusDrift(SimulatorApp):
    """The simulator, except that every 400 goes out as 422: the documented status of a rejection drifted."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        async def drifted(message: Any) -> None:
            if message["type"] == "http.response.start" and message["status"] == 400:
                message = {**message, "status": 422}
            await send(message)

        await super().__call__(scope, receive, drifted)


class Outage(SimulatorApp):
    """The simulator behind a gateway whose upstream is down: every answer is a 503."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        async def down(message: Any) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "status": 503}
            await send(message)

        await super().__call__(scope, receive, down)


def _config() -> SimulatorConfig:
    return SimulatorConfig.for_tests(api_keys=(KEY,), time_scale=0.001)


@contextlib.contextmanager
def simulator(drift: bool = False, app_class: type[SimulatorApp] | None = None) -> Iterator[RunningSimulator]:
    """A simulator on 127.0.0.1 standing in for the live API (key :data:`KEY`), drifted or not."""
    app = (app_class or (StatusDrift if drift else SimulatorApp))(_config())
    try:
        with run_simulator(app=app) as server:
            yield server
    finally:
        app.close()


def closed_port() -> int:
    """A port on 127.0.0.1 nobody listens on (bound, then closed: connections are refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port
