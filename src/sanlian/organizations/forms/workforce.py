"""Forms for social workers, volunteers and volunteer hour logs (pages and API alike)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from sanlian.core.editing import VersionedModelForm

from ..models import (
    VOLUNTEER_SKILLS,
    WEEKDAYS,
    HourLogStatus,
    Organization,
    PartOfDay,
    Person,
    Qualification,
    SocialWorker,
    SocialWorkerStatus,
    Volunteer,
    VolunteerHourLog,
)
from ..models.workforce import (
    MAX_BACKDATE_DAYS,
    MAX_HOURS_PER_ENTRY,
    SKILL_SEPARATOR,
    availability_slot,
    slot_is_outside_working_hours,
    split_hours,
)

_FULLWIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TIME_INPUT = forms.TimeInput(attrs={"type": "time", "step": "60"}, format="%H:%M")


# ---- social workers ------------------------------------------------------------------------


class SocialWorkerFilterForm(forms.Form):
    organization = forms.TypedChoiceField(
        label=_("所在机构"), required=False, coerce=int, empty_value=None
    )
    qualification = forms.ChoiceField(
        label=_("职业资格"),
        required=False,
        choices=[("", _("全部")), ("none", _("无职业资格")), *Qualification.choices],
    )
    status = forms.ChoiceField(
        label=_("状态"), required=False, choices=[("", _("全部")), *SocialWorkerStatus.choices]
    )

    def __init__(self, *args: Any, organizations: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organization"].choices = [("", _("全部机构")), *organizations]  # type: ignore[attr-defined]

    def apply(self, qs: QuerySet[SocialWorker]) -> QuerySet[SocialWorker]:
        if not self.is_valid():
            return qs
        data = self.cleaned_data
        if data["organization"]:
            qs = qs.filter(organization_id=data["organization"])
        if data["qualification"] == "none":
            qs = qs.filter(qualification="")
        elif data["qualification"]:
            qs = qs.filter(qualification=data["qualification"])
        if data["status"]:
            qs = qs.filter(status=data["status"])
        return qs


def _normalized_certificate(value: Any) -> str:
    # Free text, but full-width letters and stray spaces must not hide a duplicate.
    return " ".join(str(value or "").translate(_FULLWIDTH).split()).upper()


def _check_social_worker(form: forms.ModelForm, data: dict[str, Any]) -> None:  # type: ignore[type-arg]
    """What creating and editing a social worker check alike."""
    today = timezone.localdate()
    if data.get("certificate_number") and not data.get("qualification"):
        form.add_error("qualification", _("填写证书编号时请选择职业资格"))
    if data.get("qualification") and not data.get("certificate_number"):
        form.add_error("certificate_number", _("有职业资格的社工请填写证书编号"))
    cert_date = data.get("certificate_date")
    if cert_date and cert_date > today:
        form.add_error("certificate_date", _("取得时间不能晚于今天"))
    joined = data.get("joined_on")
    if joined and joined > today:
        form.add_error("joined_on", _("入职日期不能晚于今天"))
    left = form.instance.left_on
    if joined and left and joined > left:
        form.add_error("joined_on", _("入职日期不能晚于离职日期"))


def _qualification_field() -> forms.ChoiceField:
    return forms.ChoiceField(
        label=_("职业资格"),
        required=False,
        choices=[("", _("无（未取得职业资格）")), *Qualification.choices],
    )


SOCIAL_WORKER_FIELDS = [
    "qualification",
    "certificate_number",
    "certificate_date",
    "is_supervisor",
    "joined_on",
]
SOCIAL_WORKER_WIDGETS = {"certificate_date": DATE_INPUT, "joined_on": DATE_INPUT}


class SocialWorkerForm(VersionedModelForm):
    qualification = _qualification_field()

    class Meta:
        model = SocialWorker
        fields = SOCIAL_WORKER_FIELDS
        widgets = SOCIAL_WORKER_WIDGETS

    def clean_certificate_number(self) -> str:
        return _normalized_certificate(self.cleaned_data.get("certificate_number"))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        _check_social_worker(self, data)
        return data


class SocialWorkerCreateForm(forms.ModelForm):  # type: ignore[type-arg]
    """A social worker is an existing person (chosen from those the user may see)."""

    person = forms.ModelChoiceField(
        label=_("居民/职工"),
        queryset=Person.objects.none(),
        error_messages={"invalid_choice": _("请选择列表中的人员（只能选择您可查看的人员）")},
    )
    organization = forms.ModelChoiceField(label=_("所在机构"), queryset=Organization.objects.none())
    qualification = _qualification_field()

    class Meta:
        model = SocialWorker
        fields = ["person", "organization", *SOCIAL_WORKER_FIELDS]
        widgets = SOCIAL_WORKER_WIDGETS

    def __init__(
        self,
        *args: Any,
        people: QuerySet[Person],
        organizations: QuerySet[Organization],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = people  # type: ignore[attr-defined]
        self.fields["organization"].queryset = organizations  # type: ignore[attr-defined]
        if organizations.count() == 1:
            self.fields["organization"].initial = organizations.first()

    def clean_person(self) -> Person:
        person: Person = self.cleaned_data["person"]
        if SocialWorker.objects.filter(person=person).exists():
            raise forms.ValidationError(_("%(name)s 已登记为社工") % {"name": person.name})
        return person

    def clean_certificate_number(self) -> str:
        return _normalized_certificate(self.cleaned_data.get("certificate_number"))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        _check_social_worker(self, data)
        return data


class SocialWorkerLeaveForm(forms.Form):
    left_on = forms.DateField(label=_("离职日期"), widget=DATE_INPUT)

    def __init__(self, *args: Any, worker: SocialWorker, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.worker = worker
        self.fields["left_on"].initial = timezone.localdate()

    def clean_left_on(self) -> dt.date:
        left: dt.date = self.cleaned_data["left_on"]
        if left > timezone.localdate():
            raise forms.ValidationError(_("离职日期不能晚于今天"))
        if self.worker.joined_on and left < self.worker.joined_on:
            raise forms.ValidationError(
                _("离职日期不能早于入职日期（%(d)s）") % {"d": f"{self.worker.joined_on:%Y-%m-%d}"}
            )
        return left


# ---- volunteers ----------------------------------------------------------------------------


def availability_choices() -> list[tuple[str, str]]:
    return [
        (availability_slot(day, part.value), f"{label}{part.label}")
        for day, label in enumerate(WEEKDAYS)
        for part in PartOfDay
    ]


class WeekGridWidget(forms.CheckboxSelectMultiple):
    """The availability checkboxes as a week: one row per weekday, one column per part of day."""

    template_name = "organizations/workforce/week_grid_widget.html"

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        options = [o for _group, group, _index in context["widget"]["optgroups"] for o in group]
        width = len(PartOfDay)
        rows = []
        for day, label in enumerate(WEEKDAYS):
            chunk = options[day * width : (day + 1) * width]
            for part, option in zip(PartOfDay, chunk, strict=True):
                option["outside"] = slot_is_outside_working_hours(day, part)
            rows.append((str(label), chunk))
        context["widget"]["rows"] = rows
        context["widget"]["parts"] = [str(p.label) for p in PartOfDay]
        return context


def _skills_field() -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(
        label=_("技能"),
        required=False,
        choices=[(s, s) for s in VOLUNTEER_SKILLS],
        widget=forms.CheckboxSelectMultiple(attrs={"class": "choice-inline"}),
    )


def _availability_field() -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(
        label=_("可服务时间"),
        required=False,
        choices=availability_choices,
        widget=WeekGridWidget,
        help_text=_("勾选每周可以参加服务的时段；晚上和周末属于8小时以外。"),
    )


class _VolunteerFieldsMixin:
    """How the skills and the weekly grid are read, on registering and editing alike."""

    cleaned_data: dict[str, Any]

    def clean_skills(self) -> str:
        chosen = set(self.cleaned_data.get("skills") or [])
        # Keep the fixed list's order, so the same choice always reads the same.
        return SKILL_SEPARATOR.join(s for s in VOLUNTEER_SKILLS if s in chosen)

    def clean_availability(self) -> list[str]:
        chosen = set(self.cleaned_data.get("availability") or [])
        return [value for value, _label in availability_choices() if value in chosen]


VOLUNTEER_FIELDS = ["team", "skills", "skills_other", "availability", "is_coordinator"]


class VolunteerForm(_VolunteerFieldsMixin, VersionedModelForm):
    skills = _skills_field()
    availability = _availability_field()

    class Meta:
        model = Volunteer
        fields = VOLUNTEER_FIELDS

    def __init__(self, *args: Any, teams: QuerySet[Organization], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams  # type: ignore[attr-defined]
        if not self.is_bound:
            self.initial["skills"] = [
                s for s in self.instance.skills.split(SKILL_SEPARATOR) if s in VOLUNTEER_SKILLS
            ]
            self.initial["availability"] = list(self.instance.availability or [])


def already_volunteer_text(volunteer: Volunteer) -> str:
    return str(
        _("%(name)s 已登记为志愿者（%(team)s），不能重复登记。")
        % {"name": volunteer.person.name, "team": volunteer.team.name}
    )


def already_volunteer_message(volunteer: Volunteer) -> str:
    """The refusal of a second registration, with a link to the record that exists."""
    return format_html(
        '{} <a href="{}">{}</a>',
        already_volunteer_text(volunteer),
        volunteer.get_absolute_url(),
        _("查看志愿者记录"),
    )


class VolunteerCreateForm(_VolunteerFieldsMixin, forms.ModelForm):  # type: ignore[type-arg]
    """A volunteer is an existing person (chosen from those the user may see) joining a team
    the user may see."""

    person = forms.ModelChoiceField(
        label=_("居民/职工"),
        queryset=Person.objects.none(),
        error_messages={"invalid_choice": _("请选择列表中的人员（只能选择您可查看的人员）")},
    )
    team = forms.ModelChoiceField(
        label=_("志愿服务队"),
        queryset=Organization.objects.none(),
        error_messages={
            "invalid_choice": _("请选择列表中的志愿服务队（只能选择您可查看的服务队）")
        },
    )
    skills = _skills_field()
    availability = _availability_field()

    class Meta:
        model = Volunteer
        fields = ["person", *VOLUNTEER_FIELDS]

    def __init__(
        self,
        *args: Any,
        people: QuerySet[Person],
        teams: QuerySet[Organization],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = people  # type: ignore[attr-defined]
        self.fields["team"].queryset = teams  # type: ignore[attr-defined]
        if teams.count() == 1:
            self.fields["team"].initial = teams.first()
        # The record that already exists for the chosen person (the API links to it).
        self.existing: Volunteer | None = None

    def clean_person(self) -> Person:
        person: Person = self.cleaned_data["person"]
        self.existing = (
            Volunteer.objects.select_related("person", "team").filter(person=person).first()
        )
        if self.existing is not None:
            raise forms.ValidationError(
                already_volunteer_message(self.existing), code="already_volunteer"
            )
        return person


# ---- hour logs -----------------------------------------------------------------------------


class VolunteerHourLogForm(forms.ModelForm):  # type: ignore[type-arg]
    """One entry of service, as the volunteer logs it on a phone."""

    class Meta:
        model = VolunteerHourLog
        fields = ["served_on", "start_time", "end_time", "activity", "place"]
        widgets = {
            "served_on": DATE_INPUT,
            "start_time": TIME_INPUT,
            "end_time": TIME_INPUT,
            "activity": forms.TextInput(attrs={"placeholder": _("如：为独居老人送餐")}),
            "place": forms.TextInput(attrs={"placeholder": _("如：凯旋社区服务站")}),
        }

    def __init__(self, *args: Any, volunteer: Volunteer, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.volunteer = volunteer
        self.instance.volunteer = volunteer
        self.fields["served_on"].initial = timezone.localdate()

    def clean_served_on(self) -> dt.date:
        served_on: dt.date = self.cleaned_data["served_on"]
        today = timezone.localdate()
        if served_on > today:
            raise forms.ValidationError(_("服务日期不能晚于今天"))
        if served_on < today - dt.timedelta(days=MAX_BACKDATE_DAYS):
            raise forms.ValidationError(
                _("只能补记 %(n)d 天以内的服务时长，更早的请联系服务队协调人")
                % {"n": MAX_BACKDATE_DAYS}
            )
        return served_on

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end, served_on = data.get("start_time"), data.get("end_time"), data.get("served_on")
        if start is None or end is None:
            return data
        if end <= start:
            self.add_error("end_time", _("结束时间必须晚于开始时间"))
            return data
        hours, _outside = split_hours(served_on or timezone.localdate(), start, end)
        if hours > MAX_HOURS_PER_ENTRY:
            self.add_error(
                "end_time",
                _("一次记录不能超过 %(n)d 小时，请分成多条记录") % {"n": MAX_HOURS_PER_ENTRY},
            )
            return data
        if served_on is not None:
            overlap = (
                VolunteerHourLog.objects.filter(volunteer=self.volunteer, served_on=served_on)
                .exclude(status=HourLogStatus.RETURNED)
                .filter(Q(start_time__lt=end) & Q(end_time__gt=start))
                .exclude(pk=self.instance.pk)
                .first()
            )
            if overlap is not None:
                self.add_error(
                    None,
                    _("与已记录的 %(start)s–%(end)s 时段重叠，请勿重复记录")
                    % {"start": f"{overlap.start_time:%H:%M}", "end": f"{overlap.end_time:%H:%M}"},
                )
        return data


class HourLogReturnForm(forms.Form):
    reason = forms.CharField(
        label=_("退回原因"),
        max_length=200,
        error_messages={"required": _("退回时请填写原因，志愿者会看到它")},
    )
