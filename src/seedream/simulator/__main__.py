"""``python -m seedream.simulator [OPTIONS]``: the ``seedream simulator`` command on its own."""

from __future__ import annotations

import typer

from ._cli import simulator_command


def main() -> None:
    app = typer.Typer(add_completion=False, help="Run the EvoLink simulator on loopback.")
    app.command()(simulator_command)
    app(prog_name="python -m seedream.simulator")


if __name__ == "__main__":
    main()
