"""资源均衡: Lorenz, Gini, Theil T and its decomposition, HHI, top shares — hand-computed cases,
invariances, published examples and every refusal."""

from __future__ import annotations

import math

import pytest

from sanlian.insights.methods import MethodError
from sanlian.insights.methods.fairness import (
    gini,
    hhi,
    hhi_normalised,
    lorenz,
    summarise,
    theil,
    theil_decomposition,
    top_share,
)

approx = pytest.approx

# ---------------------------------------------------------------------------------------------
# hand-computed cases


def test_gini_one_to_five() -> None:
    # Σᵢ Σⱼ |xᵢ − xⱼ| over ordered pairs of 1..5 = 2·(1·4 + 2·3 + 3·2 + 4·1) = 40;
    # n = 5, μ = 3: G = 40 / (2 · 25 · 3) = 40/150 = 0.2667.
    assert gini([1, 2, 3, 4, 5]) == approx(40 / 150)
    assert gini([1, 2, 3, 4, 5]) == approx(0.2667, abs=5e-5)


def test_all_equal_is_perfect_equality() -> None:
    values = [7, 7, 7, 7]
    assert gini(values) == 0.0
    assert theil(values) == 0.0
    assert hhi(values) == approx(1 / 4)  # equal shares: Σ (1/n)² = 1/n
    assert hhi_normalised(values) == 0.0
    assert top_share(values, 0.25) == approx(0.25)


def test_one_unit_has_everything() -> None:
    # n = 4, one unit holds all: G = (n − 1)/n (no n/(n−1) correction), T = ln n, H = 1, H* = 1.
    values = [0, 0, 0, 10]
    assert gini(values) == approx(3 / 4)
    assert theil(values) == approx(math.log(4))
    assert hhi(values) == approx(1.0)
    assert hhi_normalised(values) == approx(1.0)
    assert top_share(values, 0.25) == approx(1.0)


def test_hhi_of_equal_shares_is_one_over_n() -> None:
    for n in (1, 2, 5, 12):
        assert hhi([3.5] * n) == approx(1 / n)


def test_hhi_hand_computed() -> None:
    # shares 1/10, 2/10, 3/10, 4/10: H = (1 + 4 + 9 + 16)/100 = 0.30;
    # H* = (0.30 − 0.25)/(1 − 0.25) = 0.05/0.75 = 1/15.
    assert hhi([1, 2, 3, 4]) == approx(0.30)
    assert hhi_normalised([1, 2, 3, 4]) == approx(1 / 15)


def test_theil_hand_computed() -> None:
    # μ = 3: T = (1/5) Σ (x/3) ln(x/3) for x = 1..5 (the x = 3 term is 0) = 0.119688.
    by_hand = (
        (1 / 3) * math.log(1 / 3)
        + (2 / 3) * math.log(2 / 3)
        + (4 / 3) * math.log(4 / 3)
        + (5 / 3) * math.log(5 / 3)
    ) / 5
    assert theil([1, 2, 3, 4, 5]) == approx(by_hand)
    assert by_hand == approx(0.119688, abs=5e-7)


def test_theil_zero_values_count_as_zero_log_zero() -> None:
    # [0, 2]: μ = 1, T = ½ (0 + 2 ln 2) = ln 2.
    assert theil([0, 2]) == approx(math.log(2))


def test_lorenz_points() -> None:
    # sorted 1..5, total 15: cumulative 1, 3, 6, 10, 15.
    points = lorenz([5, 3, 1, 4, 2])
    expected = [(0, 0), (0.2, 1 / 15), (0.4, 3 / 15), (0.6, 6 / 15), (0.8, 10 / 15), (1, 1)]
    assert len(points) == 6
    for (px, py), (ex, ey) in zip(points, expected, strict=True):
        assert px == approx(ex)
        assert py == approx(ey)
    assert points[0] == (0.0, 0.0)
    assert points[-1] == (1.0, 1.0)


def test_weighted_hand_computed() -> None:
    # Community A: 30 for 1 resident (30 each); B: 10 for 3 residents (3.33 each).
    # Sorted by amount per resident: B then A. P = 0, .75, 1; L = 0, .25, 1.
    # G = 1 − [.75·(0 + .25) + .25·(.25 + 1)] = 1 − .5 = 0.5.
    # T = Σ sᵢ ln(sᵢ/pᵢ) = .75 ln(.75/.25) + .25 ln(.25/.75) = .5 ln 3.
    points = lorenz([30, 10], [1, 3])
    assert points[1] == (approx(0.75), approx(0.25))
    assert gini([30, 10], [1, 3]) == approx(0.5)
    assert theil([30, 10], [1, 3]) == approx(0.5 * math.log(3))
    # The top 25 % of residents are A's single resident: 75 % of the total.
    assert top_share([30, 10], 0.25, [1, 3]) == approx(0.75)


def test_weighted_equal_amount_per_resident_is_equal() -> None:
    # 10, 30, 50 for 1, 3, 5 residents: 10 each, so no inequality between people.
    assert gini([10, 30, 50], [1, 3, 5]) == approx(0.0, abs=1e-12)
    assert theil([10, 30, 50], [1, 3, 5]) == approx(0.0, abs=1e-12)


def test_top_share_interpolates_inside_a_unit() -> None:
    # 1..5: the top 10 % of 5 units is half of the largest unit: 2.5 / 15 = 1/6.
    assert top_share([1, 2, 3, 4, 5], 0.10) == approx(1 / 6)
    # On a unit boundary: the top 20 % is the largest unit, 5/15; the top 40 % is 9/15.
    assert top_share([1, 2, 3, 4, 5], 0.20) == approx(5 / 15)
    assert top_share([1, 2, 3, 4, 5], 0.40) == approx(9 / 15)
    assert top_share([1, 2, 3, 4, 5], 1.0) == approx(1.0)
    assert top_share([1, 2, 3, 4, 5], 0.0) == approx(0.0)


def test_theil_decomposition_hand_computed() -> None:
    # [1, 1 | 3, 3]: no inequality inside either group, so T is all between groups.
    # S = (.25, .75), P = (.5, .5): between = .25 ln .5 + .75 ln 1.5 = 0.130812.
    d = theil_decomposition([1, 1, 3, 3], ["weak", "weak", "star", "star"])
    between = 0.25 * math.log(0.5) + 0.75 * math.log(1.5)
    assert d.within == approx(0.0, abs=1e-15)
    assert d.between == approx(between)
    assert d.total == approx(between)
    assert d.between_share == approx(1.0)
    assert [g.group for g in d.groups] == ["weak", "star"]  # order of first appearance
    weak = d.groups[0]
    assert (weak.n, weak.population_share, weak.value_share, weak.mean) == (
        2,
        approx(0.5),
        approx(0.25),
        approx(1.0),
    )
    assert weak.theil == approx(0.0, abs=1e-15)


@pytest.mark.parametrize("weights", [None, [120, 80, 300, 45, 60, 200, 90]])
def test_theil_decomposition_sums_to_total(weights: list[float] | None) -> None:
    values = [5, 0, 40, 3, 8, 60, 2]
    groups = ["ordinary", "weak", "star", "weak", "ordinary", "star", "weak"]
    d = theil_decomposition(values, groups, weights)
    assert d.within + d.between == approx(d.total)
    assert d.total == approx(theil(values, weights))
    assert sum(g.within for g in d.groups) == approx(d.within)
    assert sum(g.between for g in d.groups) == approx(d.between)
    assert sum(g.population_share for g in d.groups) == approx(1.0)
    assert sum(g.value_share for g in d.groups) == approx(1.0)


def test_theil_decomposition_group_with_nothing() -> None:
    # The weak group holds nothing: its inner Theil is undefined (None), its parts are 0.
    d = theil_decomposition([0, 0, 4, 6], ["weak", "weak", "star", "star"])
    weak = d.groups[0]
    assert weak.theil is None
    assert weak.within == 0.0
    assert weak.between == 0.0
    assert d.within + d.between == approx(d.total)


# ---------------------------------------------------------------------------------------------
# invariances


def test_scale_invariance() -> None:
    values = [3, 9, 1, 27, 4]
    scaled = [v * 1000 for v in values]
    assert gini(scaled) == approx(gini(values))
    assert theil(scaled) == approx(theil(values))
    assert hhi(scaled) == approx(hhi(values))
    assert top_share(scaled) == approx(top_share(values))
    weights = [10, 20, 5, 40, 8]
    assert gini(scaled, weights) == approx(gini(values, weights))
    # Scaling the populations does not change shares of people either.
    assert gini(values, [w * 7 for w in weights]) == approx(gini(values, weights))


def test_permutation_invariance() -> None:
    values = [3, 9, 1, 27, 4]
    weights = [10, 20, 5, 40, 8]
    order = [4, 2, 0, 3, 1]
    pv = [values[i] for i in order]
    pw = [weights[i] for i in order]
    assert gini(pv) == approx(gini(values))
    assert theil(pv) == approx(theil(values))
    assert hhi(pv) == approx(hhi(values))
    assert gini(pv, pw) == approx(gini(values, weights))
    assert theil(pv, pw) == approx(theil(values, weights))
    assert lorenz(pv, pw) == [(approx(a), approx(b)) for a, b in lorenz(values, weights)]


def test_weighted_equals_unweighted_for_equal_weights() -> None:
    values = [3, 9, 1, 27, 4, 0, 12]
    equal = [250] * len(values)
    assert gini(values, equal) == approx(gini(values))
    assert theil(values, equal) == approx(theil(values))
    assert top_share(values, 0.3, equal) == approx(top_share(values, 0.3))
    assert lorenz(values, equal) == [(approx(a), approx(b)) for a, b in lorenz(values)]
    groups = ["a", "b", "a", "c", "b", "a", "c"]
    dw = theil_decomposition(values, groups, equal)
    du = theil_decomposition(values, groups)
    assert (dw.within, dw.between) == (approx(du.within), approx(du.between))


# ---------------------------------------------------------------------------------------------
# published examples


def test_gini_and_hhi_doersam_market_concentration() -> None:
    # Doersam, P. (2004): Wirtschaftsstatistik anschaulich dargestellt. Heidenau: PD-Verlag —
    # market-concentration example, sales of four car makers 20, 50, 20, 10: "non-standardized
    # Gini coefficient (0.3)", "standardized Gini coefficient (0.4)", HHI "0.34", standardised
    # HHI "0.12". Quoted with these values in the documented examples of the R package REAT
    # (T. Wieland; man/gini.Rd, man/herf.Rd), whose gini() follows Doersam's formula (p. 44).
    sales = [20, 50, 20, 10]
    assert gini(sales) == approx(0.3)
    # The standardised value is G · n/(n − 1): our G is the uncorrected one.
    assert gini(sales) * 4 / 3 == approx(0.4)
    assert hhi(sales) == approx(0.34)
    assert hhi_normalised(sales) == approx(0.12)


def test_weighted_gini_doersam_income_classes() -> None:
    # Doersam (2004), income-class example (weighted formula pp. 46–48), via REAT man/gini.Rd:
    # six income classes with average income
    # 500, 1500, 2500, 4000, 7500, 15000 and sizes 1000, 1200, 1600, 400, 200, 600 —
    # "returns the non-standardized Gini coefficient (0.5278)". Our values are the class totals
    # (average × size) and the weights the class sizes.
    income = [500, 1500, 2500, 4000, 7500, 15000]
    size = [1000, 1200, 1600, 400, 200, 600]
    totals = [a * b for a, b in zip(income, size, strict=True)]
    assert gini(totals, size) == approx(0.5278, abs=5e-5)


# Rey, S. J. and Sastré-Gutiérrez, M. L. (2010): "Interregional inequality dynamics in Mexico",
# Spatial Economic Analysis 5(3): 277–298 — per capita GDP of the 32 Mexican states in 1940
# (pcgdp1940) and the regions of Hanson (1998) (hanson98), as shipped in PySAL's example data
# (pysal/examples/mexico/mexico.csv). PySAL inequality's tests (inequality/tests/test_gini.py,
# test_theil.py) give for 1940: Gini 0.35372371173452849, Theil T 0.20894344 and, by the
# hanson98 regions, a between-region Theil of 0.0345889.
MEXICO_1940 = [
    10384, 22361, 9573, 3758, 2934, 8578, 8537, 6909, 17816, 12132, 4359,
    2181, 4414, 5309, 3408, 3327, 6936, 4836, 9073, 1892, 3569, 11016,
    21965, 4372, 4840, 6399, 2459, 7508, 3605, 5203, 7990, 3734,
]  # fmt: skip
HANSON98 = [
    2, 1, 2, 5, 5, 1, 1, 3, 4, 2, 3, 5, 3, 3, 4, 3,
    3, 2, 1, 5, 3, 3, 5, 2, 2, 1, 5, 1, 3, 3, 5, 2,
]  # fmt: skip


def test_gini_mexico_1940() -> None:
    assert len(MEXICO_1940) == 32
    assert gini(MEXICO_1940) == approx(0.35372371173452849, abs=1e-12)


def test_theil_and_decomposition_mexico_1940() -> None:
    assert theil(MEXICO_1940) == approx(0.20894344, abs=5e-9)
    d = theil_decomposition(MEXICO_1940, [str(r) for r in HANSON98])
    assert d.between == approx(0.0345889, abs=5e-8)
    assert d.within == approx(0.20894344 - 0.0345889, abs=1e-7)


def test_library_reference_values_inequality_jl() -> None:
    # Not a publication: the documented examples / tests of the Julia package Inequality.jl
    # (JosepER/Inequality.jl, src/Theil.jl docstring and test/runtests.jl), a cross-check of the
    # weighted forms. v = [8,5,1,3,5,6,7,6,3] per person, weights 0.1..0.9: theil 0.10494562214,
    # gini 0.23737373737; weighted theil 0.08120013912, weighted gini 0.20652395515.
    # Our values are totals, so the weighted call passes v·w.
    v = [8, 5, 1, 3, 5, 6, 7, 6, 3]
    w = [k / 10 for k in range(1, 10)]
    assert theil(v) == approx(0.10494562214323544, abs=1e-12)
    assert gini(v) == approx(0.237373737373737, abs=1e-12)
    totals = [a * b for a, b in zip(v, w, strict=True)]
    assert theil(totals, w) == approx(0.08120013911680612, abs=1e-12)
    assert gini(totals, w) == approx(0.2065239551478077, abs=1e-12)


# ---------------------------------------------------------------------------------------------
# summarise


def test_summarise() -> None:
    s = summarise([1, 2, 3, 4, 5], groups=["weak", "weak", "ordinary", "star", "star"])
    assert s.n == 5
    assert s.total == 15
    assert s.mean == 3
    assert not s.weighted
    assert s.gini == approx(40 / 150)
    assert s.theil == approx(theil([1, 2, 3, 4, 5]))
    assert s.hhi == approx(55 / 225)  # (1 + 4 + 9 + 16 + 25) / 15²
    assert s.hhi_normalised == approx((55 / 225 - 0.2) / 0.8)
    assert s.top10_share == approx(1 / 6)
    assert s.lorenz[-1] == (1.0, 1.0)
    assert len(s.lorenz) == 6
    assert s.decomposition is not None
    assert s.decomposition.within + s.decomposition.between == approx(s.theil)


def test_summarise_weighted() -> None:
    s = summarise([30, 10], [1, 3])
    assert s.weighted
    assert s.mean == approx(40 / 4)  # per resident
    assert s.gini == approx(0.5)
    assert s.hhi == approx(0.75**2 + 0.25**2)  # HHI stays across communities
    assert s.decomposition is None


# ---------------------------------------------------------------------------------------------
# refusals


def _refused(call: object, *args: object, **kwargs: object) -> MethodError:
    assert callable(call)
    with pytest.raises(MethodError) as info:
        call(*args, **kwargs)
    assert info.value.message
    return info.value


@pytest.mark.parametrize("f", [gini, theil, hhi, lorenz, top_share, summarise])
def test_empty_input(f: object) -> None:
    assert "没有可计算的数据" in _refused(f, []).message


def test_negative_value_is_named() -> None:
    e = _refused(gini, [3, -1, 2], labels=["凯旋社区", "丽都社区", "和平社区"])
    assert "丽都社区" in e.message
    assert "负数" in e.message
    assert "凯旋社区" not in e.message


def test_zero_total() -> None:
    e = _refused(theil, [0, 0, 0])
    assert e.message == "所有单位的数值都为零，无法计算不平等程度。"
    _refused(hhi, [0.0, 0.0])
    _refused(top_share, [0, 0], 0.5)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_values(bad: float) -> None:
    e = _refused(gini, [1, bad, 3])
    assert "第2项" in e.message


def test_missing_or_text_value() -> None:
    assert "第2项" in _refused(gini, [1, None, 3]).message
    assert "第3项" in _refused(gini, [1, 2, "三"]).message


def test_weights_of_a_different_length() -> None:
    e = _refused(gini, [1, 2, 3], [10, 20])
    assert "数量必须一致" in e.message


def test_zero_weight_names_the_community() -> None:
    e = _refused(gini, [5, 6, 7], [100, 0, 50], labels=["凯旋社区", "丽都社区", "和平社区"])
    assert "“丽都社区”" in e.message
    assert "常住人口为零" in e.message
    assert e.details == ["“丽都社区”：常住人口为 0.0"]
    # Without labels the item is named by its position.
    assert "第1项" in _refused(theil, [5, 6], [-3, 10]).message


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_non_finite_weight(bad: float) -> None:
    assert "第1项" in _refused(lorenz, [5, 6], [bad, 10]).message


def test_labels_of_a_different_length() -> None:
    _refused(gini, [1, 2, 3], labels=["甲", "乙"])


def test_groups_of_a_different_length() -> None:
    _refused(theil_decomposition, [1, 2, 3], ["a", "b"])
    _refused(summarise, [1, 2, 3], None, ["a", "b"])
    assert "第2项" in _refused(theil_decomposition, [1, 2, 3], ["a", "", "b"]).message


@pytest.mark.parametrize("fraction", [-0.1, 1.5, math.nan])
def test_top_share_fraction_out_of_range(fraction: float) -> None:
    _refused(top_share, [1, 2, 3], fraction)


def test_single_unit() -> None:
    assert gini([5]) == 0.0
    assert theil([5]) == 0.0
    assert hhi([5]) == 1.0
    assert "一个单位" in _refused(hhi_normalised, [5]).message
    assert "一个单位" in _refused(summarise, [5]).message


def test_overflowing_totals() -> None:
    assert "过大" in _refused(gini, [1e308, 1e308]).message
    assert "过大" in _refused(gini, [1, 2], [1e308, 1e308]).message
