# GENERATED FILE - DO NOT EDIT. openapi-python-client 0.29.1 from
# openapi/bundled/seedream.openapi.yaml with scripts/templates; run `nox -s regenerate`.
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="CreditsBalance")


@_attrs_define
class CreditsBalance:
    """
    Attributes:
        remaining_credits (float | Unset): Credits left
        used_credits (float | Unset): Credits used so far
    """

    remaining_credits: float | Unset = UNSET
    used_credits: float | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        remaining_credits = self.remaining_credits

        used_credits = self.used_credits

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if remaining_credits is not UNSET:
            field_dict["remaining_credits"] = remaining_credits
        if used_credits is not UNSET:
            field_dict["used_credits"] = used_credits

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        remaining_credits = d.pop("remaining_credits", UNSET)

        used_credits = d.pop("used_credits", UNSET)

        credits_balance = cls(
            remaining_credits=remaining_credits,
            used_credits=used_credits,
        )

        credits_balance.additional_properties = d
        return credits_balance

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
