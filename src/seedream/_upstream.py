"""Watch the vendor's published pages: fetch, extract the embedded OpenAPI YAML, classify what changed.

``nox -s upstream`` (live, opt-in, never in CI) runs :func:`main`. For every
page in :data:`PAGES` it fetches the page, extracts the YAML block the same
way ``conformance/test_spec_layer.py`` proves ``openapi/vendor/`` is the seed's
text byte for byte, and compares it with the repository's baseline using
:mod:`seedream._spec_diff`:

* a page we keep verbatim (the generation page) is compared with its copy in
  ``openapi/vendor/``; ``--apply`` replaces the copy with the page's YAML and
  runs ``scripts/regenerate.py``;
* a page we keep no copy of (the task-detail page: the repository's
  ``getTaskDetail`` is our own description, ``openapi/companion/``, written
  from spec-facts) is compared with the same operations of the bundled spec.
  The report lists the differences for review; ``--apply`` never edits the
  companion, which is written by hand.

Every source can be a local path or a ``file://`` URL instead of the
published address (``--page NAME=SOURCE``): the tests use fixture pages that
way and never contact a host.

The published addresses are derived, not copied from a stated URL: the docs
host is the one the seed page's header names (``https://docs.evolink.ai/llms.txt``),
the paths are the seed's own YAML header (``/en/api-manual/image-series/seedream/
seedream-5.0-lite-image-generate``) and its link to the task query
(``/en/api-manual/task-management/get-task-detail``), as Markdown (``.md``).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from ._spec_diff import Change, diff_documents, summarise

__all__ = ["PAGES", "Page", "PageReport", "check_page", "extract_yaml", "fetch", "main"]

_DOCS = "https://docs.evolink.ai"


@dataclass(frozen=True)
class Page:
    name: str
    source: str  # published URL, or a local path / file:// URL
    vendor_copy: str | None  # the verbatim copy of its YAML under the repository root, if we keep one
    page_copy: str | None = None  # the repository's copy of the whole page (the base of the test fixtures)


PAGES: tuple[Page, ...] = (
    Page(
        "image-generate",
        f"{_DOCS}/en/api-manual/image-series/seedream/seedream-5.0-lite-image-generate.md",
        "openapi/vendor/seedream-5.0-lite-image-generate.yaml",
        "tests/fixtures/upstream/image-generate.md",
    ),
    Page("task-detail", f"{_DOCS}/en/api-manual/task-management/get-task-detail.md", None),
)

BUNDLED = "openapi/bundled/seedream.openapi.yaml"


class UpstreamError(Exception):
    """A page could not be fetched or holds no OpenAPI YAML block."""


def fetch(source: str, *, timeout: float = 30.0) -> bytes:
    """The bytes at ``source``: an http(s) URL (live use only), a ``file://`` URL or a local path."""
    scheme = urlparse(source).scheme.lower()
    if scheme in {"http", "https"}:
        import httpx

        try:
            response = httpx.get(source, timeout=timeout, follow_redirects=True)
            response.raise_for_status()
        except httpx.HTTPError as exc:
            raise UpstreamError(f"{source}: {exc}") from exc
        return response.content
    path = Path(unquote(urlparse(source).path)) if scheme == "file" else Path(source)
    try:
        return path.read_bytes()
    except OSError as exc:
        raise UpstreamError(f"{source}: {exc.strerror or exc}") from exc


def extract_yaml(page: bytes, *, source: str = "page") -> bytes:
    """The embedded OpenAPI YAML, byte for byte: from the line after ````` ````yaml `````  to the closing fence."""
    opening = page.find(b"````yaml ")
    if opening < 0:
        raise UpstreamError(f"{source}: no ````yaml block (is this the vendor's Markdown page?)")
    start = page.find(b"\n", opening) + 1
    end = page.find(b"\n````", start)
    if start == 0 or end < 0:
        raise UpstreamError(f"{source}: the ````yaml block is not closed")
    return page[start : end + 1]


def _parse(text: bytes, source: str) -> Mapping[str, Any]:
    import yaml

    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise UpstreamError(f"{source}: the YAML does not parse: {exc}") from exc
    if not isinstance(doc, Mapping) or "paths" not in doc:
        raise UpstreamError(f"{source}: the YAML is not an OpenAPI document (no `paths`)")
    return doc


@dataclass
class PageReport:
    page: Page
    baseline: str  # what it was compared with
    text_changed: bool  # the YAML differs from the verbatim copy at all (None copy: always False)
    changes: list[Change]
    new_text: bytes
    fetched: bytes = b""  # the whole page as fetched

    @property
    def breaking(self) -> list[Change]:
        return [c for c in self.changes if c.classification.startswith("breaking")]


def _against_bundled(page_doc: Mapping[str, Any], bundled: Mapping[str, Any]) -> Mapping[str, Any]:
    """The bundled spec cut to the page's paths, with the page's document-level fields (not ours to judge)."""
    paths = bundled.get("paths") or {}
    own = {path: paths[path] for path in page_doc.get("paths") or {} if path in paths}
    cut = {key: page_doc[key] for key in ("info", "tags", "servers", "security") if key in page_doc}
    return {**cut, "paths": own, "components": bundled.get("components") or {}}


def check_page(page: Page, root: Path, source: str | None = None) -> PageReport:
    """Fetch ``page`` (from ``source`` if given) and compare it with its baseline under ``root``."""
    where = source or page.source
    fetched = fetch(where)
    new_text = extract_yaml(fetched, source=where)
    new_doc = _parse(new_text, where)
    if page.vendor_copy is not None:
        copy_path = root / page.vendor_copy
        old_text = copy_path.read_bytes()
        old_doc = _parse(old_text, str(copy_path))
        changes = diff_documents(old_doc, new_doc)
        return PageReport(page, page.vendor_copy, old_text != new_text, changes, new_text, fetched)
    bundled = _parse((root / BUNDLED).read_bytes(), BUNDLED)
    changes = diff_documents(_against_bundled(new_doc, bundled), new_doc)
    return PageReport(page, f"{BUNDLED} (our description, reviewed by hand)", False, changes, new_text, fetched)


def _print_report(report: PageReport, out: Any) -> None:
    print(f"== {report.page.name}: compared with {report.baseline}", file=out)
    if not report.changes:
        note = "the YAML text changed, the document did not" if report.text_changed else "no change"
        print(f"  {note}", file=out)
    for line in summarise(report.changes):
        print(f"  {line}", file=out)


def apply(reports: Sequence[PageReport], root: Path, out: Any) -> int:
    """Write every changed verbatim copy, then regenerate; the exit status of the regeneration (0 if none)."""
    written = []
    for report in reports:
        if report.page.vendor_copy is not None and report.text_changed:
            (root / report.page.vendor_copy).write_bytes(report.new_text)
            written.append(report.page.vendor_copy)
            page_copy = report.page.page_copy
            if page_copy is not None and (root / page_copy).parent.is_dir():
                (root / page_copy).write_bytes(report.fetched)
                written.append(page_copy)
                print(
                    f"apply: rebuild the fixtures from the new page: python {Path(page_copy).parent}/make_fixtures.py",
                    file=out,
                )
        elif report.page.vendor_copy is None and report.changes:
            print(f"  {report.page.name}: no verbatim copy; review openapi/companion/ by hand", file=out)
    if not written:
        print("apply: nothing to update", file=out)
        return 0
    print(f"apply: updated {', '.join(written)}; regenerating", file=out)
    result = subprocess.run([sys.executable, str(root / "scripts" / "regenerate.py")], cwd=root, check=False)
    return result.returncode


def main(argv: Sequence[str] | None = None, *, out: Any = None) -> int:
    out = out or sys.stdout
    parser = argparse.ArgumentParser(prog="upstream", description="Compare the vendor's published pages with openapi/.")
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="repository root (default: cwd)")
    parser.add_argument(
        "--page",
        action="append",
        default=[],
        metavar="NAME=SOURCE",
        help=f"read page NAME from SOURCE (a path or file:// URL) instead; names: {', '.join(p.name for p in PAGES)}",
    )
    parser.add_argument("--only", action="append", default=[], metavar="NAME", help="check only these pages")
    parser.add_argument("--apply", action="store_true", help="update openapi/vendor/ and run scripts/regenerate.py")
    args = parser.parse_args(argv)
    known = {p.name: p for p in PAGES}
    sources: dict[str, str] = {}
    for item in args.page:
        name, sep, source = item.partition("=")
        if not sep or name not in known or not source:
            parser.error(f"--page {item!r}: expected NAME=SOURCE with NAME one of {', '.join(known)}")
        sources[name] = source
    for name in args.only:
        if name not in known:
            parser.error(f"--only {name!r}: not a page name ({', '.join(known)})")
    root: Path = args.root.resolve()
    if not (root / "openapi" / "vendor").is_dir():
        parser.error(f"--root {root}: no openapi/vendor/ there (run from the repository root)")
    reports = []
    for page in PAGES:
        if args.only and page.name not in args.only:
            continue
        try:
            report = check_page(page, root, sources.get(page.name))
        except UpstreamError as exc:
            print(f"upstream: {exc}", file=sys.stderr)
            return 2
        _print_report(report, out)
        reports.append(report)
    breaking = sum(len(r.breaking) for r in reports)
    total = sum(len(r.changes) for r in reports)
    print(f"upstream: {total} change(s), {breaking} breaking", file=out)
    return apply(reports, root, out) if args.apply else 0
