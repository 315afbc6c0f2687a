"""mkdocs hooks (mkdocs.yml `hooks:`): the API reference shows Sphinx roles in docstrings as plain code.

The docstrings cross-reference with Sphinx roles (``:class:`Ledger```); mkdocstrings renders
the role's name as text before the code span, so it is dropped here, once, for every page.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["on_page_content"]

_ROLE = re.compile(r":(?:class|mod|func|meth|attr|data|exc|obj):(?=<code>)")


def on_page_content(html: str, **_: Any) -> str:
    return _ROLE.sub("", html)
