"""Forms of case work, shared by the pages and the API (which feeds them its JSON body as form
data). Choices of related rows come from querysets built for the user by the services, so an
id outside the user's scope is an invalid choice; the rules across fields are the services'."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from sanlian.core.forms import SearchableSelect, limit_choices
from sanlian.organizations.models import Sex

from ..models.cases import (
    Attainment,
    CaseSource,
    ClosureReason,
    ConsentMethod,
    ContactKind,
    ProblemCategory,
    ShareBasis,
)
from ..services.cases import MAX_NOTE

NOTE_ERRORS = {"max_length": _("内容过长（最多 %(limit_value)s 字）。")}


def note_field(
    label: Any, *, required: bool = False, rows: int = 4, help_text: Any = ""
) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=required,
        max_length=MAX_NOTE,
        widget=forms.Textarea(attrs={"rows": rows}),
        error_messages={**NOTE_ERRORS, "required": _("请填写此项。")},
        help_text=help_text,
    )


def date_field(label: Any, *, required: bool = True) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("请输入有效的日期。"), "required": _("请填写日期。")},
    )


def time_field(label: Any) -> forms.TimeField:
    return forms.TimeField(
        label=label,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        error_messages={"invalid": _("请输入有效的时间。"), "required": _("请填写时间。")},
    )


class NamedChoice(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return str(obj)


class PersonChoice(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name}（{obj.community}，{obj.phone or '—'}）"


def _set_queryset(form: forms.BaseForm, name: str, qs: QuerySet[Any]) -> None:
    field: Any = form.fields[name]
    field.queryset = qs


class CaseOpenForm(forms.Form):
    """接案登记: an existing person in scope, or a new one."""

    person = PersonChoice(
        label=_("服务对象（已登记）"),
        queryset=None,
        required=False,
        error_messages={"invalid_choice": _("找不到该居民，或您无权为其建档。")},
    )
    new_name = forms.CharField(label=_("或新登记：姓名"), max_length=50, required=False)
    new_sex = forms.ChoiceField(label=_("性别"), choices=[("", "—"), *Sex.choices], required=False)
    new_phone = forms.CharField(label=_("手机号"), max_length=11, required=False)
    new_community = NamedChoice(
        label=_("所在社区"),
        queryset=None,
        required=False,
        error_messages={"invalid_choice": _("请选择您服务范围内的社区。")},
    )
    source = forms.ChoiceField(label=_("来源"), choices=CaseSource.choices)
    problem_category = forms.ChoiceField(label=_("问题类别"), choices=ProblemCategory.choices)
    presenting_problem = note_field(_("主要问题"), required=True)
    opened_on = date_field(_("接案日期"))
    supervisor = NamedChoice(
        label=_("督导"),
        queryset=None,
        required=False,
        help_text=_("本机构社会工作师（或以上）或指定督导；计划和结案须经其审核。"),
        error_messages={"invalid_choice": _("督导须是本机构的社会工作师（或以上）。")},
    )
    project = NamedChoice(
        label=_("服务项目"),
        queryset=None,
        required=False,
        error_messages={"invalid_choice": _("只能选择本机构正在执行的服务项目。")},
    )

    def __init__(
        self,
        *args: Any,
        people: QuerySet[Any],
        communities: QuerySet[Any],
        supervisors: QuerySet[Any],
        projects: QuerySet[Any],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        _set_queryset(self, "person", people)
        _set_queryset(self, "new_community", communities)
        _set_queryset(self, "supervisor", supervisors)
        _set_queryset(self, "project", projects)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("person") is None:
            if not data.get("new_name"):
                raise forms.ValidationError(_("请选择已登记的服务对象，或填写新服务对象的姓名。"))
            if not data.get("new_sex"):
                self.add_error("new_sex", _("请选择性别。"))
            if data.get("new_community") is None:
                self.add_error("new_community", _("请选择所在社区。"))
        elif data.get("new_name"):
            raise forms.ValidationError(_("已选择服务对象时，请不要再填写新服务对象。"))
        return data

    def case_fields(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            "source": d["source"],
            "problem_category": d["problem_category"],
            "presenting_problem": d["presenting_problem"],
            "opened_on": d["opened_on"],
            "supervisor": d.get("supervisor"),
            "project": d.get("project"),
        }


class IntakeDecisionForm(forms.Form):
    take = forms.TypedChoiceField(
        label=_("接案决定"),
        choices=[("1", _("接案")), ("0", _("不接案"))],
        coerce=lambda v: v == "1",
        widget=forms.RadioSelect,
    )
    agreement_on = date_field(_("服务协议签订日期"), required=False)
    reason = forms.CharField(label=_("不接案原因"), max_length=300, required=False)


class ConsentForm(forms.Form):
    consent_on = date_field(_("单独同意日期"))
    method = forms.ChoiceField(label=_("同意方式"), choices=ConsentMethod.choices)
    witness = forms.CharField(label=_("见证人（口头同意时必填）"), max_length=50, required=False)


SENSITIVE_HELP = _("属于敏感个人信息，须已登记服务对象的单独同意。")


class AssessmentForm(forms.Form):
    information = note_field(_("资料收集"))
    problems = note_field(_("问题分析"))
    strengths = note_field(_("优势与资源"))
    summary = note_field(_("预估小结"))
    health = note_field(_("身心健康状况"), help_text=SENSITIVE_HELP, rows=2)
    finances = note_field(_("经济状况"), help_text=SENSITIVE_HELP, rows=2)


class PlanForm(forms.Form):
    aims = note_field(_("服务目的"), required=True, rows=3)
    strategies = note_field(_("介入策略"), rows=3)
    partners = forms.CharField(label=_("合作方"), max_length=300, required=False)
    timetable = forms.CharField(label=_("时间安排"), max_length=300, required=False)


class GoalForm(forms.Form):
    goal = note_field(_("服务目标"), required=True, rows=2)
    measure = note_field(_("衡量方式"), required=True, rows=2)


class GoalPickForm(forms.Form):
    goal_id = forms.IntegerField(widget=forms.HiddenInput)


class GoalRateForm(GoalPickForm):
    attainment = forms.ChoiceField(label=_("达成情况"), choices=Attainment.choices)
    note = note_field(_("说明"), rows=2)


class NoteForm(forms.Form):
    """A supervisor's returning note, an evaluation summary."""

    note = forms.CharField(label=_("意见"), max_length=300)


class EvaluationForm(forms.Form):
    summary = note_field(_("评估小结"), required=True)


class ContactForm(forms.Form):
    served_on = date_field(_("日期"))
    start_time = time_field(_("开始时间"))
    end_time = time_field(_("结束时间"))
    kind = forms.ChoiceField(label=_("方式"), choices=ContactKind.choices)
    notes = note_field(_("服务记录"), required=True)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start_time"), data.get("end_time")
        if start is not None and end is not None and end <= start:
            self.add_error("end_time", _("结束时间须晚于开始时间。"))
        return data


class ClosureForm(forms.Form):
    reason = forms.ChoiceField(label=_("结案原因"), choices=ClosureReason.choices)
    summary = note_field(_("结案小结"), required=True)


class FollowUpForm(forms.Form):
    visited_on = date_field(_("回访日期"))
    kind = forms.ChoiceField(label=_("方式"), choices=ContactKind.choices)
    notes = note_field(_("回访记录"), required=True)


class SupervisorForm(forms.Form):
    supervisor = NamedChoice(
        label=_("督导"),
        queryset=None,
        error_messages={"invalid_choice": _("督导须是本机构的社会工作师（或以上）。")},
    )

    def __init__(self, *args: Any, supervisors: QuerySet[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_queryset(self, "supervisor", supervisors)


class ReferralForm(forms.Form):
    to_org = NamedChoice(
        label=_("接收机构"),
        queryset=None,
        widget=SearchableSelect,
        error_messages={"invalid_choice": _("请选择接收机构。")},
    )
    reason = note_field(_("转介原因"), required=True, rows=2)
    share_basis = forms.ChoiceField(
        label=_("是否提供个案信息"),
        choices=[
            (ShareBasis.NONE, ShareBasis.NONE.label),
            (ShareBasis.CONSENT, ShareBasis.CONSENT.label),
        ],
        help_text=_("未取得服务对象同意时，接收机构只能看到姓名和问题类别。"),
    )
    consent_on = date_field(_("服务对象同意提供信息的日期"), required=False)
    summary = note_field(_("提供给接收机构的个案摘要"), rows=3)

    def __init__(
        self,
        *args: Any,
        targets: QuerySet[Any],
        shown: list[Any] | None = None,
        search_url: str = "",
        **kwargs: Any,
    ) -> None:
        """`targets`: every organisation the case may go to (a city has thousands); `shown`:
        the few drawn as options, the others found through the search box at `search_url`."""
        super().__init__(*args, **kwargs)
        _set_queryset(self, "to_org", targets)
        field: Any = self.fields["to_org"]
        field.widget.search_url = search_url
        if shown is not None:
            limit_choices(field, shown, self["to_org"].value())


class OverrideForm(forms.Form):
    reason = forms.CharField(label=_("决定理由"), max_length=300)
    summary = note_field(_("提供给接收机构的个案摘要"), required=True, rows=3)


class ReferralDecisionForm(forms.Form):
    accept = forms.TypedChoiceField(
        label=_("处理结果"),
        choices=[("1", _("接收")), ("0", _("拒绝"))],
        coerce=lambda v: v == "1",
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(label=_("拒绝原因"), max_length=300, required=False)
