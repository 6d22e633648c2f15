"""Forms of group work, shared by the pages and the API (which feeds them its JSON body as
form data). Choices of related rows come from querysets the caller builds for the user
(`services.groups.leader_choices` and the like), so an id outside the user's scope is an
invalid choice; rules across rows are the services'."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sanlian.core.validators import MobileField
from sanlian.organizations.models import Community, Person, SocialWorker, Venue
from sanlian.organizations.models.people import Sex
from sanlian.resources.models import ServiceProject

from ..models import (
    GroupAttendanceStatus,
    GroupKind,
    GroupMember,
    GroupMemberStatus,
    GroupPhase,
)

LONG_TEXT = 5000


def _set_queryset(form: forms.BaseForm, name: str, qs: QuerySet[Any]) -> None:
    field: Any = form.fields[name]
    field.queryset = qs


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _time_input() -> forms.TimeInput:
    return forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


def _textarea(rows: int = 3) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows})


class WorkerField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.person.name)


class WorkersField(forms.ModelMultipleChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.person.name)


class ProjectField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.title)


class PersonField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name}（{obj.phone or obj.id_number_masked or obj.pk}）"


def _score_field(label: Any, required: bool = False) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        max_digits=7,
        decimal_places=2,
        required=required,
        error_messages={
            "invalid": _("请输入数字。"),
            "max_decimal_places": _("得分最多保留两位小数。"),
            "max_digits": _("分值过大。"),
            "max_whole_digits": _("分值过大。"),
        },
    )


# ---- the plan ----------------------------------------------------------------------------------


class GroupForm(forms.Form):
    name = forms.CharField(label=_("小组名称"), max_length=100)
    kind = forms.ChoiceField(label=_("小组类型"), choices=GroupKind.choices)
    goals = forms.CharField(label=_("小组目标"), max_length=LONG_TEXT, widget=_textarea(4))
    target_members = forms.CharField(
        label=_("服务对象"), max_length=200, help_text=_("例如：社区内照顾失能老人的家属")
    )
    planned_sessions = forms.IntegerField(
        label=_("计划节数"),
        min_value=1,
        max_value=100,
        error_messages={
            "min_value": _("计划节数应在 1 至 100 之间。"),
            "max_value": _("计划节数应在 1 至 100 之间。"),
        },
    )
    leader = WorkerField(
        label=_("带领社工"),
        queryset=SocialWorker.objects.none(),
        error_messages={"invalid_choice": _("只能选择本机构在岗的社工。")},
    )
    co_leaders = WorkersField(
        label=_("协同带领"),
        queryset=SocialWorker.objects.none(),
        required=False,
        error_messages={"invalid_choice": _("只能选择本机构在岗的社工。")},
    )
    community = forms.ModelChoiceField(
        label=_("所在社区"),
        queryset=Community.objects.none(),
        error_messages={"invalid_choice": _("只能选择本机构所在或项目服务的社区。")},
    )
    project = ProjectField(
        label=_("服务项目"),
        queryset=ServiceProject.objects.none(),
        required=False,
        help_text=_("小组属于某个购买服务项目时选择，节次计入项目的小组节数指标"),
        error_messages={"invalid_choice": _("只能选择本机构正在执行的服务项目。")},
    )
    scale_name = forms.CharField(label=_("测量量表"), max_length=100)
    scale_min = _score_field(_("量表最低分"), required=True)
    scale_max = _score_field(_("量表最高分"), required=True)
    higher_is_better = forms.BooleanField(
        label=_("得分越高越好"),
        required=False,
        initial=True,
        help_text=_("不勾选表示得分越低越好（例如焦虑量表）"),
    )

    def __init__(
        self,
        *args: Any,
        leaders: QuerySet[SocialWorker],
        communities: QuerySet[Community],
        projects: QuerySet[ServiceProject],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        _set_queryset(self, "leader", leaders)
        _set_queryset(self, "co_leaders", leaders)
        _set_queryset(self, "community", communities.order_by("name"))
        _set_queryset(self, "project", projects.order_by("title"))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        low, high = data.get("scale_min"), data.get("scale_max")
        if low is not None and high is not None and high <= low:
            self.add_error("scale_max", _("量表最高分须大于最低分。"))
        return data

    def service_fields(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


class GroupFilterForm(forms.Form):
    q = forms.CharField(label=_("名称"), max_length=100, required=False)
    kind = forms.ChoiceField(
        label=_("类型"), choices=[("", _("全部")), *GroupKind.choices], required=False
    )
    phase = forms.ChoiceField(
        label=_("阶段"), choices=[("", _("全部")), *GroupPhase.choices], required=False
    )
    community = forms.ModelChoiceField(
        label=_("社区"), queryset=Community.objects.none(), required=False
    )
    project = ProjectField(
        label=_("服务项目"), queryset=ServiceProject.objects.none(), required=False
    )

    def __init__(
        self,
        *args: Any,
        communities: QuerySet[Community],
        projects: QuerySet[ServiceProject],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        _set_queryset(self, "community", communities.order_by("name"))
        _set_queryset(self, "project", projects.order_by("title"))


class AdvanceForm(forms.Form):
    to = forms.ChoiceField(label=_("进入阶段"), choices=GroupPhase.choices)


class EvaluationForm(forms.Form):
    evaluation = forms.CharField(
        label=_("带领者评估"),
        max_length=LONG_TEXT,
        widget=_textarea(8),
        help_text=_("小组目标的达成情况、组员的变化、带领过程的反思与建议"),
    )


# ---- recruitment -------------------------------------------------------------------------------


class MemberAddForm(forms.Form):
    person = PersonField(
        label=_("居民/职工"),
        queryset=Person.objects.none(),
        error_messages={"invalid_choice": _("只能选择您可见的、尚未加入本小组的居民。")},
    )
    consent = forms.BooleanField(label=_("已知情同意"), required=False)
    enroll = forms.BooleanField(label=_("直接入组"), required=False)

    def __init__(self, *args: Any, people: QuerySet[Person], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_queryset(self, "person", people)


class MemberQuickAddForm(forms.Form):
    name = forms.CharField(label=_("姓名"), max_length=50)
    sex = forms.ChoiceField(label=_("性别"), choices=Sex.choices)
    phone = MobileField(label=_("手机号"), max_length=20)
    consent = forms.BooleanField(label=_("已知情同意"), required=False)
    enroll = forms.BooleanField(label=_("直接入组"), required=False)


class MemberStatusForm(forms.Form):
    status = forms.ChoiceField(
        label=_("状态"),
        choices=[(s.value, s.label) for s in GroupMemberStatus if s != GroupMemberStatus.APPLIED],
    )
    consent = forms.BooleanField(label=_("已知情同意"), required=False)
    reason = forms.CharField(label=_("退出原因"), max_length=200, required=False)


# ---- sessions, attendance, scores --------------------------------------------------------------


def _attendance_key(member: GroupMember) -> str:
    return f"att_{member.pk}"


class SessionForm(forms.Form):
    number = forms.IntegerField(
        label=_("节次"),
        min_value=1,
        max_value=200,
        required=False,
        help_text=_("不填则顺延为下一节"),
    )
    held_on = forms.DateField(label=_("日期"), widget=_date_input())
    starts_at = forms.TimeField(label=_("开始时间"), widget=_time_input())
    ends_at = forms.TimeField(label=_("结束时间"), widget=_time_input())
    venue = forms.ModelChoiceField(
        label=_("场地"),
        queryset=Venue.objects.none(),
        required=False,
        error_messages={"invalid_choice": _("只能选择您可见的在用场地。")},
    )
    theme = forms.CharField(label=_("主题"), max_length=200)
    activities = forms.CharField(
        label=_("活动内容"), max_length=LONG_TEXT, required=False, widget=_textarea()
    )
    notes = forms.CharField(
        label=_("过程记录"),
        max_length=LONG_TEXT,
        required=False,
        widget=_textarea(5),
        help_text=_("组员的参与、互动和变化，带领者的观察"),
    )

    def __init__(
        self,
        *args: Any,
        venues: QuerySet[Venue],
        members: list[GroupMember] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        _set_queryset(self, "venue", venues.order_by("name"))
        self.members = members or []
        for member in self.members:
            self.fields[_attendance_key(member)] = forms.ChoiceField(
                label=member.person.name,
                choices=[("", "—"), *GroupAttendanceStatus.choices],
                required=False,
            )
        if "held_on" not in self.initial:
            self.initial["held_on"] = timezone.localdate()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        starts, ends = data.get("starts_at"), data.get("ends_at")
        if starts is not None and ends is not None and ends <= starts:
            self.add_error("ends_at", _("结束时间须晚于开始时间。"))
        return data

    def attendance_fields(self) -> list[forms.BoundField]:
        return [self[_attendance_key(m)] for m in self.members]

    def session_fields(self) -> list[forms.BoundField]:
        return [f for f in self if not f.name.startswith("att_")]

    def marks(self) -> dict[int, str]:
        return {
            m.pk: self.cleaned_data[_attendance_key(m)]
            for m in self.members
            if self.cleaned_data.get(_attendance_key(m))
        }

    def service_fields(self) -> dict[str, Any]:
        return {k: v for k, v in self.cleaned_data.items() if not k.startswith("att_")}


class SessionFilterForm(forms.Form):
    date_from = forms.DateField(label=_("起"), required=False, widget=_date_input())
    date_to = forms.DateField(label=_("止"), required=False, widget=_date_input())


class ScoresForm(forms.Form):
    """One score per enrolled member (blank: not entered)."""

    def __init__(self, *args: Any, members: list[GroupMember], which: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.members = members
        for member in members:
            field = _score_field(member.person.name)
            self.fields[f"score_{member.pk}"] = field
            self.initial.setdefault(f"score_{member.pk}", getattr(member, f"{which}_score"))

    def scores(self) -> dict[int, Decimal | None]:
        return {m.pk: self.cleaned_data.get(f"score_{m.pk}") for m in self.members}
