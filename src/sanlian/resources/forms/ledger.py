"""Forms of the resource ledger and venue bookings, shared by the pages and the API (which
feeds them its JSON body as form data). Choices of related rows come from querysets the caller
builds for the user (`services.ledger.recordable_communities` and the like), so an id outside
the user's scope is an invalid choice; the rules across fields are the services'."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sanlian.organizations.models import Community, Organization, Venue

from ..models import BookingPurpose, BookingStatus, ResourceKind, ServiceProject
from ..money import MAX_DIGITS, MONEY_HELP
from ..services.ledger import MANUAL_KINDS

MONEY_ERRORS = {
    "invalid": _("请输入有效的金额（数字）。"),
    "required": _("请填写金额。"),
    "min_value": _("金额不能为负数。"),
    "max_decimal_places": _("金额最多保留两位小数（到分）。"),
    "max_digits": _("金额过大。"),
    "max_whole_digits": _("金额过大。"),
}


class MoneyField(forms.DecimalField):
    """An amount in 元 to the 分: not negative, at most two decimals, with Chinese messages."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("help_text", MONEY_HELP)
        super().__init__(
            max_digits=MAX_DIGITS,
            decimal_places=2,
            min_value=Decimal("0"),
            error_messages=MONEY_ERRORS,
            **kwargs,
        )
        self.widget.attrs.update({"step": "0.01", "min": "0", "inputmode": "decimal"})


def date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def datetime_input() -> forms.DateTimeInput:
    return forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class CommunityField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name}（{obj.get_tier_display()}）"


class ProjectField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.title}（{obj.organization.name}）"


def _set_queryset(form: forms.BaseForm, name: str, qs: QuerySet[Any]) -> None:
    field: Any = form.fields[name]
    field.queryset = qs


# ---- ledger ------------------------------------------------------------------------------------


class ResourceEntryForm(forms.Form):
    community = CommunityField(
        label=_("社区"),
        queryset=Community.objects.none(),
        error_messages={"invalid_choice": _("您无权为该社区登记资源。")},
    )
    kind = forms.ChoiceField(
        label=_("资源类型"),
        choices=[(k.value, k.label) for k in MANUAL_KINDS],
        help_text=_("资金由拨付自动登记，无需在此录入。"),
        error_messages={"invalid_choice": _("资金类台账由拨付自动登记，不能手工录入或修改。")},
    )
    description = forms.CharField(label=_("内容"), max_length=300)
    project = ProjectField(
        label=_("服务项目"),
        queryset=ServiceProject.objects.none(),
        required=False,
        help_text=_("资源随某个服务项目而来时选择（可不选）"),
        error_messages={"invalid_choice": _("只能选择您可见的、已签约的服务项目。")},
    )
    source_org = forms.ModelChoiceField(
        label=_("来源组织"), queryset=Organization.objects.none(), required=False
    )
    source_name = forms.CharField(
        label=_("来源说明"),
        max_length=200,
        required=False,
        help_text=_("来源不是系统中的组织时填写，例如捐赠企业或个人的名称"),
    )
    quantity = forms.DecimalField(
        label=_("数量"),
        max_digits=12,
        decimal_places=2,
        required=False,
        help_text=_("志愿服务时长填小时数"),
        error_messages={
            "invalid": _("请输入数字。"),
            "max_decimal_places": _("数量最多保留两位小数。"),
        },
    )
    unit = forms.CharField(label=_("单位"), max_length=20, required=False)
    value = MoneyField(
        label=_("价值（元）"),
        required=False,
        help_text=_("志愿服务时长可不填，按每小时折算标准估算"),
    )
    is_estimated = forms.BooleanField(label=_("估算价值"), required=False)
    occurred_on = forms.DateField(label=_("日期"), widget=date_input())

    def __init__(
        self,
        *args: Any,
        communities: QuerySet[Community],
        projects: QuerySet[ServiceProject],
        organizations: QuerySet[Organization] | None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        _set_queryset(self, "community", communities.order_by("name"))
        _set_queryset(self, "project", projects.select_related("organization").order_by("title"))
        if organizations is None:  # a social organisation: the source is itself
            del self.fields["source_org"]
        else:
            _set_queryset(self, "source_org", organizations.filter(is_active=True).order_by("path"))
        if "occurred_on" not in self.initial:
            self.initial["occurred_on"] = timezone.localdate()

    def service_fields(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data.setdefault("source_org", None)
        return data


class ResourceFilterForm(forms.Form):
    community = CommunityField(label=_("社区"), queryset=Community.objects.none(), required=False)
    kind = forms.ChoiceField(
        label=_("资源类型"), choices=[("", _("全部")), *ResourceKind.choices], required=False
    )
    project = ProjectField(
        label=_("服务项目"), queryset=ServiceProject.objects.none(), required=False
    )
    date_from = forms.DateField(label=_("日期起"), required=False, widget=date_input())
    date_to = forms.DateField(label=_("日期止"), required=False, widget=date_input())

    def __init__(
        self,
        *args: Any,
        communities: QuerySet[Community],
        projects: QuerySet[ServiceProject],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        _set_queryset(self, "community", communities.order_by("name"))
        _set_queryset(self, "project", projects.select_related("organization").order_by("title"))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", _("日期止不能早于日期起。"))
        return data


class VolunteerHoursForm(forms.Form):
    community = CommunityField(
        label=_("社区"),
        queryset=Community.objects.none(),
        error_messages={"invalid_choice": _("您无权为该社区登记资源。")},
    )
    month = forms.DateField(
        label=_("月份"),
        input_formats=["%Y-%m", "%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"),
        error_messages={"invalid": _("请按“年-月”填写月份，例如 2026-05。")},
    )

    def __init__(self, *args: Any, communities: QuerySet[Community], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_queryset(self, "community", communities.order_by("name"))

    def clean_month(self) -> dt.date:
        month: dt.date = self.cleaned_data["month"]
        return month.replace(day=1)


class OverviewForm(forms.Form):
    year = forms.IntegerField(
        label=_("年度"),
        min_value=2000,
        max_value=2100,
        error_messages={"invalid": _("请输入年份。")},
    )


# ---- bookings ----------------------------------------------------------------------------------


class BookingForm(forms.Form):
    title = forms.CharField(label=_("活动名称"), max_length=200)
    purpose = forms.ChoiceField(label=_("用途"), choices=BookingPurpose.choices)
    starts_at = forms.DateTimeField(
        label=_("开始时间"),
        widget=datetime_input(),
    )
    ends_at = forms.DateTimeField(
        label=_("结束时间"),
        widget=datetime_input(),
    )
    attendees = forms.IntegerField(
        label=_("预计人数"),
        min_value=1,
        required=False,
        error_messages={"min_value": _("预计人数须大于 0。"), "invalid": _("请输入整数。")},
    )
    project = ProjectField(
        label=_("服务项目"),
        queryset=ServiceProject.objects.none(),
        required=False,
        error_messages={"invalid_choice": _("只能选择您可见的、执行中的服务项目。")},
    )

    def __init__(self, *args: Any, projects: QuerySet[ServiceProject], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_queryset(self, "project", projects.select_related("organization").order_by("title"))


class BookingCancelForm(forms.Form):
    reason = forms.CharField(
        label=_("取消原因"),
        max_length=200,
        error_messages={"required": _("请填写取消原因。")},
    )


class BookingFilterForm(forms.Form):
    venue = forms.ModelChoiceField(label=_("场地"), queryset=Venue.objects.none(), required=False)
    status = forms.ChoiceField(
        label=_("状态"),
        choices=[("", _("全部")), *BookingStatus.choices],
        required=False,
    )
    mine = forms.BooleanField(label=_("仅本单位的预约"), required=False)
    past = forms.BooleanField(label=_("包括已结束的"), required=False)

    def __init__(self, *args: Any, venues: QuerySet[Venue], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_queryset(self, "venue", venues.order_by("name"))
