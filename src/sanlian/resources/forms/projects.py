"""Forms of the projects part: the contract with its milestones, tranches and indicators,
milestone reports and reviews, disbursement requests and decisions, evaluations.

The same forms validate the pages and the API (which feeds them the JSON body as form data).
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from sanlian.core.models import User
from sanlian.organizations.models import Organization, ServiceField

from ..models import (
    Application,
    Evaluation,
    EvaluationStage,
    IndicatorKind,
    Metric,
    ServiceProject,
    Tranche,
)
from ..models.projects import Framework
from ..money import MONEY_HELP
from ..services import projects as services
from ..services.projects import IndicatorSpec, MilestoneSpec, TrancheMode


def date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class MoneyFormField(forms.DecimalField):
    """An amount in 元 to the 分, with the refusals in Chinese."""

    def __init__(self, *, allow_zero: bool = False, **kwargs: Any) -> None:
        self.allow_zero = allow_zero
        kwargs.setdefault("max_digits", 14)
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("help_text", MONEY_HELP)
        kwargs.setdefault(
            "error_messages",
            {
                "invalid": _("请输入数字金额。"),
                "max_decimal_places": _("金额最多保留两位小数（精确到分）。"),
                "max_digits": _("金额超出范围。"),
                "max_whole_digits": _("金额超出范围。"),
            },
        )
        super().__init__(**kwargs)

    def validate(self, value: Any) -> None:
        super().validate(value)
        if value is None:
            return
        if value < 0:
            raise ValidationError(_("金额不能为负数。"), code="negative")
        if value == 0 and not self.allow_zero:
            raise ValidationError(_("金额须大于 0。"), code="zero")


class FigureField(forms.DecimalField):
    """A non-money figure (a target, a score) with two decimals at most."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_digits", 12)
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault(
            "error_messages",
            {
                "invalid": _("请输入数字。"),
                "max_decimal_places": _("最多保留两位小数。"),
                "max_digits": _("数值超出范围。"),
                "max_whole_digits": _("数值超出范围。"),
                "min_value": _("不能小于 %(limit_value)s。"),
                "max_value": _("不能大于 %(limit_value)s。"),
            },
        )
        super().__init__(**kwargs)


# ---- the contract ----------------------------------------------------------------------------


class ContractForm(forms.Form):
    title = forms.CharField(label=_("项目名称"), max_length=200)
    contract_number = forms.CharField(label=_("合同编号"), max_length=40)
    amount = MoneyFormField(label=_("合同金额（元）"))
    starts_on = forms.DateField(label=_("服务期起"), widget=date_input())
    ends_on = forms.DateField(
        label=_("服务期止"),
        widget=date_input(),
        help_text=_("合同期限一般为一年，最长三年。"),
    )
    tranche_mode = forms.ChoiceField(
        label=_("拨付期次"), choices=TrancheMode.choices, initial=TrancheMode.PERCENT
    )

    def __init__(
        self,
        *args: Any,
        application: Application | None = None,
        project: ServiceProject | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.application = application
        self.project = project

    def clean_contract_number(self) -> str:
        number = str(self.cleaned_data["contract_number"]).strip()
        taken = ServiceProject.objects.filter(contract_number=number)
        if self.project is not None:
            taken = taken.exclude(pk=self.project.pk)
        if taken.exists():
            raise ValidationError(_("合同编号 %(number)s 已被使用。") % {"number": number})
        return number

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("starts_on"), data.get("ends_on")
        if start and end:
            try:
                services.check_period(start, end)
            except ValidationError as exc:
                self.add_error("ends_on", exc)
        amount = data.get("amount")
        awarded = self.application.awarded_amount if self.application else None
        if amount is not None and awarded is not None and amount > awarded:
            self.add_error(
                "amount",
                _("合同金额不能超过立项金额（¥%(awarded)s）。") % {"awarded": awarded},
            )
        return data

    def warnings(self) -> list[str]:
        """Allowed but unusual: said after saving, never refused."""
        data = getattr(self, "cleaned_data", {})
        start, end = data.get("starts_on"), data.get("ends_on")
        if start and end and end > services.default_end(start):
            return [str(_("合同期限超过一年，请确认（购买服务合同一般为一年）。"))]
        return []


class MilestoneRowForm(forms.Form):
    """A milestone and its tranche; a row without a title is left out."""

    title = forms.CharField(label=_("节点名称"), max_length=100, required=False)
    due_on = forms.DateField(label=_("计划完成日期"), required=False, widget=date_input())
    share = FigureField(label=_("拨付比例（%）或金额（元）"), max_digits=14, required=False)
    deliverables = forms.CharField(label=_("交付要求"), max_length=500, required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("title"):
            if data.get("due_on") or data.get("share") is not None:
                self.add_error("title", _("请填写节点名称。"))
            return data
        if data.get("due_on") is None and "due_on" not in self.errors:
            self.add_error("due_on", _("请填写计划完成日期。"))
        share = data.get("share")
        if share is None and "share" not in self.errors:
            self.add_error("share", _("请填写本期拨付比例或金额。"))
        elif share is not None and share <= 0:
            self.add_error("share", _("拨付比例或金额须大于 0。"))
        return data

    def is_blank(self) -> bool:
        return not self.cleaned_data.get("title")


class BaseMilestoneFormSet(forms.BaseFormSet):  # type: ignore[type-arg]
    def specs(self) -> list[MilestoneSpec]:
        return [
            MilestoneSpec(
                title=f.cleaned_data["title"],
                due_on=f.cleaned_data["due_on"],
                share=f.cleaned_data["share"],
                deliverables=f.cleaned_data.get("deliverables", ""),
            )
            for f in self.forms
            if f.is_valid() and not f.is_blank()
        ]

    def clean(self) -> None:
        if any(self.errors):
            return
        if not self.specs():
            raise ValidationError(_("请至少设置一个节点及其拨付期次。"))


MilestoneFormSet = forms.formset_factory(MilestoneRowForm, formset=BaseMilestoneFormSet, extra=0)


class IndicatorRowForm(forms.Form):
    kind = forms.ChoiceField(label=_("类别"), choices=IndicatorKind.choices, required=False)
    metric = forms.ChoiceField(label=_("指标"), choices=Metric.choices, required=False)
    name = forms.CharField(label=_("名称"), max_length=100, required=False)
    target = FigureField(label=_("目标值"), required=False)
    unit = forms.CharField(label=_("单位"), max_length=20, required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("name"):
            if data.get("target") is not None:
                self.add_error("name", _("请填写指标名称。"))
            return data
        target = data.get("target")
        if target is None and "target" not in self.errors:
            self.add_error("target", _("请填写目标值。"))
        elif target is not None and target <= 0:
            self.add_error("target", _("目标值须大于 0。"))
        if not data.get("kind"):
            data["kind"] = IndicatorKind.OUTPUT
        if not data.get("metric"):
            data["metric"] = Metric.OTHER
        return data

    def is_blank(self) -> bool:
        return not self.cleaned_data.get("name")


class BaseIndicatorFormSet(forms.BaseFormSet):  # type: ignore[type-arg]
    def specs(self) -> list[IndicatorSpec]:
        return [
            IndicatorSpec(
                kind=f.cleaned_data["kind"],
                metric=f.cleaned_data["metric"],
                name=f.cleaned_data["name"],
                target=f.cleaned_data["target"],
                unit=f.cleaned_data.get("unit", ""),
            )
            for f in self.forms
            if f.is_valid() and not f.is_blank()
        ]

    def clean(self) -> None:
        if any(self.errors):
            return
        names = [s.name for s in self.specs()]
        if len(names) != len(set(names)):
            raise ValidationError(_("绩效指标名称不能重复。"))


IndicatorFormSet = forms.formset_factory(IndicatorRowForm, formset=BaseIndicatorFormSet, extra=0)


# The codes of `services.check_plan`'s refusals about the rows rather than the terms.
MILESTONE_CODES = frozenset({"tranches", "milestone", "milestone_date", "milestone_order"})
INDICATOR_CODES = frozenset({"indicator"})


class ContractPlan:
    """The contract form with its milestone rows and indicator rows, validated together:
    the milestones' dates lie in the period and the tranches add up to the amount."""

    def __init__(
        self,
        data: Any,
        *,
        application: Application | None,
        project: ServiceProject | None = None,
        initial: dict[str, Any] | None = None,
        milestone_rows: list[dict[str, Any]] | None = None,
        indicator_rows: list[dict[str, Any]] | None = None,
    ) -> None:
        self.form = ContractForm(data, application=application, project=project, initial=initial)
        self.milestones = cast(
            BaseMilestoneFormSet,
            MilestoneFormSet(data, prefix="milestones", initial=milestone_rows),
        )
        self.indicators = cast(
            BaseIndicatorFormSet,
            IndicatorFormSet(data, prefix="indicators", initial=indicator_rows),
        )
        self.amounts: list[Decimal] = []
        # The plan's refusals that concern the milestone or indicator rows, shown in the
        # card of those rows (they stay the form's own errors too, for the API).
        self.milestone_errors: list[str] = []
        self.indicator_errors: list[str] = []

    def add_error(self, exc: ValidationError) -> None:
        """A refusal of the plan (or of the service): the form's, and beside the rows it is
        about when it is about rows."""
        self.form.add_error(None, exc)
        for error in getattr(exc, "error_list", []):  # not a {field: errors} refusal
            if error.code in MILESTONE_CODES:
                self.milestone_errors.extend(error.messages)
            elif error.code in INDICATOR_CODES:
                self.indicator_errors.extend(error.messages)

    @property
    def terms_errors(self) -> list[str]:
        """The form's own errors that are about the terms, not the rows."""
        rows = {*self.milestone_errors, *self.indicator_errors}
        return [str(e) for e in self.form.non_field_errors() if str(e) not in rows]

    def is_valid(self) -> bool:
        valid = all([self.form.is_valid(), self.milestones.is_valid(), self.indicators.is_valid()])
        if not valid:
            return False
        data = self.form.cleaned_data
        try:
            self.amounts = services.check_plan(
                amount=data["amount"],
                starts_on=data["starts_on"],
                ends_on=data["ends_on"],
                milestones=self.milestones.specs(),
                tranche_mode=data["tranche_mode"],
                indicators=self.indicators.specs(),
            )
        except ValidationError as exc:
            self.add_error(exc)
            return False
        return True

    def service_kwargs(self) -> dict[str, Any]:
        data = self.form.cleaned_data
        return {
            "title": data["title"],
            "contract_number": data["contract_number"],
            "amount": data["amount"],
            "starts_on": data["starts_on"],
            "ends_on": data["ends_on"],
            "tranche_mode": data["tranche_mode"],
            "milestones": self.milestones.specs(),
            "indicators": self.indicators.specs(),
        }


def _blank_rows(n: int) -> list[dict[str, Any]]:
    return [{} for _ in range(n)]


def plan_for_application(data: Any, application: Application, today: dt.date) -> ContractPlan:
    """A new contract, prefilled from the application: its title, the awarded amount, a
    one-year period from the first of next month, three milestones at 30/40/30 and the
    application's indicators."""
    start = (today.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    end = services.default_end(start)
    milestone_rows: list[dict[str, Any]] | None = None
    indicator_rows: list[dict[str, Any]] | None = None
    if data is None:
        milestone_rows = [
            {"title": _("启动与需求评估"), "due_on": start + dt.timedelta(days=90), "share": 30},
            {"title": _("中期服务"), "due_on": start + dt.timedelta(days=240), "share": 40},
            {"title": _("结项总结"), "due_on": end, "share": 30},
            *_blank_rows(2),
        ]
        indicator_rows = [
            {"kind": i.kind, "metric": i.metric, "name": i.name, "target": i.target, "unit": i.unit}
            for i in services.indicators_from_application(application)
        ] + _blank_rows(3)
    initial = {
        "title": application.title,
        "amount": application.awarded_amount,
        "starts_on": start,
        "ends_on": end,
        "tranche_mode": TrancheMode.PERCENT,
    }
    return ContractPlan(
        data,
        application=application,
        initial=initial,
        milestone_rows=milestone_rows,
        indicator_rows=indicator_rows,
    )


def plan_for_project(data: Any, project: ServiceProject) -> ContractPlan:
    """A draft contract to redraw, prefilled with what it says now (tranches as amounts)."""
    milestone_rows: list[dict[str, Any]] | None = None
    indicator_rows: list[dict[str, Any]] | None = None
    if data is None:
        milestone_rows = [
            {
                "title": t.milestone.title,
                "due_on": t.milestone.due_on,
                "share": t.amount,
                "deliverables": t.milestone.deliverables,
            }
            for t in project.tranches.select_related("milestone").order_by("seq")
        ] + _blank_rows(2)
        indicator_rows = [
            {"kind": i.kind, "metric": i.metric, "name": i.name, "target": i.target, "unit": i.unit}
            for i in project.indicators.order_by("pk")
        ] + _blank_rows(2)
    initial = {
        "title": project.title,
        "contract_number": project.contract_number,
        "amount": project.amount,
        "starts_on": project.starts_on,
        "ends_on": project.ends_on,
        "tranche_mode": TrancheMode.AMOUNT,
    }
    return ContractPlan(
        data,
        application=project.application,
        project=project,
        initial=initial,
        milestone_rows=milestone_rows,
        indicator_rows=indicator_rows,
    )


class SignForm(forms.Form):
    signed_on = forms.DateField(label=_("签约日期"), required=False, widget=date_input())


class TerminateForm(forms.Form):
    reason = forms.CharField(
        label=_("终止原因"), max_length=300, widget=forms.Textarea(attrs={"rows": 3})
    )


class AcceptForm(forms.Form):
    accepted_on = forms.DateField(label=_("结项日期"), required=False, widget=date_input())


# ---- delivery --------------------------------------------------------------------------------


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input (Django's documented pattern); each is checked."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> Any:
        single = super().clean
        if isinstance(data, list | tuple):
            files = [single(d, initial) for d in data if d]
        else:
            files = [single(data, initial)] if data else []
        for f in files:
            services.validate_evidence_file(f)
        return files


class MilestoneReportForm(forms.Form):
    report = forms.CharField(
        label=_("完成情况"),
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("说明本节点完成的服务内容、服务人次与成效。"),
    )
    evidence = MultipleFileField(
        label=_("佐证材料"),
        required=False,
        help_text=_("签到表、照片、会议纪要等；PDF、图片、Office 或文本文件，单个不超过 20 MB。"),
    )
    description = forms.CharField(label=_("材料说明"), max_length=200, required=False)


class EvidenceForm(forms.Form):
    file = forms.FileField(label=_("佐证材料"))
    description = forms.CharField(label=_("材料说明"), max_length=200, required=False)

    def clean_file(self) -> Any:
        file = self.cleaned_data["file"]
        services.validate_evidence_file(file)
        return file


class MilestoneReviewForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("验收结论"), choices=[("accept", _("验收通过")), ("return", _("退回修改"))]
    )
    note = forms.CharField(label=_("验收意见"), max_length=300, required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("decision") == "return" and not data.get("note", "").strip():
            self.add_error("note", _("请填写退回原因。"))
        return data


class IndicatorReportForm(forms.Form):
    reported = FigureField(label=_("完成值"), min_value=Decimal(0))


# ---- disbursements ---------------------------------------------------------------------------


class DisbursementRequestForm(forms.Form):
    """A tranche's request. `request_key` comes from the page (a hidden field made when it
    was shown) or the API client: the same key twice is one request."""

    tranche = forms.ModelChoiceField(
        label=_("拨付期次"), queryset=Tranche.objects.none(), widget=forms.HiddenInput
    )
    request_key = forms.UUIDField(
        label=_("请求标识"),
        widget=forms.HiddenInput,
        error_messages={"invalid": _("请求标识须为 UUID。"), "required": _("缺少请求标识。")},
    )
    note = forms.CharField(label=_("申请说明"), max_length=300, required=False)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["tranche"].queryset = Tranche.objects.visible_to(user)  # type: ignore[attr-defined]
        self.fields["tranche"].error_messages["invalid_choice"] = _(
            "拨付期次不存在或不在您的范围内。"
        )

    @staticmethod
    def new_key() -> uuid.UUID:
        return uuid.uuid4()


DISBURSEMENT_ACTIONS = [
    ("approve", _("审批通过")),
    ("reject", _("驳回")),
    ("cancel", _("撤销申请")),
    ("pay", _("确认拨付")),
]


class DisbursementActionForm(forms.Form):
    action = forms.ChoiceField(label=_("操作"), choices=DISBURSEMENT_ACTIONS)
    comment = forms.CharField(label=_("意见 / 原因"), max_length=300, required=False)
    payment_reference = forms.CharField(label=_("支付凭证号"), max_length=60, required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("action") == "reject" and not data.get("comment", "").strip():
            self.add_error("comment", _("请填写驳回原因。"))
        return data


# ---- evaluations -----------------------------------------------------------------------------


class EvaluationAssignForm(forms.Form):
    stage = forms.ChoiceField(label=_("评估阶段"), choices=EvaluationStage.choices)
    framework = forms.ChoiceField(
        label=_("评估框架"), choices=Framework.choices, initial=Framework.IPOO
    )
    evaluator = forms.ModelChoiceField(
        label=_("评估人"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("（不指定个人）"),
    )
    evaluator_org = forms.ModelChoiceField(
        label=_("评估机构"),
        queryset=Organization.objects.none(),
        required=False,
        empty_label=_("（不指定机构）"),
        help_text=_("评估人和评估机构都不选时，由您本人评估。"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        evaluator = self.fields["evaluator"]
        evaluator.queryset = services.evaluator_accounts()  # type: ignore[attr-defined]
        evaluator.label_from_instance = _evaluator_label  # type: ignore[attr-defined]
        self.fields["evaluator_org"].queryset = services.evaluator_organizations()  # type: ignore[attr-defined]


def _evaluator_label(user: User) -> str:
    org = user.organization.name if user.organization else ""
    return f"{user}（{org}）" if org else str(user)


class EvaluationSubmitForm(forms.Form):
    """One score per dimension of the evaluation's framework, within its maximum."""

    findings = forms.CharField(
        label=_("评估意见"),
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("对照合同指标说明项目的过程与成效、存在的问题和改进建议。"),
    )

    def __init__(self, *args: Any, evaluation: Evaluation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.evaluation = evaluation
        self.dimension_codes: list[str] = []
        for code, label, top in services.dimensions(evaluation.framework):
            self.fields[f"score_{code}"] = FigureField(
                label=_("%(dim)s（满分 %(max)s）") % {"dim": label, "max": top},
                min_value=Decimal(0),
                max_value=Decimal(top),
                max_digits=5,
            )
            self.dimension_codes.append(code)
        # The dimensions first, the findings last.
        self.order_fields([*(f"score_{c}" for c in self.dimension_codes), "findings"])

    def scores(self) -> dict[str, Decimal]:
        return {c: self.cleaned_data[f"score_{c}"] for c in self.dimension_codes}

    def total(self) -> Decimal | None:
        if not hasattr(self, "cleaned_data"):
            return None
        values = [self.cleaned_data.get(f"score_{c}") for c in self.dimension_codes]
        if any(v is None for v in values):
            return None
        return sum((v for v in values if v is not None), Decimal(0))


# ---- the board -------------------------------------------------------------------------------


class BoardFilterForm(forms.Form):
    year = forms.IntegerField(label=_("年度"), required=False, min_value=2000, max_value=2100)
    funder = forms.ModelChoiceField(
        label=_("资金层级"),
        queryset=Organization.objects.none(),
        required=False,
        empty_label=_("全部"),
    )
    field = forms.ChoiceField(
        label=_("服务领域"), choices=[("", _("全部")), *ServiceField.choices], required=False
    )

    def __init__(
        self, *args: Any, years: list[int], funders: QuerySet[Organization], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["year"].widget = forms.Select(
            choices=[("", _("全部")), *((y, str(y)) for y in years)]
        )
        self.fields["funder"].queryset = funders  # type: ignore[attr-defined]
