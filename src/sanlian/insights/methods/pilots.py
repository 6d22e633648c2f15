"""Pilot evaluation (试点评估) by difference-in-differences, and ranking the next pilots.

**Difference-in-differences (双重差分).** Each community i is observed in a baseline period
(基线期, t = 0) and a follow-up period (跟进期, t = 1); pilot communities (试点) received the
Three Links model in between, comparison communities (对照) did not. The effect is the
coefficient δ of the ordinary least squares regression

    y_it = β0 + β1·pilot_i + β2·post_t + δ·(pilot_i × post_t) + ε_it

which, the model being saturated in the four cells, equals the difference of the four means

    δ̂ = (ȳ_试点,跟进 − ȳ_试点,基线) − (ȳ_对照,跟进 − ȳ_对照,基线).

Confidence interval: δ̂ ± t(1 − α/2; df) · SE(δ̂), p-value two-sided from the same t.
Standard errors (statsmodels, N observations, K = 4 coefficients, G communities):

- ``cluster`` (default, clustered by community, because the two values of one community are
  correlated): V = (X'X)⁻¹ (Σ_g X_g' e_g e_g' X_g) (X'X)⁻¹ · G/(G − 1) · (N − 1)/(N − K),
  df = G − 1. In the balanced 2×2 panel this is
  SE² = [Σ_试点 (Δ_i − Δ̄_试点)²/n_试点² + Σ_对照 (Δ_i − Δ̄_对照)²/n_对照²] · G/(G − 1) · (N − 1)/(N − K),
  where Δ_i is community i's change. With fewer than 2 communities in an arm there is no
  spread of changes to cluster on, so the method falls back to ``HC1`` and says so.
- ``HC1`` (heteroskedasticity-robust): V = N/(N − K) · (X'X)⁻¹ X' diag(e²) X (X'X)⁻¹, df = N − K.
- ``nonrobust`` (homoskedastic): V = s² (X'X)⁻¹ with s² = Σe²/(N − K), df = N − K; for δ̂ this
  is SE² = s² · (1/n_试点,基线 + 1/n_试点,跟进 + 1/n_对照,基线 + 1/n_对照,跟进).

A balanced panel is required: communities without both periods are dropped and listed in the
notes. The reading rests on parallel trends: without the pilot, pilot and comparison
communities would have changed alike. Degenerate data is handled openly: if every value is
identical there is nothing to evaluate (``MethodError``: the "effect" would be 0 with no
uncertainty, which answers nothing); if the four cell means explain every value exactly (e.g.
one pilot and one comparison community) or, clustered, every community of an arm changed by
exactly the same amount, the standard error is 0: the effect is then returned with no standard
error, interval or p-value (``None``) and a note, never with a fake certainty.

**Next pilots (下一批试点).** Over the candidates that are not already pilots:

    N_i = (need_i − min need) / (max need − min need)                  需求
    R_i = (readiness_i − min readiness) / (max readiness − min readiness)    组织基础
    L_i = (max share − share_i) / (max share − min share)              资源少（反向）
    score_i = w_N·N_i + w_R·R_i + w_L·L_i + bonus(tier_i)

with the weights rescaled to sum 1 (default 0.4 / 0.3 / 0.3) and the tier bonus favouring weak
(+0.15) and ordinary (+0.10) over star (0) communities. A component equal for every candidate
carries no information and is set to 0 for all (noted). Ties are broken by tier (weak, then
ordinary, then star) and then by community id (scores equal to 12 decimals tie). Each
candidate gets 2–4 reasons from its numbers: its tier (weak / ordinary), its strengths (need
above at least half of the other candidates, resource share below the candidates' median,
readiness ≥ 0.6), a caution when readiness < 0.4, then plain facts until there are two.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from django.utils.translation import gettext as _

from sanlian.insights.methods import MethodError

Period = Literal["baseline", "follow_up"]
CovType = Literal["cluster", "HC1", "nonrobust"]

PERIODS: tuple[Period, Period] = ("baseline", "follow_up")
# Weak first: it is also the tie-break order of the ranking and the display order by tier.
TIERS: tuple[str, ...] = ("weak", "ordinary", "star")
DISPLAY_TIERS: tuple[str, ...] = ("star", "ordinary", "weak")
DEFAULT_TIER_BONUS: Mapping[str, float] = {"weak": 0.15, "ordinary": 0.10, "star": 0.0}

# Fewer communities than this in an arm: no cluster-robust estimate (falls back to HC1).
MIN_CLUSTERS_PER_ARM = 2
# Below this many communities in all, cluster-robust errors are known to be imprecise.
FEW_CLUSTERS = 10
# Readiness (0–1) above / below which the reason text calls the organisation strong / weak.
READY_HIGH = 0.6
READY_LOW = 0.4
# Scores equal to this many decimals tie (sums of floats differ in the last bits).
_SCORE_DECIMALS = 12


def tier_label(tier: str) -> str:
    """Chinese name of a community tier code."""
    labels = {"star": _("明星"), "ordinary": _("普通"), "weak": _("薄弱")}
    return labels.get(tier, tier)


def _period_label(period: str) -> str:
    return _("基线期") if period == "baseline" else _("跟进期")


def _name(community_id: int, label: str) -> str:
    return label or _("编号 %(id)s 的社区") % {"id": community_id}


def _fmt(x: float) -> str:
    """Two decimals, or three significant digits for small numbers so they do not read 0.00."""
    return f"{x:.2f}" if x == 0 or abs(x) >= 0.1 else f"{x:.3g}"


def _check_tier(tier: str, who: str) -> None:
    if tier not in TIERS:
        raise MethodError(
            _("%(who)s的类别“%(tier)s”无法识别：类别应为明星、普通或薄弱。")
            % {"who": who, "tier": tier}
        )


# --------------------------------------------------------------------------------------
# Difference-in-differences
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Observation:
    """One indicator's value for one community in one period."""

    community_id: int
    tier: str
    pilot: bool
    period: Period
    value: float
    label: str = ""


@dataclass(frozen=True)
class DroppedCommunity:
    """A community left out because one of the two periods is missing."""

    community_id: int
    label: str
    missing_period: Period


@dataclass(frozen=True)
class DidMeans:
    """The 2×2 table of group means (pilot/comparison × baseline/follow-up)."""

    pilot_baseline: float
    pilot_follow_up: float
    comparison_baseline: float
    comparison_follow_up: float

    @property
    def pilot_change(self) -> float:
        return self.pilot_follow_up - self.pilot_baseline

    @property
    def comparison_change(self) -> float:
        return self.comparison_follow_up - self.comparison_baseline

    @property
    def difference(self) -> float:
        """The simple difference-in-differences of the four means."""
        return self.pilot_change - self.comparison_change


@dataclass(frozen=True)
class DidResult:
    """A 2×2 difference-in-differences estimate with its uncertainty and Chinese notes.

    `std_error`, `ci_low`, `ci_high`, `p_value` and `df` are None only when the data has no
    residual variation at all (the four cell means explain every value exactly).
    """

    indicator: str
    effect: float
    std_error: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    df: int | None
    alpha: float
    cov_type: CovType
    n_pilot: int
    n_comparison: int
    n_observations: int
    means: DidMeans
    simple_difference: float
    pilot_ids: tuple[int, ...]
    comparison_ids: tuple[int, ...]
    dropped: tuple[DroppedCommunity, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def confidence(self) -> float:
        return 1.0 - self.alpha

    @property
    def significant(self) -> bool | None:
        """Whether the interval excludes 0 (None without an interval)."""
        if self.ci_low is None or self.ci_high is None:
            return None
        return self.ci_low > 0 or self.ci_high < 0


@dataclass(frozen=True)
class _Community:
    community_id: int
    label: str
    tier: str
    pilot: bool
    values: dict[str, float]


def _collect(observations: Iterable[Observation]) -> dict[int, _Community]:
    """Validate the observations and group them by community (input order kept)."""
    obs = list(observations)
    if not obs:
        raise MethodError(
            _("没有可计算的数据：请先录入试点社区和对照社区在基线期与跟进期的指标值。")
        )
    communities: dict[int, _Community] = {}
    bad_values: list[str] = []
    for o in obs:
        who = _name(o.community_id, o.label)
        if o.period not in PERIODS:
            raise MethodError(
                _("社区“%(name)s”的时期“%(period)s”无法识别：时期应为基线期或跟进期。")
                % {"name": who, "period": o.period}
            )
        _check_tier(o.tier, _("社区“%(name)s”") % {"name": who})
        value = float(o.value)
        if not math.isfinite(value):
            bad_values.append(
                _("%(name)s（%(period)s）") % {"name": who, "period": _period_label(o.period)}
            )
            continue
        c = communities.get(o.community_id)
        if c is None:
            c = _Community(o.community_id, o.label, o.tier, bool(o.pilot), {})
            communities[o.community_id] = c
        elif c.pilot != bool(o.pilot) or c.tier != o.tier:
            raise MethodError(
                _("社区“%(name)s”在不同记录中的试点身份或类别不一致：请统一后再计算。")
                % {"name": who}
            )
        if o.period in c.values:
            raise MethodError(
                _("社区“%(name)s”在%(period)s有多条记录：每个社区每个时期只能有一个值。")
                % {"name": who, "period": _period_label(o.period)}
            )
        c.values[o.period] = value
    if bad_values:
        raise MethodError(
            _("有 %(n)s 个指标值不是有效数字（空值或无穷大）：请补全或删除这些记录。")
            % {"n": len(bad_values)},
            details=bad_values,
        )
    return communities


def _check_periods(communities: Mapping[int, _Community]) -> None:
    for period in PERIODS:
        if not any(period in c.values for c in communities.values()):
            raise MethodError(
                _("没有任何社区的%(period)s数据：双重差分需要基线期和跟进期两个时期的数据。")
                % {"period": _period_label(period)}
            )


def _no_comparison_error(details: list[str] | None = None) -> MethodError:
    return MethodError(
        _("没有可比的非试点社区，无法估计效果：请在同一类别中选择对照社区"), details=details
    )


def did(
    observations: Iterable[Observation],
    *,
    alpha: float = 0.05,
    indicator: str = "",
    cov: CovType = "cluster",
) -> DidResult:
    """2×2 difference-in-differences of one indicator: pilot vs comparison, baseline vs follow-up."""
    import statsmodels.api as sm  # here: statsmodels (and pandas) load when a DiD runs

    if not (isinstance(alpha, float | int) and 0 < alpha < 1):
        raise MethodError(_("显著性水平 alpha 必须在 0 和 1 之间（例如 0.05）。"))
    if cov not in ("cluster", "HC1", "nonrobust"):
        raise MethodError(_("标准误类型“%(cov)s”无法识别。") % {"cov": cov})
    communities = _collect(observations)
    if not any(c.pilot for c in communities.values()):
        raise MethodError(_("没有试点社区，无法评估试点效果：请至少标记一个试点社区。"))
    if all(c.pilot for c in communities.values()):
        raise _no_comparison_error()
    _check_periods(communities)

    # A balanced panel: each community's change is what the estimate compares.
    dropped = tuple(
        DroppedCommunity(c.community_id, c.label, next(p for p in PERIODS if p not in c.values))
        for c in communities.values()
        if len(c.values) < 2
    )
    kept = [c for c in communities.values() if len(c.values) == 2]
    dropped_text = [
        _("%(name)s（缺少%(period)s）")
        % {"name": _name(d.community_id, d.label), "period": _period_label(d.missing_period)}
        for d in dropped
    ]
    pilots = [c for c in kept if c.pilot]
    comparisons = [c for c in kept if not c.pilot]
    if not pilots:
        raise MethodError(
            _("所有试点社区都缺少基线期或跟进期的数据，无法评估：请补全试点社区两个时期的数据。"),
            details=dropped_text,
        )
    if not comparisons:
        raise _no_comparison_error(
            [_("对照社区都缺少基线期或跟进期的数据，已全部剔除："), *dropped_text]
        )

    y = np.array([c.values[p] for c in kept for p in PERIODS], dtype=float)
    if np.ptp(y) == 0:
        raise MethodError(
            _(
                "所有社区在两个时期的取值完全相同（都是 %(v)s），指标没有任何变化，"
                "无法评估效果：请检查数据是否录入正确，或换一个有差异的指标。"
            )
            % {"v": _fmt(float(y[0]))}
        )
    pilot = np.array([float(c.pilot) for c in kept for _p in PERIODS])
    post = np.tile([0.0, 1.0], len(kept))
    groups = np.repeat(np.arange(len(kept)), 2)
    x = np.column_stack([np.ones_like(y), pilot, post, pilot * post])

    def cell(is_pilot: bool, period: Period) -> float:
        return float(np.mean([c.values[period] for c in kept if c.pilot == is_pilot]))

    means = DidMeans(
        cell(True, "baseline"),
        cell(True, "follow_up"),
        cell(False, "baseline"),
        cell(False, "follow_up"),
    )

    notes: list[str] = []
    if dropped:
        notes.append(
            _(
                "以下 %(n)s 个社区缺少其中一个时期的数据，已从评估中剔除（每个社区都需要两个时期的数据）：%(list)s"
            )
            % {"n": len(dropped), "list": "、".join(dropped_text)}
        )
    used_cov: CovType = cov
    if cov == "cluster" and min(len(pilots), len(comparisons)) < MIN_CLUSTERS_PER_ARM:
        used_cov = "HC1"
        notes.append(
            _(
                "试点组或对照组的社区少于 %(k)s 个，无法按社区聚类估计标准误，"
                "已改用异方差稳健标准误（HC1）。"
            )
            % {"k": MIN_CLUSTERS_PER_ARM}
        )
    elif cov == "cluster" and len(kept) < FEW_CLUSTERS:
        notes.append(
            _("参与比较的社区只有 %(g)s 个，按社区聚类的标准误可能不够准确，请谨慎解读置信区间。")
            % {"g": len(kept)}
        )
    if min(len(pilots), len(comparisons)) == 1 and len(kept) > 2:
        notes.append(
            _("试点组或对照组只有一个社区，该组自身的波动无法从数据中估计，标准误可能偏小。")
        )

    # A saturated fit with no residual (or, clustered, no spread of the changes) has a zero
    # standard error: that is "no information on uncertainty", not "certain", so say so.
    plain = sm.OLS(y, x).fit()
    effect = float(plain.params[3])
    tol = 1e-9 * max(1.0, float(np.max(np.abs(y))))
    std_error = ci_low = ci_high = p_value = None
    df: int | None = None
    if len(y) > x.shape[1] and float(np.max(np.abs(plain.resid))) > tol:
        if used_cov == "cluster":
            res = sm.OLS(y, x).fit(cov_type="cluster", cov_kwds={"groups": groups}, use_t=True)
            res_df = len(kept) - 1
        else:
            res = sm.OLS(y, x).fit(cov_type=used_cov, use_t=True)
            res_df = len(y) - x.shape[1]
        if float(res.bse[3]) > tol:
            std_error = float(res.bse[3])
            lo, hi = res.conf_int(alpha=alpha)[3]
            ci_low, ci_high = float(lo), float(hi)
            p_value = float(res.pvalues[3])
            df = res_df
    if std_error is None or ci_low is None or ci_high is None:
        notes.append(
            _(
                "各组社区的变化量完全一致（或每组只有一个社区），数据没有随机波动，"
                "只能给出差值 %(e)s，无法计算标准误、置信区间和 p 值。"
            )
            % {"e": _fmt(effect)}
        )
    else:
        conf = {"conf": f"{100 * (1 - alpha):g}", "lo": _fmt(ci_low), "hi": _fmt(ci_high)}
        if ci_low > 0 or ci_high < 0:
            notes.insert(
                0,
                _(
                    "试点效果估计为 %(e)s（%(conf)s%% 置信区间 %(lo)s 至 %(hi)s），区间不含 0，效果在统计上显著。"
                )
                % {"e": _fmt(effect), **conf},
            )
        else:
            notes.insert(
                0,
                _(
                    "试点效果估计为 %(e)s（%(conf)s%% 置信区间 %(lo)s 至 %(hi)s），区间包含 0，尚不能确认试点带来了变化。"
                )
                % {"e": _fmt(effect), **conf},
            )
    notes.append(_("解读的前提是平行趋势：如果没有试点，试点社区与对照社区的变化本应相同。"))

    return DidResult(
        indicator=indicator,
        effect=effect,
        std_error=std_error,
        ci_low=ci_low,
        ci_high=ci_high,
        p_value=p_value,
        df=df,
        alpha=float(alpha),
        cov_type=used_cov,
        n_pilot=len(pilots),
        n_comparison=len(comparisons),
        n_observations=len(y),
        means=means,
        simple_difference=means.difference,
        pilot_ids=tuple(c.community_id for c in pilots),
        comparison_ids=tuple(c.community_id for c in comparisons),
        dropped=dropped,
        notes=tuple(notes),
    )


def did_by_tier(
    observations: Iterable[Observation],
    *,
    alpha: float = 0.05,
    indicator: str = "",
    cov: CovType = "cluster",
) -> dict[str, DidResult | MethodError]:
    """The same DiD within each tier; a tier that cannot be evaluated gets its own MethodError.

    Keys are the tier codes present, in the order star, ordinary, weak. Errors of the whole
    input (no data, a value that is not a number …) are raised, not stored.
    """
    obs = list(observations)
    communities = _collect(obs)
    by_tier: dict[str, list[Observation]] = defaultdict(list)
    for o in obs:
        by_tier[o.tier].append(o)
    out: dict[str, DidResult | MethodError] = {}
    for tier in DISPLAY_TIERS:
        if tier not in by_tier:
            continue
        members = [c for c in communities.values() if c.tier == tier]
        name = tier_label(tier)
        if not any(c.pilot for c in members):
            out[tier] = MethodError(
                _("“%(tier)s”社区中没有试点社区，无法评估试点在这类社区的效果。") % {"tier": name}
            )
            continue
        if all(c.pilot for c in members):
            out[tier] = MethodError(
                _(
                    "“%(tier)s”社区全部是试点社区，没有同类的非试点社区作对照，"
                    "无法单独评估这类社区的效果：请在“%(tier)s”社区中选择对照社区，或参考全市的总体评估。"
                )
                % {"tier": name},
                details=[_("没有可比的非试点社区，无法估计效果：请在同一类别中选择对照社区")],
            )
            continue
        try:
            out[tier] = did(by_tier[tier], alpha=alpha, indicator=indicator, cov=cov)
        except MethodError as e:
            out[tier] = MethodError(
                _("“%(tier)s”社区无法单独评估：%(why)s") % {"tier": name, "why": e.message},
                details=e.details,
            )
    return out


# --------------------------------------------------------------------------------------
# Comparison pool
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CommunityProfile:
    """A community that may serve as pilot or comparison: its tier and baseline value."""

    community_id: int
    tier: str
    baseline: float | None
    label: str = ""


def comparison_pool(
    pilot_ids: Iterable[int],
    candidates: Sequence[CommunityProfile],
    *,
    match_on_tier: bool = True,
    per_pilot: int | None = None,
) -> list[int]:
    """Comparable non-pilot communities, sorted by id.

    Without `per_pilot`: every non-pilot community (of a pilot's tier when `match_on_tier`).
    With `per_pilot = k`: pilots in ascending id each take, without replacement, the k remaining
    non-pilot communities (of the same tier when `match_on_tier`) whose baseline is nearest to
    theirs (ties by id); communities without a baseline cannot be matched and are skipped.
    A pilot whose pool is exhausted takes fewer; an empty result is an error.
    """
    pilots = set(pilot_ids)
    if not pilots:
        raise MethodError(_("没有试点社区：请先选择试点社区，再选择对照社区。"))
    if per_pilot is not None and (isinstance(per_pilot, bool) or per_pilot < 1):
        raise MethodError(_("每个试点社区匹配的对照社区数必须是正整数。"))
    by_id: dict[int, CommunityProfile] = {}
    for c in candidates:
        who = _name(c.community_id, c.label)
        if c.community_id in by_id:
            raise MethodError(_("社区“%(name)s”在候选名单中出现了两次。") % {"name": who})
        _check_tier(c.tier, _("社区“%(name)s”") % {"name": who})
        if c.baseline is not None and not math.isfinite(float(c.baseline)):
            raise MethodError(_("社区“%(name)s”的基线值不是有效数字。") % {"name": who})
        by_id[c.community_id] = c
    missing = sorted(pilots - by_id.keys())
    if missing:
        raise MethodError(
            _("有 %(n)s 个试点社区不在候选名单中，无法知道其类别和基线值：请把它们加入名单。")
            % {"n": len(missing)},
            details=[str(i) for i in missing],
        )
    pilot_tiers = {by_id[i].tier for i in pilots}
    pool = [
        c
        for c in candidates
        if c.community_id not in pilots and (not match_on_tier or c.tier in pilot_tiers)
    ]
    if per_pilot is None:
        chosen = {c.community_id for c in pool}
    else:
        chosen = set()
        # Without a baseline a community cannot be matched by baseline.
        available = [c for c in pool if c.baseline is not None]
        for pid in sorted(pilots):
            p = by_id[pid]
            if p.baseline is None:
                raise MethodError(
                    _("试点社区“%(name)s”没有基线值，无法按基线匹配对照社区：请补全基线数据。")
                    % {"name": _name(p.community_id, p.label)}
                )
            target = float(p.baseline)
            eligible = sorted(
                (c for c in available if not match_on_tier or c.tier == p.tier),
                key=lambda c: (abs(float(c.baseline or 0.0) - target), c.community_id),
            )
            for c in eligible[:per_pilot]:
                chosen.add(c.community_id)
                available.remove(c)
    if not chosen:
        raise _no_comparison_error()
    return sorted(chosen)


# --------------------------------------------------------------------------------------
# Next pilots
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PilotWeights:
    """Weights of need, readiness and low resource share (rescaled to sum 1)."""

    need: float = 0.4
    readiness: float = 0.3
    low_resources: float = 0.3


@dataclass(frozen=True)
class PilotCandidate:
    """A community that could join the next pilot batch."""

    community_id: int
    label: str
    tier: str
    need: float
    readiness: float
    resource_share: float
    already_pilot: bool = False


@dataclass(frozen=True)
class RankedCandidate:
    """A ranked candidate: score, rank, normalised components, contributions, reasons."""

    community_id: int
    label: str
    tier: str
    rank: int
    score: float
    need: float
    readiness: float
    resource_share: float
    need_norm: float
    readiness_norm: float
    low_resources_norm: float
    need_contribution: float
    readiness_contribution: float
    low_resources_contribution: float
    tier_bonus: float
    reasons: tuple[str, ...] = field(default=())


class PilotRanking(list[RankedCandidate]):
    """The ranked candidates (a list) with Chinese `notes` and the `excluded` ids."""

    def __init__(
        self,
        items: Iterable[RankedCandidate] = (),
        *,
        notes: Sequence[str] = (),
        excluded: Sequence[int] = (),
    ) -> None:
        super().__init__(items)
        self.notes: tuple[str, ...] = tuple(notes)
        self.excluded: tuple[int, ...] = tuple(excluded)


def _minmax(values: np.ndarray, *, reverse: bool = False) -> np.ndarray | None:
    """Min–max scaled to 0–1 (reversed: the smallest gets 1); None when all are equal."""
    lo, hi = float(values.min()), float(values.max())
    if hi == lo:
        return None
    scaled = (values - lo) / (hi - lo)
    return 1.0 - scaled if reverse else scaled


def _pct(x: float) -> str:
    return f"{100 * x:.2f}%"


def rank_next_pilots(
    candidates: Sequence[PilotCandidate],
    *,
    weights: PilotWeights = PilotWeights(),  # frozen, so a safe default
    tier_bonus: Mapping[str, float] | None = None,
    limit: int | None = None,
) -> PilotRanking:
    """Rank candidates for the next pilot batch (higher score first); see the module formula."""
    bonus = dict(DEFAULT_TIER_BONUS if tier_bonus is None else tier_bonus)
    if not candidates:
        raise MethodError(_("没有候选社区：请先选择参与排序的社区。"))
    w = np.array([weights.need, weights.readiness, weights.low_resources], dtype=float)
    if not np.all(np.isfinite(w)) or np.any(w < 0) or float(w.sum()) <= 0:
        raise MethodError(
            _("权重必须是非负数且总和大于 0（当前：需求 %(n)s，组织基础 %(r)s，资源少 %(l)s）。")
            % {"n": weights.need, "r": weights.readiness, "l": weights.low_resources}
        )
    w = w / w.sum()
    for tier, b in bonus.items():
        if not math.isfinite(float(b)):
            raise MethodError(_("类别“%(tier)s”的加分不是有效数字。") % {"tier": tier_label(tier)})
    if limit is not None and (isinstance(limit, bool) or limit < 1):
        raise MethodError(_("名单数量 limit 必须是正整数。"))

    seen: set[int] = set()
    for c in candidates:
        who = _name(c.community_id, c.label)
        if c.community_id in seen:
            raise MethodError(_("社区“%(name)s”在候选名单中出现了两次。") % {"name": who})
        seen.add(c.community_id)
        _check_tier(c.tier, _("社区“%(name)s”") % {"name": who})
        if c.tier not in bonus:
            raise MethodError(
                _(
                    "没有为“%(tier)s”社区设定类别加分：请为明星、普通、薄弱三类都设定加分（可以为 0）。"
                )
                % {"tier": tier_label(c.tier)}
            )
        v_need, v_ready, v_share = float(c.need), float(c.readiness), float(c.resource_share)
        if not math.isfinite(v_need) or v_need < 0:
            raise MethodError(
                _("社区“%(name)s”的需求值 %(v)s 无效：需求必须是不小于 0 的数。")
                % {"name": who, "v": c.need}
            )
        if not math.isfinite(v_ready) or not 0 <= v_ready <= 1:
            raise MethodError(
                _("社区“%(name)s”的试点准备度 %(v)s 无效：准备度必须在 0 到 1 之间。")
                % {"name": who, "v": c.readiness}
            )
        if not math.isfinite(v_share) or not 0 <= v_share <= 1:
            raise MethodError(
                _("社区“%(name)s”的资源占比 %(v)s 无效：占比必须在 0 到 1 之间。")
                % {"name": who, "v": c.resource_share}
            )

    excluded = [c for c in candidates if c.already_pilot]
    pool = [c for c in candidates if not c.already_pilot]
    notes: list[str] = []
    if excluded:
        notes.append(
            _("以下 %(n)s 个社区已是试点，不参与排序：%(list)s")
            % {
                "n": len(excluded),
                "list": "、".join(_name(c.community_id, c.label) for c in excluded),
            }
        )
    if not pool:
        raise MethodError(_("所有候选社区都已是试点社区，没有可排序的新社区。"))

    need = np.array([c.need for c in pool], dtype=float)
    ready = np.array([c.readiness for c in pool], dtype=float)
    share = np.array([c.resource_share for c in pool], dtype=float)
    comps = []
    for values, reverse, what in (
        (need, False, _("需求")),
        (ready, False, _("组织基础")),
        (share, True, _("资源占比")),
    ):
        scaled = _minmax(values, reverse=reverse)
        if scaled is None:
            # Equal for everyone: no information, so it must not move anyone up or down.
            notes.append(_("各候选社区的%(what)s相同，该项不影响排序。") % {"what": what})
            scaled = np.zeros_like(values)
        comps.append(scaled)
    n_norm, r_norm, l_norm = comps
    contrib = np.column_stack([w[0] * n_norm, w[1] * r_norm, w[2] * l_norm])
    bonuses = np.array([float(bonus[c.tier]) for c in pool])
    scores = contrib.sum(axis=1) + bonuses
    share_median = float(np.median(share))

    order = sorted(
        range(len(pool)),
        key=lambda i: (
            -round(float(scores[i]), _SCORE_DECIMALS),
            TIERS.index(pool[i].tier),
            pool[i].community_id,
        ),
    )
    ranked = [
        RankedCandidate(
            community_id=pool[i].community_id,
            label=pool[i].label,
            tier=pool[i].tier,
            rank=rank,
            score=float(scores[i]),
            need=float(need[i]),
            readiness=float(ready[i]),
            resource_share=float(share[i]),
            need_norm=float(n_norm[i]),
            readiness_norm=float(r_norm[i]),
            low_resources_norm=float(l_norm[i]),
            need_contribution=float(contrib[i, 0]),
            readiness_contribution=float(contrib[i, 1]),
            low_resources_contribution=float(contrib[i, 2]),
            tier_bonus=float(bonuses[i]),
            reasons=_reasons(i, pool, need, share, share_median, contrib[i]),
        )
        for rank, i in enumerate(order, start=1)
    ]
    if limit is not None:
        ranked = ranked[:limit]
    return PilotRanking(ranked, notes=notes, excluded=[c.community_id for c in excluded])


def _reasons(
    i: int,
    pool: Sequence[PilotCandidate],
    need: np.ndarray,
    share: np.ndarray,
    share_median: float,
    contrib: np.ndarray,
) -> tuple[str, ...]:
    """2–4 short Chinese reasons: the tier, strengths (by contribution), a caution on a weak
    organisation, then plain facts until there are two."""
    c = pool[i]
    strong: list[tuple[float, str]] = []
    plain: list[tuple[float, str]] = []
    cautions: list[str] = []

    # Need: the share of the other candidates with a strictly lower need.
    if len(pool) > 1 and float(np.ptp(need)) > 0:
        below = int(np.sum(need < need[i]))
        pct = math.floor(100 * below / (len(pool) - 1))
        if below == 0:
            plain.append((contrib[0], _("需求在候选社区中最低")))
        else:
            text = _("需求高于 %(p)s%% 的候选社区") % {"p": pct}
            (strong if pct >= 50 else plain).append((contrib[0], text))
    else:
        plain.append((contrib[0], _("需求与其他候选社区相同")))

    # Resources: compared with the median share of the candidates.
    s = float(share[i])
    med = {"median": _pct(share_median)}
    if s < share_median:
        text = (
            _("上一期未获得资源，低于中位数 %(median)s") % med
            if s == 0
            else _("上一期获得资源占比仅 %(share)s，低于中位数 %(median)s")
            % {"share": _pct(s), **med}
        )
        strong.append((contrib[2], text))
    else:
        plain.append(
            (
                contrib[2],
                _("上一期获得资源占比 %(share)s，不低于中位数 %(median)s")
                % {"share": _pct(s), **med},
            )
        )

    # Readiness on its own 0–1 scale: whether a pilot can start, not only how it ranks.
    r = float(c.readiness)
    if r >= READY_HIGH:
        strong.append((contrib[1], _("组织基础较好，具备试点条件")))
    elif r < READY_LOW:
        cautions.append(
            _("组织基础较弱（准备度 %(r)s），试点前需先加强工会和骨干队伍建设") % {"r": _fmt(r)}
        )
    else:
        plain.append((contrib[1], _("组织基础一般（准备度 %(r)s）") % {"r": _fmt(r)}))

    reasons: list[str] = []
    if c.tier == "weak":
        reasons.append(_("薄弱社区，优先试点"))
    elif c.tier == "ordinary":
        reasons.append(_("普通社区，可检验模式在一般社区是否有效"))
    # Stable sorts: equal contributions keep the order need, resources, readiness.
    reasons += [t for _w, t in sorted(strong, key=lambda x: -x[0])]
    reasons += cautions
    for _w, t in sorted(plain, key=lambda x: -x[0]):
        if len(reasons) >= 2:
            break
        reasons.append(t)
    return tuple(reasons[:4])
