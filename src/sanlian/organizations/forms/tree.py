"""Forms for organisations and communities."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from sanlian.core.editing import VersionedModelForm
from sanlian.core.validators import CreditCodeField, MobileField

from ..models import Community, Organization, OrgKind


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
