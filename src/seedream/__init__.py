"""Seedream 5.0 Lite: a guarded client, an embedded simulator and a conformance suite.

Hand-written runtime. The generated low-level client is the separate package
``seedream_client`` (generated/seedream_client, never edited by hand).
"""

from importlib.metadata import version as _version

__version__ = _version("seedream")

from ._client import AsyncSeedreamAPI, SeedreamAPI
from ._download import DownloadProgress, SavedFile
from ._errors import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    DownloadError,
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
from ._workflow import AsyncSeedream, Generation, ResumeOutcome, Seedream, parse_callback

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncSeedream",
    "AsyncSeedreamAPI",
    "AuthenticationError",
    "BadRequestError",
    "ConfigurationError",
    "DownloadError",
    "DownloadProgress",
    "Generation",
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
    "default_ledger_path",
    "parse_callback",
    "preflight_reference_image",
    "preflight_reference_images",
    "raise_for_task_status",
]
