"""Forms for people, households, memberships and merging, shared by pages, import and API."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from sanlian.core.editing import VersionedModelForm
from sanlian.core.scoping import scope_for
from sanlian.core.validators import MobileField, ResidentIdField, parse_resident_id

from ..models import (
    AREA_KINDS,
    Community,
    Membership,
    NewEmploymentKind,
    Organization,
    Person,
    Relation,
    Sex,
    VulnerabilityTag,
    sees_tags,
)
from ..services import Duplicates, person_create, person_find_duplicates


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


class PersonGroup:
    """The list's "who" filter."""

    CHOICES = [
        ("", _("全部")),
        ("worker", _("在职职工")),
        ("retired", _("退休人员")),
        ("new_employment", _("新就业形态劳动者")),
        ("member", _("工会会员")),
        ("non_member", _("非会员")),
    ]


class PersonFilterForm(forms.Form):
    q = forms.CharField(
        label=_("姓名/拼音/手机号/身份证号"),
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("如 张三、zs、zhangsan")}),
    )
    community = forms.TypedChoiceField(
        label=_("社区"), required=False, coerce=int, empty_value=None
    )
    group = forms.ChoiceField(label=_("人员类别"), required=False, choices=PersonGroup.CHOICES)
    tag = forms.ChoiceField(
        label=_("困难情况"),
        required=False,
        choices=[("", _("全部")), *VulnerabilityTag.choices],
    )

    def __init__(
        self,
        *args: Any,
        communities: list[tuple[int, str]],
        show_tags: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["community"].choices = [("", _("全部社区")), *communities]  # type: ignore[attr-defined]
        if not show_tags:
            del self.fields["tag"]


def scoped_communities(user: Any) -> QuerySet[Community]:
    return Community.objects.visible_to(user).order_by("organization__path")


def scoped_unions(user: Any) -> QuerySet[Organization]:
    return (
        Organization.objects.visible_to(user)
        .filter(kind__in=AREA_KINDS, is_active=True)
        .order_by("path")
    )


class PersonForm(VersionedModelForm):
    """Register or edit a resident. The ID number is checked (GB 11643), and sex and birth
    date are taken from it or checked against it. On registration, the same ID number is
    refused (`duplicate_of` names the record) and the same name with the same phone must be
    confirmed as someone else (`possible_duplicates`)."""

    id_number = ResidentIdField(
        label=_("身份证号"),
        required=False,
        max_length=30,
        help_text=_("填写后自动识别性别和出生日期"),
    )
    phone = MobileField(label=_("手机号"), required=False, max_length=20)
    sex = forms.ChoiceField(label=_("性别"), required=False, choices=[("", "—"), *Sex.choices])
    tags = forms.MultipleChoiceField(
        label=_("困难情况"),
        required=False,
        choices=VulnerabilityTag.choices,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "choice-inline"}),
    )
    confirm_not_duplicate = forms.BooleanField(
        label=_("确认不是同一人"), required=False, widget=forms.HiddenInput
    )

    # Form fields that are not columns of Person (the ID number is stored encrypted).
    EXTRA = ("id_number", "tags", "confirm_not_duplicate")

    class Meta:
        model = Person
        fields = [
            "name",
            "id_number",
            "sex",
            "birth_date",
            "phone",
            "community",
            "address",
            "workplace",
            "is_retired",
            "new_employment_kind",
        ]
        widgets = {"birth_date": DateInput()}

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.duplicate_of: Person | None = None
        self.possible_duplicates: list[Person] = []
        community = self.fields["community"]
        community.queryset = scoped_communities(user)  # type: ignore[attr-defined]
        only = list(community.queryset[:2])  # type: ignore[attr-defined]
        if not self.instance.pk and len(only) == 1:
            community.initial = only[0].pk  # a community cadre registers in their community
        if self.instance.pk:
            # A form never shows the full number: left empty, the number stays as it is.
            self.fields["id_number"].help_text = _("留空则不修改（当前：%(m)s）") % {
                "m": self.instance.id_number_masked or "—"
            }
            del self.fields["tags"]  # edited on the person page, row by row
        else:
            self.fields["expected_version"].required = False
            if not sees_tags(scope_for(user)):
                del self.fields["tags"]

    def model_field_names(self) -> list[str]:
        return [n for n in super().model_field_names() if n not in self.EXTRA]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        number = data.get("id_number") or ""
        on_record = self.instance.id_number() if self.instance.pk else ""
        if number or on_record:
            rid = parse_resident_id(number or on_record)
            # Against a number on record, only what this edit changes is checked: an old
            # inconsistent record must not block an unrelated edit (an address).
            check = set(self.fields) if number else set(self.changed_data)
            if "sex" in check and data.get("sex") and data["sex"] != rid.sex:
                self.add_error(
                    "sex",
                    _("性别与身份证号不符：身份证号显示为%(s)s") % {"s": Sex(rid.sex).label},
                )
            if (
                "birth_date" in check
                and data.get("birth_date")
                and data["birth_date"] != rid.birth_date
            ):
                self.add_error(
                    "birth_date",
                    _("出生日期与身份证号不符：身份证号显示为 %(d)s")
                    % {"d": f"{rid.birth_date:%Y-%m-%d}"},
                )
            data["sex"] = data.get("sex") or rid.sex
            data["birth_date"] = data.get("birth_date") or rid.birth_date
            self.instance.sex = data["sex"]
            self.instance.birth_date = data["birth_date"]
        elif not data.get("sex") and not self.instance.sex:
            self.add_error("sex", _("请选择性别或填写身份证号"))
        elif not data.get("sex"):
            data["sex"] = self.instance.sex
        if self.errors:
            return data
        self._check_duplicates(data)
        if number and not self.errors:
            self.instance.set_id_number(number)
        return data

    def _check_duplicates(self, data: dict[str, Any]) -> None:
        creating = not self.instance.pk
        name_or_phone_changed = creating or {"name", "phone"} & set(self.changed_data)
        found: Duplicates = person_find_duplicates(
            id_number=data.get("id_number") or "",
            name=data.get("name") or "",
            phone=data.get("phone") or "",
            exclude=self.instance,
        )
        # Records outside the user's area are reported without naming anyone.
        visible = set(
            Person.objects.visible_to(self.user)
            .filter(pk__in=[p.pk for p in [found.same_id, *found.same_name_phone] if p])
            .values_list("pk", flat=True)
        )
        if found.same_id is not None:
            if found.same_id.pk in visible:
                self.duplicate_of = found.same_id
                error = ValidationError(
                    _("该身份证号已登记（%(c)s 的 %(n)s），不能重复录入"),
                    code="duplicate_id",
                    params={"c": found.same_id.community.name, "n": found.same_id.name},
                )
            else:
                error = ValidationError(
                    _("该身份证号已在其他辖区登记，不能重复录入；如需迁入请联系上级工会"),
                    code="duplicate_id",
                )
            self.add_error("id_number", error)
            return
        if (
            found.same_name_phone
            and name_or_phone_changed
            and not data.get("confirm_not_duplicate")
        ):
            self.possible_duplicates = [p for p in found.same_name_phone if p.pk in visible]
            who = "、".join(f"{p.community.name} {p.name}" for p in self.possible_duplicates)
            self.fields["confirm_not_duplicate"].widget = forms.CheckboxInput()
            self.add_error(
                "confirm_not_duplicate",
                ValidationError(
                    _("已有同名且手机号相同的居民（%(who)s）。如确认不是同一人，请勾选后再保存"),
                    code="possible_duplicate",
                    params={"who": who or _("在其他辖区")},
                ),
            )

    def create(self) -> Person:
        """Register the person (after is_valid())."""
        data = self.cleaned_data
        return person_create(
            name=data["name"],
            community=data["community"],
            id_number=data.get("id_number") or "",
            phone=data.get("phone") or "",
            sex=data.get("sex") or "",
            birth_date=data.get("birth_date"),
            address=data.get("address") or "",
            workplace=data.get("workplace") or "",
            is_retired=bool(data.get("is_retired")),
            new_employment_kind=data.get("new_employment_kind") or "",
            tags=data.get("tags") or [],
            confirmed_not_duplicate=bool(data.get("confirm_not_duplicate")),
        )


def person_form_for(user: Any) -> type[PersonForm]:
    """PersonForm bound to a user, for callers that construct the form themselves."""

    class UserPersonForm(PersonForm):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, user=user, **kwargs)

    return UserPersonForm


class PersonTagsForm(forms.Form):
    tags = forms.MultipleChoiceField(
        label=_("困难情况"),
        required=False,
        choices=VulnerabilityTag.choices,
        widget=forms.CheckboxSelectMultiple,
    )


# ---- households ----------------------------------------------------------------------------


class HouseholdCreateForm(forms.Form):
    address = forms.CharField(label=_("住址"), max_length=200, required=False)


class HouseholdMemberForm(forms.Form):
    """Add a member: found by name, pinyin, phone or ID number in the household's community."""

    who = forms.CharField(
        label=_("成员"),
        max_length=50,
        help_text=_("输入姓名、手机号或身份证号（须已登记在本社区）"),
    )
    relation = forms.ChoiceField(
        label=_("与户主关系"), choices=[c for c in Relation.choices if c[0] != Relation.SELF]
    )

    def __init__(self, *args: Any, candidates: QuerySet[Person], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.candidates = candidates
        self.person: Person | None = None

    def clean_who(self) -> str:
        from ..queries import person_matches

        who = self.cleaned_data["who"]
        found = list(person_matches(self.candidates, who).order_by("pk")[:6])
        if not found:
            raise ValidationError(_("本社区没有找到“%(q)s”") % {"q": who})
        if len(found) > 1:
            names = "、".join(f"{p.name}（{p.phone or p.id_number_masked}）" for p in found[:5])
            raise ValidationError(
                _("找到多人：%(names)s。请改用手机号或身份证号") % {"names": names}
            )
        self.person = found[0]
        return who


# ---- memberships ---------------------------------------------------------------------------


def _not_future(value: dt.date | None) -> dt.date | None:
    if value is not None and value > dt.date.today():
        raise ValidationError(_("日期不能晚于今天"))
    return value


class UnionChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.name)


class MembershipJoinForm(forms.Form):
    union = UnionChoiceField(label=_("所属工会"), queryset=Organization.objects.none())
    card_number = forms.CharField(label=_("会员证号"), max_length=30)
    joined_on = forms.DateField(label=_("入会时间"), widget=DateInput())
    workplace = forms.CharField(label=_("工作单位"), max_length=100, required=False)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["union"].queryset = scoped_unions(user)  # type: ignore[attr-defined]

    def clean_joined_on(self) -> dt.date | None:
        return _not_future(self.cleaned_data.get("joined_on"))


class MembershipTransferForm(forms.Form):
    to_union = UnionChoiceField(label=_("转入工会"), queryset=Organization.objects.none())
    on = forms.DateField(label=_("转会日期"), widget=DateInput())
    card_number = forms.CharField(
        label=_("会员证号"), max_length=30, required=False, help_text=_("留空则沿用原会员证号")
    )
    workplace = forms.CharField(
        label=_("新工作单位"), max_length=100, required=False, help_text=_("留空则不变")
    )
    reason = forms.CharField(label=_("转会原因"), max_length=200, required=False)

    def __init__(self, *args: Any, user: Any, membership: Membership, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        unions = scoped_unions(user).exclude(pk=membership.union_id)
        self.fields["to_union"].queryset = unions  # type: ignore[attr-defined]

    def clean_on(self) -> dt.date | None:
        return _not_future(self.cleaned_data.get("on"))


class MembershipWithdrawForm(forms.Form):
    on = forms.DateField(label=_("退会日期"), widget=DateInput())
    reason = forms.CharField(label=_("退会原因"), max_length=200)

    def clean_on(self) -> dt.date | None:
        return _not_future(self.cleaned_data.get("on"))


class MembershipReinstateForm(forms.Form):
    on = forms.DateField(label=_("恢复日期"), widget=DateInput())
    union = UnionChoiceField(
        label=_("所属工会"),
        queryset=Organization.objects.none(),
        required=False,
        help_text=_("留空则回到原工会"),
    )
    card_number = forms.CharField(
        label=_("会员证号"), max_length=30, required=False, help_text=_("留空则沿用原会员证号")
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["union"].queryset = scoped_unions(user)  # type: ignore[attr-defined]

    def clean_on(self) -> dt.date | None:
        return _not_future(self.cleaned_data.get("on"))


class MembershipLifeForm(forms.Form):
    dues_on = forms.DateField(label=_("缴纳会费日期"), required=False, widget=DateInput())
    activity_on = forms.DateField(label=_("参加组织生活日期"), required=False, widget=DateInput())

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("dues_on") and not data.get("activity_on") and not self.errors:
            raise ValidationError(_("请填写缴费日期或组织生活日期"))
        return data


class LapsedFilterForm(forms.Form):
    community = forms.TypedChoiceField(
        label=_("社区"), required=False, coerce=int, empty_value=None
    )

    def __init__(self, *args: Any, communities: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["community"].choices = [("", _("全部社区")), *communities]  # type: ignore[attr-defined]


# ---- merging -------------------------------------------------------------------------------


class MergeForm(forms.Form):
    keep = forms.IntegerField(widget=forms.HiddenInput)
    merge = forms.IntegerField(widget=forms.HiddenInput)


__all__ = [
    "HouseholdCreateForm",
    "HouseholdMemberForm",
    "LapsedFilterForm",
    "MembershipJoinForm",
    "MembershipLifeForm",
    "MembershipReinstateForm",
    "MembershipTransferForm",
    "MembershipWithdrawForm",
    "MergeForm",
    "NewEmploymentKind",
    "PersonFilterForm",
    "PersonForm",
    "PersonTagsForm",
    "person_form_for",
]
