"""Forms for co-building agreements, joint meetings and follow-up items.

The same forms validate the pages and the API (which feeds them the JSON body as form data).
"""

from __future__ import annotations

from datetime import date
from typing import Any, cast

from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from sanlian.core.editing import VersionedModelForm

from ..models import (
    AgreementStatus,
    CoBuildingAgreement,
    Community,
    FollowUpStatus,
    JointMeeting,
    Organization,
    PartyRole,
)
from ..models.cobuilding import PARTY_ROLE_KINDS, party_role_for, required_party_errors


def date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def datetime_input() -> forms.DateTimeInput:
    return forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


def party_candidates(user: Any, community: Community) -> QuerySet[Organization]:
    """Organisations that may sign an agreement of this community: those of the community
    and the unions above it, as far as the user can see them."""
    union = community.organization
    return (
        Organization.objects.visible_to(user)
        .active()
        .filter(Q(path__startswith=union.path) | Q(pk__in=union.ancestor_ids()))
        .order_by("path")
    )


def _org_label(org: Organization) -> str:
    return f"{org.name}（{org.get_kind_display()}）"


class _AgreementFields(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = CoBuildingAgreement
        fields = [
            "title",
            "document_number",
            "signed_on",
            "valid_from",
            "valid_to",
            "status",
            "commitments",
        ]
        widgets = {
            "signed_on": date_input(),
            "valid_from": date_input(),
            "valid_to": date_input(),
            "commitments": forms.Textarea(attrs={"rows": 5}),
        }
        help_texts = {"valid_to": _("联建协议一般为1至3年。")}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("valid_from"), data.get("valid_to")
        if start and end and end <= start:
            self.add_error("valid_to", _("有效期止须晚于有效期起。"))
        signed = data.get("signed_on")
        if signed and end and signed > end:
            self.add_error("signed_on", _("签订日期不能晚于有效期止。"))
        return data

    def warnings(self) -> list[str]:
        """Allowed but unusual: said to the user after saving, never refused."""
        data = getattr(self, "cleaned_data", {})
        start, end = data.get("valid_from"), data.get("valid_to")
        if (
            start
            and end
            and CoBuildingAgreement(valid_from=start, valid_to=end).is_longer_than_usual
        ):
            return [str(_("协议期限超过3年，请确认是否有误（联建协议一般为1至3年）。"))]
        return []


class AgreementCreateForm(_AgreementFields):
    pass


class AgreementEditForm(_AgreementFields, VersionedModelForm):
    class Meta(_AgreementFields.Meta):
        pass


class CommunityPickForm(forms.Form):
    community = forms.ModelChoiceField(label=_("社区"), queryset=Community.objects.none())

    def __init__(self, *args: Any, communities: QuerySet[Community], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = communities  # type: ignore[attr-defined]


class AgreementPartyForm(forms.Form):
    """One signatory; the role defaults to what the organisation's kind implies. In the rows
    of a new agreement a row without an organisation is left out."""

    organization = forms.ModelChoiceField(
        label=_("组织"), queryset=Organization.objects.none(), required=False
    )
    role = forms.ChoiceField(
        label=_("协议角色"), choices=[("", _("按组织类型")), *PartyRole.choices], required=False
    )
    signed_on = forms.DateField(label=_("签署日期"), required=False, widget=date_input())
    signatory_name = forms.CharField(label=_("签署人"), max_length=50, required=False)

    def __init__(
        self,
        *args: Any,
        organizations: QuerySet[Organization],
        existing: QuerySet[Organization] | None = None,
        require: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["organization"]
        field.queryset = organizations  # type: ignore[attr-defined]
        field.label_from_instance = _org_label  # type: ignore[attr-defined]
        field.required = require
        self.existing = existing

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        org: Organization | None = data.get("organization")
        if org is None:
            if data.get("signatory_name") or data.get("signed_on"):
                self.add_error("organization", _("请选择签署组织。"))
            return data
        role = data.get("role") or party_role_for(org.kind)
        data["role"] = role
        kinds = PARTY_ROLE_KINDS.get(role)
        if kinds is not None and org.kind not in kinds:
            self.add_error(
                "role",
                _("%(org)s 是%(kind)s，不能以“%(role)s”身份签署。")
                % {"org": org, "kind": org.get_kind_display(), "role": PartyRole(role).label},
            )
        if self.existing is not None and self.existing.filter(pk=org.pk).exists():
            self.add_error("organization", _("该组织已是本协议的签署方。"))
        return data


class BasePartyFormSet(forms.BaseFormSet):  # type: ignore[type-arg]
    """The signatories of a new agreement: no organisation twice, and the required ones."""

    community: Community | None = None

    def rows(self) -> list[dict[str, Any]]:
        return [
            f.cleaned_data
            for f in self.forms
            if f.is_valid() and f.cleaned_data.get("organization") is not None
        ]

    def clean(self) -> None:
        if any(self.errors):
            return
        rows = self.rows()
        seen: set[int] = set()
        for row in rows:
            if row["organization"].pk in seen:
                raise forms.ValidationError(
                    _("%(org)s 重复列为签署方。") % {"org": row["organization"]}
                )
            seen.add(row["organization"].pk)
        if self.community is not None:
            errors = required_party_errors(
                self.community, [(r["organization"], r["role"]) for r in rows]
            )
            if errors:
                raise forms.ValidationError(errors)


PartyFormSet = forms.formset_factory(AgreementPartyForm, formset=BasePartyFormSet, extra=0)


def party_formset(
    data: Any, *, user: Any, community: Community, extra_rows: int = 3
) -> BasePartyFormSet:
    """The signatory rows of a new agreement, prefilled with the organisations that must sign."""
    candidates = party_candidates(user, community)
    initial: list[dict[str, Any]] = []
    if data is None:
        party_org = candidates.filter(kind="party_org", parent=community.organization).first()
        if party_org is not None:
            initial.append({"organization": party_org, "role": PartyRole.PARTY_ORG})
        initial.append({"organization": community.organization, "role": PartyRole.UNION})
        initial += [{} for _ in range(extra_rows)]
    formset = cast(
        BasePartyFormSet,
        PartyFormSet(
            data,
            prefix="parties",
            initial=initial or None,
            form_kwargs={"organizations": candidates},
        ),
    )
    formset.community = community
    return formset


# ---- joint meetings -----------------------------------------------------------------------


class _MeetingFields(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = JointMeeting
        fields = ["title", "held_on", "place", "chair", "minutes", "decisions"]
        widgets = {
            "held_on": datetime_input(),
            "minutes": forms.Textarea(attrs={"rows": 8}),
            "decisions": forms.Textarea(attrs={"rows": 4}),
        }
        help_texts = {"chair": _("一般由社区党组织书记主持。")}


class JointMeetingCreateForm(_MeetingFields):
    pass


class JointMeetingEditForm(_MeetingFields, VersionedModelForm):
    class Meta(_MeetingFields.Meta):
        pass


class MeetingAttendanceForm(forms.Form):
    organization = forms.ModelChoiceField(
        label=_("单位"), queryset=Organization.objects.none(), required=False
    )
    attendee_name = forms.CharField(label=_("参会人"), max_length=50, required=False)
    present = forms.BooleanField(label=_("出席"), required=False, initial=True)

    def __init__(self, *args: Any, organizations: QuerySet[Organization], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = organizations  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("organization") is not None and not data.get("attendee_name"):
            self.add_error("attendee_name", _("请填写参会人姓名。"))
        return data

    def is_blank(self) -> bool:
        return not self.cleaned_data.get("attendee_name")


class BaseAttendanceFormSet(forms.BaseFormSet):  # type: ignore[type-arg]
    def rows(self) -> list[dict[str, Any]]:
        return [f.cleaned_data for f in self.forms if f.is_valid() and not f.is_blank()]

    def clean(self) -> None:
        if any(self.errors):
            return
        seen: set[tuple[int | None, str]] = set()
        for row in self.rows():
            org = row.get("organization")
            key = (org.pk if org else None, row["attendee_name"])
            if key in seen:
                raise forms.ValidationError(
                    _("参会人 %(name)s 重复登记。") % {"name": row["attendee_name"]}
                )
            seen.add(key)


AttendanceFormSet = forms.formset_factory(
    MeetingAttendanceForm, formset=BaseAttendanceFormSet, extra=0
)


class FollowUpForm(forms.Form):
    description = forms.CharField(label=_("事项"), max_length=300, required=False)
    owner_organization = forms.ModelChoiceField(
        label=_("责任单位"), queryset=Organization.objects.none(), required=False
    )
    owner_name = forms.CharField(label=_("责任人"), max_length=50, required=False)
    due_on = forms.DateField(label=_("完成时限"), required=False, widget=date_input())

    def __init__(
        self,
        *args: Any,
        organizations: QuerySet[Organization],
        meeting_date: date | None = None,
        require: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner_organization"].queryset = organizations  # type: ignore[attr-defined]
        self.meeting_date = meeting_date
        if require:
            self.fields["description"].required = True
            self.fields["due_on"].required = True

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("description"):
            if data.get("owner_name") or data.get("due_on") or data.get("owner_organization"):
                self.add_error("description", _("请填写事项内容。"))
            return data
        due = data.get("due_on")
        if due is None:
            if "due_on" not in self.errors:
                self.add_error("due_on", _("请填写完成时限。"))
        elif self.meeting_date is not None and due < self.meeting_date:
            self.add_error("due_on", _("完成时限不能早于会议日期。"))
        return data

    def is_blank(self) -> bool:
        return not self.cleaned_data.get("description")


class BaseFollowUpFormSet(forms.BaseFormSet):  # type: ignore[type-arg]
    def rows(self) -> list[dict[str, Any]]:
        return [f.cleaned_data for f in self.forms if f.is_valid() and not f.is_blank()]

    def set_meeting_date(self, day: date | None) -> None:
        """The meeting date is known only once the meeting form is valid."""
        for f in self.forms:
            f.meeting_date = day


FollowUpFormSet = forms.formset_factory(FollowUpForm, formset=BaseFollowUpFormSet, extra=0)


def meeting_organizations(user: Any, community: Community) -> QuerySet[Organization]:
    return party_candidates(user, community)


def attendance_formset(
    data: Any, *, organizations: QuerySet[Organization], initial: list[dict[str, Any]] | None
) -> BaseAttendanceFormSet:
    formset = AttendanceFormSet(
        data, prefix="attendance", initial=initial, form_kwargs={"organizations": organizations}
    )
    return cast(BaseAttendanceFormSet, formset)


def follow_up_formset(
    data: Any, *, organizations: QuerySet[Organization], extra_rows: int = 2
) -> BaseFollowUpFormSet:
    initial: list[dict[str, Any]] | None = [{} for _ in range(extra_rows)] if data is None else None
    formset = FollowUpFormSet(
        data, prefix="followups", initial=initial, form_kwargs={"organizations": organizations}
    )
    return cast(BaseFollowUpFormSet, formset)


class FollowUpStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("状态"), choices=FollowUpStatus.choices)
    expected_version = forms.IntegerField(widget=forms.HiddenInput)


class AgreementFilterForm(forms.Form):
    community = forms.ModelChoiceField(
        label=_("社区"),
        queryset=Community.objects.none(),
        required=False,
        empty_label=_("全部社区"),
    )
    status = forms.ChoiceField(
        label=_("状态"), choices=[("", _("全部")), *AgreementStatus.choices], required=False
    )

    def __init__(self, *args: Any, communities: QuerySet[Community], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = communities  # type: ignore[attr-defined]
