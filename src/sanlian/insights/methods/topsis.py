"""社区分类：entropy-weight TOPSIS (熵权TOPSIS) scores and star / ordinary / weak tiers.

Rows i = 1..n are communities, columns j = 1..m are indicators; xᵢⱼ is the raw value. An indicator
is a benefit indicator (larger is better) or a cost indicator (smaller is better).

1. Entropy weights (熵权法). Each column is made positive and comparable first; two variants:

   - "minmax" (default, the common Chinese practice): zᵢⱼ = (xᵢⱼ − minⱼ)/(maxⱼ − minⱼ) for a
     benefit indicator, zᵢⱼ = (maxⱼ − xᵢⱼ)/(maxⱼ − minⱼ) for a cost indicator;
   - "proportion": zᵢⱼ = xᵢⱼ (raw values, xᵢⱼ ≥ 0; the direction does not enter), the form used by
     Xu (2004) and Zavadskas & Podvezko (2016).

   Then pᵢⱼ = zᵢⱼ / Σᵢ zᵢⱼ, the entropy eⱼ = −(1/ln n) Σᵢ pᵢⱼ ln pᵢⱼ (0·ln 0 = 0), the divergence
   dⱼ = 1 − eⱼ and the weight wⱼ = dⱼ / Σₖ dₖ. An indicator on which every community has the same
   value carries no information: eⱼ = 1, dⱼ = 0, wⱼ = 0, and it is listed in `dropped`.

2. TOPSIS. Vector normalisation rᵢⱼ = xᵢⱼ / √(Σᵢ xᵢⱼ²) (a column of zeros stays 0), weighted
   vᵢⱼ = wⱼ rᵢⱼ. Positive ideal vⱼ⁺ = maxᵢ vᵢⱼ for a benefit indicator (minᵢ for a cost one),
   negative ideal vⱼ⁻ the opposite. Distances Dᵢ⁺ = √(Σⱼ (vᵢⱼ − vⱼ⁺)²), Dᵢ⁻ = √(Σⱼ (vᵢⱼ − vⱼ⁻)²),
   closeness Cᵢ = Dᵢ⁻ / (Dᵢ⁺ + Dᵢ⁻) ∈ [0, 1], 1 = best, reported to 12 decimals so that rounding
   noise cannot split a tie. Rank 1 = highest C; equal scores share a rank (1, 2, 2, 4). If every
   community is identical on every weighted indicator, D⁺ + D⁻ = 0 for all and there is nothing
   to rank: that is refused with a MethodError rather than answered with C = ½.

3. Tiers. The top `star_share` of communities are 明星 (star), the bottom `weak_share` 薄弱
   (weak), the rest 普通 (ordinary); each share is in [0, 1) and the two add up to at most 1.
   The bands hold ⌊share·n⌋ communities and become score cut-offs: star if C ≥ star_from, weak
   if C < weak_below, so equal scores always get the same tier. Ties at a band's edge go to the
   middle: if the last community inside the star (or weak) band has the same score as the first
   one outside it, that whole group of equal scores is ordinary. So a community is called star or
   weak only when its score separates it from the ordinary ones, and a band never holds more than
   its share (all scores equal: everyone is ordinary).

Missing values (None or NaN): missing="error" refuses and names every (community, indicator);
missing="mean" fills each gap with the mean of that indicator over the communities that have it
and records each fill in `notes`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from django.utils.translation import gettext as _

from . import MethodError

Floats = npt.NDArray[np.float64]
Matrix = Sequence[Sequence[float | None]] | npt.NDArray[Any]
Missing = Literal["error", "mean"]
EntropyVariant = Literal["minmax", "proportion"]
Tier = Literal["star", "ordinary", "weak"]

_DECIMALS = 12  # scores are reported and compared at this precision

STAR: Tier = "star"
ORDINARY: Tier = "ordinary"
WEAK: Tier = "weak"

__all__ = [
    "ORDINARY",
    "STAR",
    "WEAK",
    "Contribution",
    "DroppedIndicator",
    "EntropyResult",
    "Indicator",
    "IndicatorWeight",
    "RowExplanation",
    "TopsisResult",
    "entropy_weights",
    "propose_tiers",
    "tier_cutoffs",
    "tiers_by_cutoffs",
    "topsis",
]


@dataclass(frozen=True)
class Indicator:
    """One column of the decision matrix."""

    key: str
    label: str
    benefit: bool = True  # True: larger is better; False (cost): smaller is better


@dataclass(frozen=True)
class IndicatorWeight:
    """The weight of one indicator and, for entropy weights, how it was obtained."""

    key: str
    label: str
    benefit: bool
    weight: float
    entropy: float | None  # eⱼ; None when the weights were given, not computed
    divergence: float | None  # dⱼ = 1 − eⱼ
    dropped: bool  # no variance: weight 0


@dataclass(frozen=True)
class DroppedIndicator:
    key: str
    label: str
    reason: str


@dataclass(frozen=True)
class EntropyResult:
    variant: EntropyVariant
    n: int  # communities
    indicators: tuple[IndicatorWeight, ...]
    dropped: tuple[DroppedIndicator, ...]
    notes: tuple[str, ...]  # Chinese: one line per imputed value

    @property
    def weights(self) -> tuple[float, ...]:
        return tuple(i.weight for i in self.indicators)


@dataclass(frozen=True)
class Contribution:
    """Why a community scored what it did, on one indicator."""

    key: str
    label: str
    benefit: bool
    raw: float  # xᵢⱼ (after imputation)
    imputed: bool
    normalised: float  # rᵢⱼ
    weighted: float  # vᵢⱼ = wⱼ rᵢⱼ
    ideal: float  # vⱼ⁺
    anti_ideal: float  # vⱼ⁻
    to_ideal_sq: float  # (vᵢⱼ − vⱼ⁺)², this indicator's term in (Dᵢ⁺)²
    to_anti_ideal_sq: float  # (vᵢⱼ − vⱼ⁻)², this indicator's term in (Dᵢ⁻)²


@dataclass(frozen=True)
class RowExplanation:
    label: str
    score: float  # Cᵢ
    rank: int
    d_plus: float
    d_minus: float
    contributions: tuple[Contribution, ...]


@dataclass(frozen=True)
class TopsisResult:
    weight_source: Literal["entropy", "given"]
    weights: tuple[IndicatorWeight, ...]
    dropped: tuple[DroppedIndicator, ...]
    notes: tuple[str, ...]
    labels: tuple[str, ...]
    scores: tuple[float, ...]  # in input order
    ranks: tuple[int, ...]  # 1 = best; ties share the smallest rank
    rows: tuple[RowExplanation, ...]  # in input order


# ---------------------------------------------------------------------------------------------
# input checks


def _row_labels(labels: Sequence[str] | None, n: int) -> list[str]:
    if labels is None:
        return [_("第%(n)s行") % {"n": i + 1} for i in range(n)]
    if len(labels) != n:
        raise MethodError(
            _("社区名称有%(labels)s个，数据有%(rows)s行，两者数量必须一致。")
            % {"labels": len(labels), "rows": n}
        )
    return [str(label) for label in labels]


def _check_indicators(indicators: Sequence[Indicator]) -> None:
    if len(indicators) == 0:
        raise MethodError(_("没有指标，无法评价。请至少选择一个指标。"))
    keys = [i.key for i in indicators]
    duplicated = sorted({k for k in keys if keys.count(k) > 1})
    if duplicated:
        raise MethodError(
            _("指标编码重复：%(keys)s。每个指标的编码必须唯一。") % {"keys": "、".join(duplicated)}
        )


def _read_matrix(
    matrix: Matrix, indicators: Sequence[Indicator], labels: Sequence[str] | None
) -> tuple[Floats, list[str]]:
    """Float matrix with NaN where a value is missing; refuses ragged rows, text and infinities."""
    rows = list(matrix)
    if len(rows) == 0:
        raise MethodError(_("没有可计算的数据。"))
    names = _row_labels(labels, len(rows))
    m = len(indicators)
    out = np.full((len(rows), m), np.nan)
    problems: list[str] = []
    for i, row in enumerate(rows):
        cells = list(row)
        if len(cells) != m:
            raise MethodError(
                _("“%(row)s”有%(got)s个数值，但指标有%(want)s个，每行的数值个数必须与指标一致。")
                % {"row": names[i], "got": len(cells), "want": m}
            )
        for j, v in enumerate(cells):
            if v is None:
                continue
            try:
                if isinstance(v, str):
                    raise TypeError
                f = float(v)
            except (TypeError, ValueError):
                problems.append(
                    _("“%(row)s”的“%(indicator)s”不是数字：%(value)s")
                    % {"row": names[i], "indicator": indicators[j].label, "value": v}
                )
                continue
            if math.isinf(f):
                problems.append(
                    _("“%(row)s”的“%(indicator)s”为无穷大")
                    % {"row": names[i], "indicator": indicators[j].label}
                )
                continue
            out[i, j] = f
    if problems:
        raise MethodError(
            _("数据中有无效的数值，请修正后再计算。"),
            details=problems,
        )
    return out, names


def _fill_missing(
    x: Floats, indicators: Sequence[Indicator], names: list[str], missing: Missing
) -> tuple[Floats, npt.NDArray[np.bool_], list[str]]:
    gaps = np.isnan(x)
    if missing not in ("error", "mean"):
        raise MethodError(
            _("缺失值处理方式“%(mode)s”无效，只能是“error”或“mean”。") % {"mode": missing}
        )
    if not gaps.any():
        return x, gaps, []
    cells = [(int(i), int(j)) for i, j in zip(*np.nonzero(gaps), strict=True)]
    if missing == "error":
        raise MethodError(
            _("有%(count)s个数值缺失，请补齐数据，或选择用平均值补齐。") % {"count": len(cells)},
            details=[
                _("“%(row)s”缺少“%(indicator)s”")
                % {"row": names[i], "indicator": indicators[j].label}
                for i, j in cells
            ],
        )
    empty = [j for j in range(x.shape[1]) if gaps[:, j].all()]
    if empty:
        raise MethodError(
            _("指标“%(indicators)s”在所有社区都缺失，无法用平均值补齐。请补录数据或去掉该指标。")
            % {"indicators": "、".join(indicators[j].label for j in empty)}
        )
    filled = x.copy()
    notes: list[str] = []
    for j in range(x.shape[1]):
        if not gaps[:, j].any():
            continue
        present = x[~gaps[:, j], j]
        mean = float(present.mean())
        filled[gaps[:, j], j] = mean
        for i in (int(k) for k in np.nonzero(gaps[:, j])[0]):
            notes.append(
                _("“%(row)s”缺少“%(indicator)s”，已用其余%(count)s个社区的平均值%(mean)s补齐。")
                % {
                    "row": names[i],
                    "indicator": indicators[j].label,
                    "count": len(present),
                    "mean": f"{mean:.6g}",
                }
            )
    return filled, gaps, notes


def _prepare(
    matrix: Matrix,
    indicators: Sequence[Indicator],
    labels: Sequence[str] | None,
    missing: Missing,
) -> tuple[Floats, npt.NDArray[np.bool_], list[str], list[str]]:
    _check_indicators(indicators)
    x, names = _read_matrix(matrix, indicators, labels)
    filled, gaps, notes = _fill_missing(x, indicators, names, missing)
    return filled, gaps, names, notes


# ---------------------------------------------------------------------------------------------
# entropy weights


def _too_large() -> str:
    return _("数值过大，超出了可计算的范围。请换用更大的单位（如万元）后再计算。")


def _no_variance_reason() -> str:
    return _("各社区该指标数值相同，不区分社区，权重为0")


def _entropy(x: Floats, indicators: Sequence[Indicator], variant: EntropyVariant) -> EntropyResult:
    from scipy.special import xlogy  # here: SciPy loads when a method runs

    n, m = x.shape
    if variant not in ("minmax", "proportion"):
        raise MethodError(
            _("熵权标准化方式“%(variant)s”无效，只能是“minmax”或“proportion”。")
            % {"variant": variant}
        )
    if n < 2:
        raise MethodError(_("至少需要两个社区才能计算熵权。"))
    if variant == "proportion":
        negative = [j for j in range(m) if (x[:, j] < 0).any()]
        if negative:
            raise MethodError(
                _(
                    "按原始数值占比计算熵权时数值不能为负，指标“%(indicators)s”有负数。"
                    "请改用极差（min–max）标准化。"
                )
                % {"indicators": "、".join(indicators[j].label for j in negative)}
            )
    lo, hi = x.min(axis=0), x.max(axis=0)
    varies = hi > lo
    if not varies.any():
        raise MethodError(
            _("所有指标在各社区的数值都相同，无法区分社区，也无法计算熵权。"),
            details=[f"{ind.label}：{_no_variance_reason()}" for ind in indicators],
        )
    entropy = np.ones(m)
    # Huge values can overflow to inf/nan here; that is caught and reported below.
    with np.errstate(over="ignore", invalid="ignore"):
        for j in (int(k) for k in np.nonzero(varies)[0]):
            col = x[:, j]
            if variant == "minmax":
                z = (col - lo[j]) if indicators[j].benefit else (hi[j] - col)
                z = z / (hi[j] - lo[j])
            else:
                z = col
            p = z / z.sum()
            # xlogy(p, p) = p·ln p with 0·ln 0 = 0.
            entropy[j] = -float(np.sum(xlogy(p, p))) / math.log(n)
    if not np.isfinite(entropy).all():
        raise MethodError(_too_large())
    # Rounding can push e a hair above 1 for a column that barely varies.
    divergence = np.clip(1.0 - entropy, 0.0, None)
    divergence[~varies] = 0.0
    weights = divergence / divergence.sum()
    items = tuple(
        IndicatorWeight(
            key=ind.key,
            label=ind.label,
            benefit=ind.benefit,
            weight=float(weights[j]),
            entropy=float(min(entropy[j], 1.0)),
            divergence=float(divergence[j]),
            dropped=not bool(varies[j]),
        )
        for j, ind in enumerate(indicators)
    )
    dropped = tuple(
        DroppedIndicator(key=ind.key, label=ind.label, reason=_no_variance_reason())
        for j, ind in enumerate(indicators)
        if not varies[j]
    )
    return EntropyResult(variant=variant, n=n, indicators=items, dropped=dropped, notes=())


def entropy_weights(
    matrix: Matrix,
    indicators: Sequence[Indicator],
    *,
    labels: Sequence[str] | None = None,
    missing: Missing = "error",
    variant: EntropyVariant = "minmax",
) -> EntropyResult:
    """Entropy weights wⱼ = dⱼ/Σd with eⱼ and dⱼ per indicator (see the module docstring)."""
    x, _gaps, _names, notes = _prepare(matrix, indicators, labels, missing)
    result = _entropy(x, indicators, variant)
    return EntropyResult(
        variant=result.variant,
        n=result.n,
        indicators=result.indicators,
        dropped=result.dropped,
        notes=tuple(notes),
    )


# ---------------------------------------------------------------------------------------------
# TOPSIS


def _given_weights(
    weights: Sequence[float] | Mapping[str, float], indicators: Sequence[Indicator]
) -> Floats:
    if isinstance(weights, Mapping):
        unknown = sorted(set(weights) - {i.key for i in indicators})
        absent = [i.label for i in indicators if i.key not in weights]
        if unknown or absent:
            raise MethodError(
                _("权重与指标对不上。"),
                details=[_("没有这个指标：%(key)s") % {"key": k} for k in unknown]
                + [_("缺少权重：%(label)s") % {"label": a} for a in absent],
            )
        raw = [weights[i.key] for i in indicators]
    else:
        raw = list(weights)
        if len(raw) != len(indicators):
            raise MethodError(
                _("权重有%(weights)s个，指标有%(indicators)s个，两者数量必须一致。")
                % {"weights": len(raw), "indicators": len(indicators)}
            )
    bad: list[str] = []
    values: list[float] = []
    for ind, v in zip(indicators, raw, strict=True):
        try:
            f = float(v)
        except (TypeError, ValueError):
            f = math.nan
        if not math.isfinite(f) or f < 0:
            bad.append(_("“%(label)s”的权重为 %(value)s") % {"label": ind.label, "value": v})
        values.append(f)
    if bad:
        raise MethodError(_("权重必须是非负的有限数。"), details=bad)
    w = np.asarray(values, dtype=np.float64)
    if float(w.sum()) <= 0:
        raise MethodError(_("权重全为零，无法评价。请至少给一个指标正的权重。"))
    # Weights are used as proportions, so only their ratios matter.
    return w / w.sum()


def topsis(
    matrix: Matrix,
    indicators: Sequence[Indicator],
    *,
    weights: Sequence[float] | Mapping[str, float] | None = None,
    labels: Sequence[str] | None = None,
    missing: Missing = "error",
    entropy_variant: EntropyVariant = "minmax",
) -> TopsisResult:
    """TOPSIS closeness Cᵢ = D⁻/(D⁺ + D⁻) per community, with ranks and per-indicator reasons.

    `weights` default to the entropy weights of the same matrix; given weights (a sequence in
    indicator order, or a mapping by indicator key) are rescaled to sum to 1.
    """
    from scipy.stats import rankdata

    x, gaps, names, notes = _prepare(matrix, indicators, labels, missing)
    if weights is None:
        ent = _entropy(x, indicators, entropy_variant)
        w = np.asarray(ent.weights, dtype=np.float64)
        weight_items = ent.indicators
        dropped = ent.dropped
        source: Literal["entropy", "given"] = "entropy"
    else:
        w = _given_weights(weights, indicators)
        weight_items = tuple(
            IndicatorWeight(
                key=ind.key,
                label=ind.label,
                benefit=ind.benefit,
                weight=float(w[j]),
                entropy=None,
                divergence=None,
                dropped=False,
            )
            for j, ind in enumerate(indicators)
        )
        dropped = ()
        source = "given"

    benefit = np.array([ind.benefit for ind in indicators])
    # Huge values can overflow to inf/nan here; that is caught and reported below.
    with np.errstate(over="ignore", invalid="ignore"):
        # rᵢⱼ = xᵢⱼ/‖x·ⱼ‖ computed on x/max|x| (the same ratio) so that x² cannot overflow.
        # A column of zeros has norm 0: it says nothing, so it stays 0 instead of 0/0.
        scale = np.abs(x).max(axis=0)
        scaled = x / np.where(scale > 0, scale, 1.0)
        norms = np.sqrt(np.sum(scaled * scaled, axis=0))
        r = np.where(norms > 0, scaled / np.where(norms > 0, norms, 1.0), 0.0)
        v = r * w
        ideal = np.where(benefit, v.max(axis=0), v.min(axis=0))
        anti = np.where(benefit, v.min(axis=0), v.max(axis=0))
        sq_plus = (v - ideal) ** 2
        sq_minus = (v - anti) ** 2
        d_plus = np.sqrt(sq_plus.sum(axis=1))
        d_minus = np.sqrt(sq_minus.sum(axis=1))
        denominator = d_plus + d_minus
    if not (np.isfinite(denominator).all() and np.isfinite(v).all()):
        raise MethodError(_too_large())
    if (denominator <= 0).any():
        # Happens only when every weighted indicator is constant, and then for every row.
        raise MethodError(
            _("所有社区在各个有权重的指标上数值完全相同，无法区分优劣，不能计算贴近度。"),
            details=[_("请检查数据，或给有差异的指标分配权重。")],
        )
    # 12 decimals: rounding noise must not split two communities that tie exactly.
    scores = np.round(d_minus / denominator, _DECIMALS)
    ranks = rankdata(-scores, method="min").astype(int)

    rows = tuple(
        RowExplanation(
            label=names[i],
            score=float(scores[i]),
            rank=int(ranks[i]),
            d_plus=float(d_plus[i]),
            d_minus=float(d_minus[i]),
            contributions=tuple(
                Contribution(
                    key=ind.key,
                    label=ind.label,
                    benefit=ind.benefit,
                    raw=float(x[i, j]),
                    imputed=bool(gaps[i, j]),
                    normalised=float(r[i, j]),
                    weighted=float(v[i, j]),
                    ideal=float(ideal[j]),
                    anti_ideal=float(anti[j]),
                    to_ideal_sq=float(sq_plus[i, j]),
                    to_anti_ideal_sq=float(sq_minus[i, j]),
                )
                for j, ind in enumerate(indicators)
            ),
        )
        for i in range(len(names))
    )
    return TopsisResult(
        weight_source=source,
        weights=weight_items,
        dropped=dropped,
        notes=tuple(notes),
        labels=tuple(names),
        scores=tuple(float(s) for s in scores),
        ranks=tuple(int(k) for k in ranks),
        rows=rows,
    )


# ---------------------------------------------------------------------------------------------
# tiers


def _check_scores(scores: Sequence[float] | npt.NDArray[Any]) -> Floats:
    if len(scores) == 0:
        raise MethodError(_("没有得分，无法分层。"))
    try:
        s = np.asarray([float(v) for v in scores], dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise MethodError(_("得分中有缺失或不是数字的项，无法分层。")) from exc
    bad = [i for i in range(len(s)) if not math.isfinite(s[i])]
    if bad:
        raise MethodError(
            _("得分中有无效的数值（NaN 或无穷大），无法分层。"),
            details=[_("第%(n)s个得分无效") % {"n": i + 1} for i in bad],
        )
    # Compared at 12 decimals, like `topsis` reports them, so rounding noise never splits a tie.
    return np.round(s, _DECIMALS)


def _check_share(value: float, name: str) -> float:
    try:
        f = float(value)
    except (TypeError, ValueError):
        f = math.nan
    if not (0.0 <= f < 1.0):
        raise MethodError(
            _("%(name)s必须大于或等于0且小于1，收到的是“%(value)s”。")
            % {"name": name, "value": value}
        )
    return f


def tier_cutoffs(
    scores: Sequence[float] | npt.NDArray[Any],
    star_share: float = 0.15,
    weak_share: float = 0.25,
) -> tuple[float | None, float | None]:
    """(weak_below, star_from): weak if score < weak_below, star if score ≥ star_from.

    The star band is the top ⌊star_share·n⌋ communities and the weak band the bottom
    ⌊weak_share·n⌋. A group of equal scores that straddles a band's edge is left out of the band
    (it is ordinary), so a band never holds more than its share. A band left empty gives None.
    """
    s = _check_scores(scores)
    star = _check_share(star_share, _("明星社区比例"))
    weak = _check_share(weak_share, _("薄弱社区比例"))
    if star + weak > 1.0 + 1e-12:
        raise MethodError(
            _("明星与薄弱社区的比例之和（%(total)s）超过1，两档会重叠。请调小比例。")
            % {"total": f"{star + weak:g}"}
        )
    n = len(s)
    # The epsilon keeps e.g. 0.15 × 20 at 3 whichever way the float product rounds.
    k_star = min(math.floor(star * n + 1e-9), n - 1)
    k_weak = min(math.floor(weak * n + 1e-9), n - 1)
    ascending = np.sort(s)

    star_from: float | None = None
    if k_star > 0:
        lowest_in, highest_out = ascending[n - k_star], ascending[n - k_star - 1]
        # On a tie across the edge only the scores strictly above it stay star.
        above = ascending[ascending > highest_out]
        if lowest_in > highest_out or above.size:
            star_from = float(lowest_in if lowest_in > highest_out else above[0])

    weak_below: float | None = None
    if k_weak > 0:
        highest_in, lowest_out = ascending[k_weak - 1], ascending[k_weak]
        # On a tie across the edge only the scores strictly below it stay weak.
        edge = float(lowest_out if highest_in < lowest_out else highest_in)
        if (ascending < edge).any():
            weak_below = edge
    return weak_below, star_from


def tiers_by_cutoffs(
    scores: Sequence[float] | npt.NDArray[Any],
    star_from: float | None,
    weak_below: float | None,
) -> list[Tier]:
    """Fixed cut-offs: star if score ≥ star_from, weak if score < weak_below, else ordinary.

    None switches a band off.
    """
    s = _check_scores(scores)
    for name, value in ((_("明星分界线"), star_from), (_("薄弱分界线"), weak_below)):
        if value is not None and not math.isfinite(float(value)):
            raise MethodError(_("%(name)s必须是有限数。") % {"name": name})
    if star_from is not None and weak_below is not None and star_from < weak_below:
        raise MethodError(
            _(
                "明星分界线（%(star)s）低于薄弱分界线（%(weak)s），同一个社区会同时被分为明星和薄弱。"
                "请调整分界线。"
            )
            % {"star": star_from, "weak": weak_below}
        )
    tiers: list[Tier] = []
    for value in s:
        if star_from is not None and value >= star_from:
            tiers.append(STAR)
        elif weak_below is not None and value < weak_below:
            tiers.append(WEAK)
        else:
            tiers.append(ORDINARY)
    return tiers


def propose_tiers(
    scores: Sequence[float] | npt.NDArray[Any],
    *,
    star_share: float = 0.15,
    weak_share: float = 0.25,
) -> list[Tier]:
    """ "star"/"ordinary"/"weak" per score by share bands (see `tier_cutoffs`)."""
    weak_below, star_from = tier_cutoffs(scores, star_share, weak_share)
    return tiers_by_cutoffs(scores, star_from, weak_below)
