"""Reviews (scores, conflicts of interest, ranking) and award decisions (立项) with the pool's
money: every rule and its Chinese refusal."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from sanlian.core.models import AuditEntry
from sanlian.core.roles import Role
from sanlian.resources.forms.funding import DecisionForm
from sanlian.resources.models import (
    Application,
    ApplicationStatus,
    BudgetPool,
    CallStatus,
    Grade,
    ProjectCall,
    ProjectStatus,
    ReviewStatus,
)
from sanlian.resources.services import funding as services

from ..conftest import World
from ..factories import PersonFactory, SocialWorkerFactory, UserFactory
from .factories import (
    BudgetPoolFactory,
    ServiceProjectFactory,
    application_to,
    call_of,
)

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def _staff(world: World) -> Any:
    return world.users[Role.AREA_STAFF]


def _evaluator(world: World) -> Any:
    return world.users[Role.EVALUATOR]


def _reviewing(world: World, **kwargs: Any) -> ProjectCall:
    return call_of(
        world.d1,
        communities=[world.c1],
        status=CallStatus.REVIEWING,
        reviewers=[_evaluator(world), world.users[Role.FEDERATION_STAFF]],
        **kwargs,
    )


def _scores(call: ProjectCall, *values: str) -> dict[int, Decimal]:
    return {c.pk: Decimal(v) for c, v in zip(call.criteria.all(), values, strict=True)}


def _score(application: Application, reviewer: Any, *values: str, when: Any = NOW) -> Any:
    return services.review_submit(
        application=application,
        reviewer=reviewer,
        scores=_scores(application.call, *values),
        comment="方案扎实，需求契合。",
        now=when,
    )


def _messages(exc: pytest.ExceptionInfo[ValidationError]) -> list[str]:
    return [str(m) for m in exc.value.messages]


# ---- reviews -------------------------------------------------------------------------------


def test_the_total_is_the_weighted_sum_of_the_scores(world: World) -> None:
    application = application_to(_reviewing(world), world.o1)
    review = _score(application, _evaluator(world), "80", "90", "70")  # weights 30/40/30
    assert (review.status, review.total, review.scores.count()) == (
        ReviewStatus.SUBMITTED,
        Decimal("81.00"),
        3,
    )


def test_the_weighted_total_rounds_to_the_hundredth() -> None:
    assert services.weighted_total(
        {1: 33, 2: 33, 3: 34}, {1: Decimal("70.5"), 2: Decimal("80.25"), 3: Decimal("91")}
    ) == Decimal("80.69")  # 80.6875


def test_the_average_of_submitted_totals_ranks_the_applications(world: World) -> None:
    call = _reviewing(world)
    first = application_to(call, world.o1, submitted_at=NOW - dt.timedelta(days=2))
    second = application_to(call, world.o2, submitted_at=NOW - dt.timedelta(days=1))
    _score(first, _evaluator(world), "60", "60", "60")
    _score(second, _evaluator(world), "90", "90", "90")
    _score(first, world.users[Role.FEDERATION_STAFF], "80", "80", "80")
    first.refresh_from_db()
    second.refresh_from_db()
    assert [(a.average_score, a.rank) for a in (first, second)] == [
        (Decimal("70.00"), 2),
        (Decimal("90.00"), 1),
    ]


def test_a_tie_goes_to_the_earlier_submission(world: World) -> None:
    call = _reviewing(world)
    later = application_to(call, world.o1, submitted_at=NOW - dt.timedelta(days=1))
    earlier = application_to(call, world.o2, submitted_at=NOW - dt.timedelta(days=2))
    _score(later, _evaluator(world), "80", "80", "80")
    _score(earlier, _evaluator(world), "80", "80", "80")
    later.refresh_from_db()
    earlier.refresh_from_db()
    assert (earlier.rank, later.rank) == (1, 2)


def test_a_score_above_100_is_refused(world: World) -> None:
    application = application_to(_reviewing(world), world.o1)
    with pytest.raises(ValidationError) as exc:
        _score(application, _evaluator(world), "80", "101", "70")
    assert _messages(exc) == ["“方案可行性”的得分须为 0 至 100 分。"]


def test_every_criterion_needs_a_score(world: World) -> None:
    call = _reviewing(world)
    application = application_to(call, world.o1)
    first = call.criteria.first()
    assert first is not None
    with pytest.raises(ValidationError) as exc:
        services.review_submit(
            application=application,
            reviewer=_evaluator(world),
            scores={first.pk: Decimal("80")},
            comment="x",
        )
    assert _messages(exc) == ["请为每项评审指标打分（未打分：方案可行性、团队能力）。"]


def test_a_review_needs_a_comment(world: World) -> None:
    application = application_to(_reviewing(world), world.o1)
    with pytest.raises(ValidationError) as exc:
        services.review_submit(
            application=application,
            reviewer=_evaluator(world),
            scores=_scores(application.call, "80", "80", "80"),
            comment=" ",
        )
    assert exc.value.message_dict == {"comment": ["请填写评审意见。"]}


def test_someone_not_on_the_panel_cannot_score(world: World) -> None:
    application = application_to(_reviewing(world), world.o1)
    with pytest.raises(ValidationError, match="您不是本项目指南的评审专家"):
        _score(application, _staff(world), "80", "80", "80")


def test_scoring_waits_for_the_review_stage(world: World) -> None:
    call = call_of(world.d1, communities=[world.c1], reviewers=[_evaluator(world)])
    application = application_to(call, world.o1)
    with pytest.raises(ValidationError) as exc:
        _score(application, _evaluator(world), "80", "80", "80")
    assert _messages(exc) == [f"项目指南“{call.title}”当前为“征集中”，不在评审阶段。"]


def test_a_review_is_submitted_once(world: World) -> None:
    application = application_to(_reviewing(world), world.o1)
    _score(application, _evaluator(world), "80", "80", "80")
    with pytest.raises(ValidationError) as exc:
        _score(application, _evaluator(world), "90", "90", "90")
    assert _messages(exc) == ["当前状态为“已提交”，不能执行“提交评分”（仅限评分中状态）。"]


def test_a_reviewer_from_the_applicant_itself_is_refused(world: World) -> None:
    insider = UserFactory(organization=world.o1, roles=[Role.EVALUATOR])
    application = application_to(_reviewing(world), world.o1)
    application.call.reviewers.create(reviewer=insider)
    with pytest.raises(ValidationError) as exc:
        _score(application, insider, "80", "80", "80")
    assert _messages(exc) == [
        "您所在的机构即申报机构“阳光社工中心”，存在利益冲突，须回避，不能评分。"
    ]


def test_a_reviewer_employed_by_the_applicant_is_refused(world: World) -> None:
    application = application_to(_reviewing(world), world.o1)
    PersonFactory(community=world.c1, employer=world.o1, user=_evaluator(world))
    with pytest.raises(ValidationError) as exc:
        _score(application, _evaluator(world), "80", "80", "80")
    assert _messages(exc) == ["您受雇于申报机构“阳光社工中心”，存在利益冲突，须回避，不能评分。"]


def test_a_reviewer_who_is_the_applicants_social_worker_is_refused(world: World) -> None:
    application = application_to(_reviewing(world), world.o1)
    person = PersonFactory(community=world.c1, user=_evaluator(world))
    SocialWorkerFactory(person=person, organization=world.o1)
    with pytest.raises(ValidationError, match="您是申报机构“阳光社工中心”的社工"):
        _score(application, _evaluator(world), "80", "80", "80")


def test_a_reviewer_of_another_organisation_scores(world: World) -> None:
    application = application_to(_reviewing(world), world.o2)
    PersonFactory(community=world.c1, employer=world.o1, user=_evaluator(world))
    assert _score(application, _evaluator(world), "80", "80", "80").total == Decimal("80.00")


def test_a_declared_conflict_recuses_without_a_score(world: World) -> None:
    application = application_to(_reviewing(world), world.o1)
    review = services.review_recuse(
        application=application, reviewer=_evaluator(world), note="曾任该机构理事"
    )
    assert (review.status, review.total, review.conflict_declared) == (
        ReviewStatus.RECUSED,
        None,
        True,
    )


def test_a_recused_reviewer_cannot_score_afterwards(world: World) -> None:
    application = application_to(_reviewing(world), world.o1)
    services.review_recuse(application=application, reviewer=_evaluator(world), note="亲属")
    with pytest.raises(ValidationError, match="当前状态为“回避”"):
        _score(application, _evaluator(world), "80", "80", "80")


def test_a_recusal_needs_a_note(world: World) -> None:
    application = application_to(_reviewing(world), world.o1)
    with pytest.raises(ValidationError) as exc:
        services.review_recuse(application=application, reviewer=_evaluator(world), note="")
    assert exc.value.message_dict == {"conflict_note": ["请说明利益冲突的情况。"]}


def test_a_recusal_does_not_count_in_the_average(world: World) -> None:
    application = application_to(_reviewing(world), world.o1)
    services.review_recuse(application=application, reviewer=_evaluator(world), note="亲属")
    _score(application, world.users[Role.FEDERATION_STAFF], "70", "70", "70")
    application.refresh_from_db()
    assert (application.average_score, application.rank) == (Decimal("70.00"), 1)


def test_reviewers_see_the_applicants_earlier_grades(world: World) -> None:
    done = ServiceProjectFactory(
        organization=world.o1,
        call=call_of(world.d1),
        status=ProjectStatus.ACCEPTED,
        final_grade=Grade.EXCELLENT,
        accepted_on=dt.date(2025, 12, 20),
    )
    ServiceProjectFactory(organization=world.o1, call=call_of(world.d1))  # still running
    assert list(services.applicant_track_record(world.o1)) == [done]


# ---- award decisions -----------------------------------------------------------------------


def _award(application: Application, by: Any, amount: str = "150000.00") -> Application:
    return services.application_award(
        application=application, by=by, amount=Decimal(amount), reason="评审排名第一", now=NOW
    )


def test_an_award_reserves_the_money_in_the_pool(world: World) -> None:
    call = _reviewing(world)
    application = application_to(call, world.o1)
    _award(application, _staff(world), "120000.00")
    application.refresh_from_db()
    pool = BudgetPool.objects.get(pk=call.pool_id)
    assert (
        application.status,
        application.awarded_amount,
        application.decided_by,
        application.decided_at,
        application.decision_reason,
        pool.allocated,
    ) == (
        ApplicationStatus.AWARDED,
        Decimal("120000.00"),
        _staff(world),
        NOW,
        "评审排名第一",
        Decimal("120000.00"),
    )


def test_an_award_is_in_the_audit_trail(world: World) -> None:
    application = application_to(_reviewing(world), world.o1)
    _award(application, _staff(world))
    entry = (
        AuditEntry.objects.filter(
            object_type="resources.Application", object_id=str(application.pk)
        )
        .order_by("id")
        .last()
    )
    assert entry is not None
    assert (entry.changes["status"], entry.changes["decision_reason"]) == (
        ["submitted", "awarded"],
        ["", "评审排名第一"],
    )


def test_an_award_above_the_request_is_refused(world: World) -> None:
    application = application_to(_reviewing(world), world.o1)
    with pytest.raises(ValidationError) as exc:
        _award(application, _staff(world), "150000.01")
    assert exc.value.message_dict["amount"] == ["立项金额 ¥150,000.01 超过申请金额 ¥150,000.00。"]


def test_an_award_above_the_ceiling_is_refused(world: World) -> None:
    call = _reviewing(world, budget_ceiling=Decimal("100000.00"))
    application = application_to(call, world.o1)  # asked 150,000 before the ceiling fell
    with pytest.raises(ValidationError) as exc:
        _award(application, _staff(world), "120000.00")
    assert exc.value.message_dict["amount"] == [
        "立项金额 ¥120,000.00 超过本指南单个项目资助上限 ¥100,000.00。"
    ]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("-1", "金额不能为负数。"),
        ("abc", "金额须为数字（元，最多两位小数）。"),
        ("1.234", "金额最多两位小数（精确到分）。"),
    ],
)
def test_the_decision_form_refuses_bad_amounts(raw: str, message: str) -> None:
    form = DecisionForm({"decision": "award", "amount": raw, "reason": "x"})
    assert form.errors["amount"] == [message]


def test_a_negative_award_is_refused_by_the_service(world: World) -> None:
    application = application_to(_reviewing(world), world.o1)
    with pytest.raises(ValidationError) as exc:
        _award(application, _staff(world), "-1")
    assert _messages(exc) == ["金额不能为负数。"]


def test_awards_may_not_exceed_the_calls_total(world: World) -> None:
    call = _reviewing(world, total_budget=Decimal("250000.00"))
    _award(application_to(call, world.o1), _staff(world), "150000.00")
    with pytest.raises(ValidationError) as exc:
        _award(application_to(call, world.o2), _staff(world), "100000.01")
    assert exc.value.message_dict["amount"] == [
        "本指南已立项 ¥150,000.00，再立项 ¥100,000.01 将超过计划资金 ¥250,000.00。"
    ]


def test_an_exhausted_pool_refuses_the_award(world: World) -> None:
    pool = BudgetPoolFactory(
        owner=world.d1, amount=Decimal("1000000.00"), allocated=Decimal("900000.00")
    )
    application = application_to(_reviewing(world, pool=pool), world.o1)
    with pytest.raises(ValidationError) as exc:
        _award(application, _staff(world), "100000.01")
    pool.refresh_from_db()
    application.refresh_from_db()
    assert (_messages(exc), pool.allocated, application.status) == (
        [f"资金池“{pool.name}”剩余可分配额 ¥100,000.00，不足以立项 ¥100,000.01。"],
        Decimal("900000.00"),
        ApplicationStatus.SUBMITTED,
    )


def test_the_pools_check_constraint_is_said_in_chinese(world: World) -> None:
    pool = BudgetPoolFactory(owner=world.d1, amount=Decimal("1000.00"), allocated=Decimal("900.00"))
    with pytest.raises(ValidationError) as exc:
        services.pool_reserve(pool=pool, amount=Decimal("100.01"))
    pool.refresh_from_db()
    assert (_messages(exc), pool.allocated) == (
        [f"资金池“{pool.name}”剩余可分配资金不足，立项金额 ¥100.01 未能预留。"],
        Decimal("900.00"),
    )


def test_an_organisation_graded_fail_last_year_cannot_be_awarded(world: World) -> None:
    last_year = BudgetPoolFactory(owner=world.d1, year=2025)
    ServiceProjectFactory(
        organization=world.o1,
        call=call_of(world.d1, pool=last_year),
        title="邻里互助计划",
        status=ProjectStatus.ACCEPTED,
        final_grade=Grade.FAIL,
    )
    application = application_to(_reviewing(world), world.o1)  # a 2026 pool
    with pytest.raises(ValidationError) as exc:
        _award(application, _staff(world))
    assert _messages(exc) == [
        "“阳光社工中心”承接的项目“邻里互助计划”（2025年度）结项评估为不合格，"
        "不能在2026年度的项目指南中立项。"
    ]


def test_a_fail_two_years_ago_does_not_bar_the_award(world: World) -> None:
    long_ago = BudgetPoolFactory(owner=world.d1, year=2024)
    ServiceProjectFactory(
        organization=world.o1,
        call=call_of(world.d1, pool=long_ago),
        status=ProjectStatus.ACCEPTED,
        final_grade=Grade.FAIL,
    )
    application = application_to(_reviewing(world), world.o1)
    assert _award(application, _staff(world)).status == ApplicationStatus.AWARDED


def test_an_award_waits_for_the_review_stage(world: World) -> None:
    application = application_to(call_of(world.d1, communities=[world.c1]), world.o1)
    with pytest.raises(ValidationError, match="只能在评审中作出立项决定"):
        _award(application, _staff(world))


def test_an_application_is_decided_once(world: World) -> None:
    application = application_to(_reviewing(world), world.o1)
    _award(application, _staff(world), "100000.00")
    with pytest.raises(ValidationError, match="不能执行“立项”"):
        _award(application, _staff(world), "100000.00")


def test_another_districts_staff_cannot_award(world: World) -> None:
    staff = UserFactory(organization=world.d2, roles=[Role.AREA_STAFF])
    application = application_to(_reviewing(world), world.o1)
    with pytest.raises(ValidationError, match="您无权管理"):
        _award(application, staff)


def test_a_social_organisation_manager_cannot_award(world: World) -> None:
    application = application_to(_reviewing(world), world.o1)
    with pytest.raises(ValidationError, match="只有市、区、街道工会工作人员"):
        _award(application, world.users[Role.SOCIAL_ORG_MANAGER])


def test_a_rejection_records_its_reasons(world: World) -> None:
    application = application_to(_reviewing(world), world.o1)
    services.application_reject(
        application=application, by=_staff(world), reason="服务对象覆盖不足", now=NOW
    )
    application.refresh_from_db()
    assert (application.status, application.decision_reason, application.decided_at) == (
        ApplicationStatus.REJECTED,
        "服务对象覆盖不足",
        NOW,
    )


def test_a_rejection_needs_reasons(world: World) -> None:
    application = application_to(_reviewing(world), world.o1)
    with pytest.raises(ValidationError) as exc:
        services.application_reject(application=application, by=_staff(world), reason="")
    assert exc.value.message_dict == {"reason": ["请填写不予立项的理由。"]}


def test_a_reviewer_who_has_scored_stays_on_the_panel(world: World) -> None:
    application = application_to(_reviewing(world), world.o1)
    _score(application, _evaluator(world), "80", "80", "80")
    with pytest.raises(ValidationError, match="已提交评分，不能移出评审名单"):
        services.call_remove_reviewer(
            call=application.call, by=_staff(world), reviewer=_evaluator(world)
        )


def test_a_reviewer_who_has_not_scored_is_removed(world: World) -> None:
    call = _reviewing(world)
    services.call_remove_reviewer(call=call, by=_staff(world), reviewer=_evaluator(world))
    assert list(call.reviewers.values_list("reviewer", flat=True)) == [
        world.users[Role.FEDERATION_STAFF].pk
    ]
