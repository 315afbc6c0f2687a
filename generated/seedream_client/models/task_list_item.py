# GENERATED FILE - DO NOT EDIT. openapi-python-client 0.29.1 from
# openapi/bundled/seedream.openapi.yaml with scripts/templates; run `nox -s regenerate`.
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.task_status import TaskStatus
from ..models.task_type import TaskType
from ..types import UNSET, Unset

T = TypeVar("T", bound="TaskListItem")


@_attrs_define
class TaskListItem:
    """A task summary. The facts name only the fields the vendor's CLI reads (`created_at`, `credits_used`, `has_results`,
    `has_error`); `id`, `model`, `status` and `type` are assumed from the filters the list takes.

        Attributes:
            id (str | Unset): Task ID Example: task-unified-1756817821-4x3rx6ny.
            model (str | Unset): Model name
            status (TaskStatus | Unset): Task status Example: pending.
            type_ (TaskType | Unset): Task output type
            created_at (int | str | Unset): When the task was created (unix seconds, or an ISO 8601 date-time)
            credits_used (float | Unset): Credits charged for the task
            has_results (bool | Unset): Whether the task has result links (query the task for them)
            has_error (bool | Unset): Whether the task ended with an error
    """

    id: str | Unset = UNSET
    model: str | Unset = UNSET
    status: TaskStatus | Unset = UNSET
    type_: TaskType | Unset = UNSET
    created_at: int | str | Unset = UNSET
    credits_used: float | Unset = UNSET
    has_results: bool | Unset = UNSET
    has_error: bool | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        model = self.model

        status: str | Unset = UNSET
        if not isinstance(self.status, Unset):
            status = str(self.status)

        type_: str | Unset = UNSET
        if not isinstance(self.type_, Unset):
            type_ = str(self.type_)

        created_at: int | str | Unset
        if isinstance(self.created_at, Unset):
            created_at = UNSET
        else:
            created_at = self.created_at

        credits_used = self.credits_used

        has_results = self.has_results

        has_error = self.has_error

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if id is not UNSET:
            field_dict["id"] = id
        if model is not UNSET:
            field_dict["model"] = model
        if status is not UNSET:
            field_dict["status"] = status
        if type_ is not UNSET:
            field_dict["type"] = type_
        if created_at is not UNSET:
            field_dict["created_at"] = created_at
        if credits_used is not UNSET:
            field_dict["credits_used"] = credits_used
        if has_results is not UNSET:
            field_dict["has_results"] = has_results
        if has_error is not UNSET:
            field_dict["has_error"] = has_error

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = d.pop("id", UNSET)

        model = d.pop("model", UNSET)

        _status = d.pop("status", UNSET)
        status: TaskStatus | Unset
        if isinstance(_status, Unset):
            status = UNSET
        else:
            status = TaskStatus(_status)

        _type_ = d.pop("type", UNSET)
        type_: TaskType | Unset
        if isinstance(_type_, Unset):
            type_ = UNSET
        else:
            type_ = TaskType(_type_)

        def _parse_created_at(data: object) -> int | str | Unset:
            if isinstance(data, Unset):
                return data
            return cast(int | str | Unset, data)

        created_at = _parse_created_at(d.pop("created_at", UNSET))

        credits_used = d.pop("credits_used", UNSET)

        has_results = d.pop("has_results", UNSET)

        has_error = d.pop("has_error", UNSET)

        task_list_item = cls(
            id=id,
            model=model,
            status=status,
            type_=type_,
            created_at=created_at,
            credits_used=credits_used,
            has_results=has_results,
            has_error=has_error,
        )

        task_list_item.additional_properties = d
        return task_list_item

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
