"""Budget allocation (资金分配): which projects to fund, a 0-1 integer program solved by HiGHS.

**Benefit (需求加权受益).** Candidate project i costs c_i 元 (to the 分), reaches n_i
beneficiaries, has the review score r_i (0–100) and lies in a community with the need score
s_i. Its need-weighted benefit is

    b_i = n_i × s_i × r_i / 100

**Model.** With x_i = 1 when project i is funded and 0 otherwise, B the budget pool,
α = ``max_community_share``, β = ``weak_floor``, M = ``max_per_org``, m =
``max_projects_per_org``:

    maximise    Σ_i b_i·x_i
    subject to  Σ_i c_i·x_i ≤ B                                  预算
                Σ_{i ∈ 社区 k} c_i·x_i ≤ α·B      for every community k      社区上限
                Σ_{i ∈ 薄弱社区} c_i·x_i ≥ β·B                            薄弱社区下限
                Σ_{i ∈ 组织 o} c_i·x_i ≤ M        for every organisation o  组织金额上限
                Σ_{i ∈ 组织 o} x_i ≤ m            for every organisation o  组织项目数上限
                x_i = 1 for must-fund projects, x_i = 0 for must-not-fund projects
                x_i ∈ {0, 1}

Every rule is optional except the budget. Amounts enter the model as whole 分 (B, α·B and M
rounded down, β·B rounded up — exact, because every sum of costs is a whole number of 分;
a share is read as its shortest decimal, 0.02 = 2/100). Rows that cannot bind (a community
whose candidates together stay under the cap) are left out.

**Solving.** HiGHS (``scipy.optimize.milp``) solves the model by branch and cut. "optimal"
means proven optimal within the relative gap ``mip_rel_gap`` (default 0.05 %; the proven gap
|best − bound| / |best| is reported); "gap" means the time limit (which bounds the whole
call) stopped it with a feasible solution, and its proven gap is reported. Two exact
rewritings keep HiGHS fast at city scale (1,500 communities, 6,000 projects; measured in
``bench/allocation.py``): the budget row, the weak-floor row and the objective are written
over continuous block subtotals s_b = Σ_{i∈b} c_i·x_i and v_b = Σ_{i∈b} b_i·x_i (blocks of
at most 80 projects, never mixing weak and other communities), i.e. Σ_b s_b ≤ B,
Σ_{weak b} s_b ≥ β·B, maximise Σ_b v_b — the same feasible sets and LP relaxation, but no
row spans 6,000 columns, which HiGHS's conflict analysis otherwise walks end to end for
every bound it explains; and HiGHS's presolve and root reduced-cost sub-MIP are switched off
(they spent seconds there and removed nothing). The chosen set is then checked against every
rule in exact Decimal arithmetic.

**Contradictory rules (规则冲突)** raise ``Infeasible`` with an explanation: first direct
checks (must-fund ∩ must-not-fund, must-fund cost over the budget or over a community or
organisation cap, a weak floor above what weak communities applied for …), otherwise a
deletion filter over the rule groups (budget, community cap, weak floor, organisation amount
cap, organisation project cap, must-fund, must-not-fund): each group is dropped in turn and
stays dropped if the rest is still infeasible (feasibility decided by HiGHS), which leaves a
minimal conflicting set — removing any one of its rules makes the others satisfiable. A small
must-fund or must-not-fund list in the conflict is narrowed to its conflicting projects the
same way. A budget smaller than every project is not a conflict: funding nothing is feasible,
and an empty allocation is returned with a note (unless a weak floor or a must-fund list
demands spending).

**Baselines.** ``baseline_by_review`` funds by review score (ties: lower cost, then lower id)
while the money lasts; a project that no longer fits is skipped and the next one is tried.
``allocation_from_ids`` evaluates any given set (e.g. last year's actual distribution) with
the same sums and objective.
"""

from __future__ import annotations

import dataclasses
import math
import time
import warnings
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt
from django.utils.translation import gettext as _

from sanlian.insights.methods import MethodError

if TYPE_CHECKING:  # SciPy is imported when a model is solved: web workers stay lean
    from scipy import sparse
    from scipy.optimize import LinearConstraint

TIERS = ("star", "ordinary", "weak")
RuleKey = Literal[
    "budget",
    "max_community_share",
    "weak_floor",
    "max_per_org",
    "max_projects_per_org",
    "must_fund",
    "must_not_fund",
]
# The deletion filter drops groups in this order, so among several conflicts it keeps the
# one made of the rules a union sets deliberately (floor, budget) rather than bookkeeping.
FILTER_ORDER: tuple[RuleKey, ...] = (
    "must_not_fund",
    "max_projects_per_org",
    "max_per_org",
    "max_community_share",
    "must_fund",
    "budget",
    "weak_floor",
)
Status = Literal["optimal", "gap", "baseline", "given"]
# Must-fund / must-not-fund lists up to this size are narrowed to the projects in conflict.
REFINE_ITEMS = 20
MAX_LISTED = 30
_FEN = Decimal(100)
# Money enters HiGHS in units of ¥100: coefficients 10²–10⁴ for realistic projects, while
# one 分 (10⁻⁴) stays far above the solver's feasibility tolerances.
_UNIT = 10_000.0
# Subtotal blocks of the budget, weak-floor and objective rows (see _formulate).
_BLOCK = 80
# Measured on the city instance (bench/allocation.py): HiGHS's presolve (dominated columns,
# parallel rows, substituting the block subtotals back) and its root reduced-cost sub-MIP
# spend seconds there and remove nothing; without them the same proven optimum comes several
# times sooner. Both are plain HiGHS options: the search stays HiGHS's branch and cut.
# The objective is scaled to a largest benefit of 1, so HiGHS's default absolute gap (10⁻⁶)
# would be a second, hidden tolerance: only ``mip_rel_gap`` decides.
_HIGHS_OPTIONS: dict[str, Any] = {
    "presolve": False,
    "mip_heuristic_run_root_reduced_cost": False,
    "mip_abs_gap": 0.0,
}

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Candidate:
    """A project application: cost in 元 (Decimal, to the 分), need score of its community."""

    id: int
    cost: Decimal
    beneficiaries: int
    community_id: int
    tier: str  # "star" 明星 / "ordinary" 普通 / "weak" 薄弱
    field: str
    org_id: int | None
    review_score: float  # 0–100
    need_score: float  # ≥ 0
    label: str = ""


@dataclass(frozen=True)
class Rules:
    """The union's rules; every one but the budget is optional."""

    budget: Decimal
    max_community_share: float | None = None  # of the budget, per community
    weak_floor: float | None = None  # of the budget, to weak communities at least
    max_per_org: Decimal | None = None  # 元 per social organisation
    max_projects_per_org: int | None = None
    must_fund: frozenset[int] = frozenset()
    must_not_fund: frozenset[int] = frozenset()


@dataclass(frozen=True)
class GroupSum:
    """What one community or tier receives."""

    amount: Decimal
    projects: int
    beneficiaries: int
    benefit: float


@dataclass(frozen=True)
class Allocation:
    """A set of funded projects with its sums; status says how it was obtained."""

    chosen: tuple[int, ...]  # sorted ids
    objective: float  # Σ b_i over the chosen projects
    spent: Decimal
    budget: Decimal | None
    leftover: Decimal | None  # budget − spent
    status: Status  # optimal / gap (solver), baseline, given
    gap: float | None  # proven relative gap (solver only)
    solver_seconds: float  # time inside milp
    total_seconds: float  # the whole call
    by_community: Mapping[int, GroupSum]  # every community with candidates
    by_tier: Mapping[str, GroupSum]  # star, ordinary, weak
    notes: tuple[str, ...] = ()


class Infeasible(MethodError):
    """Rules no set of projects can satisfy. ``details`` explain it in Chinese; ``conflicts``
    are the conflicting sets of rule groups found (keys of ``RuleKey``; each set infeasible on
    its own, and feasible without any one of its groups); ``rules`` is their union."""

    def __init__(
        self,
        message: str,
        *,
        details: list[str] | None = None,
        conflicts: Iterable[frozenset[str]] = (),
    ) -> None:
        super().__init__(message, details=details)
        self.conflicts: tuple[frozenset[str], ...] = tuple(conflicts)
        self.rules: frozenset[str] = frozenset().union(*self.conflicts)


def benefit(c: Candidate) -> float:
    """b = beneficiaries × need_score × review_score / 100."""
    return c.beneficiaries * c.need_score * c.review_score / 100


# ---------------------------------------------------------------------------------------
# Formatting


def _yuan(amount: Decimal | int, *, fen: bool = False) -> str:
    value = Decimal(amount).scaleb(-2) if fen else Decimal(amount)
    return f"¥{value:,.2f}"


def _pct(share: float) -> str:
    return f"{share * 100:g}%"


def _project(c: Candidate) -> str:
    if c.label:
        return _("项目“%(label)s”（编号 %(id)s）") % {"label": c.label, "id": c.id}
    return _("项目（编号 %(id)s）") % {"id": c.id}


def _listing(names: Sequence[str]) -> str:
    shown = "、".join(names[:MAX_LISTED])
    if len(names) > MAX_LISTED:
        shown += _("等 %(n)s 个") % {"n": len(names)}
    return shown


# ---------------------------------------------------------------------------------------
# Input


@dataclass(frozen=True)
class _Pool:
    """The candidates as arrays (position i ↔ items[i])."""

    items: tuple[Candidate, ...]
    pos: dict[int, int]
    cost_fen: IntArray
    benefit: FloatArray
    beneficiaries: IntArray
    comm: npt.NDArray[np.intp]  # community index per candidate
    communities: IntArray  # community ids, sorted
    community_tier: tuple[str, ...]
    tier: npt.NDArray[np.intp]  # index into TIERS
    org: npt.NDArray[np.intp]  # org index per candidate, -1 without an organisation
    orgs: IntArray
    block: npt.NDArray[np.intp]  # subtotal block per candidate (see _formulate)
    block_weak: BoolArray  # per block: made of weak-community candidates

    @property
    def weak(self) -> BoolArray:
        return self.tier == TIERS.index("weak")

    @property
    def blocks(self) -> int:
        return len(self.block_weak)


@dataclass(frozen=True)
class _Model:
    """The rules in 分 with candidate positions, plus the names for messages."""

    pool: _Pool
    rules: Rules
    budget_fen: int
    cap_fen: int | None
    floor_fen: int | None
    org_amount_fen: int | None
    org_count: int | None
    must: tuple[int, ...]  # positions
    must_not: tuple[int, ...]
    community_names: Mapping[int, str]
    org_names: Mapping[int, str]

    def groups(self) -> frozenset[str]:
        active: set[str] = {"budget"}
        for key, value in (
            ("max_community_share", self.cap_fen),
            ("weak_floor", self.floor_fen),
            ("max_per_org", self.org_amount_fen),
            ("max_projects_per_org", self.org_count),
        ):
            if value is not None:
                active.add(key)
        if self.must:
            active.add("must_fund")
        if self.must_not:
            active.add("must_not_fund")
        return frozenset(active)

    def community(self, community_id: int) -> str:
        name = self.community_names.get(community_id)
        if name:
            return _("社区“%(name)s”") % {"name": name}
        return _("社区（编号 %(id)s）") % {"id": community_id}

    def organisation(self, org_id: int) -> str:
        name = self.org_names.get(org_id)
        if name:
            return _("社会组织“%(name)s”") % {"name": name}
        return _("社会组织（编号 %(id)s）") % {"id": org_id}


def _is_real(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _is_int(value: object) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def _as_money(value: object) -> Decimal | None:
    """Decimal or int 元 as a finite Decimal; None for anything else (floats included:
    money never goes through binary floating point)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, Decimal) and value.is_finite():
        return value
    return None


def _pool(candidates: Iterable[Candidate]) -> _Pool:
    items = tuple(candidates)
    if not items:
        raise MethodError(_("没有候选项目，无法分配资金。请先录入项目申报。"))
    problems: list[str] = []
    pos: dict[int, int] = {}
    fen: list[int] = []
    tiers: dict[int, str] = {}
    for i, c in enumerate(items):
        if not isinstance(c, Candidate):
            problems.append(_("第 %(n)s 个候选项不是项目申报。") % {"n": i + 1})
            fen.append(0)
            continue
        if not _is_int(c.id):
            problems.append(_("%(p)s的编号不是整数。") % {"p": _project(c)})
        elif c.id in pos:
            problems.append(_("项目编号 %(id)s 重复出现，每个项目只能申报一次。") % {"id": c.id})
        else:
            pos[c.id] = i
        cost = _as_money(c.cost)
        if cost is None or cost <= 0:
            problems.append(
                _("%(p)s的费用“%(cost)s”无效：费用必须是大于零的金额（元）。")
                % {"p": _project(c), "cost": c.cost}
            )
            fen.append(0)
        else:
            scaled = cost * _FEN
            if scaled != scaled.to_integral_value():
                problems.append(
                    _("%(p)s的费用 %(cost)s 元精确到了分以下，请按分填写。")
                    % {"p": _project(c), "cost": cost}
                )
            fen.append(int(scaled))
        if not _is_int(c.beneficiaries) or c.beneficiaries < 0:
            problems.append(
                _("%(p)s的受益人数“%(n)s”无效：必须是不小于零的整数。")
                % {"p": _project(c), "n": c.beneficiaries}
            )
        if not _is_real(c.need_score) or c.need_score < 0:
            problems.append(
                _("%(p)s所在社区的需求得分“%(s)s”无效：必须是不小于零的数。")
                % {"p": _project(c), "s": c.need_score}
            )
        if not _is_real(c.review_score) or not 0 <= c.review_score <= 100:
            problems.append(
                _("%(p)s的评审得分“%(s)s”无效：必须在 0 到 100 之间。")
                % {"p": _project(c), "s": c.review_score}
            )
        if c.tier not in TIERS:
            problems.append(
                _(
                    "%(p)s的社区分层“%(t)s”无效：应为 star（明星）、ordinary（普通）或 weak（薄弱）。"
                )
                % {"p": _project(c), "t": c.tier}
            )
        elif not _is_int(c.community_id):
            problems.append(_("%(p)s的社区编号不是整数。") % {"p": _project(c)})
        elif tiers.setdefault(c.community_id, c.tier) != c.tier:
            problems.append(
                _(
                    "社区（编号 %(id)s）的项目分层不一致（%(a)s 与 %(b)s），同一社区只能属于一个分层。"
                )
                % {"id": c.community_id, "a": tiers[c.community_id], "b": c.tier}
            )
        if c.org_id is not None and not _is_int(c.org_id):
            problems.append(_("%(p)s的社会组织编号不是整数。") % {"p": _project(c)})
    if problems:
        if len(problems) == 1:
            raise MethodError(problems[0], details=problems)
        raise MethodError(
            _("候选项目数据有 %(n)s 处问题，请修正后再计算。") % {"n": len(problems)},
            details=problems,
        )
    # One pass above, numpy below: the solver's arrays without Python loops over rows.
    community_ids = np.fromiter((c.community_id for c in items), np.int64, len(items))
    communities, comm = np.unique(community_ids, return_inverse=True)
    org_ids = np.fromiter(
        (-1 if c.org_id is None else c.org_id for c in items), np.int64, len(items)
    )
    has_org = np.fromiter((c.org_id is not None for c in items), np.bool_, len(items))
    orgs, org_inv = np.unique(org_ids[has_org], return_inverse=True)
    org = np.full(len(items), -1, np.intp)
    org[has_org] = org_inv
    beneficiaries = np.fromiter((c.beneficiaries for c in items), np.int64, len(items))
    need = np.fromiter((c.need_score for c in items), np.float64, len(items))
    review = np.fromiter((c.review_score for c in items), np.float64, len(items))
    tier_index = {t: k for k, t in enumerate(TIERS)}
    tier = np.fromiter((tier_index[c.tier] for c in items), np.intp, len(items))
    block, block_weak = _blocks(tier == tier_index["weak"], comm)
    return _Pool(
        items=items,
        pos=pos,
        cost_fen=np.asarray(fen, np.int64),
        benefit=beneficiaries * need * review / 100,
        beneficiaries=beneficiaries,
        comm=comm.astype(np.intp),
        communities=communities,
        community_tier=tuple(tiers[int(k)] for k in communities),
        tier=tier,
        org=org,
        orgs=orgs,
        block=block,
        block_weak=block_weak,
    )


def _blocks(weak: BoolArray, comm: npt.NDArray[np.intp]) -> tuple[npt.NDArray[np.intp], BoolArray]:
    """Candidates cut into blocks of at most ``_BLOCK``: non-weak ones first, then weak ones,
    each in community order (a block never mixes weak and other candidates)."""
    n = len(weak)
    order = np.lexsort((np.arange(n), comm, weak))
    others = int(n - weak.sum())
    first_weak = -(-others // _BLOCK)
    rank = np.arange(n)
    in_weak = weak[order]
    sorted_block = np.where(in_weak, first_weak + (rank - others) // _BLOCK, rank // _BLOCK)
    block = np.empty(n, np.intp)
    block[order] = sorted_block
    count = first_weak + -(-(n - others) // _BLOCK)
    return block, np.arange(count) >= first_weak


def _share_dec(share: float) -> Decimal:
    # The shortest decimal that round-trips: 0.02 is read as 2/100, not 0.0200000000000000004.
    return Decimal(repr(float(share)))


def _model(
    pool: _Pool,
    rules: Rules,
    community_names: Mapping[int, str] | None,
    org_names: Mapping[int, str] | None,
) -> _Model:
    if not isinstance(rules, Rules):
        raise MethodError(_("缺少资助规则（预算等），无法计算。"))
    problems: list[str] = []
    budget = _as_money(rules.budget)
    if budget is None or budget <= 0:
        problems.append(_("预算“%(b)s”无效：必须是大于零的金额（元）。") % {"b": rules.budget})
    for value, label in (
        (rules.max_community_share, _("单个社区资金上限比例")),
        (rules.weak_floor, _("薄弱社区资金下限比例")),
    ):
        if value is not None and (not _is_real(value) or not 0 < value <= 1):
            problems.append(
                _("%(rule)s“%(v)s”无效：应在 0 到 1 之间（不含 0，例如 0.02 表示 2%%）。")
                % {"rule": label, "v": value}
            )
    org_cap = None if rules.max_per_org is None else _as_money(rules.max_per_org)
    if rules.max_per_org is not None and (org_cap is None or org_cap <= 0):
        problems.append(
            _("单个社会组织资金上限“%(v)s”无效：必须是大于零的金额（元）。")
            % {"v": rules.max_per_org}
        )
    count = rules.max_projects_per_org
    if count is not None and (not _is_int(count) or count < 1):
        problems.append(
            _("单个社会组织项目数上限“%(v)s”无效：必须是不小于 1 的整数。") % {"v": count}
        )
    for ids, label in ((rules.must_fund, _("必须资助")), (rules.must_not_fund, _("不得资助"))):
        unknown = sorted((i for i in ids if i not in pool.pos), key=str)
        if unknown:
            problems.append(
                _("%(rule)s的项目编号 %(ids)s 不在候选项目中，请检查。")
                % {"rule": label, "ids": _listing([str(i) for i in unknown])}
            )
    if problems:
        if len(problems) == 1:
            raise MethodError(problems[0], details=problems)
        raise MethodError(
            _("资助规则有 %(n)s 处问题，请修正后再计算。") % {"n": len(problems)},
            details=problems,
        )
    assert budget is not None
    budget_fen_exact = budget * _FEN

    def share_fen(share: float | None, rounding: str) -> int | None:
        if share is None:
            return None
        return int((_share_dec(share) * budget_fen_exact).to_integral_value(rounding=rounding))

    return _Model(
        pool=pool,
        rules=rules,
        budget_fen=int(budget_fen_exact.to_integral_value(rounding=ROUND_FLOOR)),
        cap_fen=share_fen(rules.max_community_share, ROUND_FLOOR),
        floor_fen=share_fen(rules.weak_floor, ROUND_CEILING),
        org_amount_fen=None
        if org_cap is None
        else int((org_cap * _FEN).to_integral_value(rounding=ROUND_FLOOR)),
        org_count=None if count is None else int(count),
        must=tuple(sorted(pool.pos[i] for i in rules.must_fund)),
        must_not=tuple(sorted(pool.pos[i] for i in rules.must_not_fund)),
        community_names=community_names or {},
        org_names=org_names or {},
    )


# ---------------------------------------------------------------------------------------
# The MIP


@dataclass(frozen=True)
class _Rows:
    """The rules as rows over x in 分 (whole numbers, exact in float64)."""

    matrix: sparse.csr_array  # rows × candidates; possibly no rows
    lb: FloatArray
    ub: FloatArray
    budget: int | None  # index of the budget row
    weak: int | None  # index of the weak-floor row


def _rows(m: _Model, groups: Collection[str]) -> _Rows:
    """The rows of the rule groups given, built vectorised: one for the budget, one per
    community or organisation whose candidates together could exceed its cap (the others
    cannot bind), one for the weak floor."""
    from scipy import sparse

    p = m.pool
    n = len(p.items)
    cost = p.cost_fen.astype(np.float64)
    cols_all = np.arange(n)
    rows: list[npt.NDArray[np.intp]] = []
    cols: list[npt.NDArray[np.intp]] = []
    data: list[FloatArray] = []
    lbs: list[FloatArray] = []
    ubs: list[FloatArray] = []
    nrow = 0

    def add(
        row_of: npt.NDArray[np.intp],
        mask: BoolArray,
        values: FloatArray,
        lb: float,
        ub: float,
        count: int,
    ) -> None:
        nonlocal nrow
        rows.append(nrow + row_of)
        cols.append(cols_all[mask])
        data.append(values[mask])
        lbs.append(np.full(count, lb))
        ubs.append(np.full(count, ub))
        nrow += count

    def grouped(index: npt.NDArray[np.intp], size: int, values: FloatArray, limit: int) -> None:
        member = index >= 0
        totals = np.bincount(index[member], weights=values[member], minlength=size)
        binding = totals > limit
        row_map = np.full(size, -1, np.intp)
        row_map[binding] = np.arange(int(binding.sum()))
        mask = member.copy()
        mask[member] = binding[index[member]]
        add(row_map[index[mask]], mask, values, -np.inf, float(limit), int(binding.sum()))

    budget = weak_row = None
    if "budget" in groups:
        budget = nrow
        everything = np.ones(n, np.bool_)
        add(np.zeros(n, np.intp), everything, cost, -np.inf, float(m.budget_fen), 1)
    if "max_community_share" in groups and m.cap_fen is not None:
        grouped(p.comm, len(p.communities), cost, m.cap_fen)
    if "weak_floor" in groups and m.floor_fen:
        weak_row = nrow
        weak = p.weak
        add(np.zeros(int(weak.sum()), np.intp), weak, cost, float(m.floor_fen), np.inf, 1)
    if "max_per_org" in groups and m.org_amount_fen is not None:
        grouped(p.org, len(p.orgs), cost, m.org_amount_fen)
    if "max_projects_per_org" in groups and m.org_count is not None:
        grouped(p.org, len(p.orgs), np.ones(n), m.org_count)
    empty = np.zeros(0, np.intp)
    matrix = sparse.csr_array(
        (
            np.concatenate([*data, np.zeros(0)]),
            (np.concatenate([*rows, empty]), np.concatenate([*cols, empty])),
        ),
        shape=(nrow, n),
    )
    return _Rows(
        matrix,
        np.concatenate([*lbs, np.zeros(0)]),
        np.concatenate([*ubs, np.zeros(0)]),
        budget,
        weak_row,
    )


def _formulate(
    m: _Model, r: _Rows, objective: bool
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, LinearConstraint | None]:
    """The rows as HiGHS gets them: cost c, integrality, column bounds, constraint.

    Columns: x (one binary per candidate), then, when the budget or weak floor is on, a
    continuous subtotal s_b = Σ_{i∈b} c_i·x_i per block b of ≤ ``_BLOCK`` candidates, then,
    with an objective, v_b = Σ_{i∈b} b_i·x_i. The budget row becomes Σ_b s_b ≤ B, the weak
    floor Σ_{weak b} s_b ≥ β·B (blocks never mix tiers), the objective max Σ_b v_b: the same
    feasible sets and LP relaxation, but no row or objective spans all candidates — HiGHS's
    conflict analysis walks a row end to end for each bound it explains, which made dense
    6,000-column rows cost seconds (measured, bench/allocation.py)."""
    from scipy import sparse
    from scipy.optimize import LinearConstraint

    p = m.pool
    n, nb = len(p.items), p.blocks
    dense = [i for i in (r.budget, r.weak) if i is not None]
    top = float(p.benefit.max())
    with_v = objective and top > 0
    s0 = n
    v0 = s0 + (nb if dense else 0)
    width = v0 + (nb if with_v else 0)
    keep = np.ones(r.matrix.shape[0], np.bool_)
    keep[dense] = False
    plain = r.matrix[keep].tocoo()
    rows = [plain.row.astype(np.intp)]
    cols = [plain.col.astype(np.intp)]
    vals = [plain.data / _UNIT]
    lbs, ubs = [r.lb[keep] / _UNIT], [r.ub[keep] / _UNIT]
    nrow = plain.shape[0]
    blocks = np.arange(nb)
    items = np.arange(n)

    def subtotal(values: FloatArray, first: int) -> None:
        # Σ_{i∈b} value_i·x_i − column_b = 0 for every block b.
        nonlocal nrow
        rows.extend([nrow + p.block, nrow + blocks])
        cols.extend([items, first + blocks])
        vals.extend([values, -np.ones(nb)])
        lbs.append(np.zeros(nb))
        ubs.append(np.zeros(nb))
        nrow += nb

    col_lb = [np.zeros(width - n)]
    col_ub: list[FloatArray] = []
    if dense:
        cost = p.cost_fen / _UNIT
        subtotal(cost, s0)
        col_ub.append(np.bincount(p.block, weights=cost, minlength=nb).astype(np.float64))
        for i in dense:
            members = blocks if i == r.budget else np.flatnonzero(p.block_weak)
            rows.append(np.full(members.size, nrow, np.intp))
            cols.append(s0 + members)
            vals.append(np.ones(members.size))
            lbs.append(r.lb[i : i + 1] / _UNIT)
            ubs.append(r.ub[i : i + 1] / _UNIT)
            nrow += 1
    c = np.zeros(width)
    if with_v:
        # Benefits scaled to at most 1: the same search whether needs run 0–1 or 0–100.
        value = p.benefit / top
        subtotal(value, v0)
        col_ub.append(np.bincount(p.block, weights=value, minlength=nb).astype(np.float64))
        c[v0:] = -1.0
    integrality = np.zeros(width)
    integrality[:n] = 1
    constraint = None
    if nrow:
        matrix = sparse.csr_array(
            (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
            shape=(nrow, width),
        )
        constraint = LinearConstraint(matrix, np.concatenate(lbs), np.concatenate(ubs))
    return (
        c,
        integrality,
        np.concatenate(col_lb),
        np.concatenate([*col_ub, np.zeros(0)]),
        constraint,
    )


@dataclass
class _Run:
    x: BoolArray | None
    status: int
    gap: float | None
    seconds: float


def _milp(
    m: _Model,
    groups: Collection[str],
    *,
    objective: bool,
    time_limit: float,
    mip_rel_gap: float,
    must: Sequence[int] | None = None,
    must_not: Sequence[int] | None = None,
    rows: _Rows | None = None,
) -> _Run:
    """One HiGHS solve over the given rule groups (objective off: a feasibility check)."""
    from scipy.optimize import Bounds, milp

    p = m.pool
    n = len(p.items)
    lower = np.zeros(n)
    upper = np.ones(n)
    if "must_fund" in groups:
        lower[list(m.must if must is None else must)] = 1
    if "must_not_fund" in groups:
        upper[list(m.must_not if must_not is None else must_not)] = 0
    if np.any(lower > upper):
        return _Run(None, 2, None, 0.0)
    c, integrality, extra_lb, extra_ub, constraint = _formulate(
        m, _rows(m, groups) if rows is None else rows, objective
    )
    options: dict[str, Any] = {
        "time_limit": max(float(time_limit), 0.05),
        "mip_rel_gap": mip_rel_gap,
        **_HIGHS_OPTIONS,
    }
    started = time.perf_counter()
    with warnings.catch_warnings():
        # scipy passes options it does not list itself to HiGHS verbatim, with a warning.
        warnings.filterwarnings("ignore", "Unrecognized options", RuntimeWarning)
        res = milp(
            c,
            integrality=integrality,
            bounds=Bounds(np.concatenate([lower, extra_lb]), np.concatenate([upper, extra_ub])),
            constraints=[] if constraint is None else [constraint],
            options=options,
        )
    seconds = time.perf_counter() - started
    x = None if res.x is None else np.asarray(res.x[:n]) > 0.5
    gap = None if res.get("mip_gap") is None else float(res.mip_gap)
    return _Run(x, int(res.status), gap, seconds)


def _feasible(m: _Model, groups: Collection[str], time_limit: float, **kw: Any) -> bool | None:
    run = _milp(m, groups, objective=False, time_limit=time_limit, mip_rel_gap=1.0, **kw)
    if run.x is not None:
        return True
    if run.status == 2:
        return False
    return None  # undecided within the time limit


# ---------------------------------------------------------------------------------------
# Explaining infeasibility


def _direct_conflicts(m: _Model) -> list[tuple[frozenset[str], str]]:
    """Conflicts visible without solving, each with the rule groups it involves."""
    p, rules = m.pool, m.rules
    out: list[tuple[frozenset[str], str]] = []
    both = sorted(set(rules.must_fund) & set(rules.must_not_fund))
    for i in both:
        out.append(
            (
                frozenset({"must_fund", "must_not_fund"}),
                _("%(p)s同时被列为必须资助和不得资助。") % {"p": _project(p.items[p.pos[i]])},
            )
        )
    must = np.zeros(len(p.items), np.bool_)
    must[list(m.must)] = True
    must_fen = int(p.cost_fen[must].sum())
    if must_fen > m.budget_fen:
        out.append(
            (
                frozenset({"must_fund", "budget"}),
                _("必须资助的项目合计 %(x)s，超过预算 %(y)s。")
                % {"x": _yuan(must_fen, fen=True), "y": _yuan(rules.budget)},
            )
        )
    if m.cap_fen is not None and must.any():
        totals = np.bincount(p.comm[must], weights=p.cost_fen[must], minlength=len(p.communities))
        for k in np.flatnonzero(totals > m.cap_fen):
            out.append(
                (
                    frozenset({"must_fund", "max_community_share"}),
                    _(
                        "社区上限与必须资助的项目冲突：%(c)s必须资助的项目合计 %(x)s，"
                        "超过每个社区的上限 %(cap)s（预算的 %(pct)s）。"
                    )
                    % {
                        "c": m.community(int(p.communities[k])),
                        "x": _yuan(int(totals[k]), fen=True),
                        "cap": _yuan(m.cap_fen, fen=True),
                        "pct": _pct(rules.max_community_share or 0),
                    },
                )
            )
    with_org = must & (p.org >= 0)
    if with_org.any() and (m.org_amount_fen is not None or m.org_count is not None):
        amounts = np.bincount(p.org[with_org], weights=p.cost_fen[with_org], minlength=len(p.orgs))
        counts = np.bincount(p.org[with_org], minlength=len(p.orgs))
        over = np.zeros(len(p.orgs), np.bool_)
        if m.org_amount_fen is not None:
            over |= amounts > m.org_amount_fen
        if m.org_count is not None:
            over |= counts > m.org_count
        for o in np.flatnonzero(over):
            org = m.organisation(int(p.orgs[o]))
            if m.org_amount_fen is not None and amounts[o] > m.org_amount_fen:
                out.append(
                    (
                        frozenset({"must_fund", "max_per_org"}),
                        _(
                            "组织金额上限与必须资助的项目冲突：%(o)s必须资助的项目合计 %(x)s，"
                            "超过每个组织的上限 %(cap)s。"
                        )
                        % {
                            "o": org,
                            "x": _yuan(int(amounts[o]), fen=True),
                            "cap": _yuan(m.org_amount_fen, fen=True),
                        },
                    )
                )
            if m.org_count is not None and counts[o] > m.org_count:
                out.append(
                    (
                        frozenset({"must_fund", "max_projects_per_org"}),
                        _(
                            "组织项目数上限与必须资助的项目冲突：%(o)s有 %(k)s 个必须资助的项目，"
                            "超过每个组织至多 %(cap)s 个的上限。"
                        )
                        % {"o": org, "k": int(counts[o]), "cap": m.org_count},
                    )
                )
    if m.floor_fen:
        weak = p.weak
        weak_fen = int(p.cost_fen[weak].sum())
        eligible = weak.copy()
        eligible[list(m.must_not)] = False
        eligible_fen = int(p.cost_fen[eligible].sum())
        floor = _yuan(m.floor_fen, fen=True)
        if weak_fen < m.floor_fen:
            out.append(
                (
                    frozenset({"weak_floor"}),
                    _("薄弱社区下限要求至少 %(x)s，但薄弱社区全部候选项目合计只有 %(y)s。")
                    % {"x": floor, "y": _yuan(weak_fen, fen=True)},
                )
            )
        elif eligible_fen < m.floor_fen:
            out.append(
                (
                    frozenset({"weak_floor", "must_not_fund"}),
                    _(
                        "薄弱社区下限要求至少 %(x)s，但除去不得资助的项目，"
                        "薄弱社区的候选项目合计只有 %(y)s。"
                    )
                    % {"x": floor, "y": _yuan(eligible_fen, fen=True)},
                )
            )
        elif int(p.cost_fen.min()) > m.budget_fen:
            out.append(
                (
                    frozenset({"budget", "weak_floor"}),
                    _(
                        "预算少于任何一个项目的费用，无法资助任何项目，"
                        "因而无法满足薄弱社区下限（至少 %(x)s）。"
                    )
                    % {"x": floor},
                )
            )
        elif weak.any() and int(p.cost_fen[weak].min()) > m.budget_fen:
            out.append(
                (
                    frozenset({"budget", "weak_floor"}),
                    _(
                        "预算 %(b)s 少于任何一个薄弱社区项目的费用，无法满足薄弱社区下限（至少 %(x)s）。"
                    )
                    % {"b": _yuan(rules.budget), "x": floor},
                )
            )
    return out


def _describe(m: _Model, key: str) -> str:
    rules, p = m.rules, m.pool
    if key == "budget":
        return _("预算 %(b)s") % {"b": _yuan(rules.budget)}
    if key == "max_community_share":
        return _("每个社区至多 %(x)s（预算的 %(pct)s）") % {
            "x": _yuan(m.cap_fen or 0, fen=True),
            "pct": _pct(rules.max_community_share or 0),
        }
    if key == "weak_floor":
        return _("薄弱社区合计至少 %(x)s（预算的 %(pct)s）") % {
            "x": _yuan(m.floor_fen or 0, fen=True),
            "pct": _pct(rules.weak_floor or 0),
        }
    if key == "max_per_org":
        return _("每个社会组织至多 %(x)s") % {"x": _yuan(m.org_amount_fen or 0, fen=True)}
    if key == "max_projects_per_org":
        return _("每个社会组织至多 %(k)s 个项目") % {"k": m.org_count}
    positions = m.must if key == "must_fund" else m.must_not
    total = _yuan(int(p.cost_fen[list(positions)].sum()), fen=True)
    if key == "must_fund":
        return _("必须资助的 %(k)s 个项目（合计 %(x)s）") % {"k": len(positions), "x": total}
    return _("不得资助的 %(k)s 个项目（合计 %(x)s）") % {"k": len(positions), "x": total}


def _weak_bound(m: _Model, groups: frozenset[str]) -> str | None:
    """With the weak floor against a cap, the most the weak communities could receive under
    that cap alone (an upper bound) — said when it is below the floor."""
    p = m.pool
    if m.floor_fen is None or "weak_floor" not in groups:
        return None
    eligible = p.weak.copy()
    if "must_not_fund" in groups:
        eligible[list(m.must_not)] = False
    cost = np.where(eligible, p.cost_fen, 0)
    if "max_community_share" in groups and m.cap_fen is not None:
        per = np.bincount(p.comm, weights=cost, minlength=len(p.communities))
        bound = int(np.minimum(per, m.cap_fen).sum())
        if bound < m.floor_fen:
            return _("在社区上限下，薄弱社区最多只能获得 %(x)s，达不到薄弱社区下限 %(y)s。") % {
                "x": _yuan(bound, fen=True),
                "y": _yuan(m.floor_fen, fen=True),
            }
    if "max_per_org" in groups and m.org_amount_fen is not None:
        has = p.org >= 0
        per = np.bincount(p.org[has], weights=cost[has], minlength=len(p.orgs))
        bound = int(np.minimum(per, m.org_amount_fen).sum() + cost[~has].sum())
        if bound < m.floor_fen:
            return _(
                "在社会组织金额上限下，薄弱社区最多只能获得 %(x)s，达不到薄弱社区下限 %(y)s。"
            ) % {"x": _yuan(bound, fen=True), "y": _yuan(m.floor_fen, fen=True)}
    return None


def _explain(m: _Model, time_limit: float) -> Infeasible:
    """Deletion filter over the rule groups, then over a short must(-not)-fund list."""
    conflict = [g for g in FILTER_ORDER if g in m.groups()]
    undecided = False
    for group in FILTER_ORDER:
        if group not in conflict:
            continue
        trial = [g for g in conflict if g != group]
        feasible = _feasible(m, trial, time_limit)
        if feasible is False:
            conflict = trial
        elif feasible is None:
            undecided = True
    keys = frozenset(conflict)
    described = [_describe(m, g) for g in FILTER_ORDER if g in keys]
    if len(described) == 1:
        details = [_("这条规则本身就无法满足：%(rule)s。") % {"rule": described[0]}]
    else:
        details = [
            _("以下规则不能同时满足：%(rules)s。去掉其中任何一条，其余规则就能同时满足。")
            % {"rules": "；".join(described)}
        ]
    if bound := _weak_bound(m, keys):
        details.append(bound)
    for key, label in (("must_fund", _("必须资助")), ("must_not_fund", _("不得资助"))):
        positions = list(m.must if key == "must_fund" else m.must_not)
        if key not in keys or len(positions) > REFINE_ITEMS:
            continue
        core = positions[:]
        for item in positions:
            fewer = [i for i in core if i != item]
            kw = {"must": fewer} if key == "must_fund" else {"must_not": fewer}
            if _feasible(m, keys, time_limit, **kw) is False:
                core = fewer
        details.append(
            _("冲突涉及的%(rule)s项目：%(items)s。")
            % {"rule": label, "items": _listing([_project(m.pool.items[i]) for i in core])}
        )
    if undecided:
        details.append(_("部分检查在时限内没有得出结论，上述规则组合可能还能进一步缩小。"))
    return Infeasible(
        _("这些资助规则互相矛盾，没有任何项目组合能同时满足。"),
        details=details,
        conflicts=[keys],
    )


# ---------------------------------------------------------------------------------------
# Checking and summing


def _violations(m: _Model, chosen: BoolArray) -> list[str]:
    """Every rule the chosen set breaks, checked in exact Decimal arithmetic."""
    p, rules = m.pool, m.rules
    picked = [p.items[i] for i in np.flatnonzero(chosen)]
    out: list[str] = []
    spent = sum((c.cost for c in picked), Decimal(0))
    if spent > rules.budget:
        out.append(_("支出 %(x)s 超过预算 %(b)s。") % {"x": _yuan(spent), "b": _yuan(rules.budget)})
    by_community: dict[int, Decimal] = defaultdict(Decimal)
    by_org_amount: dict[int, Decimal] = defaultdict(Decimal)
    by_org_count: dict[int, int] = defaultdict(int)
    weak = Decimal(0)
    for c in picked:
        by_community[c.community_id] += c.cost
        if c.org_id is not None:
            by_org_amount[c.org_id] += c.cost
            by_org_count[c.org_id] += 1
        if c.tier == "weak":
            weak += c.cost
    if rules.max_community_share is not None:
        cap = _share_dec(rules.max_community_share) * rules.budget
        for k, amount in sorted(by_community.items()):
            if amount > cap:
                out.append(
                    _("%(c)s获得 %(x)s，超过社区上限 %(cap)s。")
                    % {"c": m.community(k), "x": _yuan(amount), "cap": _yuan(cap)}
                )
    if rules.weak_floor is not None:
        floor = _share_dec(rules.weak_floor) * rules.budget
        if weak < floor:
            out.append(
                _("薄弱社区合计获得 %(x)s，低于薄弱社区下限 %(floor)s。")
                % {"x": _yuan(weak), "floor": _yuan(floor)}
            )
    for o, amount in sorted(by_org_amount.items()):
        if rules.max_per_org is not None and amount > rules.max_per_org:
            out.append(
                _("%(o)s获得 %(x)s，超过组织金额上限 %(cap)s。")
                % {"o": m.organisation(o), "x": _yuan(amount), "cap": _yuan(rules.max_per_org)}
            )
        if rules.max_projects_per_org is not None and by_org_count[o] > rules.max_projects_per_org:
            out.append(
                _("%(o)s获得 %(k)s 个项目，超过组织项目数上限 %(cap)s 个。")
                % {"o": m.organisation(o), "k": by_org_count[o], "cap": rules.max_projects_per_org}
            )
    ids = {c.id for c in picked}
    for i in sorted(rules.must_fund - ids, key=str):
        out.append(_("必须资助的%(p)s没有得到资助。") % {"p": _project(p.items[p.pos[i]])})
    for i in sorted(rules.must_not_fund & ids, key=str):
        out.append(_("不得资助的%(p)s得到了资助。") % {"p": _project(p.items[p.pos[i]])})
    return out


def _allocation(
    p: _Pool,
    chosen: BoolArray,
    *,
    budget: Decimal | None,
    status: Status,
    gap: float | None,
    solver_seconds: float,
    started: float,
    notes: Sequence[str] = (),
) -> Allocation:
    idx = np.flatnonzero(chosen)
    spent = sum((p.items[i].cost for i in idx), Decimal(0))
    # Whole 分 in int64: exact sums per community and per tier.
    fen = np.where(chosen, p.cost_fen, 0)
    people = np.where(chosen, p.beneficiaries, 0)
    gain = np.where(chosen, p.benefit, 0.0)
    projects = chosen.astype(np.int64)

    def sums(index: npt.NDArray[np.intp], size: int) -> list[GroupSum]:
        amount = np.zeros(size, np.int64)
        np.add.at(amount, index, fen)
        return [
            GroupSum(Decimal(int(a)).scaleb(-2), int(k), int(b), float(g))
            for a, k, b, g in zip(
                amount,
                np.bincount(index, weights=projects, minlength=size),
                np.bincount(index, weights=people, minlength=size),
                np.bincount(index, weights=gain, minlength=size),
                strict=True,
            )
        ]

    by_community = dict(
        zip((int(k) for k in p.communities), sums(p.comm, len(p.communities)), strict=True)
    )
    by_tier = dict(zip(TIERS, sums(p.tier, len(TIERS)), strict=True))
    return Allocation(
        chosen=tuple(sorted(p.items[i].id for i in idx)),
        objective=math.fsum(p.benefit[idx]),
        spent=spent,
        budget=budget,
        leftover=None if budget is None else budget - spent,
        status=status,
        gap=gap,
        solver_seconds=solver_seconds,
        total_seconds=time.perf_counter() - started,
        by_community=by_community,
        by_tier=by_tier,
        notes=tuple(notes),
    )


# ---------------------------------------------------------------------------------------
# Public API


def solve(
    candidates: Sequence[Candidate],
    rules: Rules,
    *,
    time_limit: float = 10.0,
    mip_rel_gap: float = 0.0005,
    community_names: Mapping[int, str] | None = None,
    org_names: Mapping[int, str] | None = None,
) -> Allocation:
    """The set of projects with the greatest need-weighted benefit under the rules (HiGHS).

    Raises ``Infeasible`` (explained) when the rules contradict each other, ``MethodError``
    on bad input or when the time limit passes before any feasible set is found. The names
    only make messages readable (社区“…” instead of a community id)."""
    started = time.perf_counter()
    if not _is_real(time_limit) or time_limit <= 0:
        raise MethodError(_("计算时限“%(t)s”无效：必须是大于零的秒数。") % {"t": time_limit})
    if not _is_real(mip_rel_gap) or not 0 <= mip_rel_gap < 1:
        raise MethodError(
            _("允许的相对差距“%(g)s”无效：应在 0 到 1 之间（例如 0.0005 表示 0.05%%）。")
            % {"g": mip_rel_gap}
        )
    pool = _pool(candidates)
    m = _model(pool, rules, community_names, org_names)
    if conflicts := _direct_conflicts(m):
        raise Infeasible(
            _("这些资助规则互相矛盾，没有任何项目组合能同时满足。"),
            details=[text for _keys, text in conflicts],
            conflicts=dict.fromkeys(keys for keys, _text in conflicts),
        )
    budget = Decimal(rules.budget)
    if int(pool.cost_fen.min()) > m.budget_fen:
        # Nothing fits, and (checked above) no rule demands spending: an empty allocation.
        return _allocation(
            pool,
            np.zeros(len(pool.items), np.bool_),
            budget=budget,
            status="optimal",
            gap=0.0,
            solver_seconds=0.0,
            started=started,
            notes=[_("预算少于任何一个项目的费用，无法资助任何项目。")],
        )
    groups = m.groups()
    rows = _rows(m, groups)
    prepared = time.perf_counter() - started
    solver_seconds = 0.0
    for _attempt in range(4):
        # The time limit bounds the whole call: what is left, less as much again as the
        # preparation took, for checking and summing afterwards.
        left = time_limit - (time.perf_counter() - started) - prepared
        run = _milp(m, groups, objective=True, time_limit=left, mip_rel_gap=mip_rel_gap, rows=rows)
        solver_seconds += run.seconds
        if run.x is None:
            if run.status == 2:
                raise _explain(m, time_limit)
            if run.status == 1:
                raise MethodError(
                    _("在 %(s)s 秒的时限内没有找到满足全部规则的方案，请延长时限或放宽规则。")
                    % {"s": f"{time_limit:g}"}
                )
            raise MethodError(_("求解器未能完成计算，请稍后重试或调整规则。"))
        # HiGHS accepts binaries within a tolerance of 0/1; rounded, a row could be off by
        # a few 分. Should that happen, tighten exactly those rows by the excess and re-solve.
        activity = rows.matrix @ run.x.astype(np.float64)
        over = np.maximum(activity - rows.ub, 0)
        under = np.maximum(rows.lb - activity, 0)
        if not (over.any() or under.any()):
            break
        rows = dataclasses.replace(rows, lb=rows.lb + under, ub=rows.ub - over)
    assert run.x is not None
    broken = _violations(m, run.x)
    if broken:
        # Not expected after the tightening above; never hand out a set that breaks a rule.
        raise MethodError(_("求解结果未通过规则核验，请联系管理员。"), details=broken)
    status: Status = "optimal" if run.status == 0 else "gap"
    notes: list[str] = []
    if status == "gap":
        notes.append(
            _("计算到 %(s)s 秒时限时停止：所得方案与最优方案的差距已证明不超过 %(gap)s。")
            % {"s": f"{time_limit:g}", "gap": f"{(run.gap or 0) * 100:.3g}%"}
        )
    if not run.x.any():
        notes.append(_("在这些规则下没有资助任何项目。"))
    return _allocation(
        pool,
        run.x,
        budget=budget,
        status=status,
        gap=run.gap if run.gap is not None and math.isfinite(run.gap) else None,
        solver_seconds=solver_seconds,
        started=started,
        notes=notes,
    )


def violations(candidates: Sequence[Candidate], rules: Rules, ids: Iterable[int]) -> list[str]:
    """The rules a given set of projects breaks (Chinese, exact arithmetic); [] if none."""
    pool = _pool(candidates)
    m = _model(pool, rules, None, None)
    return _violations(m, _mask(pool, ids))


def _mask(pool: _Pool, ids: Iterable[int]) -> BoolArray:
    chosen = np.zeros(len(pool.items), np.bool_)
    wanted = list(ids)
    unknown = [i for i in wanted if i not in pool.pos]
    if unknown:
        raise MethodError(
            _("项目编号 %(ids)s 不在候选项目中，无法计算。")
            % {"ids": _listing([str(i) for i in unknown])}
        )
    chosen[[pool.pos[i] for i in wanted]] = True
    return chosen


def baseline_by_review(candidates: Sequence[Candidate], budget: Decimal) -> Allocation:
    """Fund by review score (ties: lower cost, then lower id) while the money lasts; a project
    that no longer fits is skipped and the next one tried. Only the budget applies."""
    started = time.perf_counter()
    pool = _pool(candidates)
    money = _as_money(budget)
    if money is None or money <= 0:
        raise MethodError(_("预算“%(b)s”无效：必须是大于零的金额（元）。") % {"b": budget})
    remaining = money
    chosen = np.zeros(len(pool.items), np.bool_)
    order = sorted(
        range(len(pool.items)),
        key=lambda i: (-pool.items[i].review_score, pool.items[i].cost, pool.items[i].id),
    )
    for i in order:
        if pool.items[i].cost <= remaining:
            chosen[i] = True
            remaining -= pool.items[i].cost
    return _allocation(
        pool,
        chosen,
        budget=money,
        status="baseline",
        gap=None,
        solver_seconds=0.0,
        started=started,
    )


def allocation_from_ids(
    candidates: Sequence[Candidate], ids: Iterable[int], budget: Decimal | None = None
) -> Allocation:
    """Any given set of projects (e.g. last year's actual distribution) with the same sums and
    objective; with a budget, the leftover too."""
    started = time.perf_counter()
    pool = _pool(candidates)
    money = None
    if budget is not None:
        money = _as_money(budget)
        if money is None or money <= 0:
            raise MethodError(_("预算“%(b)s”无效：必须是大于零的金额（元）。") % {"b": budget})
    return _allocation(
        pool,
        _mask(pool, ids),
        budget=money,
        status="given",
        gap=None,
        solver_seconds=0.0,
        started=started,
    )


__all__ = [
    "TIERS",
    "Allocation",
    "Candidate",
    "GroupSum",
    "Infeasible",
    "Rules",
    "allocation_from_ids",
    "baseline_by_review",
    "benefit",
    "solve",
    "violations",
]
