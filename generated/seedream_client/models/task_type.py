# GENERATED FILE - DO NOT EDIT. openapi-python-client 0.29.1 from
# openapi/bundled/seedream.openapi.yaml with scripts/templates; run `nox -s regenerate`.
from enum import StrEnum
from typing import Any


class TaskType(StrEnum):
    """Open enum: a value the spec does not list is kept, not rejected.

    Unknown values (a status or billing rule the vendor adds later) become
    pseudo-members named ``UNKNOWN`` with ``is_known`` False; request models
    still reject them through their validators.
    """

    AUDIO = "audio"
    IMAGE = "image"
    TEXT = "text"
    VIDEO = "video"

    @classmethod
    def _missing_(cls, value: Any) -> "TaskType | None":
        if not isinstance(value, str):
            return None
        member = str.__new__(cls, value)
        member._name_ = "UNKNOWN"
        member._value_ = value
        return member

    @property
    def is_known(self) -> bool:
        """Whether the spec lists this value."""
        return self._name_ != "UNKNOWN"

    def __str__(self) -> str:
        return str(self.value)
