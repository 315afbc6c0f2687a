"""``python -m seedream``: the ``seedream`` command, for when the console script is not on PATH."""

from seedream._cli import main

if __name__ == "__main__":
    main()
