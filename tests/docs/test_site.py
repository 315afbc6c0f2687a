"""The documentation site builds with ``mkdocs build --strict`` and its pages load nothing from off this machine.

Strict mode (mkdocs.yml ``validation``) fails on a broken link or anchor and on a
page left out of the nav. The build itself must be offline, and so must the built
pages: no web font, script, stylesheet or image from another host (a plain link to
another site is fine: it is only followed when clicked).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from .examples import ROOT

# Resources a browser fetches by itself: src= of any element, href= of <link>, url()/@import in CSS.
_HTML_FETCH = re.compile(r"""\ssrc=["']?(?P<a>https?:)?//|<link\b[^>]*\shref=["']?(?P<b>https?:)?//""", re.I)
_CSS_FETCH = re.compile(r"""url\(\s*["']?(https?:)?//|@import\s+["']?(https?:)?//""", re.I)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(ROOT / "mkdocs.yml"), "--site-dir", str(out)],
        cwd=ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    return out


def test_every_page_under_docs_is_built(site: Path) -> None:
    pages = sorted((ROOT / "docs").rglob("*.md"))
    assert pages
    for page in pages:
        rel = page.relative_to(ROOT / "docs").with_suffix("")
        built = site / "index.html" if rel.as_posix() == "index" else site / rel / "index.html"
        assert built.is_file(), f"{page.relative_to(ROOT)} was not built"


def test_the_built_pages_fetch_nothing_from_another_host(site: Path) -> None:
    offenders = []
    for path in site.rglob("*"):
        if path.suffix == ".html":
            text = path.read_text(encoding="utf-8")
            offenders += [f"{path.relative_to(site)}: {m.group(0)}" for m in _HTML_FETCH.finditer(text)]
        elif path.suffix == ".css":
            text = path.read_text(encoding="utf-8")
            offenders += [f"{path.relative_to(site)}: {m.group(0)}" for m in _CSS_FETCH.finditer(text)]
    assert not offenders, offenders


def test_the_api_reference_lists_the_public_names(site: Path) -> None:
    import seedream

    html = (site / "api" / "index.html").read_text(encoding="utf-8")
    documented = set(re.findall(r'id="seedream\.(\w+)"', html))
    missing = sorted(set(seedream.__all__) - documented - {"__version__"})
    assert not missing, f"docs/api.md does not show {missing}"
    assert not re.search(r":(class|mod|func|meth|attr|exc):", html), "a Sphinx role left in the rendered text"


def test_the_readme_links_to_files_that_exist() -> None:
    # The README is not part of the site, so mkdocs --strict does not check its links.
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    targets = [t for t in re.findall(r"\]\(([^)\s]+)\)", text) if not re.match(r"[a-z]+:|#", t)]
    assert targets, "the README links to no page"
    missing = [t for t in targets if not (ROOT / t.split("#", 1)[0]).exists()]
    assert not missing, f"README.md links to missing files: {missing}"
    pages = {p.relative_to(ROOT).as_posix() for p in (ROOT / "docs").glob("*.md")}
    assert pages <= {t.split("#", 1)[0] for t in targets}, "a docs page the README does not link to"
