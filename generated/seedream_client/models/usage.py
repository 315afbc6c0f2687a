# GENERATED FILE - DO NOT EDIT. openapi-python-client 0.29.1 from
# openapi/bundled/seedream.openapi.yaml with scripts/templates; run `nox -s regenerate`.
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.usage_billing_rule import UsageBillingRule
from ..types import UNSET, Unset

T = TypeVar("T", bound="Usage")


@_attrs_define
class Usage:
    """Usage and billing information

    Attributes:
        billing_rule (UsageBillingRule | Unset): Billing rule Example: per_call.
        credits_reserved (float | Unset): Estimated credits consumed Example: 1.8.
        user_group (str | Unset): User group category Example: default.
    """

    billing_rule: UsageBillingRule | Unset = UNSET
    credits_reserved: float | Unset = UNSET
    user_group: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        billing_rule: str | Unset = UNSET
        if not isinstance(self.billing_rule, Unset):
            billing_rule = str(self.billing_rule)

        credits_reserved = self.credits_reserved

        user_group = self.user_group

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if billing_rule is not UNSET:
            field_dict["billing_rule"] = billing_rule
        if credits_reserved is not UNSET:
            field_dict["credits_reserved"] = credits_reserved
        if user_group is not UNSET:
            field_dict["user_group"] = user_group

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        _billing_rule = d.pop("billing_rule", UNSET)
        billing_rule: UsageBillingRule | Unset
        if isinstance(_billing_rule, Unset):
            billing_rule = UNSET
        else:
            billing_rule = UsageBillingRule(_billing_rule)

        credits_reserved = d.pop("credits_reserved", UNSET)

        user_group = d.pop("user_group", UNSET)

        usage = cls(
            billing_rule=billing_rule,
            credits_reserved=credits_reserved,
            user_group=user_group,
        )

        usage.additional_properties = d
        return usage

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
