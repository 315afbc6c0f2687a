"""The embedded EvoLink simulator: a stateful stand-in for the Seedream 5.0 Lite API on loopback.

::

    from seedream.simulator import SimulatorConfig, create_app, run_simulator

    cfg = SimulatorConfig.for_tests()            # key sk-test, 100x time, seed 0, loopback only
    app = create_app(cfg)                        # ASGI app: httpx.ASGITransport(app=app)
    with run_simulator(cfg) as server:           # uvicorn in a thread on 127.0.0.1:<free port>
        server.base_url; server.counters()       # counters also at GET /__simulator__/counters

The contract (what it validates, simulates, and does not) is in docs/simulator.md.
"""

from ._app import SimulatorApp, create_app
from ._callbacks import CALLBACK_RETRY_DELAYS, CALLBACK_TIMEOUT, CallbackAttempt
from ._clock import Clock, ManualClock, SystemClock
from ._config import OUTBOUND_CHOICES, SimulatorConfig
from ._markers import Markers, parse_markers
from ._server import RunningSimulator, run_simulator

__all__ = [
    "CALLBACK_RETRY_DELAYS",
    "CALLBACK_TIMEOUT",
    "OUTBOUND_CHOICES",
    "CallbackAttempt",
    "Clock",
    "ManualClock",
    "Markers",
    "RunningSimulator",
    "SimulatorApp",
    "SimulatorConfig",
    "SystemClock",
    "create_app",
    "parse_markers",
    "run_simulator",
]
