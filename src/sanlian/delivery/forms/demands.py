"""Forms of residents' demands, shared by the pages and the API (which feeds them its JSON body
as form data). Choices of related rows come from querysets built for the user by the services
(`intake_communities`, `routing_targets`...), so an id outside the user's scope is an invalid
choice; rules across fields and states are the services'."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from sanlian.core.validators import MobileField
from sanlian.organizations.models import Community, Organization
from sanlian.resources.models import ServiceProject

from ..models import DemandCategory, DemandChannel, DemandStatus

TEXT_MAX = 2000
STAFF_CHANNELS = [
    (c.value, c.label)
    for c in (
        DemandChannel.PHONE,
        DemandChannel.WALK_IN,
        DemandChannel.HOTLINE,
        DemandChannel.PUBLIC_PAGE,
    )
]
SATISFACTION_CHOICES = [
    (5, _("5 分 · 非常满意")),
    (4, _("4 分 · 满意")),
    (3, _("3 分 · 一般")),
    (2, _("2 分 · 不满意")),
    (1, _("1 分 · 非常不满意")),
]


class CommunityField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.name)


def _set_queryset(form: forms.BaseForm, name: str, qs: QuerySet[Any]) -> None:
    field: Any = form.fields[name]
    field.queryset = qs


def _long_text(label: Any, *, required: bool = True, max_length: int = TEXT_MAX) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=max_length,
        required=required,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={
            "max_length": _("内容过长：最多 %(limit_value)d 字（当前 %(show_value)d 字）。"),
        },
    )


class _ResidentFields(forms.Form):
    community = CommunityField(
        label=_("所在社区"),
        queryset=Community.objects.none(),
        error_messages={
            "required": _("请选择所在社区。"),
            "invalid_choice": _("请选择列表中的社区。"),
        },
    )
    category = forms.ChoiceField(
        label=_("诉求类别"),
        choices=[("", "---------"), *DemandCategory.choices],
        error_messages={"required": _("请选择诉求类别。"), "invalid_choice": _("请选择诉求类别。")},
    )
    resident_name = forms.CharField(
        label=_("姓名"), max_length=50, error_messages={"required": _("请填写姓名。")}
    )
    resident_phone = MobileField(
        label=_("手机号"),
        max_length=20,
        error_messages={"required": _("请填写手机号，便于回访。")},
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )
    description = _long_text(_("诉求内容"))

    def __init__(self, *args: Any, communities: QuerySet[Community], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_queryset(self, "community", communities.order_by("name"))
        self.fields["description"].error_messages["required"] = _("请填写诉求内容。")


class PublicDemandForm(_ResidentFields):
    """The resident's own form on the public page."""


class DemandForm(_ResidentFields):
    """Staff intake: the resident's fields, the channel, and optionally a project."""

    channel = forms.ChoiceField(label=_("来源渠道"), choices=STAFF_CHANNELS)
    project = forms.ModelChoiceField(
        label=_("服务项目"),
        queryset=ServiceProject.objects.none(),
        required=False,
        help_text=_("诉求由某个服务项目承接时选择（可不选）"),
        error_messages={"invalid_choice": _("只能选择您可见的、执行中的服务项目。")},
    )
    field_order = [
        "community",
        "category",
        "channel",
        "resident_name",
        "resident_phone",
        "description",
        "project",
    ]

    def __init__(
        self,
        *args: Any,
        communities: QuerySet[Community],
        projects: QuerySet[ServiceProject],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, communities=communities, **kwargs)
        _set_queryset(self, "project", projects.order_by("title"))


class NoteForm(forms.Form):
    note = _long_text(_("说明"), required=False)


class ResolveForm(forms.Form):
    resolution = _long_text(_("办理结果"))
    public_reply = _long_text(_("答复居民（居民可在查询页看到）"), required=False, max_length=1000)
    resolved_in_community = forms.BooleanField(
        label=_("调解在社区"),
        required=False,
        help_text=_("纠纷在社区内调解化解时勾选（仅限纠纷类诉求）"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["resolution"].error_messages["required"] = _("请填写办理结果。")


class SatisfactionForm(forms.Form):
    satisfaction = forms.TypedChoiceField(
        label=_("满意度"),
        choices=SATISFACTION_CHOICES,
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("请选择满意度。"),
            "invalid_choice": _("满意度须为 1 至 5 分。"),
        },
    )
    comment = forms.CharField(
        label=_("意见建议"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"max_length": _("内容过长：最多 %(limit_value)d 字。")},
    )


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=_("不予受理原因"),
        max_length=300,
        error_messages={"required": _("请填写不予受理的原因。")},
    )
    public_reply = _long_text(_("答复居民"), required=False, max_length=1000)


class RerouteForm(forms.Form):
    organization = forms.ModelChoiceField(
        label=_("改派至"),
        queryset=Organization.objects.none(),
        error_messages={
            "required": _("请选择承办组织。"),
            "invalid_choice": _("只能改派至您辖区内在用的组织。"),
        },
    )
    reason = forms.CharField(
        label=_("改派原因"), max_length=300, error_messages={"required": _("请填写改派原因。")}
    )

    def __init__(self, *args: Any, organizations: QuerySet[Organization], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_queryset(self, "organization", organizations.order_by("path"))


class DemandFilterForm(forms.Form):
    q = forms.CharField(label=_("关键词"), max_length=50, required=False)
    status = forms.ChoiceField(
        label=_("状态"), choices=[("", _("全部")), *DemandStatus.choices], required=False
    )
    category = forms.ChoiceField(
        label=_("类别"), choices=[("", _("全部")), *DemandCategory.choices], required=False
    )
    community = CommunityField(label=_("社区"), queryset=Community.objects.none(), required=False)
    channel = forms.ChoiceField(
        label=_("来源渠道"), choices=[("", _("全部")), *DemandChannel.choices], required=False
    )
    overdue = forms.BooleanField(label=_("仅超期"), required=False)
    mediated = forms.BooleanField(label=_("仅调解在社区"), required=False)

    def __init__(self, *args: Any, communities: QuerySet[Community], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_queryset(self, "community", communities.order_by("name"))


class RoutingRuleForm(forms.Form):
    category = forms.ChoiceField(label=_("诉求类别"), choices=DemandCategory.choices)
    community = CommunityField(
        label=_("社区"),
        queryset=Community.objects.none(),
        required=False,
        help_text=_("只对一个社区适用时选择"),
        error_messages={"invalid_choice": _("只能为您辖区内的社区制定规则。")},
    )
    street = forms.ModelChoiceField(
        label=_("街道"),
        queryset=Organization.objects.none(),
        required=False,
        help_text=_("只对一个街道适用时选择；社区、街道都不选则适用于本级全辖区"),
        error_messages={"invalid_choice": _("只能为您辖区内的街道制定规则。")},
    )
    organization = forms.ModelChoiceField(
        label=_("承办组织"),
        queryset=Organization.objects.none(),
        error_messages={"invalid_choice": _("只能分派至您辖区内在用的组织。")},
    )
    note = forms.CharField(label=_("说明"), max_length=200, required=False)

    def __init__(
        self,
        *args: Any,
        communities: QuerySet[Community],
        streets: QuerySet[Organization],
        organizations: QuerySet[Organization],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        _set_queryset(self, "community", communities.order_by("name"))
        _set_queryset(self, "street", streets.order_by("path"))
        _set_queryset(self, "organization", organizations.order_by("path"))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("community") and data.get("street"):
            self.add_error("street", _("规则只能指定社区或街道之一。"))
        return data
