"""社区分类: entropy weights, TOPSIS and tiers — hand-computed cases, published examples,
directions, missing values, invariances, tier bands with ties and every refusal."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sanlian.insights.methods import MethodError
from sanlian.insights.methods.topsis import (
    EntropyVariant,
    Indicator,
    entropy_weights,
    propose_tiers,
    tier_cutoffs,
    tiers_by_cutoffs,
    topsis,
)

approx = pytest.approx

A = Indicator("a", "活动场次")
B_COST = Indicator("b", "投诉件数", benefit=False)

# ---------------------------------------------------------------------------------------------
# hand-computed 3 × 2 example
#
#          A (benefit)  B (cost)
#   X          1           3
#   Y          2           1
#   Z          3           2
#
# Entropy (min–max): A → z = (0, ½, 1), p = (0, ⅓, ⅔); B (cost, (3 − x)/2) → z = (0, 1, ½),
# p = (0, ⅔, ⅓). Both: e = −(⅓ ln ⅓ + ⅔ ln ⅔)/ln 3 = ⅓ + ⅔·ln 1.5/ln 3 = 0.579380, so
# d = 0.420620 for both and w = (½, ½).
# TOPSIS: both columns have norm √14; with u = 1/(2√14): v_A = (1u, 2u, 3u), v_B = (3u, 1u, 2u).
# Ideal (3u, 1u), anti-ideal (1u, 3u).
#   X: D⁺ = u√(4 + 4) = u√8, D⁻ = 0              → C = 0
#   Y: D⁺ = u√(1 + 0) = u,   D⁻ = u√(1 + 4) = u√5 → C = √5/(1 + √5) = 0.690983
#   Z: D⁺ = u√(0 + 1) = u,   D⁻ = u√(4 + 1) = u√5 → C = 0.690983 (a tie with Y)
HAND = [[1, 3], [2, 1], [3, 2]]
E_HAND = 1 / 3 + (2 / 3) * math.log(1.5) / math.log(3)
C_HAND = math.sqrt(5) / (1 + math.sqrt(5))


def test_entropy_weights_hand() -> None:
    result = entropy_weights(HAND, [A, B_COST], labels=["X", "Y", "Z"])
    assert abs(E_HAND - 0.579380) < 5e-7
    assert [w.entropy for w in result.indicators] == [approx(E_HAND), approx(E_HAND)]
    assert [w.divergence for w in result.indicators] == [approx(1 - E_HAND)] * 2
    assert result.weights == (approx(0.5), approx(0.5))
    assert result.dropped == ()
    assert result.notes == ()
    assert result.variant == "minmax"
    assert result.n == 3


def test_topsis_hand() -> None:
    result = topsis(HAND, [A, B_COST], labels=["X", "Y", "Z"])
    assert result.weight_source == "entropy"
    assert result.scores == (approx(0.0), approx(C_HAND), approx(C_HAND))
    assert result.scores[1] == result.scores[2]  # an exact tie, not split by rounding noise
    assert result.ranks == (3, 1, 1)
    assert result.labels == ("X", "Y", "Z")

    u = 1 / (2 * math.sqrt(14))
    x = result.rows[0]
    assert x.label == "X"
    assert (x.d_plus, x.d_minus, x.score, x.rank) == (approx(u * math.sqrt(8)), 0.0, 0.0, 3)
    a, b = x.contributions
    assert (a.key, a.raw, a.imputed) == ("a", 1.0, False)
    assert a.normalised == approx(1 / math.sqrt(14))
    assert a.weighted == approx(u)
    assert (a.ideal, a.anti_ideal) == (approx(3 * u), approx(u))
    assert a.to_ideal_sq == approx(4 * u * u)
    assert a.to_anti_ideal_sq == approx(0.0)
    # B is a cost indicator: the ideal is the smallest weighted value.
    assert (b.benefit, b.ideal, b.anti_ideal) == (False, approx(u), approx(3 * u))
    assert b.to_ideal_sq == approx(4 * u * u)
    # The squared terms add up to D².
    for row in result.rows:
        assert sum(c.to_ideal_sq for c in row.contributions) == approx(row.d_plus**2)
        assert sum(c.to_anti_ideal_sq for c in row.contributions) == approx(row.d_minus**2)


# ---------------------------------------------------------------------------------------------
# published examples


def test_entropy_weights_xu_2004() -> None:
    # Xu, X. (2004): "A note on the subjective and objective integrated approach to determine
    # attribute weights", European Journal of Operational Research 156(2): 530–532 — decision
    # matrix 4 × 4, entropy weights 0.4630, 0.3992, 0.1378, 0.0000 (proportions of the raw
    # values). Found in the tests of energyinpython/distance-metrics-for-mcda
    # (tests/test_weights.py, Test_Entropy.test_Entropy).
    matrix = [[30, 30, 38, 29], [19, 54, 86, 29], [19, 15, 85, 28.9], [68, 70, 60, 29]]
    indicators = [Indicator(f"c{j}", f"C{j}") for j in range(1, 5)]
    result = entropy_weights(matrix, indicators, variant="proportion")
    assert [round(w, 4) for w in result.weights] == [0.4630, 0.3992, 0.1378, 0.0000]
    # C4 varies a little (28.9 vs 29), so it keeps a tiny weight and is not "dropped".
    assert result.dropped == ()


def test_entropy_weights_zavadskas_podvezko_2016() -> None:
    # Zavadskas, E. K. & Podvezko, V. (2016): "Integrated determination of objective criteria
    # weights in MCDM", International Journal of Information Technology & Decision Making 15(2):
    # 267–283 — 4 alternatives × 4 criteria (criteria 1 and 3 minimised), entropy weights
    # 0.1146, 0.1981, 0.4185, 0.2689. Found in energyinpython/distance-metrics-for-mcda
    # (tests/test_weights.py, Test_Entropy.test_Entropy2). The published entropy uses the raw
    # values, so the direction does not enter the "proportion" variant.
    matrix = [[3.0, 100, 10, 7], [2.5, 80, 8, 5], [1.8, 50, 20, 11], [2.2, 70, 12, 9]]
    indicators = [
        Indicator("c1", "C1", benefit=False),
        Indicator("c2", "C2"),
        Indicator("c3", "C3", benefit=False),
        Indicator("c4", "C4"),
    ]
    result = entropy_weights(matrix, indicators, variant="proportion")
    assert [round(w, 4) for w in result.weights] == [0.1146, 0.1981, 0.4185, 0.2689]


def test_topsis_papathanasiou_ploskas_2018() -> None:
    # Papathanasiou, J. & Ploskas, N. (2018): "TOPSIS", chapter 1 (pp. 1–30) of Multiple
    # Criteria Decision Aid: Methods, Examples and Python Implementations, Springer Optimization
    # and Its Applications 136 — the chapter's numerical example: 6 alternatives × 4 benefit
    # criteria, weights 0.4, 0.3, 0.1, 0.2, vector normalisation; closeness 0.387, 0.327, 0.391,
    # 0.615, 0.868, 0.493 (ranking 5, 6, 4, 2, 1, 3). Found in the tests of
    # energyinpython/distance-metrics-for-mcda (tests/test_mcda_methods.py).
    matrix = [[8, 7, 2, 1], [5, 3, 7, 5], [7, 5, 6, 4], [9, 9, 7, 3], [11, 10, 3, 7], [6, 9, 5, 4]]
    indicators = [Indicator(f"c{j}", f"C{j}") for j in range(1, 5)]
    result = topsis(matrix, indicators, weights=[0.4, 0.3, 0.1, 0.2])
    assert [round(c, 3) for c in result.scores] == [0.387, 0.327, 0.391, 0.615, 0.868, 0.493]
    assert result.ranks == (5, 6, 4, 2, 1, 3)
    assert result.weight_source == "given"
    assert all(w.entropy is None and w.divergence is None for w in result.weights)


# ---------------------------------------------------------------------------------------------
# indicators without variance


def test_no_variance_indicator_gets_weight_zero() -> None:
    same = Indicator("s", "场地数")
    matrix = [[1, 5, 3], [2, 5, 1], [4, 5, 2]]
    result = entropy_weights(matrix, [A, same, B_COST])
    assert result.weights[1] == 0.0
    assert result.indicators[1].dropped
    assert result.indicators[1].entropy == 1.0
    assert result.indicators[1].divergence == 0.0
    assert len(result.dropped) == 1
    assert result.dropped[0].key == "s"
    assert result.dropped[0].reason == "各社区该指标数值相同，不区分社区，权重为0"
    # The others share the weight exactly as if the constant column were absent.
    without = entropy_weights([[r[0], r[2]] for r in matrix], [A, B_COST])
    assert (result.weights[0], result.weights[2]) == (
        approx(without.weights[0]),
        approx(without.weights[1]),
    )
    assert sum(result.weights) == approx(1.0)
    scored = topsis(matrix, [A, same, B_COST])
    assert scored.dropped == result.dropped
    assert scored.scores == approx(topsis([[r[0], r[2]] for r in matrix], [A, B_COST]).scores)


def test_all_indicators_without_variance_are_refused() -> None:
    with pytest.raises(MethodError) as info:
        entropy_weights([[1, 2], [1, 2], [1, 2]], [A, B_COST])
    assert "都相同" in info.value.message
    assert len(info.value.details) == 2


# ---------------------------------------------------------------------------------------------
# direction of indicators


def test_cost_indicator_direction() -> None:
    values = [[1.0], [2.0], [3.0]]
    as_cost = topsis(values, [Indicator("k", "投诉", benefit=False)])
    as_benefit = topsis(values, [Indicator("k", "投诉")])
    # One indicator: C is the min–max position; smaller is better for a cost indicator.
    assert as_cost.scores == (approx(1.0), approx(0.5), approx(0.0))
    assert as_cost.ranks == (1, 2, 3)
    assert as_benefit.ranks == (3, 2, 1)


def test_cost_entropy_equals_benefit_entropy_of_the_negated_column() -> None:
    matrix = [[4, 10], [7, 3], [1, 8], [9, 6]]
    cost = entropy_weights(matrix, [A, B_COST])
    negated = entropy_weights([[r[0], -r[1]] for r in matrix], [A, Indicator("b", "b")])
    assert cost.weights == approx(negated.weights)


# ---------------------------------------------------------------------------------------------
# missing values


def test_missing_values_refused_by_default() -> None:
    matrix = [[1, None], [None, 1], [3, 2]]
    with pytest.raises(MethodError) as info:
        topsis(matrix, [A, B_COST], labels=["凯旋社区", "丽都社区", "和平社区"])
    assert "2个数值缺失" in info.value.message
    assert info.value.details == ["“凯旋社区”缺少“投诉件数”", "“丽都社区”缺少“活动场次”"]
    with pytest.raises(MethodError):
        entropy_weights([[1, math.nan], [2, 1], [3, 2]], [A, B_COST])


def test_missing_values_filled_with_the_mean() -> None:
    matrix = [[1, None], [2, 1], [3, 5]]
    result = topsis(matrix, [A, B_COST], labels=["X", "Y", "Z"], missing="mean")
    # B of X ← mean of (1, 5) = 3.
    filled = topsis([[1, 3], [2, 1], [3, 5]], [A, B_COST], labels=["X", "Y", "Z"])
    assert result.scores == filled.scores
    assert result.notes == ("“X”缺少“投诉件数”，已用其余2个社区的平均值3补齐。",)
    b = result.rows[0].contributions[1]
    assert (b.raw, b.imputed) == (3.0, True)
    assert not result.rows[1].contributions[1].imputed
    weights = entropy_weights(matrix, [A, B_COST], labels=["X", "Y", "Z"], missing="mean")
    assert weights.notes == result.notes


def test_a_column_missing_everywhere_cannot_be_filled() -> None:
    with pytest.raises(MethodError) as info:
        topsis([[1, None], [2, None]], [A, B_COST], missing="mean")
    assert "投诉件数" in info.value.message


# ---------------------------------------------------------------------------------------------
# invariances


@pytest.mark.parametrize("variant", ["minmax", "proportion"])
def test_ranking_invariant_to_scaling_an_indicator(variant: EntropyVariant) -> None:
    matrix = np.array([[12, 3, 0.4], [7, 9, 0.9], [15, 1, 0.2], [9, 6, 0.7], [11, 4, 0.5]])
    indicators = [A, B_COST, Indicator("c", "满意度")]
    base = topsis(matrix, indicators, entropy_variant=variant)
    scaled_matrix = matrix.copy()
    scaled_matrix[:, 1] *= 1000  # e.g. yuan instead of thousand yuan
    scaled_matrix[:, 2] *= 100  # per cent instead of a fraction
    scaled = topsis(scaled_matrix, indicators, entropy_variant=variant)
    assert scaled.ranks == base.ranks
    assert scaled.scores == approx(base.scores)
    assert [w.weight for w in scaled.weights] == approx([w.weight for w in base.weights])


def test_given_weights_are_rescaled_and_may_be_a_mapping() -> None:
    by_list = topsis(HAND, [A, B_COST], weights=[2, 6])
    by_map = topsis(HAND, [A, B_COST], weights={"b": 0.75, "a": 0.25})
    assert [w.weight for w in by_list.weights] == [approx(0.25), approx(0.75)]
    assert by_list.scores == by_map.scores


def test_a_column_of_zeros_stays_finite() -> None:
    result = topsis([[0, 1], [0, 2], [0, 3]], [Indicator("z", "零"), A], weights=[0.5, 0.5])
    assert all(math.isfinite(c) for c in result.scores)
    assert result.rows[0].contributions[0].normalised == 0.0
    assert result.ranks == (3, 2, 1)


# ---------------------------------------------------------------------------------------------
# tiers

SCORES = [0.9, 0.8, 0.8, 0.5, 0.4, 0.3, 0.3, 0.2, 0.1, 0.1]


def test_propose_tiers_default_shares() -> None:
    # n = 10: star ⌊0.15·10⌋ = 1 community, weak ⌊0.25·10⌋ = 2 communities.
    assert tier_cutoffs(SCORES) == (approx(0.2), approx(0.9))
    assert propose_tiers(SCORES) == ["star"] + ["ordinary"] * 7 + ["weak", "weak"]


def test_tie_at_the_star_edge_goes_to_ordinary() -> None:
    # star_share 0.2 → nominally 2 stars, but the 2nd and 3rd best tie at 0.8: the whole tie
    # group is ordinary and only 0.9 is star.
    tiers = propose_tiers(SCORES, star_share=0.2, weak_share=0.0)
    assert tiers[:3] == ["star", "ordinary", "ordinary"]
    assert tier_cutoffs(SCORES, 0.2, 0.0) == (None, approx(0.9))


def test_tie_at_the_weak_edge_goes_to_ordinary() -> None:
    # weak_share 0.4 → nominally the 4 lowest (0.1, 0.1, 0.2, 0.3), but 0.3 ties with the 5th
    # lowest: both 0.3 are ordinary, 3 are weak.
    tiers = propose_tiers(SCORES, star_share=0.0, weak_share=0.4)
    assert tiers == ["ordinary"] * 7 + ["weak"] * 3
    assert tier_cutoffs(SCORES, 0.0, 0.4) == (approx(0.3), None)
    # A tie entirely inside the band stays in it: the two 0.1 are both weak at 0.2.
    assert propose_tiers(SCORES, star_share=0.0, weak_share=0.2)[-2:] == ["weak", "weak"]


def test_equal_scores_always_share_a_tier() -> None:
    for star in (0.0, 0.1, 0.2, 0.3, 0.5):
        for weak in (0.0, 0.1, 0.2, 0.3, 0.4, 0.5):
            tiers = propose_tiers(SCORES, star_share=star, weak_share=weak)
            by_score: dict[float, set[str]] = {}
            for s, t in zip(SCORES, tiers, strict=True):
                by_score.setdefault(s, set()).add(t)
            assert all(len(ts) == 1 for ts in by_score.values())
            assert tiers.count("star") <= math.floor(star * 10 + 1e-9)
            assert tiers.count("weak") <= math.floor(weak * 10 + 1e-9)


def test_all_scores_equal_are_all_ordinary() -> None:
    assert propose_tiers([0.5] * 6) == ["ordinary"] * 6
    assert tier_cutoffs([0.5] * 6, 0.5, 0.5) == (None, None)


def test_tiers_by_fixed_cutoffs() -> None:
    # star from 0.8 (inclusive), weak below 0.3 (exclusive).
    tiers = tiers_by_cutoffs(SCORES, star_from=0.8, weak_below=0.3)
    assert tiers == ["star"] * 3 + ["ordinary"] * 4 + ["weak"] * 3
    assert tiers_by_cutoffs(SCORES, star_from=None, weak_below=None) == ["ordinary"] * 10
    # Scores carrying float noise compare at 12 decimals: 0.1 + 0.2 counts as 0.3.
    assert tiers_by_cutoffs([0.1 + 0.2], star_from=0.3, weak_below=None) == ["star"]


def test_tier_refusals() -> None:
    with pytest.raises(MethodError, match="低于薄弱分界线"):
        tiers_by_cutoffs(SCORES, star_from=0.2, weak_below=0.5)
    with pytest.raises(MethodError, match="超过1"):
        tier_cutoffs(SCORES, 0.6, 0.5)
    for bad in (-0.1, 1.0, math.nan):
        with pytest.raises(MethodError):
            propose_tiers(SCORES, star_share=bad)
    with pytest.raises(MethodError):
        propose_tiers([])
    with pytest.raises(MethodError):
        propose_tiers([0.5, math.nan])
    with pytest.raises(MethodError):
        tiers_by_cutoffs(SCORES, star_from=math.inf, weak_below=None)


# ---------------------------------------------------------------------------------------------
# other refusals


def _refused(**kwargs: object) -> MethodError:
    call = kwargs.pop("call", topsis)
    matrix = kwargs.pop("matrix", HAND)
    indicators = kwargs.pop("indicators", [A, B_COST])
    assert callable(call)
    with pytest.raises(MethodError) as info:
        call(matrix, indicators, **kwargs)
    assert info.value.message
    return info.value


def test_refused_inputs() -> None:
    assert "没有可计算的数据" in _refused(matrix=[]).message
    assert "没有指标" in _refused(indicators=[]).message
    assert "重复" in _refused(indicators=[A, Indicator("a", "重名")]).message
    assert "“第2行”有1个数值" in _refused(matrix=[[1, 2], [3], [4, 5]]).message
    assert "数量必须一致" in _refused(labels=["X", "Y"]).message
    text = _refused(matrix=[[1, "多"], [2, 1], [3, 2]], labels=["X", "Y", "Z"])
    assert text.details == ["“X”的“投诉件数”不是数字：多"]
    assert "无穷大" in _refused(matrix=[[1, math.inf], [2, 1], [3, 2]]).details[0]
    assert "缺失值处理方式" in _refused(missing="drop").message


def test_refused_weights() -> None:
    assert "数量必须一致" in _refused(weights=[1.0]).message
    assert "非负" in _refused(weights=[1.0, -1.0]).message
    assert "非负" in _refused(weights=[1.0, math.nan]).message
    assert "全为零" in _refused(weights=[0, 0]).message
    unknown = _refused(weights={"a": 1.0, "x": 1.0})
    assert "没有这个指标：x" in unknown.details
    assert "缺少权重：投诉件数" in unknown.details


def test_identical_communities_are_refused() -> None:
    # With given weights nothing stops identical rows; D⁺ + D⁻ = 0 for all, nothing to rank.
    e = _refused(matrix=[[2, 5], [2, 5], [2, 5]], weights=[0.5, 0.5])
    assert "完全相同" in e.message
    # Weight only on a constant indicator: the same.
    _refused(matrix=[[2, 5], [3, 5], [4, 5]], weights=[0.0, 1.0])


def test_entropy_needs_two_communities() -> None:
    assert "两个社区" in _refused(call=entropy_weights, matrix=[[1, 2]]).message
    assert "两个社区" in _refused(matrix=[[1, 2]]).message


def test_proportion_variant_refuses_negative_values() -> None:
    e = _refused(call=entropy_weights, matrix=[[1, -2], [2, 1], [3, 2]], variant="proportion")
    assert "投诉件数" in e.message
    # The min–max variant handles negative values (e.g. a growth rate).
    assert sum(entropy_weights([[1, -2], [2, 1], [3, 2]], [A, B_COST]).weights) == approx(1.0)
    assert "标准化方式" in _refused(call=entropy_weights, variant="zscore").message


def test_overflowing_values() -> None:
    assert "过大" in _refused(matrix=[[1e308, 1], [-1e308, 2], [0, 3]]).message
    # Large but finite values are fine: the normalisation cannot overflow.
    big = topsis([[1e200, 1], [2e200, 2], [0, 3]], [A, B_COST], weights=[1, 1])
    small = topsis([[1, 1], [2, 2], [0, 3]], [A, B_COST], weights=[1, 1])
    assert big.scores == approx(small.scores)
