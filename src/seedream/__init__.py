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

# One statement per module, each name re-exported explicitly (`X as X`): kept so by hand, not by isort.
# isort: off
if TYPE_CHECKING:  # the same names, for type checkers
    from ._answers import TaskBatch as TaskBatch, raise_for_task_status as raise_for_task_status
    from ._async._api import AsyncSeedreamAPI as AsyncSeedreamAPI
    from ._async._workflow import AsyncSeedream as AsyncSeedream
    from ._batch import BatchReport as BatchReport, read_batch as read_batch, run_batch as run_batch
    from ._candidates import UnconfirmedRow as UnconfirmedRow
    from ._cost import Balance as Balance, Estimate as Estimate, Prices as Prices
    from ._download import (
        DownloadLimits as DownloadLimits,
        DownloadProgress as DownloadProgress,
        SavedFile as SavedFile,
    )
    from ._errors import (
        APIConnectionError as APIConnectionError,
        APIError as APIError,
        APIStatusError as APIStatusError,
        APITimeoutError as APITimeoutError,
        AuthenticationError as AuthenticationError,
        BadRequestError as BadRequestError,
        ConfigurationError as ConfigurationError,
        DownloadError as DownloadError,
        IdempotencyConflictError as IdempotencyConflictError,
        InsufficientQuotaError as InsufficientQuotaError,
        LedgerError as LedgerError,
        LinkExpiredError as LinkExpiredError,
        NotFoundError as NotFoundError,
        PermissionDeniedError as PermissionDeniedError,
        RateLimitError as RateLimitError,
        RequestValidationError as RequestValidationError,
        SeedreamError as SeedreamError,
        ServerError as ServerError,
        TaskCancelledError as TaskCancelledError,
        TaskError as TaskError,
        TaskFailedError as TaskFailedError,
        UnexpectedResponseError as UnexpectedResponseError,
        WaitTimeoutError as WaitTimeoutError,
    )
    from ._idempotency import IdempotencySupport as IdempotencySupport
    from ._ledger import Ledger as Ledger, LedgerEntry as LedgerEntry, default_ledger_path as default_ledger_path
    from ._polling import PollPolicy as PollPolicy
    from ._preflight import (
        ReferenceImageInfo as ReferenceImageInfo,
        preflight_reference_image as preflight_reference_image,
        preflight_reference_images as preflight_reference_images,
    )
    from ._retry import RetryPolicy as RetryPolicy
    from ._sheet import collect_images as collect_images, write_contact_sheet as write_contact_sheet
    from ._sync._api import SeedreamAPI as SeedreamAPI
    from ._sync._workflow import Seedream as Seedream
    from ._workflow import Generation as Generation, ResumeOutcome as ResumeOutcome, parse_callback as parse_callback
# isort: on

# The public names, each once, by the private module that defines it: ``__all__`` and the lazy imports come
# from here (the TYPE_CHECKING imports above repeat them for type checkers, checked equal by tests/test_public_api.py).
_MODULES = {
    "_answers": ("TaskBatch", "raise_for_task_status"),
    "_async._api": ("AsyncSeedreamAPI",),
    "_async._workflow": ("AsyncSeedream",),
    "_batch": ("BatchReport", "read_batch", "run_batch"),
    "_candidates": ("UnconfirmedRow",),
    "_cost": ("Balance", "Estimate", "Prices"),
    "_download": ("DownloadLimits", "DownloadProgress", "SavedFile"),
    "_errors": (
        "APIConnectionError",
        "APIError",
        "APIStatusError",
        "APITimeoutError",
        "AuthenticationError",
        "BadRequestError",
        "ConfigurationError",
        "DownloadError",
        "IdempotencyConflictError",
        "InsufficientQuotaError",
        "LedgerError",
        "LinkExpiredError",
        "NotFoundError",
        "PermissionDeniedError",
        "RateLimitError",
        "RequestValidationError",
        "SeedreamError",
        "ServerError",
        "TaskCancelledError",
        "TaskError",
        "TaskFailedError",
        "UnexpectedResponseError",
        "WaitTimeoutError",
    ),
    "_idempotency": ("IdempotencySupport",),
    "_ledger": ("Ledger", "LedgerEntry", "default_ledger_path"),
    "_polling": ("PollPolicy",),
    "_preflight": ("ReferenceImageInfo", "preflight_reference_image", "preflight_reference_images"),
    "_retry": ("RetryPolicy",),
    "_sheet": ("collect_images", "write_contact_sheet"),
    "_sync._api": ("SeedreamAPI",),
    "_sync._workflow": ("Seedream",),
    "_workflow": ("Generation", "ResumeOutcome", "parse_callback"),
}
_EXPORTS = {name: module for module, names in _MODULES.items() for name in names}
__all__ = sorted(["__version__", *_EXPORTS])


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'seedream' has no attribute {name!r}")
    # Not cached here: always the object of the module as sys.modules holds it now (pytester and
    # reloads may replace a submodule; a cached copy would be a second, different class).
    return getattr(import_module(f"seedream.{module}"), name)


def __dir__() -> list[str]:
    return sorted(__all__)
