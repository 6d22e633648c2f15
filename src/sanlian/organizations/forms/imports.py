"""Forms of the Excel import: the upload, and one form per kind that validates a row.

The row forms are plain forms built from the models' own fields and the shared identifier
fields of core.validators, so a row is held to the rules of the pages and the API. Names of
communities, unions and organisations are resolved through the run's lookups (`context`),
which only know what the importing user may see.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Protocol

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sanlian.core.importing import ImportFileError, check_size, sniff_format
from sanlian.core.validators import CreditCodeField, MobileField, ResidentIdField

from ..models import (
    VOLUNTEER_SKILLS,
    WEEKDAYS,
    Community,
    MembershipStatus,
    NewEmploymentKind,
    Organization,
    OrgKind,
    PartOfDay,
    Person,
    Qualification,
    Sex,
    Volunteer,
)

_FULLWIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}


class ImportUploadForm(forms.Form):
    kind = forms.ChoiceField(label=_("导入内容"))
    file = forms.FileField(
        label=_("Excel 文件"),
        help_text=_("支持 .xlsx、.xls、.ods（Excel、WPS、LibreOffice 均可）"),
        widget=forms.ClearableFileInput(
            attrs={"accept": ".xlsx,.xls,.xlsb,.ods,application/vnd.ms-excel"}
        ),
    )

    def __init__(self, *args: Any, kinds: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = kinds  # type: ignore[attr-defined]

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        try:
            check_size(upload.size or 0)
            self.cleaned_data["format"] = sniff_format(upload.file)
        except ImportFileError as exc:
            raise ValidationError(str(exc), code="file") from None
        return upload


# ---- lookups ---------------------------------------------------------------------------------


class Lookups(Protocol):
    """What a row form may ask of the run (organizations.importers.Lookups)."""

    def community(self, name: str) -> Community: ...
    def union(self, name: str) -> Organization: ...
    def organization(self, text: str) -> Organization: ...
    def social_org(self, text: str) -> Organization: ...
    def team(self, name: str) -> Organization: ...
    def person(self, id_number: str) -> Person: ...


class RowForm(forms.Form):
    def __init__(self, *args: Any, context: Lookups, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.context = context

    def resolve(self, field: str, find: Any) -> Any:
        value = self.cleaned_data.get(field)
        if not value:
            return None
        try:
            return find(value)
        except ValidationError as exc:
            raise ValidationError(exc.messages, code="lookup") from None


def _model_field(model: Any, name: str, **overrides: Any) -> forms.Field:
    field = model._meta.get_field(name).formfield(**overrides)
    assert field is not None
    return field


_TWO_DAYS = dt.timedelta(days=2)


def _not_future(value: dt.date | None, message: Any) -> None:
    # Two zones' dates differ by two days at most: a date before that needs no zone lookup
    # (which, row after row, cost more than the rest of the date's checks).
    if value and value >= dt.date.today() - _TWO_DAYS and value > timezone.localdate():
        raise ValidationError(message)


# ---- people and memberships --------------------------------------------------------------------

NO_NEW_EMPLOYMENT = "none"


class PersonImportForm(RowForm):
    name = _model_field(Person, "name")
    sex = forms.ChoiceField(label=_("性别"), choices=Sex.choices, required=False)
    id_number = ResidentIdField(label=_("身份证号"))
    phone = MobileField(label=_("手机号"), required=False)
    community = forms.CharField(label=_("社区"))
    address = _model_field(Person, "address", required=False)
    workplace = _model_field(Person, "workplace", required=False)
    is_retired = forms.NullBooleanField(label=_("是否退休"), required=False)
    new_employment_kind = forms.ChoiceField(
        label=_("新就业形态"),
        choices=[*NewEmploymentKind.choices, (NO_NEW_EMPLOYMENT, _("否"))],
        required=False,
    )
    card_number = forms.CharField(label=_("会员证号"), max_length=30, required=False)
    union = forms.CharField(label=_("所属工会"), required=False)
    joined_on = forms.DateField(label=_("入会时间"), required=False)
    status = forms.ChoiceField(
        label=_("会员状态"), choices=MembershipStatus.choices, required=False
    )
    ended_on = forms.DateField(label=_("终止日期"), required=False)

    def clean_community(self) -> Community | None:
        return self.resolve("community", self.context.community)

    def clean_union(self) -> Organization | None:
        return self.resolve("union", self.context.union)

    def clean_joined_on(self) -> dt.date | None:
        value = self.cleaned_data.get("joined_on")
        _not_future(value, _("入会时间不能晚于今天"))
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        number = data.get("id_number")
        if number:
            # GB 11643: the 17th digit is odd for men; digits 7-14 are the birth date.
            derived_sex = Sex.MALE if int(number[16]) % 2 else Sex.FEMALE
            if data.get("sex") and data["sex"] != derived_sex:
                self.add_error(
                    "sex",
                    _("性别与身份证号不符：身份证号显示为%(s)s") % {"s": Sex(derived_sex).label},
                )
            data["sex"] = derived_sex
            data["birth_date"] = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
        self._clean_membership(data)
        return data

    def _clean_membership(self, data: dict[str, Any]) -> None:
        if not data.get("card_number"):
            given = [f for f in ("union", "joined_on", "status", "ended_on") if data.get(f)]
            if given:
                self.add_error("card_number", _("填写了入会信息，请同时填写会员证号"))
            return
        if not data.get("joined_on") and "joined_on" not in self.errors:
            self.add_error("joined_on", _("填写会员证号时请填写入会时间"))
        status = data.get("status") or MembershipStatus.ACTIVE
        data["status"] = status
        ended = data.get("ended_on")
        if status != MembershipStatus.ACTIVE and not ended:
            self.add_error(
                "ended_on",
                _("会员状态为“%(status)s”时请填写终止日期")
                % {"status": MembershipStatus(status).label},
            )
        if status == MembershipStatus.ACTIVE and ended:
            self.add_error("ended_on", _("会员状态为“正常”时不应填写终止日期"))
        joined = data.get("joined_on")
        if ended and joined and ended < joined:
            self.add_error("ended_on", _("终止日期不能早于入会时间"))
        if data.get("union") is None and data.get("community") is not None:
            data["union"] = data["community"].organization


# ---- organisations -----------------------------------------------------------------------------

# Kinds an import may create: the union hierarchy comes with its communities, not from a sheet.
IMPORTABLE_ORG_KINDS = (
    OrgKind.PARTY_ORG,
    OrgKind.RESIDENTS_COMMITTEE,
    OrgKind.SOCIAL_ORG,
    OrgKind.ENTERPRISE,
    OrgKind.VOLUNTEER_TEAM,
    OrgKind.EVALUATOR,
)


class OrganizationImportForm(RowForm):
    name = _model_field(Organization, "name")
    kind = forms.ChoiceField(
        label=_("类型"), choices=[(k.value, k.label) for k in IMPORTABLE_ORG_KINDS]
    )
    parent = forms.CharField(label=_("上级组织"))
    credit_code = CreditCodeField(label=_("统一社会信用代码"), required=False)
    legal_representative = _model_field(Organization, "legal_representative", required=False)
    contact_name = _model_field(Organization, "contact_name", required=False)
    contact_phone = MobileField(label=_("联系电话"), required=False)
    address = _model_field(Organization, "address", required=False)

    def clean_parent(self) -> Organization | None:
        return self.resolve("parent", self.context.organization)

    def clean(self) -> dict[str, Any]:
        from ..services.tree import check_parent

        data = super().clean() or {}
        kind, parent = data.get("kind"), data.get("parent")
        if (
            kind == OrgKind.SOCIAL_ORG
            and not data.get("credit_code")
            and "credit_code" not in self.errors
        ):
            self.add_error("credit_code", _("社会组织必须填写统一社会信用代码"))
        if kind and parent is not None:
            try:
                check_parent(kind, parent)
            except ValidationError as exc:
                for message in exc.messages:
                    self.add_error("parent", message)
        data["credit_code"] = data.get("credit_code") or None
        return data


# ---- social workers ----------------------------------------------------------------------------


def normalized_certificate(value: Any) -> str:
    """Free text, but full-width letters and stray spaces must not hide a duplicate."""
    return " ".join(str(value or "").translate(_FULLWIDTH).split()).upper()


class _PersonRowForm(RowForm):
    id_number = ResidentIdField(label=_("身份证号"))
    name = forms.CharField(label=_("姓名"), required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        number = data.get("id_number")
        if not number:
            return data
        try:
            person = self.context.person(number)
        except ValidationError as exc:
            self.add_error("id_number", exc.messages[0])
            return data
        if data.get("name") and data["name"] != person.name:
            self.add_error(
                "name", _("姓名与登记信息不符（该身份证号登记为 %(name)s）") % {"name": person.name}
            )
        data["person"] = person
        return data


class SocialWorkerImportForm(_PersonRowForm):
    organization = forms.CharField(label=_("所在机构"))
    qualification = forms.ChoiceField(
        label=_("职业资格"), choices=Qualification.choices, required=False
    )
    certificate_number = forms.CharField(label=_("证书编号"), max_length=40, required=False)
    certificate_date = forms.DateField(label=_("取得时间"), required=False)
    is_supervisor = forms.NullBooleanField(label=_("督导"), required=False)
    joined_on = forms.DateField(label=_("入职日期"), required=False)

    def clean_organization(self) -> Organization | None:
        return self.resolve("organization", self.context.social_org)

    def clean_certificate_number(self) -> str:
        return normalized_certificate(self.cleaned_data.get("certificate_number"))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        # The rules of the social worker form (forms.workforce), with its messages.
        if data.get("certificate_number") and not data.get("qualification"):
            self.add_error("qualification", _("填写证书编号时请选择职业资格"))
        if data.get("qualification") and not data.get("certificate_number"):
            self.add_error("certificate_number", _("有职业资格的社工请填写证书编号"))
        for name, message in (
            ("certificate_date", _("取得时间不能晚于今天")),
            ("joined_on", _("入职日期不能晚于今天")),
        ):
            try:
                _not_future(data.get(name), message)
            except ValidationError as exc:
                self.add_error(name, exc)
        return data


# ---- volunteers --------------------------------------------------------------------------------

_SEPARATORS = re.compile(r"[、，,；;/／\s]+")
_DAY_WORDS: dict[str, tuple[int, ...]] = {
    **{str(label): (i,) for i, label in enumerate(WEEKDAYS)},
    **{f"星期{c}": (i,) for i, c in enumerate("一二三四五六日")},
    "星期天": (6,),
    "周天": (6,),
    "工作日": (0, 1, 2, 3, 4),
    "周一至周五": (0, 1, 2, 3, 4),
    "周末": (5, 6),
    "双休日": (5, 6),
    "每天": tuple(range(7)),
    "每日": tuple(range(7)),
}
_PART_WORDS: dict[str, tuple[str, ...]] = {
    "上午": (PartOfDay.AM,),
    "下午": (PartOfDay.PM,),
    "晚上": (PartOfDay.EVENING,),
    "晚间": (PartOfDay.EVENING,),
    "白天": (PartOfDay.AM, PartOfDay.PM),
    "全天": (PartOfDay.AM, PartOfDay.PM, PartOfDay.EVENING),
    "": (PartOfDay.AM, PartOfDay.PM, PartOfDay.EVENING),
}
_SLOT = re.compile(
    "^(" + "|".join(sorted(map(re.escape, _DAY_WORDS), key=len, reverse=True)) + ")"
    "("
    + "|".join(sorted(map(re.escape, (p for p in _PART_WORDS if p)), key=len, reverse=True))
    + ")?$"
)


def parse_availability(text: str) -> list[str]:
    """ "周六上午、周日下午、工作日晚上" -> ["5:am", "6:pm", "0:evening", …] (weekday 0 = Monday);
    raises ValidationError naming the part it cannot read."""
    slots: list[str] = []
    for item in _SEPARATORS.split(text.strip()):
        if not item:
            continue
        match = _SLOT.match(item)
        if match is None:
            raise ValidationError(
                _("无法识别的可服务时间“%(item)s”，示例：周六上午、周日下午、工作日晚上")
                % {"item": item}
            )
        for day in _DAY_WORDS[match[1]]:
            for part in _PART_WORDS[match[2] or ""]:
                slot = f"{day}:{part}"
                if slot not in slots:
                    slots.append(slot)
    return slots


def availability_text(slots: list[str]) -> str:
    """The readable form of `Volunteer.availability`, as the import accepts it."""
    labels = dict(PartOfDay.choices)
    out = []
    for slot in slots:
        day, _sep, part = str(slot).partition(":")
        if day.isdigit() and 0 <= int(day) <= 6 and part in labels:
            out.append(f"{WEEKDAYS[int(day)]}{labels[part]}")
    return "、".join(out)


def split_skills(text: str) -> tuple[str, str]:
    """(skills from the fixed list joined with "、", the other skills joined with "、")."""
    items = [s for s in _SEPARATORS.split(text.strip()) if s]
    listed = [s for s in items if s in VOLUNTEER_SKILLS]
    other = [s for s in items if s not in VOLUNTEER_SKILLS]
    return "、".join(dict.fromkeys(listed)), "、".join(dict.fromkeys(other))


class VolunteerImportForm(_PersonRowForm):
    team = forms.CharField(label=_("志愿服务队"))
    skills = forms.CharField(label=_("技能"), required=False)
    availability = forms.CharField(label=_("可服务时间"), required=False)

    def clean_team(self) -> Organization | None:
        return self.resolve("team", self.context.team)

    def clean_skills(self) -> tuple[str, str] | None:
        text = self.cleaned_data.get("skills") or ""
        if not text:
            return None
        listed, other = split_skills(text)
        limit = Volunteer._meta.get_field("skills_other").max_length or 100
        if len(other) > limit:
            raise ValidationError(
                _("其他技能过长（最多 %(limit)d 个字）：%(other)s")
                % {"limit": limit, "other": other}
            )
        return listed, other

    def clean_availability(self) -> list[str] | None:
        text = self.cleaned_data.get("availability") or ""
        return parse_availability(text) if text else None
