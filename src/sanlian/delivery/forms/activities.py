"""Forms of community activities, shared by the pages and the API (which feeds them its JSON
body as form data). Choices of related rows come from querysets built for the user by
`services.activities`, so an id outside the user's scope is an invalid choice."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sanlian.core.validators import MobileField
from sanlian.organizations.models import Community, Venue, Volunteer
from sanlian.resources.models import ServiceProject

from ..models import ActivityStatus
from ..services.activities import MAX_COMPANIONS

MAX_RANGE_DAYS = 366


def date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def time_input() -> forms.TimeInput:
    return forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


def _set_queryset(form: forms.BaseForm, name: str, qs: QuerySet[Any]) -> None:
    field: Any = form.fields[name]
    field.queryset = qs


class ProjectField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.title}（{obj.organization.name}）"


class VenueField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        capacity = f"，{obj.capacity}人" if obj.capacity else ""
        return f"{obj.name}（{obj.get_kind_display()}{capacity}）"


class VolunteerField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.person.name}（{obj.team.name}）"


class ActivityForm(forms.Form):
    title = forms.CharField(label=_("活动名称"), max_length=200)
    community = forms.ModelChoiceField(
        label=_("社区"),
        queryset=Community.objects.none(),
        error_messages={"invalid_choice": _("您无权为该社区组织活动。")},
    )
    date = forms.DateField(label=_("活动日期"), widget=date_input())
    start_time = forms.TimeField(label=_("开始时间"), widget=time_input())
    end_time = forms.TimeField(label=_("结束时间"), widget=time_input())
    venue = VenueField(
        label=_("场地"),
        queryset=Venue.objects.none(),
        required=False,
        help_text=_("选择登记的场地时自动预约，该时段已被占用则不能保存"),
        error_messages={"invalid_choice": _("该场地不可预约。")},
    )
    place = forms.CharField(
        label=_("活动地点"), max_length=200, required=False, help_text=_("不使用登记场地时填写")
    )
    capacity = forms.IntegerField(
        label=_("名额"),
        min_value=1,
        max_value=100000,
        error_messages={"min_value": _("名额须大于 0。"), "invalid": _("请输入整数。")},
    )
    description = forms.CharField(
        label=_("活动内容"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    project = ProjectField(
        label=_("服务项目"),
        queryset=ServiceProject.objects.none(),
        required=False,
        help_text=_("活动属于某个服务项目时选择，完成后计入该项目的合同指标"),
        error_messages={"invalid_choice": _("只能选择您可见的、执行中的服务项目。")},
    )

    def __init__(
        self,
        *args: Any,
        communities: QuerySet[Community] | None,
        venues: QuerySet[Venue],
        projects: QuerySet[ServiceProject],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        if communities is None:  # editing: the community stays
            del self.fields["community"]
        else:
            _set_queryset(self, "community", communities.order_by("name"))
        _set_queryset(self, "venue", venues.order_by("name"))
        _set_queryset(self, "project", projects.select_related("organization").order_by("title"))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start_time"), data.get("end_time")
        if start and end and end <= start:
            self.add_error("end_time", _("结束时间须晚于开始时间。"))
        no_place = not data.get("venue") and not (data.get("place") or "").strip()
        if no_place and "place" not in self.errors:
            self.add_error("place", _("请选择场地或填写活动地点。"))
        return data


class ActivityFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("状态"), choices=[("", _("全部")), *ActivityStatus.choices], required=False
    )
    community = forms.ModelChoiceField(
        label=_("社区"), queryset=Community.objects.none(), required=False
    )
    date_from = forms.DateField(label=_("日期起"), required=False, widget=date_input())
    date_to = forms.DateField(label=_("日期止"), required=False, widget=date_input())

    def __init__(self, *args: Any, communities: QuerySet[Community], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_queryset(self, "community", communities.order_by("name"))


class SignupForm(forms.Form):
    name = forms.CharField(label=_("姓名"), max_length=50)
    phone = MobileField(label=_("手机号"), max_length=20)
    companions = forms.IntegerField(
        label=_("同行人数"),
        min_value=0,
        max_value=MAX_COMPANIONS,
        required=False,
        initial=0,
        help_text=_("和您一起参加的家人朋友人数，没有填 0"),
        error_messages={
            "min_value": _("同行人数不能为负数。"),
            "max_value": _("同行人数最多 %(limit_value)s 人。"),
            "invalid": _("请输入整数。"),
        },
    )

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError(_("请填写姓名。"))
        return name

    def clean_companions(self) -> int:
        return self.cleaned_data.get("companions") or 0


class WalkInForm(SignupForm):
    """The same fields, entered by staff at the door."""


class CheckInForm(forms.Form):
    code = forms.CharField(
        label=_("签到码"),
        max_length=200,
        help_text=_("输入参与者出示的签到码，或用扫码枪扫描其二维码"),
        error_messages={"required": _("请输入签到码。")},
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "off"}),
    )


class DoorCheckInForm(forms.Form):
    phone = MobileField(label=_("手机号"), max_length=20, help_text=_("报名时填写的手机号"))


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=_("取消原因"), max_length=200, error_messages={"required": _("请填写取消原因。")}
    )


class ShiftForm(forms.Form):
    volunteer = VolunteerField(
        label=_("志愿者"),
        queryset=Volunteer.objects.none(),
        error_messages={"invalid_choice": _("只能安排您范围内的志愿者。")},
    )
    start_time = forms.TimeField(label=_("开始时间"), widget=time_input())
    end_time = forms.TimeField(label=_("结束时间"), widget=time_input())
    task = forms.CharField(label=_("岗位"), max_length=100, required=False)

    def __init__(self, *args: Any, volunteers: QuerySet[Volunteer], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_queryset(self, "volunteer", volunteers.order_by("person__name"))


class FeedbackForm(forms.Form):
    rating = forms.TypedChoiceField(
        label=_("满意度"),
        coerce=int,
        choices=[
            (5, _("5 分 · 非常满意")),
            (4, _("4 分 · 满意")),
            (3, _("3 分 · 一般")),
            (2, _("2 分 · 不满意")),
            (1, _("1 分 · 非常不满意")),
        ],
        widget=forms.RadioSelect,
        error_messages={
            "required": _("请选择满意度。"),
            "invalid_choice": _("请选择 1 到 5 分。"),
        },
    )
    comment = forms.CharField(
        label=_("意见和建议"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ServiceTimesForm(forms.Form):
    date_from = forms.DateField(label=_("日期起"), widget=date_input())
    date_to = forms.DateField(label=_("日期止"), widget=date_input())

    @staticmethod
    def default_range() -> tuple[dt.date, dt.date]:
        today = timezone.localdate()
        return today.replace(month=1, day=1), today

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end:
            if end < start:
                self.add_error("date_to", _("日期止不能早于日期起。"))
            elif (end - start).days >= MAX_RANGE_DAYS:
                self.add_error("date_to", _("日期范围不能超过一年。"))
        return data
