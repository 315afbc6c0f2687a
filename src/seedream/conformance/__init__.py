"""The conformance suite, shipped with the package: pytest modules proving spec, client and a server agree.

Run it with ``seedream conformance`` (or ``python -m seedream.conformance``):
offline against the embedded simulator by default, against a live server with
``--base-url``. See docs/conformance.md. Importing this package
imports nothing else: pytest loads it for every test module of the suite.
"""

__all__: list[str] = []
