"""资源均衡: Lorenz curve, Gini, Theil T with its between-tier decomposition, HHI, top shares.

The question is whether resources (money, projects, venues, services) pile up in a few
communities. Each unit i (a community) has a non-negative amount xᵢ. Optionally each unit has a
positive weight wᵢ, its resident population; the amount per resident is then yᵢ = xᵢ / wᵢ and the
measures describe inequality of that per-resident amount across *people* instead of across
communities. Without weights every unit counts once (wᵢ = 1).

Notation: n units, total X = Σxᵢ, value shares sᵢ = xᵢ / X, population shares pᵢ = wᵢ / Σw
(pᵢ = 1/n unweighted), μ = X / n.

- Lorenz curve: sort units ascending by yᵢ (by xᵢ unweighted); the points are
  (P_k, L_k) = (Σ_{i≤k} pᵢ, Σ_{i≤k} sᵢ) for k = 0..n, from (0, 0) to (1, 1).
- Gini, unweighted — the mean-absolute-difference formula in its exact finite-sample form,
  G = Σᵢ Σⱼ |xᵢ − xⱼ| / (2 n² μ), *without* the n/(n−1) small-sample correction
  (so one unit holding everything gives (n−1)/n, not 1). Computed from the sorted values as
  G = Σᵢ (2i − n − 1) x₍ᵢ₎ / (n² μ).
- Gini, weighted — one minus twice the area under the Lorenz curve, by trapezoids:
  G = 1 − Σ_k (P_k − P_{k−1}) (L_k + L_{k−1}). With equal weights this equals the formula above.
- Theil T: T = (1/n) Σ (xᵢ/μ) ln(xᵢ/μ) = Σ sᵢ ln(sᵢ / pᵢ), with 0·ln 0 = 0; weighted, the same
  Σ sᵢ ln(sᵢ / pᵢ) with population shares. 0 = equal; ln(1/pᵢ) (= ln n unweighted) when unit i
  holds everything.
- Theil decomposition by groups g (the tiers): with S_g = Σ_{i∈g} sᵢ and P_g = Σ_{i∈g} pᵢ,
  T = Σ_g S_g T_g  (within)  +  Σ_g S_g ln(S_g / P_g)  (between),
  where T_g is the Theil T of the units of g alone. The two parts add up to T exactly.
- HHI: H = Σ sᵢ² over the units (0..1; ×10 000 on the page), always across units, never weighted;
  normalised H* = (H − 1/n) / (1 − 1/n), 0 = equal shares, 1 = one unit holds all.
- Top share: the share of the total held by the top fraction f of units (of residents when
  weighted): 1 − L(1 − f), reading the Lorenz curve with linear interpolation. A unit's amount is
  spread evenly over its residents (over itself unweighted), so the curve is a straight line
  within each unit and the interpolation is exact even where f cuts through a unit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from django.utils.translation import gettext as _

from . import MethodError

Floats = npt.NDArray[np.float64]
Numbers = Sequence[float] | npt.NDArray[Any]

__all__ = [
    "Fairness",
    "TheilDecomposition",
    "TheilGroup",
    "gini",
    "hhi",
    "hhi_normalised",
    "lorenz",
    "summarise",
    "theil",
    "theil_decomposition",
    "top_share",
]


@dataclass(frozen=True)
class TheilGroup:
    """One group's (tier's) part of the Theil decomposition."""

    group: str
    n: int
    population_share: float  # P_g: share of units, or of residents when weighted
    value_share: float  # S_g: share of the total amount
    mean: float  # amount per unit, or per resident when weighted
    theil: float | None  # T_g inside the group; None when the group's amount is zero (undefined)
    within: float  # S_g · T_g
    between: float  # S_g · ln(S_g / P_g); negative for a group below its fair share, the sum ≥ 0


@dataclass(frozen=True)
class TheilDecomposition:
    """T = within + between; `between_share` = between / T (0 when T = 0)."""

    total: float
    within: float
    between: float
    between_share: float
    groups: tuple[TheilGroup, ...]


@dataclass(frozen=True)
class Fairness:
    """Everything the 资源均衡 page shows for one quantity."""

    n: int
    total: float
    mean: float  # per unit, or per resident when weighted (total / Σw)
    weighted: bool
    gini: float
    theil: float
    hhi: float
    hhi_normalised: float
    top10_share: float
    lorenz: tuple[tuple[float, float], ...]
    decomposition: TheilDecomposition | None


# ---------------------------------------------------------------------------------------------
# input checks


def _item(i: int, labels: Sequence[str] | None) -> str:
    if labels is not None:
        return f"“{labels[i]}”"
    return _("第%(n)s项") % {"n": i + 1}


def _names(indices: Sequence[int], labels: Sequence[str] | None) -> str:
    return "、".join(_item(i, labels) for i in indices)


def _as_floats(raw: Numbers, what: str, labels: Sequence[str] | None) -> Floats:
    """Convert to a float array, naming the items that are missing or not numbers."""
    bad: list[int] = []
    out: list[float] = []
    for i, v in enumerate(list(raw)):
        try:
            if v is None or isinstance(v, str):
                raise TypeError
            out.append(float(v))
        except (TypeError, ValueError):
            bad.append(i)
            out.append(math.nan)
    if bad:
        raise MethodError(
            _("%(what)s中有缺失或不是数字的项：%(items)s。请补齐或删除这些项后再计算。")
            % {"what": what, "items": _names(bad, labels)},
            details=[_("%(item)s：缺少数值") % {"item": _item(i, labels)} for i in bad],
        )
    return np.asarray(out, dtype=np.float64)


def _check_values(values: Numbers, labels: Sequence[str] | None) -> Floats:
    if labels is not None and len(labels) != len(values):
        raise MethodError(
            _("名称有%(labels)s个，数值有%(values)s个，两者数量必须一致。")
            % {"labels": len(labels), "values": len(values)}
        )
    if len(values) == 0:
        raise MethodError(_("没有可计算的数据。"))
    x = _as_floats(values, _("数值"), labels)
    not_finite = [i for i in range(len(x)) if not math.isfinite(x[i])]
    if not_finite:
        raise MethodError(
            _("数值中有非有限数（NaN 或无穷大）：%(items)s。请检查数据来源。")
            % {"items": _names(not_finite, labels)},
            details=[_("%(item)s：数值无效") % {"item": _item(i, labels)} for i in not_finite],
        )
    negative = [i for i in range(len(x)) if x[i] < 0]
    if negative:
        raise MethodError(
            _("数值不能为负数：%(items)s。资源数量应大于或等于零，请核对数据。")
            % {"items": _names(negative, labels)},
            details=[
                _("%(item)s：数值为 %(value)s") % {"item": _item(i, labels), "value": x[i]}
                for i in negative
            ],
        )
    with np.errstate(over="ignore"):  # an overflow is reported just below
        total = float(x.sum())
    if total <= 0:
        raise MethodError(
            _("所有单位的数值都为零，无法计算不平等程度。"),
            details=[_("总量为零时，各单位的份额没有定义。")],
        )
    if not math.isfinite(total):
        raise MethodError(_("数值过大，合计超出了可计算的范围。请换用更大的单位（如万元）。"))
    return x


def _check_weights(weights: Numbers, n: int, labels: Sequence[str] | None) -> Floats:
    if len(weights) != n:
        raise MethodError(
            _("权重（常住人口）有%(weights)s个，数值有%(values)s个，两者数量必须一致。")
            % {"weights": len(weights), "values": n}
        )
    w = _as_floats(weights, _("权重（常住人口）"), labels)
    not_finite = [i for i in range(n) if not math.isfinite(w[i])]
    if not_finite:
        raise MethodError(
            _("权重（常住人口）中有非有限数（NaN 或无穷大）：%(items)s。请检查数据来源。")
            % {"items": _names(not_finite, labels)},
            details=[_("%(item)s：权重无效") % {"item": _item(i, labels)} for i in not_finite],
        )
    non_positive = [i for i in range(n) if w[i] <= 0]
    if non_positive:
        raise MethodError(
            _(
                "%(items)s的常住人口为零或负数，无法计算人均值。"
                "请核对人口数据，或将这些单位排除后再计算。"
            )
            % {"items": _names(non_positive, labels)},
            details=[
                _("%(item)s：常住人口为 %(value)s") % {"item": _item(i, labels), "value": w[i]}
                for i in non_positive
            ],
        )
    with np.errstate(over="ignore"):  # an overflow is reported just below
        population = float(w.sum())
    if not math.isfinite(population):
        raise MethodError(_("权重（常住人口）过大，合计超出了可计算的范围。"))
    return w


def _prepare(
    values: Numbers, weights: Numbers | None, labels: Sequence[str] | None
) -> tuple[Floats, Floats | None]:
    x = _check_values(values, labels)
    w = None if weights is None else _check_weights(weights, len(x), labels)
    return x, w


# ---------------------------------------------------------------------------------------------
# the measures on checked arrays


def _lorenz_arrays(x: Floats, w: Floats | None) -> tuple[Floats, Floats]:
    """(P, L) with n + 1 points each, starting at 0 and ending exactly at 1."""
    if w is None:
        order = np.argsort(x, kind="stable")
        p = np.full(len(x), 1.0 / len(x))
    else:
        order = np.argsort(x / w, kind="stable")
        p = w / w.sum()
    s = x / x.sum()
    big_p = np.concatenate(([0.0], np.cumsum(p[order])))
    big_l = np.concatenate(([0.0], np.cumsum(s[order])))
    # The cumulative sums can miss 1 by an ulp; the curve must end on the corner.
    big_p[-1] = 1.0
    big_l[-1] = 1.0
    return big_p, big_l


def _gini(x: Floats, w: Floats | None) -> float:
    if w is None:
        n = len(x)
        ranks = np.arange(1, n + 1, dtype=np.float64)
        # Σ (2i − n − 1) x₍ᵢ₎ / (n² μ), written on the shares s = x / (n μ) to stay in range.
        g = float(np.sum((2 * ranks - n - 1) * np.sort(x / x.sum())) / n)
    else:
        big_p, big_l = _lorenz_arrays(x, w)
        g = 1.0 - float(np.sum(np.diff(big_p) * (big_l[1:] + big_l[:-1])))
    # Rounding can leave -1e-17 for a perfectly equal distribution.
    return min(max(g, 0.0), 1.0)


def _theil(x: Floats, w: Floats | None) -> float:
    from scipy.special import rel_entr  # here: SciPy loads when a method runs

    s = x / x.sum()
    p = np.full(len(x), 1.0 / len(x)) if w is None else w / w.sum()
    # rel_entr(s, p) = s·ln(s/p) with 0·ln 0 = 0: Theil T is the KL divergence of s from p.
    return max(float(np.sum(rel_entr(s, p))), 0.0)


def _hhi(x: Floats) -> float:
    s = x / x.sum()
    return float(np.sum(s * s))


def _hhi_normalised(x: Floats) -> float:
    n = len(x)
    if n < 2:
        raise MethodError(_("只有一个单位，标准化HHI没有定义。至少需要两个单位才能比较集中程度。"))
    value = (_hhi(x) - 1.0 / n) / (1.0 - 1.0 / n)
    return min(max(value, 0.0), 1.0)


def _top_share(x: Floats, w: Floats | None, fraction: float) -> float:
    big_p, big_l = _lorenz_arrays(x, w)
    share = 1.0 - float(np.interp(1.0 - fraction, big_p, big_l))
    return min(max(share, 0.0), 1.0)


def _check_fraction(fraction: float) -> float:
    try:
        f = float(fraction)
    except (TypeError, ValueError):
        f = math.nan
    if not (0.0 <= f <= 1.0):
        raise MethodError(
            _("比例必须在0到1之间（例如0.1表示前10%%），收到的是“%(value)s”。")
            % {"value": fraction}
        )
    return f


def _check_groups(groups: Sequence[str], n: int, labels: Sequence[str] | None) -> list[str]:
    if len(groups) != n:
        raise MethodError(
            _("分组（层级）有%(groups)s个，数值有%(values)s个，两者数量必须一致。")
            % {"groups": len(groups), "values": n}
        )
    missing = [i for i, g in enumerate(groups) if g is None or str(g) == ""]
    if missing:
        raise MethodError(
            _("有单位没有分组（层级）：%(items)s。请先为每个单位指定层级。")
            % {"items": _names(missing, labels)}
        )
    return [str(g) for g in groups]


def _decompose(x: Floats, w: Floats | None, groups: list[str]) -> TheilDecomposition:
    from scipy.special import rel_entr

    pop = np.ones(len(x)) if w is None else w
    s = x / x.sum()
    p = pop / pop.sum()
    parts: list[TheilGroup] = []
    # Groups appear in the order of their first unit, so the page controls the order.
    for g in dict.fromkeys(groups):
        mask = np.array([gi == g for gi in groups])
        s_g = float(s[mask].sum())
        p_g = float(p[mask].sum())
        xg = x[mask]
        t_g = None if float(xg.sum()) <= 0 else _theil(xg, None if w is None else w[mask])
        parts.append(
            TheilGroup(
                group=g,
                n=int(mask.sum()),
                population_share=p_g,
                value_share=s_g,
                mean=float(xg.sum() / pop[mask].sum()),
                theil=t_g,
                within=0.0 if t_g is None else s_g * t_g,
                between=float(rel_entr(s_g, p_g)),
            )
        )
    within = sum(part.within for part in parts)
    between = sum(part.between for part in parts)
    # The total is computed directly; within + between equals it up to rounding.
    total = _theil(x, w)
    return TheilDecomposition(
        total=total,
        within=within,
        between=between,
        between_share=min(max(between / total, 0.0), 1.0) if total > 0 else 0.0,
        groups=tuple(parts),
    )


# ---------------------------------------------------------------------------------------------
# public API


def lorenz(
    values: Numbers, weights: Numbers | None = None, *, labels: Sequence[str] | None = None
) -> list[tuple[float, float]]:
    """Lorenz curve points (population share, value share) from (0, 0) to (1, 1)."""
    x, w = _prepare(values, weights, labels)
    big_p, big_l = _lorenz_arrays(x, w)
    return [(float(a), float(b)) for a, b in zip(big_p, big_l, strict=True)]


def gini(
    values: Numbers, weights: Numbers | None = None, *, labels: Sequence[str] | None = None
) -> float:
    """Gini coefficient, 0 = equal; see the module docstring for the exact (uncorrected) form."""
    x, w = _prepare(values, weights, labels)
    return _gini(x, w)


def theil(
    values: Numbers, weights: Numbers | None = None, *, labels: Sequence[str] | None = None
) -> float:
    """Theil T index Σ sᵢ ln(sᵢ/pᵢ), 0 = equal."""
    x, w = _prepare(values, weights, labels)
    return _theil(x, w)


def theil_decomposition(
    values: Numbers,
    groups: Sequence[str],
    weights: Numbers | None = None,
    *,
    labels: Sequence[str] | None = None,
) -> TheilDecomposition:
    """Theil T split into within-group and between-group parts (groups = tier of each unit)."""
    x, w = _prepare(values, weights, labels)
    return _decompose(x, w, _check_groups(groups, len(x), labels))


def hhi(values: Numbers, *, labels: Sequence[str] | None = None) -> float:
    """Herfindahl–Hirschman index Σ sᵢ² of the units' shares (1/n .. 1)."""
    return _hhi(_check_values(values, labels))


def hhi_normalised(values: Numbers, *, labels: Sequence[str] | None = None) -> float:
    """Normalised HHI H* = (H − 1/n)/(1 − 1/n), 0 .. 1; needs at least two units."""
    return _hhi_normalised(_check_values(values, labels))


def top_share(
    values: Numbers,
    fraction: float = 0.10,
    weights: Numbers | None = None,
    *,
    labels: Sequence[str] | None = None,
) -> float:
    """Share of the total held by the top `fraction` of units (of residents when weighted)."""
    f = _check_fraction(fraction)
    x, w = _prepare(values, weights, labels)
    return _top_share(x, w, f)


def summarise(
    values: Numbers,
    weights: Numbers | None = None,
    groups: Sequence[str] | None = None,
    *,
    labels: Sequence[str] | None = None,
) -> Fairness:
    """All the measures at once; needs at least two units to compare."""
    x, w = _prepare(values, weights, labels)
    if len(x) < 2:
        raise MethodError(_("只有一个单位，无法比较资源分配是否均衡。至少需要两个单位。"))
    big_p, big_l = _lorenz_arrays(x, w)
    total = float(x.sum())
    return Fairness(
        n=len(x),
        total=total,
        mean=total / (len(x) if w is None else float(w.sum())),
        weighted=w is not None,
        gini=_gini(x, w),
        theil=_theil(x, w),
        hhi=_hhi(x),
        hhi_normalised=_hhi_normalised(x),
        top10_share=_top_share(x, w, 0.10),
        lorenz=tuple((float(a), float(b)) for a, b in zip(big_p, big_l, strict=True)),
        decomposition=(
            None if groups is None else _decompose(x, w, _check_groups(groups, len(x), labels))
        ),
    )
