"""Forms of the needs surveys (需求调查), shared by the pages and the API: the survey, a
question, the link of a need to a project call, and the residents' answer form."""

from __future__ import annotations

import functools
from decimal import Decimal
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from sanlian.organizations.models import Community
from sanlian.resources.models import ProjectCall

from ..models.surveys import (
    CHOICE_KINDS,
    QuestionKind,
    QuestionOption,
    Survey,
)
from ..services.surveys import (
    LIKERT_SCALE,
    LONG_TEXT_MAX,
    SHORT_TEXT_MAX,
    QuestionShape,
    SurveyShape,
)

DATETIME_INPUT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
LIKERT_LABELS = {
    1: gettext_lazy("非常不同意"),
    2: gettext_lazy("不同意"),
    3: gettext_lazy("一般"),
    4: gettext_lazy("同意"),
    5: gettext_lazy("非常同意"),
}


class SurveyForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("问卷标题"), max_length=100)
    intro = forms.CharField(
        label=gettext_lazy("说明"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    communities = forms.ModelMultipleChoiceField(
        label=gettext_lazy("调查社区"),
        queryset=Community.objects.none(),
        widget=forms.SelectMultiple(attrs={"size": 6}),
        error_messages={"invalid_choice": gettext_lazy("所选社区不在您的管理范围内。")},
    )
    opens_at = forms.DateTimeField(label=gettext_lazy("开始时间"), widget=DATETIME_INPUT)
    closes_at = forms.DateTimeField(label=gettext_lazy("结束时间"), widget=DATETIME_INPUT)

    def __init__(self, *args: Any, communities: QuerySet[Community], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["communities"].queryset = communities  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        opens, closes = data.get("opens_at"), data.get("closes_at")
        if opens and closes and closes <= opens:
            self.add_error("closes_at", _("结束时间须晚于开始时间。"))
        return data

    @classmethod
    def initial_of(cls, survey: Survey) -> dict[str, Any]:
        return {
            "title": survey.title,
            "intro": survey.intro,
            "communities": list(survey.communities.all()),
            "opens_at": survey.opens_at,
            "closes_at": survey.closes_at,
        }


class QuestionForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("题型"), choices=QuestionKind.choices)
    text = forms.CharField(label=gettext_lazy("题目"), max_length=300)
    options = forms.CharField(
        label=gettext_lazy("选项"),
        required=False,
        max_length=6000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("选择题填写，每行一个选项。"),
    )
    required = forms.BooleanField(label=gettext_lazy("必答"), required=False, initial=True)
    is_need_question = forms.BooleanField(
        label=gettext_lazy("需求题"),
        required=False,
        help_text=gettext_lazy("选项即需求，结果页按选择比例排出各社区的需求。"),
    )
    show_if_option = forms.ModelChoiceField(
        label=gettext_lazy("仅当以下选项被选中时显示"),
        queryset=QuestionOption.objects.none(),
        required=False,
        error_messages={"invalid_choice": gettext_lazy("显示条件须为本问卷前面题目的选项。")},
    )

    def __init__(self, *args: Any, conditions: QuerySet[QuestionOption], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["show_if_option"]
        field.queryset = conditions  # type: ignore[attr-defined]
        field.label_from_instance = lambda o: f"{o.question.seq}. {o.question.text} = {o.text}"  # type: ignore[attr-defined]

    def clean_options(self) -> list[str]:
        raw: str = self.cleaned_data.get("options") or ""
        return [line.strip()[:200] for line in raw.splitlines() if line.strip()]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind = data.get("kind")
        if kind in CHOICE_KINDS and len(data.get("options") or []) < 2:
            self.add_error("options", _("选择题至少需要两个选项。"))
        if data.get("is_need_question") and kind not in CHOICE_KINDS:
            self.add_error("is_need_question", _("只有单选题和多选题可以作为需求题。"))
        return data


class CallNeedLinkForm(forms.Form):
    option = forms.ModelChoiceField(
        label=gettext_lazy("需求"),
        queryset=QuestionOption.objects.none(),
        empty_label=gettext_lazy("选择需求"),
        error_messages={"invalid_choice": gettext_lazy("所选需求不存在。")},
    )
    call = forms.ModelChoiceField(
        label=gettext_lazy("项目指南"),
        queryset=ProjectCall.objects.none(),
        empty_label=gettext_lazy("选择项目指南"),
        error_messages={"invalid_choice": gettext_lazy("所选项目指南不在您的查看范围内。")},
    )

    def __init__(
        self,
        *args: Any,
        options: QuerySet[QuestionOption],
        calls: QuerySet[ProjectCall],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["option"].queryset = options  # type: ignore[attr-defined]
        self.fields["option"].label_from_instance = lambda o: f"{o.question.text}：{o.text}"  # type: ignore[attr-defined]
        self.fields["call"].queryset = calls  # type: ignore[attr-defined]


# ---- the residents' form -----------------------------------------------------------------------


def _choice_messages() -> dict[str, Any]:
    return {"invalid_choice": gettext_lazy("所选选项不存在，请重新选择。")}


def _field(q: QuestionShape) -> forms.Field:
    """One question as a form field; `required` is checked in `clean` (show-if logic)."""
    common: dict[str, Any] = {"label": q.text, "required": False}
    if q.kind == QuestionKind.SINGLE:
        return forms.TypedChoiceField(
            choices=[(o.id, o.text) for o in q.options],
            coerce=int,
            widget=forms.RadioSelect,
            error_messages=_choice_messages(),
            **common,
        )
    if q.kind == QuestionKind.MULTIPLE:
        return forms.TypedMultipleChoiceField(
            choices=[(o.id, o.text) for o in q.options],
            coerce=int,
            widget=forms.CheckboxSelectMultiple,
            error_messages=_choice_messages(),
            **common,
        )
    if q.kind == QuestionKind.LIKERT:
        return forms.TypedChoiceField(
            choices=[(v, f"{v} {LIKERT_LABELS[v]}") for v in LIKERT_SCALE],
            coerce=int,
            widget=forms.RadioSelect,
            error_messages=_choice_messages(),
            **common,
        )
    if q.kind == QuestionKind.NUMBER:
        return forms.DecimalField(
            max_digits=12,
            decimal_places=2,
            min_value=Decimal("-999999999"),
            widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "any"}),
            error_messages={"invalid": gettext_lazy("请填写数字。")},
            **common,
        )
    limit = SHORT_TEXT_MAX if q.kind == QuestionKind.SHORT_TEXT else LONG_TEXT_MAX
    widget = (
        forms.TextInput()
        if q.kind == QuestionKind.SHORT_TEXT
        else forms.Textarea(attrs={"rows": 4})
    )
    widget.attrs["maxlength"] = str(limit)
    return forms.CharField(
        max_length=limit,
        widget=widget,
        error_messages={
            "max_length": gettext_lazy(
                "回答过长：最多 %(limit_value)d 字（当前 %(show_value)d 字）。"
            )
        },
        **common,
    )


def _empty(value: Any) -> bool:
    return value in (None, "", [], ())


@functools.lru_cache(maxsize=256)
def _shape_fields(shape: SurveyShape, language: str) -> dict[str, forms.Field]:
    """The fields of a survey's questions, built once per shape and language and shared by
    every AnswerForm of that shape (building them was a third of a submission's cost). They
    must not be changed once built."""
    fields: dict[str, forms.Field] = {}
    if len(shape.communities) > 1:
        fields["community"] = forms.TypedChoiceField(
            label=gettext_lazy("您所在的社区"),
            choices=[("", gettext_lazy("请选择")), *shape.communities],
            coerce=int,
            error_messages={
                "required": gettext_lazy("请选择您所在的社区。"),
                "invalid_choice": gettext_lazy("请选择您所在的社区。"),
            },
        )
    for q in shape.questions:
        fields[q.name] = _field(q)
    return fields


class AnswerForm(forms.Form):
    """The residents' answers to one survey. A question whose show-if condition is not met
    is hidden: its answer is ignored, and it is not required."""

    nonce = forms.CharField(widget=forms.HiddenInput, max_length=200)

    def __init__(self, *args: Any, shape: SurveyShape, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.shape = shape
        # Shared, not copied as Django copies declared fields: copying costs as much as the
        # rest of a submission, and nothing changes these fields after they are built.
        self.fields.update(_shape_fields(shape, get_language() or ""))

    def question_fields(self) -> list[tuple[QuestionShape, forms.BoundField]]:
        return [(q, self[q.name]) for q in self.shape.questions]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        shown: set[int] = set()
        chosen: dict[int, set[Any]] = {}
        for q in self.shape.questions:
            value = data.get(q.name)
            visible = q.show_if_option_id is None or (
                q.show_if_question_id in shown
                and q.show_if_option_id in chosen.get(q.show_if_question_id or 0, set())
            )
            if not visible:
                data[q.name] = None
                continue
            shown.add(q.id)
            if q.kind in CHOICE_KINDS and not _empty(value):
                chosen[q.id] = set(value) if isinstance(value, list) else {value}
            if q.required and _empty(value) and q.name not in self.errors:
                self.add_error(q.name, _("此题为必答题。"))
        return data

    def community_id(self) -> int:
        if "community" in self.fields:
            return int(self.cleaned_data["community"])
        return self.shape.communities[0][0]

    def answers(self) -> list[tuple[QuestionShape, Any]]:
        """The answered, visible questions with their values (after is_valid())."""
        out = []
        for q in self.shape.questions:
            value = self.cleaned_data.get(q.name)
            if isinstance(value, str):
                value = value.strip()
            if not _empty(value):
                out.append((q, value))
        return out
