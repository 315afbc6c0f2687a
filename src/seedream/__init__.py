"""Seedream 5.0 Lite: a guarded client, an embedded simulator and a conformance suite.

Hand-written runtime. The generated low-level client is the separate package
``seedream_client`` (generated/seedream_client, never edited by hand).
"""

from importlib.metadata import version as _version

__version__ = _version("seedream")

__all__ = ["__version__"]
