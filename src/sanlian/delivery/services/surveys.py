"""Writes and reads of the needs surveys (需求调查): building a questionnaire, publishing and
closing it, storing residents' anonymous answers, the results and the ranked needs, and the
link of needs to project calls (项目指南) of 资源联合.

Who: area roles (federation and area staff, community cadres, Party secretaries) build
surveys for the communities of their area and manage those whose communities all lie in it;
a social organisation's staff read the published surveys of the community it is based in.

Answering is anonymous. Flood and double-submission protection never turns away a genuine
first answer: the form page carries a one-time number signed for the phone's device cookie
(`nonce`; the same page sent twice is stored once and the second sending is told "已提交";
bound to the cookie it is also the page's CSRF token); a device cookie lets one phone
send a few answers (a family sharing a phone) but not hundreds; an address may send
`SURVEY_ANSWERS_PER_ADDRESS_PER_MINUTE` answers a minute (default 30: offices and housing
estates share one NAT address), counted from the stored answers as they are written. A refused
submission keeps the resident's answers on the page.

Once published, a survey's questions and options never change, so the public page keeps
their shape in memory (`survey_shape`) and reads only the survey row on each request.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import json
import secrets
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, QuerySet, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from sanlian.core.models import User
from sanlian.core.scoping import AREA_ROLES, scope_for
from sanlian.organizations.models import Community, Tier
from sanlian.resources.models import ProjectCall

from ..models.surveys import (
    CHOICE_KINDS,
    TEXT_KINDS,
    Answer,
    CallNeedLink,
    Question,
    QuestionKind,
    QuestionOption,
    Survey,
    SurveyResponse,
    SurveyStatus,
)

BUILDER_ROLES = tuple(AREA_ROLES)
MAX_QUESTIONS = 60
MAX_OPTIONS = 30
SHORT_TEXT_MAX = 200
LONG_TEXT_MAX = 2000
# Answers one device may send to one survey (a family may share a phone).
DEVICE_LIMIT = 5
ADDRESS_WINDOW = dt.timedelta(minutes=1)
# How long a form page stays valid; an older page is shown again with the answers kept.
NONCE_MAX_AGE = 7 * 24 * 3600
NONCE_SALT = "sanlian.delivery.surveys.nonce"
DEVICE_COOKIE = "sl_device"
LIKERT_SCALE = (1, 2, 3, 4, 5)


def answers_per_address_per_minute() -> int:
    return int(settings.SURVEY_ANSWERS_PER_ADDRESS_PER_MINUTE)


# ---- who may do what ---------------------------------------------------------------------------


def survey_communities(user: Any) -> QuerySet[Community]:
    """Communities this user may survey: those of their area, in use."""
    if scope_for(user).area_path is None or not user.has_role(*BUILDER_ROLES):
        return Community.objects.none()
    return Community.objects.visible_to(user).active()


def may_manage(user: Any, survey: Survey) -> bool:
    """An area role all of whose survey's communities lie in the user's area."""
    scope = scope_for(user)
    if scope.area_path is None or not user.has_role(*BUILDER_ROLES):
        return False
    return not survey.communities.exclude(organization__path__startswith=scope.area_path).exists()


def _check_manager(user: Any, survey: Survey) -> None:
    if not may_manage(user, survey):
        raise ValidationError(_("您无权管理该问卷。"))


def _check_draft(survey: Survey) -> None:
    if survey.status != SurveyStatus.DRAFT:
        raise ValidationError(_("问卷已发布，题目不能再修改。"))


# ---- building ----------------------------------------------------------------------------------


def _check_period(opens_at: dt.datetime, closes_at: dt.datetime) -> None:
    if closes_at <= opens_at:
        raise ValidationError({"closes_at": _("结束时间须晚于开始时间。")})


def _check_communities(by: User, communities: Sequence[Community]) -> None:
    if not communities:
        raise ValidationError({"communities": _("请至少选择一个社区。")})
    allowed = set(survey_communities(by).values_list("pk", flat=True))
    if any(c.pk not in allowed for c in communities):
        raise ValidationError({"communities": _("所选社区不在您的管理范围内。")})


@transaction.atomic
def survey_create(
    *,
    by: User,
    title: str,
    communities: Sequence[Community],
    opens_at: dt.datetime,
    closes_at: dt.datetime,
    intro: str = "",
) -> Survey:
    if not by.has_role(*BUILDER_ROLES):
        raise ValidationError(_("只有工会和社区工作人员可以发起需求调查。"))
    _check_communities(by, communities)
    _check_period(opens_at, closes_at)
    survey = Survey.objects.create(
        title=title.strip(),
        intro=intro.strip(),
        opens_at=opens_at,
        closes_at=closes_at,
        created_by=by,
    )
    survey.communities.set(communities)
    return survey


@transaction.atomic
def survey_update(
    *,
    survey: Survey,
    by: User,
    title: str,
    communities: Sequence[Community],
    opens_at: dt.datetime,
    closes_at: dt.datetime,
    intro: str = "",
) -> Survey:
    """Title, communities and period of a draft; of a published survey only the period (to
    extend or shorten it)."""
    survey = Survey.objects.select_for_update().get(pk=survey.pk)
    _check_manager(by, survey)
    _check_period(opens_at, closes_at)
    if survey.status == SurveyStatus.CLOSED:
        raise ValidationError(_("问卷已结束，不能修改。"))
    if survey.status == SurveyStatus.DRAFT:
        _check_communities(by, communities)
        survey.title, survey.intro = title.strip(), intro.strip()
        survey.communities.set(communities)
    survey.opens_at, survey.closes_at = opens_at, closes_at
    survey.save()
    return survey


@transaction.atomic
def question_add(
    *,
    survey: Survey,
    by: User,
    kind: str,
    text: str,
    required: bool = True,
    is_need_question: bool = False,
    options: Sequence[str] = (),
    show_if_option: QuestionOption | None = None,
) -> Question:
    """Appends a question to a draft. Choice questions need two or more distinct options;
    a show-if condition names an option of an earlier choice question of the same survey."""
    _check_manager(by, survey)
    locked = Survey.objects.select_for_update().get(pk=survey.pk)
    _check_draft(locked)
    count = locked.questions.count()
    if count >= MAX_QUESTIONS:
        raise ValidationError(_("一份问卷最多 %(n)d 道题。") % {"n": MAX_QUESTIONS})
    labels = [o.strip() for o in options if o.strip()]
    if kind in CHOICE_KINDS:
        if len(labels) < 2:
            raise ValidationError({"options": _("选择题至少需要两个选项。")})
        if len(labels) > MAX_OPTIONS:
            raise ValidationError({"options": _("选项最多 %(n)d 个。") % {"n": MAX_OPTIONS}})
        if len(set(labels)) != len(labels):
            raise ValidationError({"options": _("选项不能重复。")})
    elif labels:
        raise ValidationError({"options": _("只有选择题需要填写选项。")})
    if is_need_question and kind not in CHOICE_KINDS:
        raise ValidationError({"is_need_question": _("只有单选题和多选题可以作为需求题。")})
    if show_if_option is not None and show_if_option.question.survey_id != survey.pk:
        raise ValidationError({"show_if_option": _("显示条件须为本问卷前面题目的选项。")})
    last = locked.questions.order_by("-seq").values_list("seq", flat=True).first() or 0
    question = Question.objects.create(
        survey=locked,
        seq=last + 1,
        kind=kind,
        text=text.strip(),
        required=required,
        is_need_question=is_need_question,
        show_if_option=show_if_option,
    )
    for i, label in enumerate(labels, start=1):
        QuestionOption.objects.create(question=question, seq=i, text=label)
    return question


@transaction.atomic
def question_delete(*, question: Question, by: User) -> None:
    """Removes a question of a draft (and the conditions that named its options)."""
    survey = Survey.objects.select_for_update().get(pk=question.survey_id)
    _check_manager(by, survey)
    _check_draft(survey)
    Question.objects.filter(show_if_option__question=question).update(show_if_option=None)
    question.delete()


def show_if_choices(survey: Survey) -> QuerySet[QuestionOption]:
    """Options a new question's condition may name: those of the survey's choice questions."""
    return (
        QuestionOption.objects.filter(question__survey=survey, question__kind__in=CHOICE_KINDS)
        .select_related("question")
        .order_by("question__seq", "seq")
    )


@transaction.atomic
def survey_publish(*, survey: Survey, by: User, now: dt.datetime | None = None) -> Survey:
    _check_manager(by, survey)
    locked = Survey.objects.select_for_update().get(pk=survey.pk)
    if locked.status != SurveyStatus.DRAFT:
        raise ValidationError(_("只有草稿状态的问卷可以发布。"))
    if not locked.questions.exists():
        raise ValidationError(_("问卷还没有题目，不能发布。"))
    at = now or timezone.now()
    if locked.closes_at <= at:
        raise ValidationError({"closes_at": _("结束时间已过，请先修改调查时间。")})
    locked.status = SurveyStatus.PUBLISHED
    locked.published_at = at
    locked.save()
    return locked


@transaction.atomic
def survey_close(*, survey: Survey, by: User, now: dt.datetime | None = None) -> Survey:
    """Ends a published survey now (before its planned end)."""
    _check_manager(by, survey)
    locked = Survey.objects.select_for_update().get(pk=survey.pk)
    if locked.status != SurveyStatus.PUBLISHED:
        raise ValidationError(_("只有已发布的问卷可以结束。"))
    at = now or timezone.now()
    locked.status = SurveyStatus.CLOSED
    if locked.closes_at > at:
        locked.closes_at = max(at, locked.opens_at + dt.timedelta(seconds=1))
    locked.save()
    return locked


# ---- the public page ---------------------------------------------------------------------------


@dataclass(frozen=True)
class OptionShape:
    id: int
    text: str


@dataclass(frozen=True)
class QuestionShape:
    id: int
    seq: int
    kind: str
    text: str
    required: bool
    show_if_question_id: int | None
    show_if_option_id: int | None
    options: tuple[OptionShape, ...]

    @property
    def name(self) -> str:
        return f"q{self.id}"

    @property
    def option_ids(self) -> frozenset[int]:
        return frozenset(o.id for o in self.options)


@dataclass(frozen=True)
class SurveyShape:
    survey_id: int
    questions: tuple[QuestionShape, ...]
    communities: tuple[tuple[int, str], ...]


_shapes: dict[tuple[int, str], SurveyShape] = {}


def _build_shape(survey: Survey) -> SurveyShape:
    options: dict[int, list[OptionShape]] = defaultdict(list)
    for o in QuestionOption.objects.filter(question__survey=survey).order_by("question", "seq"):
        options[o.question_id].append(OptionShape(o.pk, o.text))
    questions = tuple(
        QuestionShape(
            id=q.pk,
            seq=q.seq,
            kind=q.kind,
            text=q.text,
            required=q.required,
            show_if_question_id=q.show_if_option.question_id if q.show_if_option else None,
            show_if_option_id=q.show_if_option_id,
            options=tuple(options[q.pk]),
        )
        for q in survey.questions.select_related("show_if_option").order_by("seq")
    )
    communities = tuple(survey.communities.order_by("name", "pk").values_list("pk", "name"))
    return SurveyShape(survey.pk, questions, communities)


def survey_shape(survey: Survey) -> SurveyShape:
    """The questions, options and communities of a survey; kept in memory once published
    (they cannot change then). The key carries the token, which is unique to the survey."""
    if survey.status == SurveyStatus.DRAFT:
        return _build_shape(survey)
    key = (survey.pk, survey.token)
    shape = _shapes.get(key)
    if shape is None:
        if len(_shapes) > 500:
            _shapes.clear()
        shape = _shapes[key] = _build_shape(survey)
    return shape


PUBLIC_FIELDS = ("pk", "title", "intro", "opens_at", "closes_at", "status", "token")
# How long a page view may reuse the survey row it read (per process). Submissions always
# read it afresh, so an answer sent after a survey was closed is refused at once.
PAGE_ROW_SECONDS = 2.0
_rows: dict[str, tuple[float, Survey]] = {}


def public_survey(token: str, *, fresh: bool = True) -> Survey | None:
    """The published (or closed) survey of a public link; drafts have no public page."""
    now = time.monotonic()
    if not fresh and (kept := _rows.get(token)) and now - kept[0] < PAGE_ROW_SECONDS:
        return kept[1]
    found = list(Survey.objects.filter(token=token).only(*PUBLIC_FIELDS)[:1])
    survey = found[0] if found and found[0].status != SurveyStatus.DRAFT else None
    if survey is not None:
        if len(_rows) > 1000:
            _rows.clear()
        _rows[token] = (now, survey)
    return survey


def new_nonce(survey: Survey, device_hash: str) -> str:
    """The one-time number of a form page of this survey, signed for the phone's device
    cookie. It is the page's CSRF token too (a signed double-submit token): a page of another
    site can neither read it nor make the phone send its cookie with a POST (SameSite=Lax),
    so the survey needs no second token and cookie of Django's."""
    return _nonce_signer(device_hash).sign(f"{survey.pk}.{secrets.token_urlsafe(12)}")


def check_nonce(survey: Survey, signed: str, device_hash: str) -> str | None:
    """The one-time number of a form page of this survey given to this device, or None if
    forged, expired, of another survey or of another device."""
    try:
        value = _nonce_signer(device_hash).unsign(signed, max_age=NONCE_MAX_AGE)
    except signing.BadSignature:
        return None
    survey_id, _sep, nonce = value.partition(".")
    return nonce if survey_id == str(survey.pk) and nonce else None


def _nonce_signer(device_hash: str) -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=f"{NONCE_SALT}.{device_hash}")


def keyed_hash(kind: str, value: str) -> str:
    """A keyed digest (the raw address or device token is never stored): Django's
    `salted_hmac`, with the keyed HMAC made once per kind and copied per value (two are
    made for every answer sent)."""
    mac = _keyed_hmac(kind, settings.SECRET_KEY).copy()
    mac.update(value.encode())
    return mac.hexdigest()


@functools.lru_cache(maxsize=16)
def _keyed_hmac(kind: str, secret: str) -> hmac.HMAC:
    # Keyed exactly as django.utils.crypto.salted_hmac keys it: stored digests must not change.
    key = hashlib.sha256(f"sanlian.delivery.surveys.{kind}{secret}".encode()).digest()
    return hmac.new(key, digestmod=hashlib.sha256)


def new_device_token() -> str:
    return secrets.token_urlsafe(18)


def device_answers(survey: Survey, device_hash: str) -> int:
    return SurveyResponse.objects.filter(survey=survey, device_hash=device_hash).count()


@dataclass(frozen=True)
class Submission:
    response_id: int
    created: bool  # False: this page had been stored already (a second sending)


class DeviceLimitReached(Exception):
    """This device has sent DEVICE_LIMIT answers to this survey already."""


class AddressLimitReached(Exception):
    """This address has sent its answers of the last minute (to any survey) already."""


class SurveyNotOpen(ValidationError):
    """The survey is closed (or not yet open) at the moment of storing."""

    def __init__(self) -> None:
        super().__init__(_("该问卷已结束或尚未开始，不能再提交。"))


def _answer_rows(
    survey_id: int, community_id: int, answers: Iterable[tuple[QuestionShape, Any]]
) -> list[tuple[Any, ...]]:
    """(survey, community, question, option, number, text) of each answer row."""
    adapt = connection.ops.adapt_decimalfield_value
    rows: list[tuple[Any, ...]] = []
    for question, value in answers:
        base = (survey_id, community_id, question.id)
        if question.kind in CHOICE_KINDS:
            ids = value if isinstance(value, list | tuple | set) else [value]
            rows += [(*base, int(i), None, "") for i in ids]
        elif question.kind in (QuestionKind.LIKERT, QuestionKind.NUMBER):
            rows.append((*base, None, adapt(Decimal(value), 14, 2), ""))
        elif str(value):
            rows.append((*base, None, None, str(value)))
    return rows


def _why_refused(survey: Survey, nonce: str, device_hash: str, at: dt.datetime) -> Submission:
    """After the guarded insert stored nothing: a second sending of a stored page, a survey
    that has just closed, a device or an address at its limit (read afresh; this path is
    rare)."""
    existing = SurveyResponse.objects.filter(nonce=nonce).values_list("pk", flat=True).first()
    if existing is not None:
        return Submission(existing, created=False)
    current = public_survey(survey.token)
    if current is None or not current.is_open(at):
        raise SurveyNotOpen
    if device_answers(survey, device_hash) >= DEVICE_LIMIT:
        raise DeviceLimitReached
    raise AddressLimitReached


def response_submit(
    *,
    survey: Survey,
    community_id: int,
    answers: Iterable[tuple[QuestionShape, Any]],
    nonce: str,
    device_hash: str,
    ip_hash: str = "",
    now: dt.datetime | None = None,
) -> Submission:
    """Stores one anonymous answer sheet, once per form page. `answers` come validated by
    `forms.surveys.AnswerForm` (option ids of the question, numbers, texts).

    This is the hot path of a survey flood (see bench/surveys.py), so the response row is
    written by one guarded INSERT … SELECT … WHERE: the database itself checks, atomically
    with the write, that the survey is open right now (`survey` may be a row read a moment
    ago), that this device is under its limit for the survey and this address under its
    limit for the minute. Nothing stored means one of those failed or the page was sent
    before; `_why_refused` tells which. Raises SurveyNotOpen, ValidationError (a community
    not of the survey), DeviceLimitReached or AddressLimitReached."""
    at = now or timezone.now()
    if not survey.is_open(at):
        raise SurveyNotOpen
    shape = survey_shape(survey)
    if community_id not in {pk for pk, _name in shape.communities}:
        raise ValidationError({"community": _("请选择您所在的社区。")})
    rows = _answer_rows(survey.pk, community_id, answers)
    store = _store_postgresql if connection.vendor == "postgresql" else _store_portable
    try:
        stored = store(_Sheet(survey, community_id, nonce, device_hash, ip_hash, at, rows))
    except IntegrityError:
        # The same page sent twice at once: the unique nonce let one through.
        existing = SurveyResponse.objects.filter(nonce=nonce).values_list("pk", flat=True).first()
        if existing is None:
            raise
        return Submission(existing, created=False)
    if stored is None:
        return _why_refused(survey, nonce, device_hash, at)
    return Submission(stored, created=True)


def _guard(
    survey: Survey, device_hash: str, ip_hash: str, at: Any, since: Any
) -> tuple[str, list[Any]]:
    """The WHERE of the guarded insert: the survey open at `at`, the device under its limit
    for the survey, the address under its limit for the minute before (`since`). Counting
    stored answers in the database (an index on address and time) rather than in the cache
    costs a flood's answer no round trip to Redis and holds across processes without one.
    Two answers from one address at the same instant may both pass: a limit, not a quota.
    No address (`ip_hash` empty: answers entered by staff, the demo seed) has no limit."""
    responses = SurveyResponse._meta.db_table
    sql = (
        f" WHERE EXISTS (SELECT 1 FROM {Survey._meta.db_table} WHERE id = %s AND status = %s"  # noqa: S608
        " AND opens_at <= %s AND closes_at > %s)"
        f" AND (SELECT COUNT(*) FROM {responses} WHERE survey_id = %s AND device_hash = %s) < %s"
    )
    params = [survey.pk, SurveyStatus.PUBLISHED, at, at, survey.pk, device_hash, DEVICE_LIMIT]
    if ip_hash:
        sql += (
            f" AND (SELECT COUNT(*) FROM {responses} WHERE ip_hash = %s AND submitted_at > %s) < %s"  # noqa: S608
        )
        params += [ip_hash, since, answers_per_address_per_minute()]
    return sql, params


@dataclass(frozen=True, slots=True)
class _Sheet:
    """One answer sheet as `response_submit` stores it."""

    survey: Survey
    community_id: int
    nonce: str
    device_hash: str
    ip_hash: str
    at: dt.datetime
    rows: list[tuple[Any, ...]]  # of `_answer_rows`

    def response(self) -> list[Any]:
        """The response row's values up to its time (each store adapts the time its way)."""
        return [self.survey.pk, self.community_id, self.nonce, self.device_hash, self.ip_hash]


RESPONSE_COLUMNS = "survey_id, community_id, nonce, device_hash, ip_hash, submitted_at"
ANSWER_COLUMNS = "response_id, survey_id, community_id, question_id, option_id, number, text"


def _store_postgresql(sheet: _Sheet) -> int | None:
    """The response and its answers in ONE statement (two INSERTs in a WITH, the answers
    from a JSON array): atomic in autocommit without BEGIN and COMMIT round trips, and the
    same text for every sheet, so PostgreSQL prepares it: parsed and planned once per
    connection, not once per answer (see `prepare_threshold` and `plan_cache_mode` in the
    settings). The cursor is psycopg's own: Django's bind on the client, which cannot
    prepare."""
    import psycopg

    survey, at = sheet.survey, sheet.at
    guard, guard_params = _guard(survey, sheet.device_hash, sheet.ip_hash, at, at - ADDRESS_WINDOW)
    # The answer rows travel as one JSON text: psycopg dumps a string at once, where four
    # arrays of mixed values cost it 90 µs of type inspection per answer sheet.
    sql = (
        f"WITH r AS (INSERT INTO {SurveyResponse._meta.db_table} ({RESPONSE_COLUMNS})"  # noqa: S608
        f" SELECT %s, %s, %s, %s, %s, %s{guard} RETURNING id),"
        f" a AS (INSERT INTO {Answer._meta.db_table} ({ANSWER_COLUMNS})"
        " SELECT r.id, %s, %s, (x->>0)::bigint, (x->>1)::bigint, (x->>2)::numeric, x->>3"
        " FROM r, jsonb_array_elements(%s::jsonb) AS x)"
        " SELECT id FROM r"
    )
    rows = json.dumps(
        [(q, o, None if n is None else str(n), t) for _s, _c, q, o, n, t in sheet.rows],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    params = [*sheet.response(), at, *guard_params, survey.pk, sheet.community_id, rows]
    # Inside a transaction (tests, or a caller's atomic block) a savepoint keeps a unique
    # violation from breaking the outer transaction; in autocommit the statement is atomic.
    with transaction.atomic() if connection.in_atomic_block else nullcontext():
        connection.ensure_connection()
        with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cur:
            cur.execute(sql, params)
            found = cur.fetchone()
    return int(found[0]) if found else None


def _store_portable(sheet: _Sheet) -> int | None:
    """The same as `_store_postgresql` in a transaction of two statements (SQLite)."""
    adapt = connection.ops.adapt_datetimefield_value
    when, since = adapt(sheet.at), adapt(sheet.at - ADDRESS_WINDOW)
    guard, guard_params = _guard(sheet.survey, sheet.device_hash, sheet.ip_hash, when, since)
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            f"INSERT INTO {SurveyResponse._meta.db_table} ({RESPONSE_COLUMNS})"
            f" SELECT %s, %s, %s, %s, %s, %s{guard} RETURNING id",
            [*sheet.response(), when, *guard_params],
        )
        stored = cur.fetchone()
        if stored is None:
            return None
        if sheet.rows:
            values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s)"] * len(sheet.rows))
            cur.execute(
                f"INSERT INTO {Answer._meta.db_table} ({ANSWER_COLUMNS}) VALUES {values}",  # noqa: S608
                [v for row in sheet.rows for v in (stored[0], *row)],
            )
    return int(stored[0])


# ---- results -----------------------------------------------------------------------------------


def _share(part: int, whole: int) -> Decimal:
    return (Decimal(part) * 100 / whole).quantize(Decimal("0.1")) if whole else Decimal(0)


@dataclass(frozen=True)
class CommunityCount:
    id: int
    name: str
    tier: str
    tier_label: str
    responses: int


@dataclass(frozen=True)
class OptionCount:
    id: int
    text: str
    count: int
    share: Decimal  # of all respondents


@dataclass
class QuestionResult:
    question: Question
    answered: int = 0
    options: list[OptionCount] = field(default_factory=list)
    average: Decimal | None = None
    distribution: list[int] = field(default_factory=list)  # Likert: answers of 1..5

    def chart(self) -> dict[str, Any] | None:
        if self.options:
            return {
                "_kind": "bar",
                "horizontal": True,
                "categories": [o.text for o in reversed(self.options)],
                "series": [o.count for o in reversed(self.options)],
            }
        if self.distribution:
            return {
                "_kind": "bar",
                "categories": [str(v) for v in LIKERT_SCALE],
                "series": self.distribution,
            }
        return None


@dataclass(frozen=True)
class RankedNeed:
    option_id: int
    text: str
    count: int
    share: Decimal


@dataclass(frozen=True)
class NeedGroup:
    """Ranked needs of one community or one tier: options by the share of its respondents."""

    label: str
    respondents: int
    needs: tuple[RankedNeed, ...]
    tier: str = ""
    tier_label: str = ""


@dataclass
class SurveyResults:
    total: int
    communities: list[CommunityCount]
    questions: list[QuestionResult]
    need_questions: list[Question]
    # need question id -> ranked needs per community / per tier
    by_community: dict[int, list[NeedGroup]]
    by_tier: dict[int, list[NeedGroup]]

    def tier_chart(self, question_id: int) -> dict[str, Any]:
        """Shares of each need by tier (grouped bars), for the comparison."""
        groups = [g for g in self.by_tier.get(question_id, []) if g.respondents]
        options = [o for q in self.need_questions if q.pk == question_id for o in q.options.all()]
        return {
            "_kind": "bar",
            "categories": [o.text for o in options],
            "series": [
                {
                    "name": g.label,
                    "data": [
                        float(next((n.share for n in g.needs if n.option_id == o.pk), 0))
                        for o in options
                    ],
                }
                for g in groups
            ],
            "yAxis": {"type": "value", "name": "%"},
        }


def _ranked(
    options: Sequence[QuestionOption], counts: dict[int, int], respondents: int
) -> tuple[RankedNeed, ...]:
    rows = [
        RankedNeed(o.pk, o.text, counts.get(o.pk, 0), _share(counts.get(o.pk, 0), respondents))
        for o in options
    ]
    return tuple(sorted(rows, key=lambda r: (-r.count, r.option_id)))


def survey_results(survey: Survey) -> SurveyResults:
    """Every figure of the results page from four GROUP BYs over the answers."""
    questions = list(survey.questions.prefetch_related("options").order_by("seq"))
    communities = {
        c.pk: c for c in survey.communities.only("pk", "name", "tier").order_by("name", "pk")
    }
    per_community = dict(
        SurveyResponse.objects.filter(survey=survey)
        .order_by()
        .values_list("community_id")
        .annotate(n=Count("*"))
    )
    total = sum(per_community.values())
    tier_labels = dict(Tier.choices)
    counts = [
        CommunityCount(
            c.pk, c.name, c.tier, str(tier_labels.get(c.tier, "")), per_community.get(c.pk, 0)
        )
        for c in communities.values()
    ]
    # (question, option) -> {community: n}
    chosen: dict[tuple[int, int], dict[int, int]] = defaultdict(dict)
    for q_id, o_id, c_id, n in (
        Answer.objects.filter(survey=survey, option__isnull=False)
        .order_by()
        .values_list("question_id", "option_id", "community_id")
        .annotate(n=Count("*"))
    ):
        chosen[(q_id, o_id)][c_id] = n
    # Each aggregate names its questions (no join to the question table), so that it reads
    # only those questions' entries of the answer_counts index, and nothing else.
    of_kind: dict[str, list[int]] = defaultdict(list)
    for q in questions:
        of_kind[q.kind].append(q.pk)
    # People who answered a multiple choice (several rows per person); a single choice has
    # one row per person, counted in `chosen` already.
    responders = dict(
        Answer.objects.filter(
            survey=survey, question_id__in=of_kind[QuestionKind.MULTIPLE], option__isnull=False
        )
        .order_by()
        .values_list("question_id")
        .annotate(n=Count("response_id", distinct=True))
    )
    likert: dict[int, dict[int, int]] = defaultdict(dict)
    for q_id, value, n in (
        Answer.objects.filter(survey=survey, question_id__in=of_kind[QuestionKind.LIKERT])
        .order_by()
        .values_list("question_id", "number")
        .annotate(n=Count("*"))
    ):
        likert[q_id][int(value)] = n
    numbers = {
        q_id: (n, s)
        for q_id, n, s in Answer.objects.filter(
            survey=survey, question_id__in=of_kind[QuestionKind.NUMBER]
        )
        .order_by()
        .values_list("question_id")
        .annotate(n=Count("*"), s=Sum("number"))
    }
    texts = dict(
        Answer.objects.filter(
            survey=survey, question_id__in=[pk for k in TEXT_KINDS for pk in of_kind[k]]
        )
        .order_by()
        .values_list("question_id")
        .annotate(n=Count("*"))
    )
    results: list[QuestionResult] = []
    for q in questions:
        r = QuestionResult(q)
        if q.is_choice:
            r.options = [
                OptionCount(o.pk, o.text, n, _share(n, total))
                for o in q.options.all()
                for n in [sum(chosen.get((q.pk, o.pk), {}).values())]
            ]
            if q.kind == QuestionKind.MULTIPLE:
                r.answered = responders.get(q.pk, 0)
            else:
                r.answered = sum(o.count for o in r.options)
        elif q.kind == QuestionKind.LIKERT:
            dist = likert.get(q.pk, {})
            r.distribution = [dist.get(v, 0) for v in LIKERT_SCALE]
            r.answered = sum(r.distribution)
            if r.answered:
                r.average = (Decimal(sum(v * n for v, n in dist.items())) / r.answered).quantize(
                    Decimal("0.01")
                )
        elif q.kind == QuestionKind.NUMBER:
            n, s = numbers.get(q.pk, (0, None))
            r.answered = n
            r.average = (Decimal(s) / n).quantize(Decimal("0.01")) if n and s is not None else None
        else:
            r.answered = texts.get(q.pk, 0)
        results.append(r)
    need_questions = [q for q in questions if q.is_need_question]
    by_community: dict[int, list[NeedGroup]] = {}
    by_tier: dict[int, list[NeedGroup]] = {}
    for q in need_questions:
        options = list(q.options.all())
        groups = []
        for c in counts:
            c_counts = {o.pk: chosen.get((q.pk, o.pk), {}).get(c.id, 0) for o in options}
            groups.append(
                NeedGroup(
                    c.name,
                    c.responses,
                    _ranked(options, c_counts, c.responses),
                    c.tier,
                    c.tier_label,
                )
            )
        by_community[q.pk] = groups
        tiers = []
        for tier, label in Tier.choices:
            members = [c for c in counts if c.tier == tier]
            if not members:
                continue
            respondents = sum(c.responses for c in members)
            t_counts = {
                o.pk: sum(chosen.get((q.pk, o.pk), {}).get(c.id, 0) for c in members)
                for o in options
            }
            tiers.append(
                NeedGroup(
                    str(label),
                    respondents,
                    _ranked(options, t_counts, respondents),
                    tier,
                    str(label),
                )
            )
        by_tier[q.pk] = tiers
    return SurveyResults(total, counts, results, need_questions, by_community, by_tier)


def text_answers(survey: Survey, question_id: int | None = None) -> QuerySet[Answer]:
    """The text answers of a survey (or of one of its questions), newest first."""
    qs = Answer.objects.filter(survey=survey, question__kind__in=("short_text", "long_text"))
    if question_id is not None:
        qs = qs.filter(question_id=question_id)
    return qs.exclude(text="").select_related("question", "community", "response").order_by("-pk")


# ---- needs answered by project calls -----------------------------------------------------------


def need_options(survey: Survey) -> QuerySet[QuestionOption]:
    return (
        QuestionOption.objects.filter(question__survey=survey, question__is_need_question=True)
        .select_related("question")
        .order_by("question__seq", "seq")
    )


def linkable_calls(user: Any) -> QuerySet[ProjectCall]:
    return ProjectCall.objects.visible_to(user).order_by("-deadline", "-pk")


@transaction.atomic
def call_need_link(*, option: QuestionOption, call: ProjectCall, by: User) -> CallNeedLink:
    """Records that a project call answers a surveyed need (an option of a need question)."""
    survey = option.question.survey
    _check_manager(by, survey)
    if not option.question.is_need_question:
        raise ValidationError({"option": _("只有需求题的选项可以关联项目指南。")})
    if not linkable_calls(by).filter(pk=call.pk).exists():
        raise ValidationError({"call": _("所选项目指南不在您的查看范围内。")})
    if CallNeedLink.objects.filter(option=option, call=call).exists():
        raise ValidationError(_("该需求已关联此项目指南。"))
    return CallNeedLink.objects.create(option=option, call=call, linked_by=by)


@transaction.atomic
def call_need_unlink(*, link: CallNeedLink, by: User) -> None:
    _check_manager(by, link.option.question.survey)
    link.delete()


def _call_needs(call: ProjectCall, user: Any) -> list[Any]:
    """The provider of 资源联合's call page: the needs linked to the call that the user may
    see, with their share of respondents."""
    from sanlian.resources.services.funding import CallNeed

    links = (
        CallNeedLink.objects.visible_to(user)
        .filter(call=call)
        .select_related("option__question__survey")
        .order_by("pk")
    )
    out = []
    for link in links:
        option = link.option
        survey = option.question.survey
        respondents = SurveyResponse.objects.filter(survey=survey).count()
        chosen = Answer.objects.filter(option=option).count()
        out.append(
            CallNeed(
                label=f"{option.text}（{survey.title}）",
                url=reverse("delivery:survey_results", args=[survey.pk]),
                detail=_("%(share)s%% 的受访居民选择（%(n)d 份答卷）")
                % {"share": _share(chosen, respondents), "n": respondents},
            )
        )
    return out


def connect() -> None:
    """Registers the needs of calls with 资源联合 (its call page shows 回应的需求)."""
    from sanlian.resources.services.funding import register_call_needs

    register_call_needs(_call_needs)
