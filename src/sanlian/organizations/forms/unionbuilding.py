"""Forms for union building in social organisations and Trade Union Law training."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, cast

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from sanlian.core.editing import VersionedModelForm

from ..models import Organization, Person, TrainingSession, TrainingTopic, UnionBuilding
from .cobuilding import date_input

SCORE_ERRORS = {
    "min_value": _("测试成绩须在0至100之间。"),
    "max_value": _("测试成绩须在0至100之间。"),
    "max_decimal_places": _("测试成绩最多保留1位小数。"),
    "invalid": _("请输入数字成绩。"),
}


class _UnionBuildingFields(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = UnionBuilding
        fields = [
            "as_of",
            "union_founded",
            "founded_on",
            "union_name",
            "staff_count",
            "member_count",
        ]
        widgets = {"as_of": date_input(), "founded_on": date_input()}
        help_texts = {
            "member_count": _("已加入工会的职工人数（含加入社区联合工会的）。"),
            "as_of": _("每个组织每年一条记录，保留历年情况。"),
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        staff, members = data.get("staff_count"), data.get("member_count")
        if staff is not None and members is not None and members > staff:
            self.add_error("member_count", _("入会人数不能超过职工人数。"))
        founded, founded_on, as_of = (
            data.get("union_founded"),
            data.get("founded_on"),
            data.get("as_of"),
        )
        if founded and founded_on is None and "founded_on" not in self.errors:
            self.add_error("founded_on", _("已建立工会的，请填写建会日期。"))
        if founded and founded_on and as_of and founded_on > as_of:
            self.add_error("founded_on", _("建会日期不能晚于统计日期。"))
        if not founded:
            data["founded_on"] = None
        if as_of is not None and self.instance.organization_id:
            taken = UnionBuilding.objects.filter(
                organization_id=self.instance.organization_id, year=as_of.year
            ).exclude(pk=self.instance.pk)
            if taken.exists():
                self.add_error(
                    "as_of",
                    _("该组织%(year)s年已有记录，请编辑该记录。") % {"year": as_of.year},
                )
        return data


class UnionBuildingCreateForm(_UnionBuildingFields):
    pass


class UnionBuildingEditForm(_UnionBuildingFields, VersionedModelForm):
    class Meta(_UnionBuildingFields.Meta):
        pass


class _TrainingFields(forms.ModelForm):  # type: ignore[type-arg]
    title = forms.CharField(
        label=_("培训名称"),
        max_length=200,
        required=False,
        help_text=_("不填则使用培训主题。"),
    )

    class Meta:
        model = TrainingSession
        fields = ["topic", "title", "held_on", "place", "trainer", "organiser", "description"]
        widgets = {"held_on": date_input(), "description": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args: Any, organisers: QuerySet[Organization], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organiser"].queryset = organisers  # type: ignore[attr-defined]
        if not self.instance.pk and not self.is_bound and organisers:
            self.fields["organiser"].initial = organisers.first()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("title") and data.get("topic"):
            data["title"] = str(TrainingTopic(data["topic"]).label)
        return data


class TrainingCreateForm(_TrainingFields):
    pass


class TrainingEditForm(_TrainingFields, VersionedModelForm):
    class Meta(_TrainingFields.Meta):
        pass


class TraineeForm(forms.Form):
    """One line of the sign-in sheet: a staff member (person) or a typed name."""

    person = forms.ModelChoiceField(
        queryset=Person.objects.none(), required=False, widget=forms.HiddenInput
    )
    attendee_name = forms.CharField(label=_("姓名"), max_length=50, required=False)
    attended = forms.BooleanField(label=_("出席"), required=False)
    test_score = forms.DecimalField(
        label=_("测试成绩"),
        required=False,
        min_value=Decimal(0),
        max_value=Decimal(100),
        max_digits=4,
        decimal_places=1,
        error_messages=SCORE_ERRORS,
        widget=forms.NumberInput(attrs={"step": "0.5", "min": "0", "max": "100"}),
    )

    def __init__(self, *args: Any, staff: QuerySet[Person], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = staff  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("test_score") is not None and not data.get("attended"):
            self.add_error("test_score", _("未出席者不能登记测试成绩。"))
        named = data.get("person") is not None or data.get("attendee_name")
        if not named and (data.get("attended") or data.get("test_score") is not None):
            self.add_error("attendee_name", _("请填写姓名。"))
        return data

    def is_blank(self) -> bool:
        return self.cleaned_data.get("person") is None and not self.cleaned_data.get(
            "attendee_name"
        )


class BaseTraineeFormSet(forms.BaseFormSet):  # type: ignore[type-arg]
    def rows(self) -> list[dict[str, Any]]:
        return [f.cleaned_data for f in self.forms if f.is_valid() and not f.is_blank()]

    def clean(self) -> None:
        if any(self.errors):
            return
        seen: set[str] = set()
        for row in self.rows():
            person = row.get("person")
            key = f"p{person.pk}" if person is not None else f"n{row['attendee_name']}"
            if key in seen:
                name = person.name if person is not None else row["attendee_name"]
                raise forms.ValidationError(_("%(name)s 重复登记。") % {"name": name})
            seen.add(key)


TraineeFormSet = forms.formset_factory(TraineeForm, formset=BaseTraineeFormSet, extra=0)


def trainee_formset(
    data: Any,
    *,
    staff: QuerySet[Person],
    initial: list[dict[str, Any]] | None = None,
    extra_rows: int = 3,
) -> BaseTraineeFormSet:
    rows = None if data is not None else [*(initial or []), *({} for _ in range(extra_rows))]
    formset = TraineeFormSet(data, prefix="trainees", initial=rows, form_kwargs={"staff": staff})
    return cast(BaseTraineeFormSet, formset)


class TraineeOrganizationForm(forms.Form):
    organization = forms.ModelChoiceField(
        label=_("参训社会组织"), queryset=Organization.objects.none()
    )

    def __init__(self, *args: Any, organizations: QuerySet[Organization], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = organizations  # type: ignore[attr-defined]


class UnionBuildingFilterForm(forms.Form):
    q = forms.CharField(label=_("组织名称"), required=False)
    founded = forms.ChoiceField(
        label=_("建会情况"),
        required=False,
        choices=[("", _("全部")), ("yes", _("已建会")), ("no", _("未建会"))],
    )
