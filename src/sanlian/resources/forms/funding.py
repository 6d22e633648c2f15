"""Forms of the funding part: pools, calls and their criteria and reviewers, applications
with their indicator and budget rows, reviews and award decisions.

The same forms validate the pages and the API (which feeds them the JSON body as form data).
The rules that depend on several fields and on the database live in `services.funding`; the
forms parse and show what the services say, beside the right field.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sanlian.core.models import User
from sanlian.organizations.forms.cobuilding import datetime_input
from sanlian.organizations.models import Community, Organization, ServiceField, SocialWorker, Tier

from ..models import (
    ApplicationStatus,
    BudgetLine,
    BudgetPool,
    CallCriterion,
    CallStatus,
    IndicatorKind,
    Metric,
    ProjectCall,
)
from ..money import MONEY_HELP, yuan
from ..services import funding as services

# ---- fields --------------------------------------------------------------------------------


class MoneyField(forms.Field):
    """An amount in 元 to the 分: not negative, at most two decimals, refused in Chinese
    (the parsing is the services' `to_money`, so the page, the API and the services agree)."""

    widget = forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"})

    def __init__(self, *args: Any, allow_zero: bool = False, **kwargs: Any) -> None:
        kwargs.setdefault("help_text", MONEY_HELP)
        super().__init__(*args, **kwargs)
        self.allow_zero = allow_zero

    def to_python(self, value: Any) -> Decimal | None:
        if value in self.empty_values:
            return None
        return services.to_money(value, allow_zero=self.allow_zero)

    def prepare_value(self, value: Any) -> Any:
        return str(value) if isinstance(value, Decimal) else value


def _blank_choice(label: Any, choices: Any) -> list[tuple[str, Any]]:
    return [("", label), *choices]


def _apply(
    form: forms.Form, errors: Mapping[str, list[str]], *, keep_rest: bool = False
) -> dict[str, list[str]]:
    """Put a service's errors beside their fields. The others become the form's own errors,
    or, with `keep_rest`, are returned for the page to show by section."""
    rest: dict[str, list[str]] = {}
    for field, messages in errors.items():
        for message in messages:
            if field in form.fields:
                form.add_error(field, message)
            elif keep_rest:
                rest.setdefault(field, []).append(message)
            else:
                form.add_error(None, message)
    return rest


def validation_errors(exc: ValidationError) -> dict[str, list[str]]:
    """A service's ValidationError as {field or "__all__": messages}."""
    if hasattr(exc, "error_dict"):
        return {k: [str(m) for m in v] for k, v in exc.message_dict.items()}
    return {"__all__": [str(m) for m in exc.messages]}


class VersionField(forms.IntegerField):
    widget = forms.HiddenInput


# ---- pools ---------------------------------------------------------------------------------


class PoolForm(forms.Form):
    year = forms.IntegerField(
        label=_("年度"), min_value=services.MIN_YEAR, max_value=services.MAX_YEAR
    )
    name = forms.CharField(label=_("名称"), max_length=100)
    amount = MoneyField(label=_("资金总额（元）"))
    service_field = forms.ChoiceField(
        label=_("限定服务领域"),
        choices=_blank_choice(_("不限"), ServiceField.choices),
        required=False,
    )
    tier = forms.ChoiceField(
        label=_("限定社区类别"),
        choices=_blank_choice(_("不限"), Tier.choices),
        required=False,
        help_text=_("例如专门用于薄弱社区"),
    )
    note = forms.CharField(
        label=_("说明"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )

    def apply_errors(self, exc: ValidationError) -> None:
        _apply(self, validation_errors(exc))


class PoolEditForm(PoolForm):
    expected_version = VersionField()

    def __init__(self, *args: Any, pool: BudgetPool, **kwargs: Any) -> None:
        if not args or args[0] is None:
            kwargs.setdefault(
                "initial",
                {
                    "name": pool.name,
                    "amount": pool.amount,
                    "service_field": pool.service_field,
                    "tier": pool.tier,
                    "note": pool.note,
                    "expected_version": pool.version,
                },
            )
        super().__init__(*args, **kwargs)
        del self.fields["year"]
        self.fields["amount"].help_text = _("不能低于已分配额 %(a)s。") % {
            "a": yuan(pool.allocated)
        }


class PoolFilterForm(forms.Form):
    year = forms.IntegerField(label=_("年度"), required=False)


# ---- calls ---------------------------------------------------------------------------------


class CallForm(forms.Form):
    """A call's fields. `pool` is chosen among the pools the user manages when creating;
    editing keeps the call's pool."""

    pool = forms.ModelChoiceField(label=_("资金池"), queryset=BudgetPool.objects.none())
    code = forms.CharField(
        label=_("指南编号"), max_length=30, required=False, help_text=_("留空自动编号")
    )
    title = forms.CharField(label=_("名称"), max_length=200)
    service_field = forms.ChoiceField(label=_("服务领域"), choices=ServiceField.choices)
    description = forms.CharField(
        label=_("项目需求说明"), widget=forms.Textarea(attrs={"rows": 5}), required=False
    )
    communities = forms.ModelMultipleChoiceField(
        label=_("服务社区"),
        queryset=Community.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text=_("留空表示本层级范围内的社区均可申报"),
    )
    budget_ceiling = MoneyField(label=_("单个项目资助上限（元）"))
    total_budget = MoneyField(label=_("本指南计划资金（元）"))
    max_months = forms.IntegerField(
        label=_("项目周期上限（月）"),
        min_value=1,
        max_value=services.MAX_MONTHS,
        initial=12,
        error_messages={
            "min_value": _("项目周期上限为 1 至 36 个月。"),
            "max_value": _("项目周期上限为 1 至 36 个月。"),
        },
    )
    opens_at = forms.DateTimeField(label=_("申报开始"), required=False, widget=datetime_input())
    deadline = forms.DateTimeField(label=_("申报截止"), widget=datetime_input())

    def __init__(
        self,
        *args: Any,
        pools: QuerySet[BudgetPool] | None = None,
        pool: BudgetPool | None = None,
        communities: QuerySet[Community],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fixed_pool = pool
        if pool is not None:
            del self.fields["pool"]
            del self.fields["code"]
        else:
            self.fields["pool"].queryset = pools if pools is not None else BudgetPool.objects.none()  # type: ignore[attr-defined]
        self.fields["communities"].queryset = communities  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        pool = self.fixed_pool or data.get("pool")
        needed = ("service_field", "budget_ceiling", "total_budget", "max_months", "deadline")
        if pool is None or any(data.get(k) is None for k in needed):
            return data
        errors = services.call_field_errors(
            pool=pool,
            service_field=data["service_field"],
            communities=list(data.get("communities") or []),
            budget_ceiling=data["budget_ceiling"],
            total_budget=data["total_budget"],
            max_months=data["max_months"],
            deadline=data["deadline"],
            opens_at=data.get("opens_at"),
        )
        _apply(self, errors)
        return data

    def apply_errors(self, exc: ValidationError) -> None:
        _apply(self, validation_errors(exc))

    def values(self) -> dict[str, Any]:
        """The cleaned fields as the services' keyword arguments."""
        data = dict(self.cleaned_data)
        data.pop("pool", None)
        data.pop("expected_version", None)
        data["communities"] = list(data.get("communities") or [])
        return data


class CallEditForm(CallForm):
    expected_version = VersionField()

    def __init__(
        self, *args: Any, call: ProjectCall, communities: QuerySet[Community], **kwargs: Any
    ) -> None:
        if not args or args[0] is None:
            kwargs.setdefault(
                "initial",
                {
                    "title": call.title,
                    "service_field": call.service_field,
                    "description": call.description,
                    "communities": list(call.communities.all()),
                    "budget_ceiling": call.budget_ceiling,
                    "total_budget": call.total_budget,
                    "max_months": call.max_months,
                    "opens_at": timezone.localtime(call.opens_at) if call.opens_at else None,
                    "deadline": timezone.localtime(call.deadline),
                    "expected_version": call.version,
                },
            )
        super().__init__(*args, pool=call.pool, communities=communities, **kwargs)


class CriterionForm(forms.Form):
    name = forms.CharField(label=_("评审指标"), max_length=100, required=False)
    description = forms.CharField(label=_("评分说明"), max_length=300, required=False)
    weight = forms.IntegerField(
        label=_("权重（%）"),
        min_value=1,
        max_value=100,
        required=False,
        error_messages={
            "min_value": _("权重为 1 至 100。"),
            "max_value": _("权重为 1 至 100。"),
            "invalid": _("权重须为整数。"),
        },
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("name") and data.get("weight") is None and "weight" not in self.errors:
            self.add_error("weight", _("请填写权重。"))
        if not data.get("name") and (data.get("weight") is not None or data.get("description")):
            self.add_error("name", _("请填写评审指标名称。"))
        return data

    def is_blank(self) -> bool:
        return not self.cleaned_data.get("name")


class BaseCriteriaFormSet(forms.BaseFormSet):  # type: ignore[type-arg]
    """The criteria rows; blank rows are left out. Given rows add up to 100 (at creation a
    draft may have none yet; publishing needs them)."""

    required = False

    def specs(self) -> list[services.CriterionSpec]:
        return [
            services.CriterionSpec(
                name=f.cleaned_data["name"],
                weight=f.cleaned_data["weight"],
                description=f.cleaned_data.get("description", ""),
            )
            for f in self.forms
            if f.is_valid() and not f.is_blank()
        ]

    def clean(self) -> None:
        if any(self.errors):
            return
        specs = self.specs()
        if not specs and not self.required:
            return
        problems = services.criteria_errors(specs)
        if problems:
            raise forms.ValidationError(problems)


CriteriaFormSet = forms.formset_factory(CriterionForm, formset=BaseCriteriaFormSet, extra=0)

DEFAULT_CRITERIA = [
    {"name": _("需求契合度"), "weight": 25, "description": _("回应社区需求的程度")},
    {"name": _("方案可行性"), "weight": 30, "description": _("目标、活动与进度安排")},
    {"name": _("团队能力"), "weight": 20, "description": _("社工配置与以往项目绩效")},
    {"name": _("预算合理性"), "weight": 15, "description": _("预算结构与单价")},
    {"name": _("预期成效"), "weight": 10, "description": _("产出与成效指标")},
]


def criteria_formset(
    data: Any, *, call: ProjectCall | None = None, required: bool = False, extra_rows: int = 1
) -> BaseCriteriaFormSet:
    initial: list[dict[str, Any]] | None = None
    if data is None:
        if call is not None and call.pk:
            initial = [
                {"name": c.name, "description": c.description, "weight": c.weight}
                for c in call.criteria.all()
            ]
        else:
            initial = [dict(row) for row in DEFAULT_CRITERIA]
        initial += [{} for _ in range(extra_rows)]
    formset = cast(BaseCriteriaFormSet, CriteriaFormSet(data, prefix="criteria", initial=initial))
    formset.required = required
    return formset


class ReviewerForm(forms.Form):
    reviewer = forms.ModelChoiceField(label=_("评审专家"), queryset=User.objects.none())

    def __init__(self, *args: Any, candidates: QuerySet[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["reviewer"]
        field.queryset = candidates  # type: ignore[attr-defined]
        field.label_from_instance = _reviewer_label  # type: ignore[attr-defined]


def _reviewer_label(user: User) -> str:
    org = user.organization
    return f"{user}（{org.name}）" if org is not None else str(user)


class ReviewersField(forms.ModelMultipleChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return _reviewer_label(obj)


class CallReviewersForm(forms.Form):
    """The reviewers picked when a call is created."""

    reviewers = ReviewersField(
        label=_("评审专家"),
        queryset=User.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
        help_text=_("本层级或上级工会工作人员、第三方评估人员；可在指南页面继续添加"),
    )

    def __init__(self, *args: Any, candidates: QuerySet[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reviewers"].queryset = candidates  # type: ignore[attr-defined]


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=_("撤销原因"), max_length=300, error_messages={"required": _("请填写撤销原因。")}
    )


class CallFilterForm(forms.Form):
    year = forms.IntegerField(label=_("年度"), required=False)
    status = forms.ChoiceField(
        label=_("状态"), choices=_blank_choice(_("全部"), CallStatus.choices), required=False
    )


# ---- applications --------------------------------------------------------------------------


class _SocialWorkerChoices(forms.ModelMultipleChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        worker = cast(SocialWorker, obj)
        qualification = worker.get_qualification_display()
        return f"{worker.person.name}（{qualification}）" if qualification else worker.person.name


class ApplicationForm(forms.Form):
    title = forms.CharField(label=_("项目名称"), max_length=200)
    proposal = forms.CharField(label=_("项目方案"), widget=forms.Textarea(attrs={"rows": 8}))
    communities = forms.ModelMultipleChoiceField(
        label=_("服务社区"),
        queryset=Community.objects.none(),
        widget=forms.SelectMultiple(attrs={"size": 6}),
        error_messages={"required": _("请选择服务社区。")},
    )
    beneficiaries = forms.IntegerField(
        label=_("受益人数"),
        min_value=1,
        error_messages={"min_value": _("受益人数须大于 0。")},
    )
    beneficiaries_note = forms.CharField(label=_("服务对象说明"), max_length=300, required=False)
    amount = MoneyField(label=_("申请金额（元）"))
    months = forms.IntegerField(
        label=_("项目周期（月）"),
        min_value=1,
        initial=12,
        error_messages={"min_value": _("项目周期至少 1 个月。")},
    )
    team = _SocialWorkerChoices(
        label=_("项目团队"),
        queryset=SocialWorker.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("本机构在岗社工"),
    )
    expected_version = VersionField(required=False)

    def __init__(self, *args: Any, call: ProjectCall, org: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.call = call
        self.fields["communities"].queryset = services.application_communities(call)  # type: ignore[attr-defined]
        self.fields["team"].queryset = services.application_team(org)  # type: ignore[attr-defined]
        months = self.fields["months"]
        months.validators.append(_MaxMonths(call.max_months))
        months.help_text = _("不超过 %(n)s 个月") % {"n": call.max_months}
        self.fields["amount"].help_text = _("不超过 %(c)s；须与预算明细合计一致") % {
            "c": yuan(call.budget_ceiling)
        }


class _MaxMonths:
    def __init__(self, limit: int) -> None:
        self.limit = limit

    def __call__(self, value: int) -> None:
        if value is not None and value > self.limit:
            raise ValidationError(
                _("项目周期须为 1 至 %(max)s 个月（本指南上限）。") % {"max": self.limit}
            )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _MaxMonths) and other.limit == self.limit

    def __hash__(self) -> int:
        return hash(self.limit)


class IndicatorForm(forms.Form):
    kind = forms.ChoiceField(label=_("类别"), choices=IndicatorKind.choices, required=False)
    metric = forms.ChoiceField(label=_("指标"), choices=Metric.choices, required=False)
    name = forms.CharField(label=_("名称"), max_length=100, required=False)
    target = forms.DecimalField(
        label=_("目标值"),
        max_digits=12,
        decimal_places=2,
        required=False,
        error_messages={
            "invalid": _("目标值须为数字。"),
            "max_decimal_places": _("目标值最多两位小数。"),
            "max_digits": _("目标值过大。"),
            "max_whole_digits": _("目标值过大。"),
        },
    )
    unit = forms.CharField(label=_("单位"), max_length=20, required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("name"):
            if data.get("target") is not None:
                self.add_error("name", _("请填写绩效指标名称。"))
            return data
        if not data.get("kind"):
            data["kind"] = IndicatorKind.OUTPUT
        if not data.get("metric"):
            data["metric"] = Metric.OTHER
        target = data.get("target")
        if target is None and "target" not in self.errors:
            self.add_error("target", _("请填写目标值。"))
        elif target is not None and target <= 0:
            self.add_error("target", _("目标值须大于 0。"))
        return data

    def is_blank(self) -> bool:
        return not self.cleaned_data.get("name")


class BudgetLineForm(forms.Form):
    category = forms.ChoiceField(
        label=_("科目"), choices=BudgetLine.Category.choices, required=False
    )
    item = forms.CharField(label=_("明细"), max_length=200, required=False)
    amount = MoneyField(label=_("金额（元）"), required=False, help_text="")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("item"):
            if data.get("amount") is not None:
                self.add_error("item", _("请填写预算明细。"))
            return data
        if not data.get("category"):
            data["category"] = BudgetLine.Category.OTHER
        if data.get("amount") is None and "amount" not in self.errors:
            self.add_error("amount", _("请填写金额。"))
        return data

    def is_blank(self) -> bool:
        return not self.cleaned_data.get("item")


class BaseRowsFormSet(forms.BaseFormSet):  # type: ignore[type-arg]
    def rows(self) -> list[dict[str, Any]]:
        return [f.cleaned_data for f in self.forms if f.is_valid() and not f.is_blank()]


IndicatorFormSet = forms.formset_factory(IndicatorForm, formset=BaseRowsFormSet, extra=0)
BudgetLineFormSet = forms.formset_factory(BudgetLineForm, formset=BaseRowsFormSet, extra=0)

ROW_FORMS: dict[str, type[forms.Form]] = {"indicators": IndicatorForm, "lines": BudgetLineForm}


class ApplicationBundle:
    """An application's form with its indicator and budget rows: validated together, turned
    into the services' arguments, and given back the services' errors by section."""

    def __init__(
        self,
        data: Any,
        *,
        call: ProjectCall,
        org: Organization,
        initial: dict[str, Any] | None = None,
        indicators: list[dict[str, Any]] | None = None,
        lines: list[dict[str, Any]] | None = None,
        extra_rows: int = 2,
    ) -> None:
        blank: list[dict[str, Any]] = [{} for _ in range(extra_rows)]
        self.form = ApplicationForm(data, call=call, org=org, initial=initial)
        self.indicators = cast(
            BaseRowsFormSet,
            IndicatorFormSet(
                data,
                prefix="indicators",
                initial=None if data is not None else [*(indicators or []), *blank],
            ),
        )
        self.lines = cast(
            BaseRowsFormSet,
            BudgetLineFormSet(
                data,
                prefix="lines",
                initial=None if data is not None else [*(lines or []), *blank],
            ),
        )
        self.section_errors: dict[str, list[str]] = {}

    def is_valid(self) -> bool:
        return all([self.form.is_valid(), self.indicators.is_valid(), self.lines.is_valid()])

    def values(self) -> dict[str, Any]:
        data = dict(self.form.cleaned_data)
        data.pop("expected_version", None)
        data["communities"] = list(data["communities"])
        data["team"] = list(data.get("team") or [])
        data["indicators"] = [
            services.IndicatorSpec(
                kind=r["kind"],
                metric=r["metric"],
                name=r["name"],
                target=r["target"],
                unit=r.get("unit", ""),
            )
            for r in self.indicators.rows()
        ]
        data["budget_lines"] = [
            services.BudgetLineSpec(category=r["category"], item=r["item"], amount=r["amount"])
            for r in self.lines.rows()
        ]
        return data

    def apply_errors(self, exc: ValidationError) -> None:
        rest = _apply(self.form, validation_errors(exc), keep_rest=True)
        for key, messages in rest.items():
            self.section_errors.setdefault(key, []).extend(messages)

    @property
    def general_errors(self) -> list[str]:
        return self.section_errors.get("__all__", [])


def application_initial(
    application: Any,
) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    """An application's stored values as the bundle's initial data."""
    initial = {
        "title": application.title,
        "proposal": application.proposal,
        "communities": list(application.communities.all()),
        "beneficiaries": application.beneficiaries,
        "beneficiaries_note": application.beneficiaries_note,
        "amount": application.amount,
        "months": application.months,
        "team": list(application.team.all()),
        "expected_version": application.version,
    }
    indicators = [dict(row) for row in application.indicators or []]
    lines = [
        {"category": line.category, "item": line.item, "amount": line.amount}
        for line in application.budget_lines.all()
    ]
    return initial, indicators, lines


class ApplicationFilterForm(forms.Form):
    call = forms.ModelChoiceField(
        label=_("项目指南"),
        queryset=ProjectCall.objects.none(),
        required=False,
        empty_label=_("全部"),
    )
    status = forms.ChoiceField(
        label=_("状态"),
        choices=_blank_choice(_("全部"), ApplicationStatus.choices),
        required=False,
    )

    def __init__(self, *args: Any, calls: QuerySet[ProjectCall], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["call"].queryset = calls  # type: ignore[attr-defined]


# ---- reviews and decisions -----------------------------------------------------------------


SCORE_ERRORS = {
    "invalid": _("得分须为数字。"),
    "min_value": _("得分为 0 至 100 分。"),
    "max_value": _("得分为 0 至 100 分。"),
    "max_decimal_places": _("得分最多两位小数。"),
    "max_digits": _("得分为 0 至 100 分。"),
    "max_whole_digits": _("得分为 0 至 100 分。"),
    "required": _("请为该指标打分。"),
}


class ReviewForm(forms.Form):
    """One score field per criterion of the call (0–100), and the comment."""

    comment = forms.CharField(
        label=_("评审意见"),
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": _("请填写评审意见。")},
    )

    def __init__(self, *args: Any, criteria: list[CallCriterion], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.criteria = criteria
        comment = self.fields.pop("comment")
        for c in criteria:
            self.fields[self.field_name(c)] = forms.DecimalField(
                label=f"{c.name}（{c.weight}%）",
                min_value=0,
                max_value=100,
                max_digits=5,
                decimal_places=2,
                help_text=c.description,
                error_messages=SCORE_ERRORS,
                widget=forms.NumberInput(attrs={"step": "0.5", "min": 0, "max": 100}),
            )
        self.fields["comment"] = comment

    @staticmethod
    def field_name(criterion: CallCriterion) -> str:
        return f"score_{criterion.pk}"

    def scores(self) -> dict[int, Decimal]:
        return {c.pk: self.cleaned_data[self.field_name(c)] for c in self.criteria}

    def score_fields(self) -> list[forms.BoundField]:
        return [self[self.field_name(c)] for c in self.criteria]

    def apply_errors(self, exc: ValidationError) -> None:
        _apply(self, validation_errors(exc))


class RecuseForm(forms.Form):
    conflict_note = forms.CharField(
        label=_("利益冲突说明"),
        max_length=300,
        error_messages={"required": _("请说明利益冲突的情况。")},
        help_text=_("例如：本人曾在申报机构任职、与其负责人有亲属关系等"),
    )


class Decision:
    AWARD = "award"
    REJECT = "reject"


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("决定"),
        choices=[(Decision.AWARD, _("立项")), (Decision.REJECT, _("不予立项"))],
        widget=forms.RadioSelect,
    )
    amount = MoneyField(label=_("立项金额（元）"), required=False)
    reason = forms.CharField(
        label=_("理由"),
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": _("请填写决定理由。")},
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if (
            data.get("decision") == Decision.AWARD
            and data.get("amount") is None
            and "amount" not in self.errors
        ):
            self.add_error("amount", _("请填写立项金额。"))
        return data

    def apply_errors(self, exc: ValidationError) -> None:
        _apply(self, validation_errors(exc))
