"""Forms of 组织联建, shared by the pages, the Excel import and the API."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from sanlian.core.editing import VersionedModelForm
from sanlian.core.validators import CreditCodeField, MobileField

from .models import Community, Organization, OrgKind


class OrganizationForm(VersionedModelForm):
    credit_code = CreditCodeField(label=_("统一社会信用代码"), required=False)
    contact_phone = MobileField(label=_("联系电话"), required=False)

    class Meta:
        model = Organization
        fields = [
            "name",
            "credit_code",
            "legal_representative",
            "contact_name",
            "contact_phone",
            "address",
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.instance.kind == OrgKind.SOCIAL_ORG and not data.get("credit_code"):
            self.add_error("credit_code", _("社会组织必须填写统一社会信用代码"))
        if not data.get("credit_code"):
            data["credit_code"] = None
        return data


class CommunityForm(VersionedModelForm):
    class Meta:
        model = Community
        fields = ["name", "population", "worker_count", "retiree_count", "address"]


class PersonFilterForm(forms.Form):
    q = forms.CharField(label=_("姓名/手机号/身份证号"), required=False)
    community = forms.TypedChoiceField(
        label=_("社区"), required=False, coerce=int, empty_value=None
    )

    def __init__(self, *args: Any, communities: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["community"].choices = [("", _("全部社区")), *communities]  # type: ignore[attr-defined]
