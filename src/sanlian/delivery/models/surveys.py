"""Needs surveys (需求调查): questionnaires for communities, answered anonymously on a phone.

Answers are stored so that every aggregate of the results page is one SQL GROUP BY: one
`Answer` row per (response, question, option) for choices, a numeric column for Likert and
number questions, text for the rest; the survey and the community are copied onto each answer
(they never change) so that the counts by community need no join. Responses and answers are
not audited row by row (hundreds a second, anonymous); the survey, its questions and the links
to project calls are."""

from __future__ import annotations

import datetime as dt
import secrets

from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sanlian.core.audit import AuditedModel
from sanlian.core.models import User
from sanlian.core.roles import Role
from sanlian.core.scoping import NOTHING, Scope, ScopedQuerySet
from sanlian.organizations.models import Community
from sanlian.resources.models import ProjectCall

__all__ = [
    "Answer",
    "CallNeedLink",
    "Question",
    "QuestionKind",
    "QuestionOption",
    "Survey",
    "SurveyResponse",
    "SurveyStatus",
]

# Staff of a social organisation see the surveys (once published) of the community it is in.
ORG_READER_ROLES = (Role.SOCIAL_ORG_MANAGER, Role.SOCIAL_WORKER)


def new_token() -> str:
    return secrets.token_urlsafe(18)


class SurveyStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    PUBLISHED = "published", _("已发布")
    CLOSED = "closed", _("已结束")


class QuestionKind(models.TextChoices):
    SINGLE = "single", _("单选题")
    MULTIPLE = "multiple", _("多选题")
    LIKERT = "likert", _("量表题（1–5）")
    NUMBER = "number", _("数字题")
    SHORT_TEXT = "short_text", _("简答题")
    LONG_TEXT = "long_text", _("问答题")


CHOICE_KINDS = (QuestionKind.SINGLE, QuestionKind.MULTIPLE)
NUMERIC_KINDS = (QuestionKind.LIKERT, QuestionKind.NUMBER)
TEXT_KINDS = (QuestionKind.SHORT_TEXT, QuestionKind.LONG_TEXT)


def _survey_scope(scope: Scope, prefix: str = "") -> Q:
    """Surveys covering a community of the user's area; for a social organisation's staff,
    the published or closed surveys covering the community the organisation is based in."""
    through = Survey.communities.through.objects
    if scope.area_path is not None:
        ids = through.filter(community__organization__path__startswith=scope.area_path)
        return Q(**{f"{prefix}pk__in": ids.values("survey_id")})
    if scope.org_id is None or scope.is_admin or not scope.has(*ORG_READER_ROLES):
        return NOTHING
    ids = through.filter(community__organization__children__id=scope.org_id)
    return Q(**{f"{prefix}pk__in": ids.values("survey_id")}) & ~Q(
        **{f"{prefix}status": SurveyStatus.DRAFT}
    )


class SurveyQuerySet(ScopedQuerySet):
    def scope_q(self, scope: Scope) -> Q:
        return _survey_scope(scope)


class Survey(AuditedModel):
    """问卷: for one or more communities, open between two moments once published."""

    title = models.CharField(_("问卷标题"), max_length=100)
    intro = models.TextField(_("说明"), max_length=2000, blank=True)
    communities = models.ManyToManyField(
        Community, verbose_name=_("调查社区"), related_name="surveys"
    )
    opens_at = models.DateTimeField(_("开始时间"))
    closes_at = models.DateTimeField(_("结束时间"))
    status = models.CharField(
        _("状态"), max_length=10, choices=SurveyStatus.choices, default=SurveyStatus.DRAFT
    )
    # The public link's secret: an unguessable part of the URL, never a sequential id.
    token = models.CharField(_("链接令牌"), max_length=40, unique=True, default=new_token)
    created_by = models.ForeignKey(
        User, verbose_name=_("创建人"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)

    objects = SurveyQuerySet.as_manager()

    class Meta:
        verbose_name = _("问卷")
        verbose_name_plural = _("问卷")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(closes_at__gt=F("opens_at")),
                name="survey_closes_after_opening",
                violation_error_message=_("结束时间须晚于开始时间。"),
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("delivery:survey_detail", args=[self.pk])

    def is_open(self, now: dt.datetime | None = None) -> bool:
        """Taking answers now: published, and within its period."""
        at = now or timezone.now()
        return self.status == SurveyStatus.PUBLISHED and self.opens_at <= at < self.closes_at


class QuestionQuerySet(ScopedQuerySet):
    def scope_q(self, scope: Scope) -> Q:
        return _survey_scope(scope, "survey__")


class Question(AuditedModel):
    """题目. `show_if_option`: shown only when that option (of an earlier question) is chosen.
    A need question (需求题) is a choice question whose options are needs to rank."""

    survey = models.ForeignKey(
        Survey, verbose_name=_("问卷"), on_delete=models.CASCADE, related_name="questions"
    )
    seq = models.PositiveSmallIntegerField(_("序号"))
    kind = models.CharField(_("题型"), max_length=12, choices=QuestionKind.choices)
    text = models.CharField(_("题目"), max_length=300)
    required = models.BooleanField(_("必答"), default=True)
    is_need_question = models.BooleanField(_("需求题"), default=False)
    show_if_option = models.ForeignKey(
        "QuestionOption",
        verbose_name=_("显示条件"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = QuestionQuerySet.as_manager()

    class Meta:
        verbose_name = _("题目")
        verbose_name_plural = _("题目")
        ordering = ["survey", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["survey", "seq"], name="question_seq_unique"),
            models.CheckConstraint(
                condition=Q(is_need_question=False) | Q(kind__in=CHOICE_KINDS),
                name="question_need_is_choice",
                violation_error_message=_("只有单选题和多选题可以作为需求题。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.seq}. {self.text}"

    @property
    def is_choice(self) -> bool:
        return self.kind in CHOICE_KINDS

    @property
    def is_numeric(self) -> bool:
        return self.kind in NUMERIC_KINDS

    @property
    def is_text(self) -> bool:
        return self.kind in TEXT_KINDS


class QuestionOptionQuerySet(ScopedQuerySet):
    def scope_q(self, scope: Scope) -> Q:
        return _survey_scope(scope, "question__survey__")


class QuestionOption(AuditedModel):
    """选项 of a choice question."""

    question = models.ForeignKey(
        Question, verbose_name=_("题目"), on_delete=models.CASCADE, related_name="options"
    )
    seq = models.PositiveSmallIntegerField(_("序号"))
    text = models.CharField(_("选项"), max_length=200)

    objects = QuestionOptionQuerySet.as_manager()

    class Meta:
        verbose_name = _("选项")
        verbose_name_plural = _("选项")
        ordering = ["question", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["question", "seq"], name="option_seq_unique"),
        ]

    def __str__(self) -> str:
        return self.text


class SurveyResponseQuerySet(ScopedQuerySet):
    def scope_q(self, scope: Scope) -> Q:
        return _survey_scope(scope, "survey__")


class SurveyResponse(models.Model):
    """答卷: one anonymous submission. No address and no device identifier is kept in
    clear: only keyed hashes, enough to recognise a repeat and nothing more."""

    # Indexes are paid on every answer of a survey flood: survey has none of its own (the
    # two below lead with it), nonce a plain unique constraint (no LIKE index).
    survey = models.ForeignKey(
        Survey,
        verbose_name=_("问卷"),
        on_delete=models.CASCADE,
        related_name="responses",
        db_index=False,
    )
    community = models.ForeignKey(
        Community, verbose_name=_("社区"), on_delete=models.PROTECT, related_name="+"
    )
    # The one-time number of the form page: a second submission of one page is the same.
    nonce = models.CharField(_("表单编号"), max_length=40)
    device_hash = models.CharField(_("设备标识摘要"), max_length=64)
    ip_hash = models.CharField(_("地址摘要"), max_length=64, blank=True)
    submitted_at = models.DateTimeField(_("提交时间"), default=timezone.now)

    objects = SurveyResponseQuerySet.as_manager()

    class Meta:
        verbose_name = _("答卷")
        verbose_name_plural = _("答卷")
        ordering = ["-submitted_at", "-pk"]
        indexes = [
            models.Index(fields=["survey", "community"], name="response_survey_community"),
            models.Index(fields=["survey", "device_hash"], name="response_survey_device"),
            # An address's answers of the last minute (services.surveys._guard).
            models.Index(fields=["ip_hash", "submitted_at"], name="response_address_recent"),
        ]
        constraints = [models.UniqueConstraint(fields=["nonce"], name="response_nonce_unique")]

    def __str__(self) -> str:
        return f"{self.survey_id}#{self.pk}"


class AnswerQuerySet(ScopedQuerySet):
    def scope_q(self, scope: Scope) -> Q:
        return _survey_scope(scope, "survey__")


class Answer(models.Model):
    """One answer: a chosen option (one row per option of a multiple choice), a number
    (Likert 1–5 or a number question) or a text."""

    response = models.ForeignKey(
        SurveyResponse, verbose_name=_("答卷"), on_delete=models.CASCADE, related_name="answers"
    )
    # Copies of the response's survey and community, for GROUP BYs without a join. Every
    # answer row updates each index: survey and question have none of their own (answer_counts
    # and answer_question_recent lead with them).
    survey = models.ForeignKey(
        Survey, verbose_name=_("问卷"), on_delete=models.CASCADE, related_name="+", db_index=False
    )
    community = models.ForeignKey(
        Community, verbose_name=_("社区"), on_delete=models.PROTECT, related_name="+"
    )
    question = models.ForeignKey(
        Question,
        verbose_name=_("题目"),
        on_delete=models.CASCADE,
        related_name="answers",
        db_index=False,
    )
    option = models.ForeignKey(
        QuestionOption,
        verbose_name=_("选项"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="answers",
    )
    number = models.DecimalField(_("数值"), max_digits=14, decimal_places=2, null=True, blank=True)
    text = models.TextField(_("文字回答"), blank=True)

    objects = AnswerQuerySet.as_manager()

    class Meta:
        verbose_name = _("回答")
        verbose_name_plural = _("回答")
        ordering = ["pk"]
        indexes = [
            # Every figure of a survey's results from index-only scans: option counts by
            # question and community, people per question (response), Likert and number
            # averages (number).
            models.Index(
                fields=["survey", "question", "option", "community"],
                include=["number", "response"],
                name="answer_counts",
            ),
            # Text answers of a question, newest first, a page at a time.
            models.Index(fields=["question", "-id"], name="answer_question_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.question_id}: {self.option_id or self.number or self.text[:20]}"


class CallNeedLinkQuerySet(ScopedQuerySet):
    def scope_q(self, scope: Scope) -> Q:
        return _survey_scope(scope, "option__question__survey__")


class CallNeedLink(AuditedModel):
    """A surveyed need (an option of a need question) that a project call (项目指南) answers."""

    call = models.ForeignKey(
        ProjectCall, verbose_name=_("项目指南"), on_delete=models.CASCADE, related_name="+"
    )
    option = models.ForeignKey(
        QuestionOption,
        verbose_name=_("需求"),
        on_delete=models.CASCADE,
        related_name="call_links",
    )
    linked_by = models.ForeignKey(
        User, verbose_name=_("关联人"), on_delete=models.PROTECT, related_name="+"
    )
    linked_at = models.DateTimeField(_("关联时间"), auto_now_add=True)

    objects = CallNeedLinkQuerySet.as_manager()

    class Meta:
        verbose_name = _("项目指南回应的需求")
        verbose_name_plural = _("项目指南回应的需求")
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["call", "option"], name="call_need_once"),
        ]

    def __str__(self) -> str:
        return f"{self.call} · {self.option}"
