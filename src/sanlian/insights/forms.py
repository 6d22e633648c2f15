"""Forms of the analysis pages (filters, settings, scenarios, pilots)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .services.fairness import PER_COMMUNITY, PER_RESIDENT


class FairnessFilterForm(forms.Form):
    year = forms.IntegerField(label=_("年度"), min_value=2000, max_value=2100)
    basis = forms.ChoiceField(
        label=_("计算口径"),
        choices=[(PER_COMMUNITY, _("按社区")), (PER_RESIDENT, _("按居民（人均）"))],
        initial=PER_COMMUNITY,
        required=False,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"year": timezone.localdate().year})
        super().__init__(*args, **kwargs)


class FairnessSettingsForm(forms.Form):
    star_share_alert = forms.DecimalField(
        label=_("明星社区资源占比预警线（%）"),
        help_text=_("明星社区所得资源占比超过此值时提示。"),
        min_value=Decimal(0),
        max_value=Decimal(100),
        decimal_places=1,
    )
    weak_idle_days = forms.IntegerField(
        label=_("薄弱社区无资源预警天数"),
        min_value=1,
        max_value=3650,
        help_text=_("薄弱社区超过这么多天没有获得任何资源时提示。"),
    )


class CommunitiesField(forms.ModelMultipleChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name}（{obj.get_tier_display()}）"


class PilotBatchForm(forms.Form):
    name = forms.CharField(label=_("批次名称"), max_length=100)
    starts_on = forms.DateField(label=_("开始日期"), widget=forms.DateInput(attrs={"type": "date"}))
    pilots = CommunitiesField(label=_("试点社区"), queryset=None)
    comparisons = CommunitiesField(
        label=_("对照社区"),
        queryset=None,
        required=False,
        help_text=_("同类别、未参加试点的社区，用于估计试点的效果。"),
    )
    indicators = forms.CharField(
        label=_("评估指标"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "每行一个：指标名称,单位（如“会员发展率,%”）；越低越好的指标在行尾加“,越低越好”。"
        ),
    )
    note = forms.CharField(
        label=_("说明"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, communities: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("pilots", "comparisons"):
            self.fields[name].queryset = communities  # type: ignore[attr-defined]
            self.fields[name].widget.attrs["size"] = 8

    def clean_indicators(self) -> list[tuple[str, str, bool]]:
        out = []
        for n, line in enumerate(self.cleaned_data["indicators"].splitlines(), start=1):
            parts = [p.strip() for p in line.replace("，", ",").split(",")]
            if not parts or not parts[0]:
                continue
            lower = len(parts) > 2 and parts[2] in ("越低越好", "lower")
            if len(parts) > 3 or (len(parts) == 3 and not lower):
                raise forms.ValidationError(
                    _("第 %(n)d 行格式不对：应为“指标名称,单位”或“指标名称,单位,越低越好”。")
                    % {"n": n}
                )
            out.append((parts[0][:100], parts[1][:20] if len(parts) > 1 else "", not lower))
        return out


class IndicatorForm(forms.Form):
    name = forms.CharField(label=_("指标名称"), max_length=100)
    unit = forms.CharField(label=_("单位"), max_length=20, required=False)
    higher_is_better = forms.BooleanField(label=_("越高越好"), required=False, initial=True)


class TierAssessmentForm(forms.Form):
    title = forms.CharField(label=_("名称"), max_length=100, required=False)
    keys = forms.MultipleChoiceField(
        label=_("评估指标"),
        widget=forms.CheckboxSelectMultiple,
        choices=[],
        help_text=_("至少两个；权重由熵权法根据各指标在社区间的差异自动确定。"),
    )
    star_share = forms.DecimalField(
        label=_("明星社区比例（%）"), min_value=Decimal(0), max_value=Decimal(50), initial=15
    )
    weak_share = forms.DecimalField(
        label=_("薄弱社区比例（%）"), min_value=Decimal(0), max_value=Decimal(50), initial=25
    )
    impute = forms.BooleanField(
        label=_("缺失值用全市均值补齐（逐项列出）"), required=False, initial=True
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from .services.tiers import INDICATORS

        super().__init__(*args, **kwargs)
        self.fields["keys"].choices = [(i.key, i.label) for i in INDICATORS]  # type: ignore[attr-defined]
        self.fields["keys"].initial = [i.key for i in INDICATORS]


class TierDecisionForm(forms.Form):
    tier = forms.ChoiceField(label=_("确定分类"), choices=[])
    reason = forms.CharField(label=_("理由"), max_length=300, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from sanlian.organizations.models import Tier

        super().__init__(*args, **kwargs)
        self.fields["tier"].choices = Tier.choices  # type: ignore[attr-defined]


class AllocationForm(forms.Form):
    call: forms.ModelChoiceField[Any] = forms.ModelChoiceField(label=_("项目指南"), queryset=None)
    name = forms.CharField(label=_("方案名称"), max_length=100, required=False)
    budget = forms.DecimalField(label=_("预算（元）"), min_value=Decimal("0.01"), decimal_places=2)
    max_community_share = forms.DecimalField(
        label=_("单个社区上限（占预算 %）"), required=False, min_value=Decimal("0.1"),
        max_value=Decimal(100), decimal_places=1,
    )  # fmt: skip
    weak_floor = forms.DecimalField(
        label=_("薄弱社区下限（占预算 %）"), required=False, min_value=Decimal("0.1"),
        max_value=Decimal(100), decimal_places=1,
    )  # fmt: skip
    max_per_org = forms.DecimalField(
        label=_("单个机构上限（元）"), required=False, min_value=Decimal("0.01"), decimal_places=2
    )
    must_fund = forms.CharField(
        label=_("必须资助（申报编号，逗号分隔）"), required=False, max_length=2000
    )
    must_not_fund = forms.CharField(
        label=_("不予资助（申报编号，逗号分隔）"), required=False, max_length=2000
    )

    def __init__(self, *args: Any, calls: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["call"].queryset = calls  # type: ignore[attr-defined]

    def _ids(self, name: str) -> list[int]:
        raw = self.cleaned_data[name].replace("，", ",").replace(" ", ",")
        try:
            return sorted({int(p) for p in raw.split(",") if p.strip()})
        except ValueError:
            raise forms.ValidationError(_("请填写申报编号（数字），用逗号分隔。")) from None

    def clean_max_community_share(self) -> Decimal | None:
        """As a fraction of the budget (the form asks for a percentage)."""
        value = self.cleaned_data["max_community_share"]
        return value / 100 if value is not None else None

    def clean_weak_floor(self) -> Decimal | None:
        value = self.cleaned_data["weak_floor"]
        return value / 100 if value is not None else None

    def clean_must_fund(self) -> list[int]:
        return self._ids("must_fund")

    def clean_must_not_fund(self) -> list[int]:
        return self._ids("must_not_fund")
