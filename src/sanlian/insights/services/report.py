"""项目评估报告: one service project's contract, indicators, outputs, pre/post change,
satisfaction, spend and milestones, gathered as frozen dataclasses for the page, the PDF and
the workbook. The caller has already found the project through `visible_to(user)`.

Every figure that the records cannot give is a `Figure` without a value and with the reason,
so that the report says "暂无" and why, instead of a 0 that looks like data."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Avg, Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from sanlian.delivery import outputs
from sanlian.delivery.models import (
    Activity,
    ActivityStatus,
    CaseContact,
    Demand,
    DemandStatus,
    Group,
    GroupMember,
    GroupMemberStatus,
    GroupSession,
    Registration,
)
from sanlian.delivery.services import activities as activity_services
from sanlian.delivery.services import cases as case_services
from sanlian.delivery.services import demands as demand_services
from sanlian.delivery.services import groups as group_services
from sanlian.delivery.services.groups import PairedSummary, paired_summary
from sanlian.organizations.models.workforce import split_hours
from sanlian.resources.models import (
    Disbursement,
    DisbursementStatus,
    MilestoneStatus,
    ServiceProject,
)
from sanlian.resources.money import CENT, ZERO
from sanlian.resources.services import indicators

TENTH = Decimal("0.1")
# A rating of 4 or 5 out of 5 counts as satisfied (满意 / 非常满意).
SATISFIED_FROM = 4
OPEN_MILESTONE = (MilestoneStatus.PENDING, MilestoneStatus.RETURNED)
IN_FLIGHT = (DisbursementStatus.REQUESTED, DisbursementStatus.APPROVED)


@dataclass(frozen=True)
class Figure:
    """A number of the report, or the reason there is none."""

    value: Decimal | None
    reason: str = ""  # a short clause in Chinese, without a full stop

    @property
    def missing(self) -> bool:
        return self.value is None


def _missing(reason: str) -> Figure:
    return Figure(None, reason)


def _percent(part: Decimal, whole: Decimal) -> Decimal:
    return (part * 100 / whole).quantize(TENTH, rounding=ROUND_HALF_UP)


# ---- sections --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Identity:
    title: str
    contract_number: str
    organization: str
    funder: str
    pool: str
    communities: tuple[str, ...]
    starts_on: dt.date
    ends_on: dt.date
    signed_on: dt.date | None
    amount: Decimal
    status: str
    status_label: str
    accepted_on: dt.date | None
    final_score: Decimal | None
    final_grade: str


@dataclass(frozen=True)
class IndicatorRow:
    kind: str
    name: str
    metric: str
    unit: str
    target: Decimal
    actual: Decimal | None
    source: str
    # The project page's completion rate (`Progress.percent`, capped at 100); None when
    # there is no actual figure (the page's 0 would pretend to be one).
    percent: int | None
    met: bool


@dataclass(frozen=True)
class PartCount:
    label: str
    count: int


@dataclass(frozen=True)
class Outputs:
    beneficiaries: Figure  # distinct people over all parts (outputs.beneficiaries)
    by_part: tuple[PartCount, ...]  # people per part, before counting each once
    cases: int
    groups: int
    group_sessions: int
    activities: int
    checked_in: int  # activity check-ins (with a person's companions not counted)
    times: tuple[outputs.TimeShare, ...]
    hours: Decimal
    hours_outside: Decimal
    share_outside: Figure  # % of the hours outside Mon–Fri 08:30–17:30

    @property
    def parts_total(self) -> int:
        return sum(p.count for p in self.by_part)


@dataclass(frozen=True)
class MemberScore:
    label: str  # 组员1, 组员2...: the report leaves the group page, names stay there
    pre: Decimal | None
    post: Decimal | None

    @property
    def change(self) -> Decimal | None:
        if self.pre is None or self.post is None:
            return None
        return self.post - self.pre


@dataclass(frozen=True)
class GroupChange:
    name: str
    kind_label: str
    phase_label: str
    scale_name: str
    scale_min: Decimal
    scale_max: Decimal
    higher_is_better: bool
    members: tuple[MemberScore, ...]  # those with at least one score
    enrolled: int
    summary: PairedSummary
    missing: str  # why there is no mean change, when there is none


@dataclass(frozen=True)
class SatisfactionSource:
    label: str
    basis: str  # what was rated, in a few words
    n: int
    mean: Figure  # 1–5
    satisfied_share: Figure  # % rating 4 or 5


@dataclass(frozen=True)
class Satisfaction:
    sources: tuple[SatisfactionSource, ...]
    missing: str  # when no source has a rating


@dataclass(frozen=True)
class Payment:
    tranche: str
    amount: Decimal
    paid_on: dt.date | None
    reference: str


@dataclass(frozen=True)
class Spend:
    amount: Decimal
    disbursed: Decimal
    remaining: Decimal
    disbursed_share: Decimal  # % of the contract amount
    in_flight: Decimal  # requested or approved, not yet paid
    payments: tuple[Payment, ...]
    cost_per_beneficiary: Figure  # disbursed ÷ beneficiaries
    contract_per_beneficiary: Figure  # contract amount ÷ beneficiaries


@dataclass(frozen=True)
class MilestoneRow:
    seq: int
    title: str
    due_on: dt.date
    status: str
    status_label: str
    reported_on: dt.date | None
    reviewed_on: dt.date | None
    review_note: str
    tranche_amount: Decimal | None
    overdue: bool


@dataclass(frozen=True)
class ProjectReport:
    project_pk: int
    generated_at: dt.datetime
    identity: Identity
    indicators: tuple[IndicatorRow, ...]
    outputs: Outputs
    groups: tuple[GroupChange, ...]
    groups_missing: str
    satisfaction: Satisfaction
    spend: Spend
    milestones: tuple[MilestoneRow, ...]

    @property
    def indicators_missing(self) -> str:
        return "" if self.indicators else _("合同未设绩效指标")

    @property
    def milestones_missing(self) -> str:
        return "" if self.milestones else _("合同未设项目节点")


# ---- gathering -------------------------------------------------------------------------------


def _identity(project: ServiceProject) -> Identity:
    communities = tuple(
        project.communities.order_by("organization__path").values_list("name", flat=True)
    )
    return Identity(
        title=project.title,
        contract_number=project.contract_number,
        organization=project.organization.name,
        funder=project.pool.owner.name,
        pool=str(project.pool),
        communities=communities,
        starts_on=project.starts_on,
        ends_on=project.ends_on,
        signed_on=project.signed_on,
        amount=project.amount,
        status=project.status,
        status_label=project.get_status_display(),
        accepted_on=project.accepted_on,
        final_score=project.final_score,
        final_grade=project.get_final_grade_display() if project.final_grade else "",
    )


def _indicators(project: ServiceProject) -> tuple[IndicatorRow, ...]:
    rows = []
    for p in indicators.project_progress(project):
        i = p.indicator
        rows.append(
            IndicatorRow(
                kind=i.get_kind_display(),
                name=i.name,
                metric=i.get_metric_display(),
                unit=i.unit,
                target=p.target,
                actual=p.actual,
                source=str(p.source_label),
                percent=p.percent if p.actual is not None else None,
                met=p.met,
            )
        )
    return tuple(rows)


def _times(project: ServiceProject) -> tuple[outputs.TimeShare, ...]:
    """The project's own services with their times, per part, split as the overview of
    `delivery.outputs` splits them (`split_hours`)."""
    parts: list[tuple[str, Iterable[tuple[dt.date, dt.time, dt.time]]]] = [
        (
            _("个案服务记录"),
            CaseContact.objects.filter(case__project=project).values_list(
                "served_on", "start_time", "end_time"
            ),
        ),
        (
            _("小组节次"),
            GroupSession.objects.filter(group__project=project)
            .held()
            .values_list("held_on", "starts_at", "ends_at"),
        ),
        (
            _("社区活动"),
            Activity.objects.filter(project=project)
            .done()
            .values_list("date", "start_time", "end_time"),
        ),
    ]
    shares = []
    for label, rows in parts:
        n, hours, outside = 0, Decimal(0), Decimal(0)
        for served_on, start, end in rows:
            total, out = split_hours(served_on, start, end)
            n, hours, outside = n + 1, hours + total, outside + out
        shares.append(outputs.TimeShare(label, n, hours, outside))
    return tuple(shares)


BeneficiaryPart = tuple[str, Callable[[ServiceProject], Iterable[str]]]


def _parts() -> tuple[BeneficiaryPart, ...]:
    return (
        (_("个案"), case_services.beneficiary_keys),
        (_("小组"), group_services.beneficiary_keys),
        (_("社区活动"), activity_services.beneficiary_keys),
        (_("诉求"), demand_services.project_beneficiaries),
    )


def _outputs(project: ServiceProject) -> Outputs:
    people = outputs.beneficiaries(project)
    by_part = tuple(PartCount(label, len(set(keys(project)))) for label, keys in _parts())
    times = _times(project)
    hours = sum((t.hours for t in times), Decimal(0))
    outside = sum((t.hours_outside for t in times), Decimal(0))
    return Outputs(
        beneficiaries=Figure(Decimal(len(people)))
        if people
        else _missing(_("尚无服务对象记录：个案、小组签到、活动签到、诉求均为空")),
        by_part=by_part,
        cases=int(case_services.count_taken(project)),
        groups=Group.objects.filter(project=project).count(),
        group_sessions=int(group_services.sessions_held(project)),
        activities=int(activity_services.activities_done_count(project)),
        checked_in=Registration.objects.checked_in()
        .filter(activity__project=project)
        .filter(activity__status__in=(ActivityStatus.PUBLISHED, ActivityStatus.DONE))
        .count(),
        times=times,
        hours=hours,
        hours_outside=outside,
        share_outside=Figure(_percent(outside, hours))
        if hours
        else _missing(_("尚无记录了起止时间的服务")),
    )


def _groups(project: ServiceProject) -> tuple[tuple[GroupChange, ...], str]:
    groups = list(Group.objects.filter(project=project).order_by("pk"))
    if not groups:
        return (), _("本项目没有登记小组工作")
    members: dict[int, list[GroupMember]] = {g.pk: [] for g in groups}
    for m in GroupMember.objects.filter(group__project=project).order_by("group", "pk"):
        members[m.group_id].append(m)
    out = []
    for g in groups:
        scored = [m for m in members[g.pk] if m.pre_score is not None or m.post_score is not None]
        pairs = [
            (m.pre_score, m.post_score)
            for m in scored
            if m.pre_score is not None and m.post_score is not None
        ]
        summary = paired_summary(pairs, higher_is_better=g.higher_is_better)
        if summary.n:
            missing = ""
        elif scored:
            missing = _("尚无组员同时录入前测与后测得分")
        else:
            missing = _("尚未录入前测、后测得分")
        out.append(
            GroupChange(
                name=g.name,
                kind_label=g.get_kind_display(),
                phase_label=g.get_phase_display(),
                scale_name=g.scale_name,
                scale_min=g.scale_min,
                scale_max=g.scale_max,
                higher_is_better=g.higher_is_better,
                members=tuple(
                    MemberScore(_("组员%(n)d") % {"n": n}, m.pre_score, m.post_score)
                    for n, m in enumerate(scored, start=1)
                ),
                enrolled=sum(1 for m in members[g.pk] if m.status == GroupMemberStatus.ENROLLED),
                summary=summary,
                missing=missing,
            )
        )
    return tuple(out), ""


def _rated(
    label: str, basis: str, n: int, mean: Decimal | None, satisfied: int
) -> SatisfactionSource:
    if not n or mean is None:
        return SatisfactionSource(label, basis, 0, _missing(_("尚无评价")), _missing(_("尚无评价")))
    return SatisfactionSource(
        label,
        basis,
        n,
        Figure(Decimal(mean).quantize(CENT, rounding=ROUND_HALF_UP)),
        Figure(_percent(Decimal(satisfied), Decimal(n))),
    )


def _satisfaction(project: ServiceProject) -> Satisfaction:
    satisfied = Count("pk", filter=Q(rating__gte=SATISFIED_FROM))
    feedback = (
        Registration.objects.filter(activity__project=project, rating__isnull=False)
        .order_by()
        .aggregate(n=Count("pk"), mean=Avg("rating"), satisfied=satisfied)
    )
    demands = (
        Demand.objects.filter(project=project, satisfaction__isnull=False)
        .exclude(status=DemandStatus.REJECTED)
        .order_by()
        .aggregate(
            n=Count("pk"),
            mean=Avg("satisfaction"),
            satisfied=Count("pk", filter=Q(satisfaction__gte=SATISFIED_FROM)),
        )
    )
    sources = (
        _rated(
            _("诉求办结评价"),
            _("居民对本项目承办诉求的满意度（1—5 分）"),
            demands["n"],
            demands["mean"],
            demands["satisfied"],
        ),
        _rated(
            _("活动参与者评价"),
            _("签到参与者对本项目活动的评分（1—5 分）"),
            feedback["n"],
            feedback["mean"],
            feedback["satisfied"],
        ),
    )
    missing = (
        ""
        if any(s.n for s in sources)
        else _("本项目的诉求与活动均尚无满意度评价；机构自报的满意度见“指标完成”")
    )
    return Satisfaction(sources, missing)


def _per(amount: Decimal, people: Figure, what: str) -> Figure:
    if people.value is None:
        return _missing(_("尚无服务对象记录，无法计算"))
    if not amount:
        return _missing(what)
    return Figure((amount / people.value).quantize(CENT, rounding=ROUND_HALF_UP))


def _spend(project: ServiceProject, people: Figure) -> Spend:
    disbursements = list(
        Disbursement.objects.filter(project=project)
        .filter(Q(status=DisbursementStatus.PAID) | Q(status__in=IN_FLIGHT))
        .select_related("tranche")
        .order_by("paid_at", "tranche__seq", "pk")
    )
    payments = tuple(
        Payment(
            tranche=str(d.tranche),
            amount=d.amount,
            paid_on=timezone.localdate(d.paid_at) if d.paid_at else None,
            reference=d.payment_reference,
        )
        for d in disbursements
        if d.status == DisbursementStatus.PAID
    )
    in_flight = sum((d.amount for d in disbursements if d.status in IN_FLIGHT), ZERO)
    return Spend(
        amount=project.amount,
        disbursed=project.disbursed,
        remaining=project.remaining,
        disbursed_share=_percent(project.disbursed, project.amount),
        in_flight=in_flight,
        payments=payments,
        cost_per_beneficiary=_per(project.disbursed, people, _("尚未拨付资金")),
        contract_per_beneficiary=_per(project.amount, people, _("合同金额为零")),
    )


def _milestones(project: ServiceProject, today: dt.date) -> tuple[MilestoneRow, ...]:
    rows = []
    for m in project.milestones.select_related("tranche").order_by("seq"):
        tranche = getattr(m, "tranche", None)
        rows.append(
            MilestoneRow(
                seq=m.seq,
                title=m.title,
                due_on=m.due_on,
                status=m.status,
                status_label=m.get_status_display(),
                reported_on=timezone.localdate(m.reported_at) if m.reported_at else None,
                reviewed_on=timezone.localdate(m.reviewed_at) if m.reviewed_at else None,
                review_note=m.review_note,
                tranche_amount=tranche.amount if tranche is not None else None,
                overdue=m.status in OPEN_MILESTONE and m.due_on < today,
            )
        )
    return tuple(rows)


def project_report(project: ServiceProject) -> ProjectReport:
    """The evaluation report of one project (load it with `pool__owner` and `organization`)."""
    out = _outputs(project)
    groups, groups_missing = _groups(project)
    return ProjectReport(
        project_pk=project.pk,
        generated_at=timezone.localtime().replace(microsecond=0),
        identity=_identity(project),
        indicators=_indicators(project),
        outputs=out,
        groups=groups,
        groups_missing=groups_missing,
        satisfaction=_satisfaction(project),
        spend=_spend(project, out.beneficiaries),
        milestones=_milestones(project, timezone.localdate()),
    )
