"""``python -m seedream.conformance``: the same command as ``seedream conformance``."""

from seedream.conformance._cli import main

if __name__ == "__main__":
    main()
