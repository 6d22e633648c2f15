"""Tests of the pilot evaluation (difference-in-differences) and the next-pilot ranking."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pytest
import statsmodels.api as sm
from scipy import stats

from sanlian.insights.methods import MethodError
from sanlian.insights.methods.pilots import (
    CommunityProfile,
    CovType,
    DidResult,
    Observation,
    PilotCandidate,
    PilotWeights,
    comparison_pool,
    did,
    did_by_tier,
    rank_next_pilots,
)

NO_COMPARISON = "没有可比的非试点社区，无法估计效果：请在同一类别中选择对照社区"


def panel(
    rows: Sequence[tuple[int, str, bool, float | None, float | None]],
) -> list[Observation]:
    """(id, tier, pilot, baseline, follow_up) rows → observations; None leaves a period out."""
    out = []
    for cid, tier, pilot, base, follow in rows:
        if base is not None:
            out.append(Observation(cid, tier, pilot, "baseline", base, f"社区{cid}"))
        if follow is not None:
            out.append(Observation(cid, tier, pilot, "follow_up", follow, f"社区{cid}"))
    return out


# Pilots A(1): 2→5, B(2): 4→9; comparisons C(3): 1→2, D(4): 3→6.
TINY = panel(
    [
        (1, "weak", True, 2.0, 5.0),
        (2, "weak", True, 4.0, 9.0),
        (3, "weak", False, 1.0, 2.0),
        (4, "weak", False, 3.0, 6.0),
    ]
)


# --------------------------------------------------------------------------------------
# DiD: hand-computed cases
# --------------------------------------------------------------------------------------


def test_did_hand_computed_nonrobust() -> None:
    # Cell means: pilot 3 → 7, comparison 2 → 4; δ = (7 − 3) − (4 − 2) = 2.
    # Residuals (value − cell mean): ±1, ±2, ±1, ±2 → RSS = 2·(1 + 4 + 1 + 4) = 20.
    # N = 8, K = 4, df = 4, s² = 20/4 = 5; SE² = s²·(1/2 + 1/2 + 1/2 + 1/2) = 10.
    # t(0.975; 4) = 2.776445 (t table) → CI = 2 ± 2.776445·√10 = [−6.7798, 10.7798].
    r = did(TINY, cov="nonrobust", indicator="活动参与人次")
    assert r.indicator == "活动参与人次"
    assert r.cov_type == "nonrobust"
    assert r.effect == pytest.approx(2.0)
    assert r.simple_difference == pytest.approx(2.0)
    assert (r.means.pilot_baseline, r.means.pilot_follow_up) == pytest.approx((3.0, 7.0))
    assert (r.means.comparison_baseline, r.means.comparison_follow_up) == pytest.approx((2.0, 4.0))
    assert r.means.pilot_change == pytest.approx(4.0)
    assert r.means.comparison_change == pytest.approx(2.0)
    assert r.std_error == pytest.approx(math.sqrt(10))
    assert r.df == 4
    assert r.ci_low == pytest.approx(2 - 2.776445105 * math.sqrt(10), abs=1e-6)
    assert r.ci_high == pytest.approx(2 + 2.776445105 * math.sqrt(10), abs=1e-6)
    assert r.ci_low == pytest.approx(-6.7798, abs=1e-4)
    # p = 2·P(T₄ > 2/√10 = 0.6325)
    assert r.p_value == pytest.approx(2 * stats.t.sf(2 / math.sqrt(10), 4))
    assert (r.n_pilot, r.n_comparison, r.n_observations) == (2, 2, 8)
    assert r.pilot_ids == (1, 2) and r.comparison_ids == (3, 4)
    assert r.significant is False
    assert "区间包含 0" in r.notes[0]
    assert any("平行趋势" in n for n in r.notes)


def test_did_hand_computed_cluster() -> None:
    # Changes Δ: pilots 3, 5 (mean 4, deviations ±1); comparisons 1, 3 (mean 2, ±1).
    # CR0: Σ(±1)²/2² + Σ(±1)²/2² = 0.5 + 0.5 = 1.
    # Small-sample factor G/(G−1)·(N−1)/(N−K) = 4/3 · 7/4 = 7/3 → SE = √(7/3) = 1.5275.
    # df = G − 1 = 3, t(0.975; 3) = 3.182446 (t table) → CI = 2 ± 4.8612.
    r = did(TINY)
    assert r.cov_type == "cluster"
    assert r.effect == pytest.approx(2.0)
    assert r.std_error == pytest.approx(math.sqrt(7 / 3))
    assert r.df == 3
    assert r.ci_low == pytest.approx(2 - 3.182446305 * math.sqrt(7 / 3), abs=1e-6)
    assert r.ci_high == pytest.approx(2 + 3.182446305 * math.sqrt(7 / 3), abs=1e-6)
    # Four communities only: the note warns that clustered errors are imprecise.
    assert any("聚类的标准误可能不够准确" in n for n in r.notes)


def test_did_alpha_changes_the_interval() -> None:
    # 90 %: t(0.95; 4) = 2.131847 → CI = 2 ± 2.131847·√10.
    r = did(TINY, cov="nonrobust", alpha=0.10)
    assert r.ci_high == pytest.approx(2 + 2.131847 * math.sqrt(10), abs=1e-5)
    assert "90%" in r.notes[0]


def test_did_significant_effect_note() -> None:
    # Pilots rise by 10 ± 1, comparisons by 0 ± 1: δ = 10, clearly away from 0.
    obs = panel(
        [
            (1, "ordinary", True, 5.0, 14.0),
            (2, "ordinary", True, 6.0, 17.0),
            (3, "ordinary", True, 7.0, 17.0),
            (4, "ordinary", False, 5.0, 4.0),
            (5, "ordinary", False, 6.0, 7.0),
            (6, "ordinary", False, 7.0, 7.0),
        ]
    )
    r = did(obs)
    # Δ pilots 9, 11, 10 (mean 10); Δ comparisons −1, 1, 0 (mean 0) → δ = 10.
    assert r.effect == pytest.approx(10.0)
    assert r.significant is True
    assert "效果在统计上显著" in r.notes[0]
    assert r.p_value is not None and r.p_value < 0.01


def test_simple_difference_equals_ols_on_balanced_panel() -> None:
    rng = np.random.default_rng(20240601)
    rows: list[tuple[int, str, bool, float | None, float | None]] = []
    for cid in range(1, 21):
        pilot = cid <= 8
        base = float(rng.normal(50, 10))
        rows.append((cid, "ordinary", pilot, base, base + float(rng.normal(3 + 2 * pilot, 4))))
    obs = panel(rows)
    covs: tuple[CovType, ...] = ("cluster", "HC1", "nonrobust")
    for cov in covs:
        r = did(obs, cov=cov)
        assert r.effect == pytest.approx(r.simple_difference, abs=1e-10)
        assert r.effect == pytest.approx(r.means.difference, abs=1e-10)
        assert r.cov_type == cov


def test_cluster_and_hc1_match_statsmodels_called_directly() -> None:
    rng = np.random.default_rng(7)
    rows = [
        (cid, "star", cid <= 5, float(v), float(v + rng.normal(1, 2)))
        for cid, v in enumerate(rng.normal(10, 3, size=12), start=1)
    ]
    obs = panel(rows)
    y = np.array([v for _c, _t, _p, b, f in rows for v in (b, f)])
    pilot = np.repeat([float(p) for _c, _t, p, _b, _f in rows], 2)
    post = np.tile([0.0, 1.0], len(rows))
    x = np.column_stack([np.ones_like(y), pilot, post, pilot * post])
    groups = np.repeat(np.arange(len(rows)), 2)
    direct = sm.OLS(y, x).fit(cov_type="cluster", cov_kwds={"groups": groups}, use_t=True)
    r = did(obs)
    assert r.std_error == pytest.approx(float(direct.bse[3]))
    assert r.ci_low == pytest.approx(float(direct.conf_int()[3][0]))
    hc1 = sm.OLS(y, x).fit(cov_type="HC1", use_t=True)
    assert did(obs, cov="HC1").std_error == pytest.approx(float(hc1.bse[3]))


# --------------------------------------------------------------------------------------
# DiD: published example
# --------------------------------------------------------------------------------------


def test_did_card_krueger_1994_table_3() -> None:
    """Card, D. & Krueger, A. B. (1994). "Minimum Wages and Employment: A Case Study of the
    Fast-Food Industry in New Jersey and Pennsylvania". American Economic Review 84(4),
    772–793, Table 3 ("Average employment per store before and after the rise in New Jersey
    minimum wage"), column (i) PA, (ii) NJ, (iii) NJ − PA:

        row 1  FTE employment before, all available observations   PA 23.33   NJ 20.44
        row 2  FTE employment after, all available observations    PA 21.17   NJ 21.03
        row 3  Change in mean FTE employment                      PA −2.16   NJ 0.59   2.76

    Checked against the reproduction of rows 1–3 in Angrist, J. D. & Pischke, J.-S. (2009),
    "Mostly Harmless Econometrics", Princeton University Press, Table 5.2.1 ("Average
    employment per store before and after the New Jersey minimum wage increase", p. 171,
    "Adapted from Card and Krueger (1994), Table 3"). Row 3 differences the two waves' means
    over all available stores; the balanced-sample row is row 4 (NJ − PA = 2.75, s.e. 1.34).

    A balanced synthetic panel (NJ stores = pilots, PA stores = comparisons) is built whose
    four group means are exactly the published means. From the rounded means
    (21.03 − 20.44) − (21.17 − 23.33) = 0.59 + 2.16 = 2.75; each published mean is rounded
    to ±0.005, so the difference can differ from the published 2.76 by up to 4·0.005 plus
    0.005 for rounding 2.76 itself.
    """
    # Store deviations from the group mean, each list summing to 0 so the means stay exact;
    # different deviations in the two waves give the stores different changes.
    before = [-1.5, -0.5, 0.5, 1.5]
    after_nj = [-0.6, 1.1, -1.3, 0.8]
    after_pa = [1.4, -0.9, 0.2, -0.7]
    rows: list[tuple[int, str, bool, float | None, float | None]] = []
    for k in range(4):
        rows.append((100 + k, "ordinary", True, 20.44 + before[k], 21.03 + after_nj[k]))
        rows.append((200 + k, "ordinary", False, 23.33 + before[k], 21.17 + after_pa[k]))
    r = did(panel(rows), indicator="FTE employment")
    assert r.means.pilot_baseline == pytest.approx(20.44)
    assert r.means.pilot_follow_up == pytest.approx(21.03)
    assert r.means.comparison_baseline == pytest.approx(23.33)
    assert r.means.comparison_follow_up == pytest.approx(21.17)
    assert r.means.pilot_change == pytest.approx(0.59, abs=0.01)  # published NJ change
    assert r.means.comparison_change == pytest.approx(-2.16, abs=0.01)  # published PA change
    assert r.effect == pytest.approx(2.75)
    assert r.effect == pytest.approx(2.76, abs=4 * 0.005 + 0.005)  # published row 3, (iii)
    assert r.simple_difference == pytest.approx(r.effect)


# --------------------------------------------------------------------------------------
# DiD: unbalanced panels, fall-backs, degenerate data
# --------------------------------------------------------------------------------------


def test_did_drops_unbalanced_communities_and_lists_them() -> None:
    extra = panel(
        [
            (5, "weak", True, 100.0, None),  # pilot without follow-up
            (6, "weak", False, None, -50.0),  # comparison without baseline
        ]
    )
    r = did(TINY + extra)
    # The estimate is the balanced four-community panel's.
    assert r.effect == pytest.approx(2.0)
    assert r.n_pilot == 2 and r.n_comparison == 2 and r.n_observations == 8
    assert [(d.community_id, d.missing_period) for d in r.dropped] == [
        (5, "follow_up"),
        (6, "baseline"),
    ]
    dropped_note = next(n for n in r.notes if "已从评估中剔除" in n)
    assert "社区5（缺少跟进期）" in dropped_note
    assert "社区6（缺少基线期）" in dropped_note


def test_did_falls_back_to_hc1_with_one_pilot() -> None:
    # One pilot 10 → 20; comparisons 1 → 2, 3 → 5, 5 → 8 (Δ 1, 2, 3, mean 2).
    # Cell means: pilot 10 → 20, comparison 3 → 5; δ = 10 − 2 = 8.
    obs = panel(
        [
            (1, "weak", True, 10.0, 20.0),
            (2, "weak", False, 1.0, 2.0),
            (3, "weak", False, 3.0, 5.0),
            (4, "weak", False, 5.0, 8.0),
        ]
    )
    r = did(obs)
    assert r.effect == pytest.approx(8.0)
    assert r.cov_type == "HC1"
    assert r.df == 8 - 4
    assert any("HC1" in n for n in r.notes)
    assert any("只有一个社区" in n for n in r.notes)
    assert r.std_error is not None and r.std_error > 0


def test_did_one_pilot_one_comparison_has_no_uncertainty() -> None:
    # 2 → 6 against 1 → 3: δ = 4 − 2 = 2, a saturated fit with nothing left to estimate error.
    obs = panel([(1, "star", True, 2.0, 6.0), (2, "star", False, 1.0, 3.0)])
    r = did(obs)
    assert r.effect == pytest.approx(2.0)
    assert r.std_error is None and r.ci_low is None and r.ci_high is None
    assert r.p_value is None and r.df is None
    assert r.significant is None
    assert any("无法计算标准误" in n for n in r.notes)


def test_did_identical_changes_have_no_uncertainty_not_zero() -> None:
    # Levels differ, but every pilot gains exactly 3 and every comparison exactly 1: the
    # clustered standard error would be 0, which must not be shown as certainty.
    obs = panel(
        [
            (1, "weak", True, 1.0, 4.0),
            (2, "weak", True, 5.0, 8.0),
            (3, "weak", False, 2.0, 3.0),
            (4, "weak", False, 7.0, 8.0),
        ]
    )
    r = did(obs)
    assert r.effect == pytest.approx(2.0)
    assert r.std_error is None and r.p_value is None
    assert not any(isinstance(v, float) and not math.isfinite(v) for v in vars(r).values())


# --------------------------------------------------------------------------------------
# DiD: bad input
# --------------------------------------------------------------------------------------


def test_did_no_data() -> None:
    with pytest.raises(MethodError, match="没有可计算的数据"):
        did([])


def test_did_no_pilot_communities() -> None:
    obs = panel([(3, "weak", False, 1.0, 2.0), (4, "weak", False, 3.0, 6.0)])
    with pytest.raises(MethodError, match="没有试点社区"):
        did(obs)


def test_did_no_comparison_communities() -> None:
    obs = panel([(1, "weak", True, 1.0, 2.0), (2, "weak", True, 3.0, 6.0)])
    with pytest.raises(MethodError) as e:
        did(obs)
    assert e.value.message == NO_COMPARISON


def test_did_comparisons_all_dropped() -> None:
    obs = panel([(1, "weak", True, 1.0, 2.0), (3, "weak", False, 3.0, None)])
    with pytest.raises(MethodError) as e:
        did(obs)
    assert e.value.message == NO_COMPARISON
    assert any("社区3（缺少跟进期）" in d for d in e.value.details)


def test_did_pilots_all_dropped() -> None:
    obs = panel([(1, "weak", True, None, 2.0), (3, "weak", False, 3.0, 4.0)])
    with pytest.raises(MethodError, match="所有试点社区都缺少"):
        did(obs)


def test_did_period_missing_entirely() -> None:
    obs = panel([(1, "weak", True, 1.0, None), (3, "weak", False, 3.0, None)])
    with pytest.raises(MethodError, match="没有任何社区的跟进期数据"):
        did(obs)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_did_non_finite_value(bad: float) -> None:
    obs = [*TINY[:-1], Observation(4, "weak", False, "follow_up", bad, "社区4")]
    with pytest.raises(MethodError, match="不是有效数字") as e:
        did(obs)
    assert e.value.details == ["社区4（跟进期）"]


def test_did_all_values_identical_is_an_error() -> None:
    obs = panel([(1, "weak", True, 3.0, 3.0), (2, "weak", False, 3.0, 3.0)])
    with pytest.raises(MethodError, match="取值完全相同"):
        did(obs)


def test_did_duplicate_record() -> None:
    obs = [*TINY, Observation(1, "weak", True, "baseline", 2.5, "社区1")]
    with pytest.raises(MethodError, match="有多条记录"):
        did(obs)


def test_did_inconsistent_pilot_flag() -> None:
    obs = [
        *TINY,
        Observation(5, "weak", True, "baseline", 1.0),
        Observation(5, "weak", False, "follow_up", 2.0),
    ]
    with pytest.raises(MethodError, match="试点身份或类别不一致"):
        did(obs)


def test_did_unknown_period_and_tier() -> None:
    with pytest.raises(MethodError, match="时期“midline”无法识别"):
        did([*TINY, Observation(9, "weak", True, "midline", 1.0)])  # type: ignore[arg-type]
    with pytest.raises(MethodError, match="类别“gold”无法识别"):
        did([*TINY, Observation(9, "gold", True, "baseline", 1.0)])


@pytest.mark.parametrize("alpha", [0.0, 1.0, -0.1, math.nan])
def test_did_bad_alpha(alpha: float) -> None:
    with pytest.raises(MethodError, match="alpha"):
        did(TINY, alpha=alpha)


# --------------------------------------------------------------------------------------
# DiD by tier
# --------------------------------------------------------------------------------------


def test_did_by_tier_with_a_tier_lacking_comparisons() -> None:
    obs = TINY + panel(
        [
            # star: pilots only
            (11, "star", True, 10.0, 12.0),
            (12, "star", True, 11.0, 15.0),
            # ordinary: pilots 1 → 4, 2 → 4 (mean 1.5 → 4); comparisons 1 → 2, 3 → 3 (2 → 2.5)
            (21, "ordinary", True, 1.0, 4.0),
            (22, "ordinary", True, 2.0, 4.0),
            (23, "ordinary", False, 1.0, 2.0),
            (24, "ordinary", False, 3.0, 3.0),
        ]
    )
    out = did_by_tier(obs)
    assert list(out) == ["star", "ordinary", "weak"]
    star = out["star"]
    assert isinstance(star, MethodError)
    assert "“明星”社区全部是试点社区" in star.message
    assert NO_COMPARISON in star.details
    ordinary = out["ordinary"]
    assert isinstance(ordinary, DidResult)
    # δ = (4 − 1.5) − (2.5 − 2) = 2.5 − 0.5 = 2
    assert ordinary.effect == pytest.approx(2.0)
    assert ordinary.pilot_ids == (21, 22)
    weak = out["weak"]
    assert isinstance(weak, DidResult)
    assert weak.effect == pytest.approx(2.0)


def test_did_by_tier_without_pilots_and_with_an_inner_error() -> None:
    obs = TINY + panel(
        [
            (31, "ordinary", False, 1.0, 2.0),  # ordinary: comparisons only
            (41, "star", True, 5.0, 5.0),  # star: no variation at all
            (42, "star", False, 5.0, 5.0),
        ]
    )
    out = did_by_tier(obs)
    ordinary = out["ordinary"]
    assert isinstance(ordinary, MethodError)
    assert "“普通”社区中没有试点社区" in ordinary.message
    star = out["star"]
    assert isinstance(star, MethodError)
    assert star.message.startswith("“明星”社区无法单独评估")
    assert "取值完全相同" in star.message
    assert isinstance(out["weak"], DidResult)


def test_did_by_tier_whole_input_errors_are_raised() -> None:
    with pytest.raises(MethodError, match="没有可计算的数据"):
        did_by_tier([])
    with pytest.raises(MethodError, match="不是有效数字"):
        did_by_tier([*TINY, Observation(9, "star", True, "baseline", math.nan)])


# --------------------------------------------------------------------------------------
# Comparison pool
# --------------------------------------------------------------------------------------

PROFILES = [
    CommunityProfile(1, "weak", 10.0, "甲"),  # pilot
    CommunityProfile(2, "weak", 30.0, "乙"),  # pilot
    CommunityProfile(3, "weak", 12.0),
    CommunityProfile(4, "weak", 11.0),
    CommunityProfile(5, "weak", 29.0),
    CommunityProfile(6, "weak", None),
    CommunityProfile(7, "star", 10.0),
    CommunityProfile(8, "ordinary", 30.5),
]


def test_comparison_pool_same_tier() -> None:
    assert comparison_pool([1, 2], PROFILES) == [3, 4, 5, 6]
    assert comparison_pool([1, 2], PROFILES, match_on_tier=False) == [3, 4, 5, 6, 7, 8]


def test_comparison_pool_nearest_baseline_without_replacement() -> None:
    # Pilot 1 (10): |11−10| = 1 (id 4), |12−10| = 2 (id 3), |29−10| = 19 (id 5) → takes 4.
    # Pilot 2 (30): |29−30| = 1 (id 5) → takes 5.
    assert comparison_pool([1, 2], PROFILES, per_pilot=1) == [4, 5]
    # Two each: pilot 1 takes 4, 3; pilot 2 takes 5 and then nothing is left in its tier
    # (6 has no baseline and cannot be matched).
    assert comparison_pool([1, 2], PROFILES, per_pilot=2) == [3, 4, 5]
    # Across tiers: pilot 1 (10) → 7 (|0|), 4 (|1|); pilot 2 (30) → 5 (|1|), 8 (|0.5|) first.
    assert comparison_pool([1, 2], PROFILES, per_pilot=2, match_on_tier=False) == [4, 5, 7, 8]


def test_comparison_pool_ties_by_id() -> None:
    profiles = [
        CommunityProfile(1, "weak", 10.0),
        CommunityProfile(9, "weak", 11.0),
        CommunityProfile(8, "weak", 9.0),
    ]
    # 9 and 8 are both 1 away from 10: the lower id wins.
    assert comparison_pool([1], profiles, per_pilot=1) == [8]


def test_comparison_pool_bad_input() -> None:
    with pytest.raises(MethodError, match="没有试点社区"):
        comparison_pool([], PROFILES)
    with pytest.raises(MethodError) as e:
        comparison_pool([7], PROFILES)  # no other star community
    assert e.value.message == NO_COMPARISON
    with pytest.raises(MethodError, match="不在候选名单中"):
        comparison_pool([99], PROFILES)
    with pytest.raises(MethodError, match="正整数"):
        comparison_pool([1], PROFILES, per_pilot=0)
    with pytest.raises(MethodError, match="没有基线值"):
        comparison_pool([6], PROFILES, per_pilot=1)
    with pytest.raises(MethodError, match="出现了两次"):
        comparison_pool([1], [*PROFILES, CommunityProfile(3, "weak", 1.0)])
    with pytest.raises(MethodError, match="基线值不是有效数字"):
        comparison_pool([1], [*PROFILES, CommunityProfile(30, "weak", math.nan)])
    with pytest.raises(MethodError, match="无法识别"):
        comparison_pool([1], [*PROFILES, CommunityProfile(30, "gold", 1.0)])


# --------------------------------------------------------------------------------------
# Next pilots
# --------------------------------------------------------------------------------------

CANDIDATES = [
    PilotCandidate(1, "甲", "weak", need=10, readiness=0.2, resource_share=0.05),
    PilotCandidate(2, "乙", "ordinary", need=30, readiness=0.8, resource_share=0.01),
    PilotCandidate(3, "丙", "star", need=20, readiness=0.5, resource_share=0.0),
    PilotCandidate(4, "丁", "star", need=50, readiness=1.0, resource_share=0.3, already_pilot=True),
]


def test_rank_next_pilots_hand_computed() -> None:
    # Without 丁 (already a pilot):
    #   need 10, 30, 20 → N = 0, 1, 0.5; readiness 0.2, 0.8, 0.5 → R = 0, 1, 0.5;
    #   share 0.05, 0.01, 0 → L = (0.05 − s)/0.05 = 0, 0.8, 1.
    #   甲: 0.4·0 + 0.3·0 + 0.3·0 + 0.15 (weak) = 0.15
    #   乙: 0.4·1 + 0.3·1 + 0.3·0.8 + 0.10 (ordinary) = 1.04
    #   丙: 0.4·0.5 + 0.3·0.5 + 0.3·1 + 0 (star) = 0.65
    ranking = rank_next_pilots(CANDIDATES)
    assert [c.community_id for c in ranking] == [2, 3, 1]
    assert [c.rank for c in ranking] == [1, 2, 3]
    assert [c.score for c in ranking] == pytest.approx([1.04, 0.65, 0.15])
    yi, bing, jia = ranking
    assert (yi.need_norm, yi.readiness_norm, yi.low_resources_norm) == pytest.approx((1, 1, 0.8))
    assert (
        yi.need_contribution,
        yi.readiness_contribution,
        yi.low_resources_contribution,
    ) == pytest.approx((0.4, 0.3, 0.24))
    assert yi.tier_bonus == pytest.approx(0.10)
    assert bing.low_resources_norm == pytest.approx(1.0)
    assert jia.tier_bonus == pytest.approx(0.15)
    assert ranking.excluded == (4,)
    assert any("丁" in n and "已是试点" in n for n in ranking.notes)


def test_rank_next_pilots_reasons() -> None:
    yi, bing, jia = rank_next_pilots(CANDIDATES)
    # 乙: ordinary; need above both others (100 %); readiness 0.8 ≥ 0.6; share 1 % = median.
    assert yi.reasons == (
        "普通社区，可检验模式在一般社区是否有效",
        "需求高于 100% 的候选社区",
        "组织基础较好，具备试点条件",
    )
    # 丙: no resources (median 1.00 %) contributes 0.3, need above 1 of 2 (50 %) 0.2.
    assert bing.reasons == ("上一期未获得资源，低于中位数 1.00%", "需求高于 50% 的候选社区")
    # 甲: weak, and a caution for readiness 0.2 < 0.4.
    assert jia.reasons == (
        "薄弱社区，优先试点",
        "组织基础较弱（准备度 0.20），试点前需先加强工会和骨干队伍建设",
    )
    for c in (yi, bing, jia):
        assert 2 <= len(c.reasons) <= 4


def test_rank_next_pilots_small_share_reason() -> None:
    cands = [
        PilotCandidate(1, "甲", "star", need=5, readiness=0.5, resource_share=0.0002),
        PilotCandidate(2, "乙", "star", need=1, readiness=0.5, resource_share=0.01),
        PilotCandidate(3, "丙", "star", need=3, readiness=0.5, resource_share=0.02),
    ]
    first = rank_next_pilots(cands)[0]
    assert first.community_id == 1
    assert "上一期获得资源占比仅 0.02%，低于中位数 1.00%" in first.reasons
    assert "需求高于 100% 的候选社区" in first.reasons
    assert any("组织基础" in n for n in rank_next_pilots(cands).notes)  # readiness all equal


def test_rank_next_pilots_ties_weak_first_then_id() -> None:
    cands = [
        PilotCandidate(5, "", "star", 10.0, 1.0, 0.0),
        PilotCandidate(4, "", "weak", 10.0, 1.0, 0.0),
        PilotCandidate(3, "", "weak", 10.0, 1.0, 0.0),
        PilotCandidate(2, "", "ordinary", 10.0, 1.0, 0.0),
        PilotCandidate(1, "", "star", need=0.0, readiness=0.0, resource_share=1.0),
    ]
    zero = {"weak": 0.0, "ordinary": 0.0, "star": 0.0}
    ranking = rank_next_pilots(cands, tier_bonus=zero)
    # 2, 3, 4, 5 all score 0.4 + 0.3 + 0.3 = 1.0; 1 scores 0.
    assert [c.community_id for c in ranking] == [3, 4, 2, 5, 1]
    assert [c.score for c in ranking] == pytest.approx([1, 1, 1, 1, 0])


def test_rank_next_pilots_float_noise_is_a_tie() -> None:
    # 0.1·3 is 0.30000000000000004 in floating point; with weights 0.1/0.2/0 the scores
    # 0.1·1 + 0.2·1 and 0.3·1 differ only in the last bit, so the tie-break decides.
    cands = [
        PilotCandidate(2, "", "star", need=1, readiness=1, resource_share=0.5),
        PilotCandidate(1, "", "star", need=0, readiness=0, resource_share=0.5),
    ]
    ranking = rank_next_pilots(cands, weights=PilotWeights(0.1, 0.2, 0.0))
    assert ranking[0].community_id == 2


def test_rank_next_pilots_weights_rescaled_and_limit() -> None:
    a = rank_next_pilots(CANDIDATES)
    b = rank_next_pilots(CANDIDATES, weights=PilotWeights(4, 3, 3))
    assert [c.score for c in a] == pytest.approx([c.score for c in b])
    top = rank_next_pilots(CANDIDATES, limit=2)
    assert [c.community_id for c in top] == [2, 3]
    assert top.excluded == (4,)


def test_rank_next_pilots_single_candidate() -> None:
    ranking = rank_next_pilots([PilotCandidate(1, "甲", "weak", 3, 0.7, 0.1)])
    (only,) = ranking
    # Every component is constant: all 0, score = tier bonus 0.15.
    assert only.score == pytest.approx(0.15)
    assert len(ranking.notes) == 3
    assert only.reasons[0] == "薄弱社区，优先试点"
    assert 2 <= len(only.reasons) <= 4


@pytest.mark.parametrize(
    ("candidate", "match"),
    [
        (PilotCandidate(9, "坏", "weak", -1, 0.5, 0.1), "需求值"),
        (PilotCandidate(9, "坏", "weak", math.nan, 0.5, 0.1), "需求值"),
        (PilotCandidate(9, "坏", "weak", 1, 1.2, 0.1), "准备度"),
        (PilotCandidate(9, "坏", "weak", 1, -0.1, 0.1), "准备度"),
        (PilotCandidate(9, "坏", "weak", 1, math.nan, 0.1), "准备度"),
        (PilotCandidate(9, "坏", "weak", 1, 0.5, 1.5), "资源占比"),
        (PilotCandidate(9, "坏", "weak", 1, 0.5, -0.01), "资源占比"),
        (PilotCandidate(9, "坏", "gold", 1, 0.5, 0.1), "无法识别"),
        (PilotCandidate(1, "甲", "weak", 1, 0.5, 0.1), "出现了两次"),
    ],
)
def test_rank_next_pilots_bad_candidate(candidate: PilotCandidate, match: str) -> None:
    with pytest.raises(MethodError, match=match):
        rank_next_pilots([*CANDIDATES, candidate])


@pytest.mark.parametrize(
    "weights",
    [PilotWeights(0, 0, 0), PilotWeights(-0.5, 0.3, 0.3), PilotWeights(math.nan, 0.3, 0.3)],
)
def test_rank_next_pilots_bad_weights(weights: PilotWeights) -> None:
    with pytest.raises(MethodError, match="权重"):
        rank_next_pilots(CANDIDATES, weights=weights)


def test_rank_next_pilots_other_bad_input() -> None:
    with pytest.raises(MethodError, match="没有候选社区"):
        rank_next_pilots([])
    with pytest.raises(MethodError, match="都已是试点"):
        rank_next_pilots([c for c in CANDIDATES if c.already_pilot])
    with pytest.raises(MethodError, match="limit"):
        rank_next_pilots(CANDIDATES, limit=0)
    with pytest.raises(MethodError, match="没有为“普通”社区设定类别加分"):
        rank_next_pilots(CANDIDATES, tier_bonus={"weak": 0.2, "star": 0.0})
    with pytest.raises(MethodError, match="加分不是有效数字"):
        rank_next_pilots(CANDIDATES, tier_bonus={"weak": math.inf, "ordinary": 0, "star": 0})


def test_rank_next_pilots_reproduces_the_hdi_illustration_of_hdr_2007_2008() -> None:
    """Published example: UNDP, Human Development Report 2007/2008, Technical note 1, the
    HDI of Turkey — three dimension indices, each a min–max scaling between fixed goalposts,
    averaged with equal weights. The ranking's score is the same construction (min–max
    components, weighted sum) when the goalposts are two candidates and no tier bonus is
    given: life expectancy 71.3 years (goalposts 25–85) → 0.772; education index
    ⅔·0.874 (adult literacy) + ⅓·0.687 (gross enrolment) = 0.812 (goalposts 0–1); GDP index
    (log 8,407 − log 100)/(log 40,000 − log 100) = 0.740, entered as a resource share falling
    from 1 (PPP US$ 100) to 0 (PPP US$ 40,000) so that its reversal is the index itself;
    HDI = ⅓(0.772 + 0.812 + 0.740) = 0.775 (from the rounded indices, as published)."""
    log = math.log10
    gdp_share = (log(40_000) - log(8_407)) / (log(40_000) - log(100))
    education = 2 / 3 * 0.874 + 1 / 3 * 0.687
    candidates = [
        PilotCandidate(1, "土耳其", "ordinary", need=71.3, readiness=education,
                       resource_share=gdp_share),
        PilotCandidate(2, "下限", "ordinary", need=25, readiness=0, resource_share=1),
        PilotCandidate(3, "上限", "ordinary", need=85, readiness=1, resource_share=0),
    ]  # fmt: skip
    ranking = rank_next_pilots(
        candidates,
        weights=PilotWeights(1, 1, 1),
        tier_bonus={"star": 0, "ordinary": 0, "weak": 0},
    )
    turkey = next(c for c in ranking if c.community_id == 1)
    indices = (turkey.need_norm, turkey.readiness_norm, turkey.low_resources_norm)
    assert tuple(round(x, 3) for x in indices) == (0.772, 0.812, 0.740)
    assert round(sum(round(x, 3) for x in indices) / 3, 3) == 0.775
    assert turkey.score == pytest.approx(0.775, abs=1e-3)
    assert turkey.score == pytest.approx(sum(indices) / 3)
    assert [c.community_id for c in ranking] == [3, 1, 2]
