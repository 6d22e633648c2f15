"""Forms for organisations, communities, their restructuring and venues.

Choices of related rows (parents, streets, communities, people) come from querysets the
view builds through `visible_to`, so an id outside the user's scope is an invalid choice.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sanlian.core.editing import VersionedModelForm
from sanlian.core.validators import CreditCodeField, MobileField

from ..models import (
    PARENT_KINDS,
    Community,
    Organization,
    OrgKind,
    Person,
    ServiceField,
    Tier,
    Venue,
)

# Kinds the organisation form creates (a community union comes with its community).
CREATABLE_KINDS = [k for k in OrgKind if k not in (OrgKind.FEDERATION, OrgKind.COMMUNITY_UNION)]
SOCIAL_ORG_FIELDS = ("service_fields", "rating", "registration_date", "business_scope")
SOCIAL_ORG_EMPTY: dict[str, Any] = {
    "service_fields": [],
    "rating": "",
    "registration_date": None,
    "business_scope": "",
}
CREDIT_CODE_REQUIRED = _("社会组织必须填写统一社会信用代码")


class DateInput(forms.DateInput):
    """The browser's date picker, which reads and writes ISO dates only."""

    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%d")


def _org_label(org: Organization) -> str:
    return f"{org.name}（{org.get_kind_display()}）"


class OrgChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return _org_label(obj)


class OrganizationFieldsMixin(forms.ModelForm):  # type: ignore[type-arg]
    """The fields an organisation carries; the social-organisation ones only for those."""

    credit_code = CreditCodeField(label=_("统一社会信用代码"), required=False)
    contact_phone = MobileField(label=_("联系电话"), required=False)
    service_fields = forms.MultipleChoiceField(
        label=_("服务领域"),
        choices=ServiceField.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    registration_date = forms.DateField(label=_("登记日期"), required=False, widget=DateInput)

    def kind_value(self) -> str:
        return str(self.instance.kind)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.kind_value() == OrgKind.SOCIAL_ORG:
            if not data.get("credit_code") and "credit_code" not in self.errors:
                self.add_error("credit_code", CREDIT_CODE_REQUIRED)
        else:
            # Only social organisations carry these; drop what was typed for another kind.
            for name, empty in SOCIAL_ORG_EMPTY.items():
                if name in data:
                    data[name] = empty
        if not data.get("credit_code"):
            data["credit_code"] = None
        return data


class OrganizationForm(OrganizationFieldsMixin, VersionedModelForm):
    class Meta:
        model = Organization
        fields = [
            "name",
            "credit_code",
            "legal_representative",
            "contact_name",
            "contact_phone",
            "address",
            *SOCIAL_ORG_FIELDS,
        ]
        widgets = {"business_scope": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.kind != OrgKind.SOCIAL_ORG:
            for name in SOCIAL_ORG_FIELDS:
                del self.fields[name]


class OrganizationCreateForm(OrganizationFieldsMixin):
    """A new organisation under a parent of the creator's area, of a kind that may hang there."""

    parent = OrgChoiceField(label=_("上级组织"), queryset=Organization.objects.none())

    class Meta:
        model = Organization
        fields = [
            "kind",
            "parent",
            "name",
            "credit_code",
            "legal_representative",
            "contact_name",
            "contact_phone",
            "address",
            *SOCIAL_ORG_FIELDS,
        ]
        widgets = {"business_scope": forms.Textarea(attrs={"rows": 3})}

    def __init__(
        self,
        *args: Any,
        parents: QuerySet[Organization],
        parent: Organization | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        parent_kinds = {k for kind in CREATABLE_KINDS for k in PARENT_KINDS[kind]}
        field: Any = self.fields["parent"]
        field.queryset = parents.filter(kind__in=parent_kinds, is_active=True).order_by("path")
        kinds = CREATABLE_KINDS
        if parent is not None:
            self.fields["parent"].initial = parent.pk
            kinds = [k for k in CREATABLE_KINDS if parent.kind in PARENT_KINDS[k]]
        kind_field: Any = self.fields["kind"]
        kind_field.choices = [("", "---------")] + [(k.value, k.label) for k in kinds]

    def kind_value(self) -> str:
        return str(self.cleaned_data.get("kind") or "")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        kind, parent = data.get("kind"), data.get("parent")
        if kind and parent is not None and parent.kind not in PARENT_KINDS.get(kind, ()):
            allowed = "、".join(str(OrgKind(k).label) for k in PARENT_KINDS.get(kind, ()))
            self.add_error(
                "parent",
                _("%(kind)s只能设在以下类型的组织之下：%(allowed)s")
                % {"kind": OrgKind(kind).label, "allowed": allowed},
            )
        return data


class OrganizationMoveForm(forms.Form):
    parent = OrgChoiceField(label=_("新的上级组织"), queryset=Organization.objects.none())
    effective_on = forms.DateField(label=_("生效日期"), widget=DateInput)

    def __init__(
        self, *args: Any, org: Organization, parents: QuerySet[Organization], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["parent"]
        field.queryset = (
            parents.filter(kind__in=PARENT_KINDS.get(org.kind, ()), is_active=True)
            .exclude(path__startswith=org.path)
            .exclude(pk__in=[org.parent_id] if org.parent_id else [])
            .order_by("path")
        )
        self.fields["effective_on"].initial = timezone.localdate()


class OrganizationRetireForm(forms.Form):
    retired_on = forms.DateField(label=_("撤销日期"), widget=DateInput)
    reason = forms.CharField(label=_("撤销原因"), max_length=200)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["retired_on"].initial = timezone.localdate()


class OrganizationReactivateForm(forms.Form):
    reason = forms.CharField(label=_("恢复原因"), max_length=200)


class CommunityForm(VersionedModelForm):
    class Meta:
        model = Community
        fields = ["name", "population", "worker_count", "retiree_count", "address"]


class CommunityCreateForm(forms.Form):
    street = OrgChoiceField(label=_("所属街道"), queryset=Organization.objects.none())
    name = forms.CharField(label=_("社区名称"), max_length=100)
    tier = forms.ChoiceField(label=_("分类"), choices=Tier.choices, initial=Tier.ORDINARY)
    population = forms.IntegerField(label=_("常住人口"), min_value=0, initial=0)
    worker_count = forms.IntegerField(label=_("在职职工数"), min_value=0, initial=0)
    retiree_count = forms.IntegerField(label=_("退休人员数"), min_value=0, initial=0)
    address = forms.CharField(label=_("地址"), max_length=200, required=False)

    def __init__(self, *args: Any, streets: QuerySet[Organization], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["street"]
        field.queryset = streets.filter(kind=OrgKind.STREET_UNION, is_active=True).order_by("path")

    def clean_name(self) -> str:
        name = str(self.cleaned_data["name"]).strip()
        return name if name.endswith("社区") else f"{name}社区"


# ---- restructuring -------------------------------------------------------------------------


class RestructureForm(forms.Form):
    """What every restructuring asks: when it takes effect, and the preview it confirms."""

    effective_on = forms.DateField(
        label=_("生效日期"),
        widget=DateInput,
        help_text=_("此日期之前的统计仍按原区划归属"),
    )
    preview_digest = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["effective_on"].initial = timezone.localdate()
        # Keep the effective date and the confirmation last.
        self.order_fields([n for n in self.fields if n not in ("effective_on", "preview_digest")])


class CommunityMoveForm(RestructureForm):
    street = OrgChoiceField(label=_("迁入街道"), queryset=Organization.objects.none())

    def __init__(
        self, *args: Any, community: Community, streets: QuerySet[Organization], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["street"]
        field.queryset = (
            streets.filter(kind=OrgKind.STREET_UNION, is_active=True)
            .exclude(children=community.organization)
            .order_by("path")
        )


class CommunityChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name}（{obj.street.name}）"


class CommunityMergeForm(RestructureForm):
    target = CommunityChoiceField(
        label=_("并入社区"),
        queryset=Community.objects.none(),
        help_text=_("本社区的居民、组织、会员等全部转入该社区，本社区撤销（保留记录）"),
    )

    def __init__(
        self, *args: Any, community: Community, communities: QuerySet[Community], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["target"]
        field.queryset = (
            communities.filter(organization__is_active=True)
            .exclude(pk=community.pk)
            .select_related("street")
            .order_by("organization__path")
        )


class PersonChoiceField(forms.ModelMultipleChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name}　{obj.address}" if obj.address else str(obj.name)


class OrgMultipleChoiceField(forms.ModelMultipleChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return _org_label(obj)


class CommunitySplitForm(RestructureForm):
    name = forms.CharField(label=_("新社区名称"), max_length=100)
    tier = forms.ChoiceField(label=_("分类"), choices=Tier.choices)
    address = forms.CharField(label=_("新社区地址"), max_length=200, required=False)
    address_prefixes = forms.CharField(
        label=_("按楼栋/地址划分"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "每行一个地址前缀，例如“沈阳市和平区中山路12号3栋”；住址以其开头的居民划入新社区"
        ),
    )
    people = PersonChoiceField(
        label=_("另选居民"),
        queryset=Person.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    organizations = OrgMultipleChoiceField(
        label=_("划入新社区的组织"),
        queryset=Organization.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    population = forms.IntegerField(label=_("划出常住人口"), min_value=0, initial=0)
    worker_count = forms.IntegerField(label=_("划出在职职工数"), min_value=0, initial=0)
    retiree_count = forms.IntegerField(label=_("划出退休人员数"), min_value=0, initial=0)

    def __init__(self, *args: Any, community: Community, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["tier"].initial = community.tier
        people: Any = self.fields["people"]
        people.queryset = Person.objects.filter(community=community).order_by("address", "pk")
        orgs: Any = self.fields["organizations"]
        orgs.queryset = Organization.objects.filter(parent=community.organization).order_by("pk")

    def clean_name(self) -> str:
        name = str(self.cleaned_data["name"]).strip()
        return name if name.endswith("社区") else f"{name}社区"

    def prefixes(self) -> list[str]:
        text = str(self.cleaned_data.get("address_prefixes") or "")
        return [line.strip() for line in text.splitlines() if line.strip()]


# ---- venues -------------------------------------------------------------------------------


class VenueForm(VersionedModelForm):
    community = CommunityChoiceField(
        label=_("所属社区"), queryset=Community.objects.none(), required=False
    )
    organization = OrgChoiceField(
        label=_("所属组织"),
        queryset=Organization.objects.none(),
        required=False,
        help_text=_("社区场地选择所属社区；组织自有场地选择所属组织（二者选其一）"),
    )

    class Meta:
        model = Venue
        fields = [
            "community",
            "organization",
            "kind",
            "name",
            "address",
            "area",
            "capacity",
            "opening_hours",
            "is_shared",
            "is_active",
        ]

    def __init__(
        self,
        *args: Any,
        communities: QuerySet[Community],
        organizations: QuerySet[Organization],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        community: Any = self.fields["community"]
        community.queryset = communities.filter(organization__is_active=True).select_related(
            "street"
        )
        organization: Any = self.fields["organization"]
        organization.queryset = organizations.filter(is_active=True).order_by("path")
        self.fields["area"].widget.attrs.update({"min": "0.01", "step": "0.01"})

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if bool(data.get("community")) == bool(data.get("organization")):
            self.add_error("community", _("请在“所属社区”和“所属组织”中选择且只选择一个"))
        return data


class VenueCreateForm(VenueForm):
    """The same fields for a new venue (no version yet)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        del self.fields["expected_version"]
        del self.fields["original"]
