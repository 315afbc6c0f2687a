"""Seedream 5.0 Lite: a guarded client, an embedded simulator and a conformance suite.

Hand-written runtime. The generated low-level client is the separate package
``seedream_client`` (generated/seedream_client, never edited by hand).

Exports are loaded lazily (PEP 562): ``import seedream`` is cheap, so the pytest
plugin this package registers costs nothing to projects that never use it.
"""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import version as _version
from typing import TYPE_CHECKING, Any

__version__ = _version("seedream")

if TYPE_CHECKING:
    from ._batch import BatchReport, read_batch, run_batch
    from ._client import AsyncSeedreamAPI, SeedreamAPI
    from ._download import DownloadLimits, DownloadProgress, SavedFile
    from ._errors import (
        APIConnectionError,
        APIError,
        APIStatusError,
        APITimeoutError,
        AuthenticationError,
        BadRequestError,
        ConfigurationError,
        DownloadError,
        IdempotencyConflictError,
        InsufficientQuotaError,
        LedgerError,
        LinkExpiredError,
        NotFoundError,
        PermissionDeniedError,
        RateLimitError,
        RequestValidationError,
        SeedreamError,
        ServerError,
        TaskCancelledError,
        TaskError,
        TaskFailedError,
        UnexpectedResponseError,
        WaitTimeoutError,
    )
    from ._ledger import Ledger, LedgerEntry, default_ledger_path
    from ._polling import PollPolicy
    from ._preflight import ReferenceImageInfo, preflight_reference_image, preflight_reference_images
    from ._responses import raise_for_task_status
    from ._retry import RetryPolicy
    from ._sheet import collect_images, write_contact_sheet
    from ._workflow import AsyncSeedream, Generation, ResumeOutcome, Seedream, parse_callback

# public name -> private module that defines it
_EXPORTS = {
    "APIConnectionError": "_errors",
    "APIError": "_errors",
    "APIStatusError": "_errors",
    "APITimeoutError": "_errors",
    "AsyncSeedream": "_workflow",
    "AsyncSeedreamAPI": "_client",
    "AuthenticationError": "_errors",
    "BadRequestError": "_errors",
    "BatchReport": "_batch",
    "ConfigurationError": "_errors",
    "DownloadError": "_errors",
    "DownloadLimits": "_download",
    "DownloadProgress": "_download",
    "Generation": "_workflow",
    "IdempotencyConflictError": "_errors",
    "InsufficientQuotaError": "_errors",
    "Ledger": "_ledger",
    "LedgerEntry": "_ledger",
    "LedgerError": "_errors",
    "LinkExpiredError": "_errors",
    "NotFoundError": "_errors",
    "PermissionDeniedError": "_errors",
    "PollPolicy": "_polling",
    "RateLimitError": "_errors",
    "ReferenceImageInfo": "_preflight",
    "RequestValidationError": "_errors",
    "ResumeOutcome": "_workflow",
    "RetryPolicy": "_retry",
    "SavedFile": "_download",
    "Seedream": "_workflow",
    "SeedreamAPI": "_client",
    "SeedreamError": "_errors",
    "ServerError": "_errors",
    "TaskCancelledError": "_errors",
    "TaskError": "_errors",
    "TaskFailedError": "_errors",
    "UnexpectedResponseError": "_errors",
    "WaitTimeoutError": "_errors",
    "collect_images": "_sheet",
    "default_ledger_path": "_ledger",
    "parse_callback": "_workflow",
    "preflight_reference_image": "_preflight",
    "preflight_reference_images": "_preflight",
    "raise_for_task_status": "_responses",
    "read_batch": "_batch",
    "run_batch": "_batch",
    "write_contact_sheet": "_sheet",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'seedream' has no attribute {name!r}")
    # Not cached here: always the object of the module as sys.modules holds it now (pytester and
    # reloads may replace a submodule; a cached copy would be a second, different class).
    return getattr(import_module(f"seedream.{module}"), name)


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncSeedream",
    "AsyncSeedreamAPI",
    "AuthenticationError",
    "BadRequestError",
    "BatchReport",
    "ConfigurationError",
    "DownloadError",
    "DownloadLimits",
    "DownloadProgress",
    "Generation",
    "IdempotencyConflictError",
    "InsufficientQuotaError",
    "Ledger",
    "LedgerEntry",
    "LedgerError",
    "LinkExpiredError",
    "NotFoundError",
    "PermissionDeniedError",
    "PollPolicy",
    "RateLimitError",
    "ReferenceImageInfo",
    "RequestValidationError",
    "ResumeOutcome",
    "RetryPolicy",
    "SavedFile",
    "Seedream",
    "SeedreamAPI",
    "SeedreamError",
    "ServerError",
    "TaskCancelledError",
    "TaskError",
    "TaskFailedError",
    "UnexpectedResponseError",
    "WaitTimeoutError",
    "__version__",
    "collect_images",
    "default_ledger_path",
    "parse_callback",
    "preflight_reference_image",
    "preflight_reference_images",
    "raise_for_task_status",
    "read_batch",
    "run_batch",
    "write_contact_sheet",
]
