"""``seedream simulator``: every :class:`SimulatorConfig` knob as a flag, uvicorn in the foreground.

``register(app)`` adds the command to a Typer app (the project's ``seedream``
console script does this); ``python -m seedream.simulator`` runs it alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

import typer

from ._app import create_app
from ._config import OUTBOUND_CHOICES, Outbound, SimulatorConfig
from ._server import serve_forever

__all__ = ["register", "serve", "simulator_command"]


def serve(
    host: str = "127.0.0.1",
    port: int = 8765,
    api_keys: Sequence[str] | None = None,
    *,
    time_scale: float = 1.0,
    seed: int | None = None,
    link_lifetime: float = 86_400.0,
    fault_429: float = 0.0,
    fault_5xx: float = 0.0,
    fault_drop: float = 0.0,
    fault_latency: float = 0.0,
    fault_latency_rate: float = 1.0,
    task_failure_rate: float = 0.0,
    credits: float | None = None,
    no_access_keys: Sequence[str] | None = None,
    rate_limit: int | None = None,
    allow_loopback: bool = False,
    outbound: Outbound = "public",
    public_base_url: str | None = None,
    honour_idempotency_keys: bool = True,
    log_level: str = "info",
) -> None:
    """Build a config from the arguments and serve until Ctrl-C or SIGTERM (prints the base URL)."""
    config = SimulatorConfig(
        api_keys=tuple(api_keys or ()),
        no_access_keys=tuple(no_access_keys or ()),
        time_scale=time_scale,
        seed=seed,
        link_lifetime=link_lifetime,
        fault_429=fault_429,
        fault_5xx=fault_5xx,
        fault_drop=fault_drop,
        fault_latency=fault_latency,
        fault_latency_rate=fault_latency_rate,
        task_failure_rate=task_failure_rate,
        credits=credits,
        rate_limit=rate_limit,
        allow_loopback=allow_loopback,
        outbound=outbound,
        public_base_url=public_base_url,
        honour_idempotency_keys=honour_idempotency_keys,
    )
    serve_forever(create_app(config), host=host, port=port, log_level=log_level)


_RATE = "Share of API requests (0..1) that"


def simulator_command(
    host: Annotated[str, typer.Option(help="Address to bind (loopback by default).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to bind; 0 picks a free one.")] = 8765,
    api_key: Annotated[
        list[str] | None,
        typer.Option(
            "--api-key",
            envvar="SEEDREAM_SIMULATOR_API_KEYS",
            help="Accepted bearer token (repeatable). None given: any token is accepted.",
        ),
    ] = None,
    time_scale: Annotated[
        float, typer.Option(help="Real seconds per simulated second (0.01 runs everything 100x faster).")
    ] = 1.0,
    seed: Annotated[int | None, typer.Option(help="Seed for ids, durations, failures and faults.")] = None,
    link_lifetime: Annotated[
        float, typer.Option(help="Seconds (simulated) result links work after a task completes.")
    ] = 86_400.0,
    fault_429: Annotated[float, typer.Option("--fault-429", help=f"{_RATE} get 429 with Retry-After.")] = 0.0,
    fault_5xx: Annotated[float, typer.Option("--fault-5xx", help=f"{_RATE} get a 500/502/503.")] = 0.0,
    fault_drop: Annotated[float, typer.Option(help=f"{_RATE} have their connection dropped.")] = 0.0,
    fault_latency: Annotated[float, typer.Option(help="Seconds (simulated) of latency added to requests.")] = 0.0,
    fault_latency_rate: Annotated[float, typer.Option(help=f"{_RATE} get the added latency.")] = 1.0,
    task_failure_rate: Annotated[
        float, typer.Option(help="Share of tasks (0..1) that fail with a server-side code.")
    ] = 0.0,
    credits: Annotated[
        float | None, typer.Option(help="Credit balance (402 when exhausted); unlimited if unset.")
    ] = None,
    no_access_key: Annotated[
        list[str] | None,
        typer.Option("--no-access-key", help="A key without model access: POST answers 403 (repeatable)."),
    ] = None,
    rate_limit: Annotated[int | None, typer.Option(help="Requests per key per simulated minute (429 beyond).")] = None,
    allow_loopback: Annotated[
        bool, typer.Option(help="Tests only: accept internal callback hosts and contact loopback.")
    ] = False,
    outbound: Annotated[
        str, typer.Option(help=f"Where reference fetches and callbacks may go: {', '.join(OUTBOUND_CHOICES)}.")
    ] = "public",
    public_base_url: Annotated[str | None, typer.Option(help="Base of result links (default: as requested).")] = None,
    ignore_idempotency_keys: Annotated[
        bool,
        typer.Option(
            "--ignore-idempotency-keys", help="Act as a gateway without Idempotency-Key support (each POST creates)."
        ),
    ] = False,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
) -> None:
    """Run the EvoLink simulator on loopback until Ctrl-C or SIGTERM."""
    if outbound not in OUTBOUND_CHOICES:
        raise typer.BadParameter(f"one of {', '.join(OUTBOUND_CHOICES)}", param_hint="--outbound")
    try:
        serve(
            host,
            port,
            api_key,
            time_scale=time_scale,
            seed=seed,
            link_lifetime=link_lifetime,
            fault_429=fault_429,
            fault_5xx=fault_5xx,
            fault_drop=fault_drop,
            fault_latency=fault_latency,
            fault_latency_rate=fault_latency_rate,
            task_failure_rate=task_failure_rate,
            credits=credits,
            no_access_keys=no_access_key,
            rate_limit=rate_limit,
            allow_loopback=allow_loopback,
            outbound=outbound,  # checked against OUTBOUND_CHOICES above
            public_base_url=public_base_url,
            honour_idempotency_keys=not ignore_idempotency_keys,
            log_level=log_level,
        )
    except ValueError as exc:  # a bad knob: SimulatorConfig names the field
        raise typer.BadParameter(str(exc)) from None
    except OSError as exc:  # e.g. the port is taken
        typer.echo(f"error: cannot serve on {host}:{port}: {exc.strerror or exc}", err=True)
        raise typer.Exit(1) from None


def register(app: typer.Typer, name: str = "simulator") -> None:
    """Add the ``simulator`` command to ``app``."""
    app.command(name)(simulator_command)
