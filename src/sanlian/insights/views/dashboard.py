"""The 数据看板 page: an area's figures by section, each chart with its table beside it, each
table exportable (`?export=<table key>&format=xlsx`), drilling down to the child areas
(`?area=<organisation id>`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from sanlian.core.decorators import role_required
from sanlian.core.xlsx import export_response, wants_xlsx
from sanlian.delivery.models import DemandStatus
from sanlian.delivery.models.cases import CasePhase
from sanlian.organizations.models import Tier
from sanlian.resources.models import ProjectStatus

from ..services import dashboard as services
from ..services import snapshots
from ..services.dashboard import HERE, MONTHS, Breakdown, Dashboard, Figure, Num

TIER_COLORS = {"star": "#c9a227", "ordinary": "#607d8b", "weak": "#e07b39", "": "#9aa1a9"}
CENT, TENTH = Decimal("0.01"), Decimal("0.1")


@dataclass(frozen=True)
class Table:
    key: str
    title: str
    headers: Sequence[str]
    rows: Sequence[Sequence[Any]]
    links: Sequence[str] = ()  # the first cell's link, row by row ("" for none)
    note: str = ""
    label_columns: int = 1  # the leading columns that name the row (the rest are figures)

    def cells(self) -> list[tuple[str, list[tuple[Any, bool]]]]:
        """(link, [(value, is a number)]) for the template."""
        links = list(self.links) + [""] * (len(self.rows) - len(self.links))
        return [
            (link, [(v, isinstance(v, int | Decimal) and not isinstance(v, bool)) for v in row])
            for link, row in zip(links, self.rows, strict=True)
        ]


@dataclass(frozen=True)
class Panel:
    table: Table
    chart: dict[str, Any] | None = None

    @property
    def chart_id(self) -> str:
        return f"chart-{self.table.key}"

    @property
    def wide(self) -> bool:
        """A wide table goes under its chart rather than beside it."""
        return self.chart is None or len(self.table.headers) > 5


@dataclass(frozen=True)
class Stat:
    label: str
    value: Any
    note: str = ""


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    stats: Sequence[Stat] = ()
    panels: Sequence[Panel] = field(default_factory=list)


# ---- helpers -----------------------------------------------------------------------------------


def _rate(part: Num, whole: Num, per: int = 100, places: Decimal = TENTH) -> Decimal | None:
    return (Decimal(part) * per / Decimal(whole)).quantize(places) if whole else None


def _money(v: Num) -> Decimal:
    return Decimal(v).quantize(CENT)


def _tiers(d: Dashboard, *counts: Mapping[str, Any]) -> list[str]:
    """The tiers as columns: those of the area's communities and any the counts have (people
    living elsewhere); rows outside any community (本级) get their own column when present."""
    present = {c.tier for c in d.area.communities.values()}
    present |= {t for c in counts for t, v in c.items() if v}
    return [t for t in [*Tier.values, ""] if t in present]


def _tier_label(tier: str) -> str:
    return str(Tier(tier).label) if tier else _("未归属社区")


def _float(v: Any) -> float:
    return float(v) if v is not None else 0.0


def _series_by_tier(
    categories: Sequence[str], tiers: Sequence[str], value: Callable[[str], Sequence[Any]]
) -> dict[str, Any]:
    return {
        "_kind": "bar",
        "stack": True,
        "categories": list(categories),
        "series": [{"name": _tier_label(t), "data": [_float(v) for v in value(t)]} for t in tiers],
        "color": [TIER_COLORS[t] for t in tiers],
    }


def _tier_month_panel(
    d: Dashboard,
    key: str,
    title: str,
    figure: Figure,
    labels: list[str],
    note: str = "",
    places: Decimal | None = None,
) -> Panel:
    """A figure's months (rows) by tier (columns), as stacked bars; `places`: decimals."""

    def fmt(v: Num) -> Num:
        return Decimal(v).quantize(places) if places is not None else v

    tiers = _tiers(d, figure.by_tier)
    rows = [
        [label, *(fmt(figure.tier_month(t)[i]) for t in tiers), fmt(figure.by_month[i])]
        for i, label in enumerate(labels)
    ]
    table = Table(
        key,
        title,
        [_("月份"), *(_tier_label(t) for t in tiers), _("合计")],
        rows,
        note=note,
    )
    return Panel(table, _series_by_tier(labels, tiers, figure.tier_month))


def _breakdown_panel(
    d: Dashboard, key: str, title: str, breakdown: Breakdown, note: str = ""
) -> Panel:
    tiers = _tiers(d, breakdown.by_tier)
    rows: list[list[Any]] = []
    for dim in breakdown.dimensions:
        for share in dim.rows:
            rows.append(
                [
                    str(dim.label),
                    str(share.label),
                    *(share.by_tier.get(t, 0) for t in tiers),
                    share.total,
                    _rate(share.total, breakdown.total),
                ]
            )
    table = Table(
        key,
        title,
        [_("维度"), _("类别"), *(_tier_label(t) for t in tiers), _("合计"), _("占比（%）")],
        rows,
        note=note,
        label_columns=2,
    )
    age = breakdown.dimension("age")
    chart = _series_by_tier(
        [str(s.label) for s in age.rows],
        tiers,
        lambda t: [s.by_tier.get(t, 0) for s in age.rows],
    )
    return Panel(table, chart)


# ---- the overview: child areas and tiers ---------------------------------------------------------


Pick = Callable[[Figure], Num]


@dataclass(frozen=True)
class Group:
    """A group of the overview's columns, shown as one table for the child areas and one for
    the tiers: its columns, and the measures its charts compare."""

    key: str
    title: str
    headers: Sequence[str]
    row: Callable[[Dashboard, Pick], list[Any]]
    # (label, figure, per): the figure per `per` residents in the tier chart (per 0: as is).
    compare: Sequence[tuple[str, Callable[[Dashboard], Figure], int]]


def _organisation_row(d: Dashboard, at: Pick) -> list[Any]:
    o = d.organisation
    return [
        at(o.communities),
        at(o.population),
        at(o.members),
        _rate(at(o.members), at(o.population)),
        _rate(at(o.working_members), at(o.workers)),
        at(o.social_orgs),
        at(o.social_workers),
        at(o.volunteers),
    ]


def _needs_row(d: Dashboard, at: Pick) -> list[Any]:
    n, p = d.needs, d.projects
    return [
        at(n.responses),
        at(n.demands),
        at(n.open_demands),
        at(n.overdue_demands),
        at(p.projects),
        _money(at(p.contracted)),
        _money(at(p.funds)),
    ]


def _services_row(d: Dashboard, at: Pick) -> list[Any]:
    s, sat = d.services, d.satisfaction
    return [
        at(s.cases),
        at(s.sessions),
        at(s.activities),
        at(s.beneficiaries.people),
        Decimal(at(s.volunteer_hours)).quantize(TENTH),
        sat.average(at(sat.points), at(sat.rated)),
    ]


def _groups() -> list[Group]:
    return [
        Group(
            "org",
            _("组织联建"),
            [
                _("社区数"),
                _("常住人口"),
                _("会员数"),
                _("每百名居民会员数"),
                _("在职职工入会率（%）"),
                _("社会组织"),
                _("社工"),
                _("志愿者"),
            ],
            _organisation_row,
            [
                (_("会员数"), lambda d: d.organisation.members, 100),
                (_("志愿者"), lambda d: d.organisation.volunteers, 1000),
            ],
        ),
        Group(
            "needs",
            _("需求与项目"),
            [
                _("问卷答卷"),
                _("诉求"),
                _("未办结诉求"),
                _("超期诉求"),
                _("服务项目"),
                _("合同金额（元）"),
                _("到社区资金（元）"),
            ],
            _needs_row,
            [
                (_("诉求"), lambda d: d.needs.demands, 1000),
                (_("问卷答卷"), lambda d: d.needs.responses, 1000),
            ],
        ),
        Group(
            "services",
            _("服务与满意度"),
            [
                _("个案"),
                _("小组节次"),
                _("社区活动"),
                _("服务对象（登记居民）"),
                _("志愿服务时长（小时）"),
                _("满意度均分"),
            ],
            _services_row,
            [
                (_("服务对象"), lambda d: d.services.beneficiaries.people, 1000),
                (_("个案"), lambda d: d.services.cases, 1000),
            ],
        ),
    ]


def _figures(d: Dashboard) -> list[Figure]:
    """The figures of the overview."""
    o, n, p, s = d.organisation, d.needs, d.projects, d.services
    return [
        o.members,
        o.social_orgs,
        o.social_workers,
        o.volunteers,
        n.responses,
        n.demands,
        n.open_demands,
        p.projects,
        p.funds,
        s.cases,
        s.sessions,
        s.activities,
        s.beneficiaries.people,
        s.volunteer_hours,
    ]


def _child_pick(child_id: int) -> Pick:
    return lambda f: f.child(child_id)


def _tier_pick(tier: str) -> Pick:
    return lambda f: f.tier(tier)


def _total_pick(f: Figure) -> Num:
    return f.total


def _areas_panel(d: Dashboard, g: Group) -> Panel:
    area = d.area
    rows: list[list[Any]] = []
    links: list[str] = []
    for child in area.children:
        rows.append([child.name, *g.row(d, _child_pick(child.id))])
        links.append(f"?{urlencode({'area': child.id})}")
    here = g.row(d, _child_pick(HERE))
    if any(v for v in here if v):  # rows of the area itself (本级), or of a retired child area
        rows.append([_("本级及其他"), *here])
        links.append("")
    rows.append([_("合计"), *g.row(d, _total_pick)])
    table = Table(
        f"areas_{g.key}",
        _("下级区域：%(group)s") % {"group": g.title},
        [_("区域"), *g.headers],
        rows,
        links,
        note=_("点击区域名称查看其看板。"),
    )
    chart = {
        "_kind": "bar",
        "categories": [c.name for c in area.children],
        "series": [
            {"name": label, "data": [_float(figure(d).child(c.id)) for c in area.children]}
            for label, figure, _per in g.compare
        ],
    }
    return Panel(table, chart)


def _tiers_panel(d: Dashboard, g: Group) -> Panel:
    population = d.organisation.population
    tiers = _tiers(d, *(f.by_tier for f in _figures(d)))
    rows = [[_tier_label(t), *g.row(d, _tier_pick(t))] for t in tiers]
    rows.append([_("合计"), *g.row(d, _total_pick)])
    table = Table(
        f"tiers_{g.key}",
        _("按社区类别：%(group)s") % {"group": g.title},
        [_("类别"), *g.headers],
        rows,
    )
    chart = {
        "_kind": "bar",
        "categories": [_tier_label(t) for t in tiers],
        "series": [
            {
                "name": (_("每百名居民%(what)s") if per == 100 else _("每千名居民%(what)s"))
                % {"what": label},
                "data": [_float(_rate(figure(d).tier(t), population.tier(t), per)) for t in tiers],
            }
            for label, figure, per in g.compare
        ],
    }
    return Panel(table, chart)


def _overview(d: Dashboard) -> Section:
    o, s = d.organisation, d.services
    avg = d.satisfaction.total_average
    groups = _groups()
    panels = [_areas_panel(d, g) for g in groups] if d.area.children else []
    panels += [_tiers_panel(d, g) for g in groups]
    return Section(
        "overview",
        _("概览"),
        [
            Stat(_("社区"), o.communities.total, _("常住人口 %(n)s") % {"n": o.population.total}),
            Stat(_("工会会员"), o.members.total),
            Stat(
                _("近12个月服务对象"),
                s.beneficiaries.total,
                _("同一人只计一次"),
            ),
            Stat(
                _("诉求满意度"),
                avg if avg is not None else "—",
                _("%(n)s 条评价") % {"n": d.satisfaction.rated.total},
            ),
        ],
        panels,
    )


# ---- 组织联建 ------------------------------------------------------------------------------------


def _organisation(d: Dashboard) -> Section:
    o, labels = d.organisation, d.period.labels
    ub = o.union_building
    tiers = _tiers(d, o.social_orgs.by_tier, o.social_workers.by_tier, o.volunteers.by_tier)
    figures = [
        (_("社会组织"), o.social_orgs),
        (_("社工"), o.social_workers),
        (_("志愿者"), o.volunteers),
    ]
    workforce = Table(
        "workforce",
        _("社会组织、社工与志愿者"),
        [_("类别"), *(label for label, _f in figures)],
        [
            *([_tier_label(t), *(f.tier(t) for _l, f in figures)] for t in tiers),
            [_("合计"), *(f.total for _l, f in figures)],
        ],
        note=_("在岗社工；按所在机构或服务队所在社区归类。"),
    )
    return Section(
        "organisation",
        _("组织联建"),
        [
            Stat(
                _("每百名居民会员数"),
                _rate(o.members.total, o.population.total) or "—",
                _("会员 %(m)s / 常住人口 %(p)s") % {"m": o.members.total, "p": o.population.total},
            ),
            Stat(
                _("在职职工入会率"),
                f"{_rate(o.working_members.total, o.workers.total)}%" if o.workers.total else "—",
                _("在职会员 %(m)s / 在职职工 %(w)s")
                % {"m": o.working_members.total, "w": o.workers.total},
            ),
            Stat(
                _("建会入会"),
                f"{ub.founded} / {ub.organizations}",
                _("已建会 / 有记录的社会组织；入会 %(m)s / 职工 %(s)s")
                % {"m": ub.members, "s": ub.staff},
            ),
            Stat(
                _("社会组织 / 社工 / 志愿者"),
                f"{o.social_orgs.total} / {o.social_workers.total} / {o.volunteers.total}",
            ),
        ],
        [
            _tier_month_panel(
                d,
                "members_month",
                _("新入会会员（近12个月）"),
                o.new_members,
                labels,
                note=_("按入会时间；会员按所属工会所在社区归类。"),
            ),
            _breakdown_panel(
                d,
                "members_profile",
                _("会员构成"),
                o.member_breakdown,
                note=_("现有会员；按居住社区的类别。困难情况可多选，各项之和可大于合计。"),
            ),
            Panel(
                workforce,
                {
                    "_kind": "bar",
                    "categories": [label for label, _f in figures],
                    "series": [
                        {"name": _tier_label(t), "data": [f.tier(t) for _l, f in figures]}
                        for t in tiers
                    ],
                    "color": [TIER_COLORS[t] for t in tiers],
                },
            ),
        ],
    )


# ---- 需求 ------------------------------------------------------------------------------------------


def _needs(d: Dashboard) -> Section:
    n, labels = d.needs, d.period.labels
    tiers = _tiers(d, n.respondents_by_tier)
    need_rows = [
        [
            need.text,
            need.total,
            _rate(need.total, n.respondents),
            *(
                value
                for t in tiers
                for value in (
                    need.by_tier.get(t, 0),
                    _rate(need.by_tier.get(t, 0), n.respondents_by_tier.get(t, 0)),
                )
            ),
        ]
        for need in n.needs
    ]
    needs_table = Table(
        "needs",
        _("需求排行（近12个月）"),
        [
            _("需求"),
            _("选择人数"),
            _("占答题人数（%）"),
            *(
                h
                for t in tiers
                for h in (
                    _("%(tier)s：人数") % {"tier": _tier_label(t)},
                    _("%(tier)s：占比（%%）") % {"tier": _tier_label(t)},
                )
            ),
        ],
        need_rows,
        note=_("问卷中需求题的选项，同名选项合并计数；共 %(n)s 人答题。") % {"n": n.respondents},
    )
    needs_chart = {
        "_kind": "bar",
        "horizontal": True,
        "categories": [need.text for need in reversed(n.needs)],
        "series": [
            {
                "name": _tier_label(t),
                "data": [
                    _float(_rate(need.by_tier.get(t, 0), n.respondents_by_tier.get(t, 0)))
                    for need in reversed(n.needs)
                ],
            }
            for t in tiers
        ],
        "color": [TIER_COLORS[t] for t in tiers],
    }
    status_tiers = _tiers(d, *n.demands_by_status.values())
    statuses = list(DemandStatus)
    status_table = Table(
        "demands_status",
        _("诉求办理状态（近12个月受理）"),
        [_("状态"), *(_tier_label(t) for t in status_tiers), _("合计")],
        [
            [
                str(s.label),
                *(n.demands_by_status.get(s.value, {}).get(t, 0) for t in status_tiers),
                n.status_total(s.value),
            ]
            for s in statuses
        ]
        + [
            [
                _("合计"),
                *(n.demands.tier(t) for t in status_tiers),
                n.demands.total,
            ]
        ],
    )
    return Section(
        "needs",
        _("需求"),
        [
            Stat(_("问卷答卷"), n.responses.total, _("近12个月")),
            Stat(_("诉求"), n.demands.total, _("近12个月受理")),
            Stat(_("未办结诉求"), n.open_demands.total),
            Stat(_("超期诉求"), n.overdue_demands.total, _("受理或办结超过期限")),
        ],
        [
            _tier_month_panel(d, "responses_month", _("问卷答卷（按月）"), n.responses, labels),
            Panel(needs_table, needs_chart),
            Panel(
                status_table,
                _series_by_tier(
                    [str(s.label) for s in statuses],
                    status_tiers,
                    lambda t: [n.demands_by_status.get(s.value, {}).get(t, 0) for s in statuses],
                ),
            ),
            _tier_month_panel(d, "demands_month", _("诉求受理（按月）"), n.demands, labels),
        ],
    )


# ---- 项目 ------------------------------------------------------------------------------------------


def _projects(d: Dashboard) -> Section:
    p, labels = d.projects, d.period.labels
    progress = _rate(p.disbursed.total, p.contracted.total)
    tiers = _tiers(d, *p.by_status.values())
    statuses = list(ProjectStatus)
    stage_table = Table(
        "projects_stage",
        _("服务项目阶段"),
        [_("阶段"), *(_tier_label(t) for t in tiers), _("合计")],
        [
            [
                str(s.label),
                *(p.by_status.get(s.value, {}).get(t, 0) for t in tiers),
                p.status_totals.get(s.value, 0),
            ]
            for s in statuses
        ]
        + [[_("合计"), *(p.projects.tier(t) for t in tiers), p.projects.total]],
        note=_("服务本区域社区的项目；服务多个类别社区的项目在各类别中各计一次，合计只计一次。"),
    )
    money_rows: list[list[Any]] = []
    if p.pools is not None:
        pools = p.pools
        money_rows += [
            [_("资金池总额（%(year)s年）") % {"year": pools.year}, _money(pools.amount)],
            [_("资金池已分配"), _money(pools.allocated)],
            [_("资金池已签约"), _money(pools.contracted)],
            [_("资金池已拨付"), _money(pools.disbursed)],
        ]
        money_rows += [
            [
                _("其中限定%(tier)s社区") % {"tier": Tier(t).label},
                _money(pools.by_earmark.get(t, 0)),
            ]
            for t in Tier.values
            if pools.by_earmark.get(t)
        ]
    money_rows += [
        [_("项目合同金额"), _money(p.contracted.total)],
        [_("项目已拨付"), _money(p.disbursed.total)],
        [_("近12个月到社区资金"), _money(p.funds.total)],
    ]
    money_table = Table(
        "money",
        _("资金"),
        [_("项目"), _("金额（元）")],
        money_rows,
        note=_(
            "资金池为本级及下级所有的本年度资金池；到社区资金为拨付记入资源台账、按社区分摊的金额。"
        )
        if p.pools is not None
        else _("您的角色不查看资金池；项目金额为服务本区域社区的项目。"),
    )
    return Section(
        "projects",
        _("项目"),
        [
            Stat(
                _("服务项目"),
                p.projects.total,
                _("执行中 %(n)s") % {"n": p.status_totals.get(ProjectStatus.ACTIVE, 0)},
            ),
            Stat(_("合同金额（元）"), _money(p.contracted.total)),
            Stat(
                _("已拨付（元）"),
                _money(p.disbursed.total),
                _("拨付进度 %(r)s%%") % {"r": progress} if progress is not None else "",
            ),
            Stat(
                _("资金池（元）"),
                _money(p.pools.amount) if p.pools is not None else "—",
                _("本年度") if p.pools is not None else _("无权查看"),
            ),
        ],
        [
            Panel(
                stage_table,
                _series_by_tier(
                    [str(s.label) for s in statuses],
                    tiers,
                    lambda t: [p.by_status.get(s.value, {}).get(t, 0) for s in statuses],
                ),
            ),
            Panel(
                money_table,
                {
                    "_kind": "bar",
                    "horizontal": True,
                    "categories": [str(r[0]) for r in reversed(money_rows)],
                    "series": [
                        {
                            "name": _("金额（元）"),
                            "data": [_float(r[1]) for r in reversed(money_rows)],
                        }
                    ],
                },
            ),
            _tier_month_panel(
                d, "funds_month", _("到社区资金（按月，元）"), p.funds, labels, places=CENT
            ),
        ],
    )


# ---- 服务 ------------------------------------------------------------------------------------------


def _services(d: Dashboard) -> Section:
    s, labels = d.services, d.period.labels
    b = s.beneficiaries
    kinds = [
        (_("个案（接案）"), s.cases.by_month),
        (_("小组节次"), s.sessions.by_month),
        (_("社区活动"), s.activities.by_month),
        (_("服务对象"), b.people.by_month),
    ]
    month_table = Table(
        "services_month",
        _("服务量（按月）"),
        [_("月份"), *(k for k, _v in kinds)],
        [[label, *(v[i] for _k, v in kinds)] for i, label in enumerate(labels)],
        note=_("服务对象为当月接受个案、小组或活动服务的人数，同一人当月只计一次。"),
    )
    month_chart = {
        "_kind": "line",
        "categories": labels,
        "series": [{"name": k, "data": list(v)} for k, v in kinds],
    }
    hours = sum((t.hours for t in s.time_shares), Decimal(0))
    outside = sum((t.outside for t in s.time_shares), Decimal(0))
    share_rows = [[str(t.label), t.services, t.hours, t.outside, t.share] for t in s.time_shares]
    share_rows.append(
        [_("合计"), sum(t.services for t in s.time_shares), hours, outside, _rate(outside, hours)]
    )
    share_rows.append(
        [
            _("志愿服务时长（已确认）"),
            None,
            Decimal(s.volunteer_hours.total).quantize(TENTH),
            s.volunteer_outside.quantize(TENTH),
            _rate(s.volunteer_outside, s.volunteer_hours.total),
        ]
    )
    share_table = Table(
        "outside_hours",
        _("8小时以外服务（近12个月）"),
        [_("服务"), _("次数"), _("时长（小时）"), _("8小时以外（小时）"), _("占比（%）")],
        share_rows,
        note=_("8小时以外：周一至周五 8:30–17:30 以外的时间。"),
    )
    month_share = Table(
        "outside_month",
        _("8小时以外服务占比（按月）"),
        [_("月份"), _("时长（小时）"), _("8小时以外（小时）"), _("占比（%）")],
        [
            [label, h, o, _rate(o, h)]
            for label, (h, o) in zip(labels, s.outside_by_month, strict=True)
        ],
        note=_("个案服务记录、小组节次与社区活动。"),
    )
    phases = [p for p in CasePhase if s.open_cases.get(p.value)]
    cases_table = Table(
        "cases_phase",
        _("在办个案（按阶段）"),
        [_("阶段"), _("个案数")],
        [[str(p.label), s.open_cases[p.value]] for p in phases]
        + [[_("合计"), sum(s.open_cases.values())]],
        note=_("只统计数量，不显示个案内容。"),
    )
    return Section(
        "services",
        _("服务"),
        [
            Stat(
                _("服务对象"),
                b.total,
                _("近12个月，同一人只计一次；其中仅有手机号 %(n)s 人") % {"n": b.by_phone},
            ),
            Stat(
                _("个案 / 小组节次 / 活动"),
                f"{s.cases.total} / {s.sessions.total} / {s.activities.total}",
                _("近12个月"),
            ),
            Stat(
                _("志愿服务时长（小时）"),
                Decimal(s.volunteer_hours.total).quantize(TENTH),
                _("近12个月已确认"),
            ),
            Stat(
                _("8小时以外服务占比"),
                f"{_rate(outside, hours)}%" if hours else "—",
                _("个案、小组与活动的服务时长"),
            ),
        ],
        [
            Panel(month_table, month_chart),
            _breakdown_panel(
                d,
                "beneficiaries_profile",
                _("服务对象构成（近12个月）"),
                b.breakdown,
                note=_("已登记居民；按居住社区的类别。困难情况可多选。"),
            ),
            _tier_month_panel(
                d,
                "volunteer_month",
                _("志愿服务时长（按月，小时）"),
                s.volunteer_hours,
                labels,
                note=_("按志愿服务队所在社区归类。"),
                places=TENTH,
            ),
            Panel(
                share_table,
                {
                    "_kind": "bar",
                    "categories": [str(r[0]) for r in share_rows],
                    "series": [
                        {
                            "name": _("8小时以外占比（%）"),
                            "data": [_float(r[4]) for r in share_rows],
                        }
                    ],
                },
            ),
            Panel(
                month_share,
                {
                    "_kind": "line",
                    "categories": labels,
                    "series": [
                        {
                            "name": _("8小时以外占比（%）"),
                            "data": [_float(_rate(o, h)) for h, o in s.outside_by_month],
                        }
                    ],
                },
            ),
            Panel(
                cases_table,
                {
                    "_kind": "pie",
                    "categories": [str(p.label) for p in phases],
                    "series": [
                        {"name": _("个案数"), "data": [s.open_cases[p.value] for p in phases]}
                    ],
                },
            ),
        ],
    )


# ---- 满意度 ----------------------------------------------------------------------------------------


def _satisfaction(d: Dashboard) -> Section:
    sat, labels = d.satisfaction, d.period.labels
    tiers = _tiers(d, sat.rated.by_tier)
    scores = list(services.SCORES)
    dist = Table(
        "satisfaction_dist",
        _("满意度分布"),
        [_("评分"), *(_tier_label(t) for t in tiers), _("合计")],
        [
            [
                _("%(n)s分") % {"n": score},
                *(sat.distribution.get(score, {}).get(t, 0) for t in tiers),
                sat.score_total(score),
            ]
            for score in scores
        ]
        + [
            [_("评价数"), *(sat.rated.tier(t) for t in tiers), sat.rated.total],
            [
                _("平均分"),
                *(sat.average(sat.points.tier(t), sat.rated.tier(t)) for t in tiers),
                sat.total_average,
            ],
        ],
        note=_("近12个月受理的诉求中居民的评价（1–5分）。"),
    )
    months = Table(
        "satisfaction_month",
        _("满意度（按受理月份）"),
        [
            _("月份"),
            _("评价数"),
            _("平均分"),
            *(_("%(tier)s平均分") % {"tier": _tier_label(t)} for t in tiers),
        ],
        [
            [
                label,
                sat.rated.by_month[i],
                sat.average(sat.points.by_month[i], sat.rated.by_month[i]),
                *(
                    sat.average(sat.points.tier_month(t)[i], sat.rated.tier_month(t)[i])
                    for t in tiers
                ),
            ]
            for i, label in enumerate(labels)
        ],
    )
    return Section(
        "satisfaction",
        _("满意度"),
        [
            Stat(
                _("平均分"),
                sat.total_average if sat.total_average is not None else "—",
                _("满分 5 分"),
            ),
            Stat(_("评价数"), sat.rated.total, _("近12个月受理的诉求")),
            Stat(
                _("满意（4–5分）"),
                f"{_rate(sat.score_total(4) + sat.score_total(5), sat.rated.total)}%"
                if sat.rated.total
                else "—",
            ),
            Stat(
                _("不满意（1–2分）"),
                f"{_rate(sat.score_total(1) + sat.score_total(2), sat.rated.total)}%"
                if sat.rated.total
                else "—",
            ),
        ],
        [
            Panel(
                dist,
                _series_by_tier(
                    [_("%(n)s分") % {"n": score} for score in scores],
                    tiers,
                    lambda t: [sat.distribution.get(score, {}).get(t, 0) for score in scores],
                ),
            ),
            Panel(
                months,
                {
                    "_kind": "line",
                    "categories": labels,
                    "series": [
                        {
                            "name": _("平均分"),
                            "data": [
                                _float(sat.average(sat.points.by_month[i], sat.rated.by_month[i]))
                                for i in range(MONTHS)
                            ],
                        }
                    ],
                    "yAxis": {"type": "value", "min": 0, "max": 5},
                },
            ),
        ],
    )


# ---- the page --------------------------------------------------------------------------------------


def sections(d: Dashboard) -> list[Section]:
    return [
        _overview(d),
        _organisation(d),
        _needs(d),
        _projects(d),
        _services(d),
        _satisfaction(d),
    ]


def _export(request: HttpRequest, d: Dashboard, page: list[Section]) -> HttpResponse:
    key = request.GET.get("export", "")
    table = next((p.table for s in page for p in s.panels if p.table.key == key), None)
    if table is None:
        raise Http404
    return export_response(
        request,
        filename=f"dashboard-{d.area.node.id}-{key}.xlsx",
        title=table.title,
        headers=[*table.headers],
        rows=([v if v is not None else "" for v in row] for row in table.rows),
        object_type="insights.dashboard",
    )


def _area_id(request: HttpRequest) -> int | None:
    raw = request.GET.get("area", "")
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        raise Http404 from None


def _sections_html(d: Dashboard, area_query: str) -> tuple[str, Any]:
    """The sections' HTML and the sections (None when the HTML came from the cache). A
    snapshot's sections are the same for every reader who may see its pools or not, in one
    language, so they are drawn once (drawing them is most of the page's time)."""
    key = None
    if d.freshness.snapshot:
        key = ":".join(
            [
                "dashboard-html",
                str(snapshots.VERSION),
                str(d.area.node.id),
                d.as_of.isoformat(),
                translation.get_language() or "",
                "pools" if d.projects.pools is not None else "",
                area_query,
            ]
        )
        html = cache.get(key)
        if html is not None:
            return mark_safe(html), None  # noqa: S308  (our own template's output)
    page = sections(d)
    html = render_to_string(
        "insights/dashboard/_sections.html", {"sections": page, "area_query": area_query}
    )
    if key is not None:
        cache.set(key, html, timeout=snapshots.refresh_minutes() * 60 * 2)
    return mark_safe(html), page  # noqa: S308  (rendered just above, autoescaped)


@role_required(*services.ROLES)
def dashboard(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    area = services.area_for(user, _area_id(request))
    if area is None:
        raise Http404
    d = snapshots.dashboard_for(user, area, live=request.GET.get("live") == "1")
    if wants_xlsx(request):
        return _export(request, d, sections(d))
    area_query = f"area={area.node.id}&" if request.GET.get("area") else ""
    html, page = _sections_html(d, area_query)
    context = {
        "d": d,
        "area": area,
        "sections": page,
        "sections_html": html,
        "area_query": area_query,
        "tier_label": Tier(area.community.tier).label if area.community else "",
    }
    return render(request, "insights/dashboard/page.html", context)
