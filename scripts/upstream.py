"""Compare the vendor's published pages with openapi/ and classify each change (``nox -s upstream``).

Live and opt-in: it fetches from the vendor's documentation site, so CI never
runs it. ``--apply`` updates openapi/vendor/ and regenerates;
``--page NAME=PATH`` reads a local page instead. See seedream._upstream.
"""

from __future__ import annotations

import sys

from seedream._upstream import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
