"""Budget allocation MIP (sanlian.insights.methods.allocation): optimality against brute force,
hand-checked cases, explained infeasibility, baselines, bad input and a published knapsack."""

from __future__ import annotations

import itertools
import math
import random
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest

from sanlian.insights.methods import MethodError
from sanlian.insights.methods.allocation import (
    TIERS,
    Candidate,
    Infeasible,
    Rules,
    allocation_from_ids,
    baseline_by_review,
    benefit,
    solve,
    violations,
)

GROUPS = (
    "budget",
    "max_community_share",
    "weak_floor",
    "max_per_org",
    "max_projects_per_org",
    "must_fund",
    "must_not_fund",
)


def cand(
    id: int,
    cost: str | int,
    *,
    people: int = 100,
    community: int = 1,
    tier: str = "ordinary",
    org: int | None = None,
    review: float = 100.0,
    need: float = 1.0,
    label: str = "",
) -> Candidate:
    """With review 100 and need 1 the benefit is the number of beneficiaries."""
    return Candidate(
        id=id,
        cost=Decimal(cost),
        beneficiaries=people,
        community_id=community,
        tier=tier,
        field="养老服务",
        org_id=org,
        review_score=review,
        need_score=need,
        label=label,
    )


# Tests prove optimality to the last digit (the product's default gap is 0.05 %).
EXACT = 0.0


# ---------------------------------------------------------------------------------------
# Brute force: every subset, every rule in exact integer 分 arithmetic.


def _le(amounts: np.ndarray, limit: Fraction) -> np.ndarray:
    return amounts * limit.denominator <= limit.numerator


def _ge(amounts: np.ndarray, limit: Fraction) -> np.ndarray:
    return amounts * limit.denominator >= limit.numerator


def brute(
    cands: list[Candidate], rules: Rules, groups: frozenset[str] | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All subsets (rows, in itertools.product order), their feasibility under the rule
    groups given (all by default) and their objective."""
    groups = frozenset(GROUPS) if groups is None else groups
    n = len(cands)
    subsets = np.array(list(itertools.product((0, 1), repeat=n)), dtype=np.int64)
    fen = np.array([int(c.cost * 100) for c in cands], dtype=np.int64)
    ok = np.ones(len(subsets), dtype=bool)
    budget = Fraction(rules.budget) * 100  # in 分
    if "budget" in groups:
        ok &= _le(subsets @ fen, budget)
    if "max_community_share" in groups and rules.max_community_share is not None:
        cap = Fraction(repr(rules.max_community_share)) * budget
        for k in {c.community_id for c in cands}:
            member = np.array([c.community_id == k for c in cands])
            ok &= _le(subsets @ np.where(member, fen, 0), cap)
    if "weak_floor" in groups and rules.weak_floor is not None:
        weak = np.array([c.tier == "weak" for c in cands])
        ok &= _ge(subsets @ np.where(weak, fen, 0), Fraction(repr(rules.weak_floor)) * budget)
    for o in {c.org_id for c in cands if c.org_id is not None}:
        member = np.array([c.org_id == o for c in cands])
        if "max_per_org" in groups and rules.max_per_org is not None:
            ok &= _le(subsets @ np.where(member, fen, 0), Fraction(rules.max_per_org) * 100)
        if "max_projects_per_org" in groups and rules.max_projects_per_org is not None:
            ok &= subsets @ member.astype(np.int64) <= rules.max_projects_per_org
    index = {c.id: i for i, c in enumerate(cands)}
    if "must_fund" in groups:
        for i in rules.must_fund:
            ok &= subsets[:, index[i]] == 1
    if "must_not_fund" in groups:
        for i in rules.must_not_fund:
            ok &= subsets[:, index[i]] == 0
    values = np.array(
        [math.fsum(benefit(c) for c, x in zip(cands, row, strict=True) if x) for row in subsets]
    )
    return subsets, ok, values


def subset_row(cands: list[Candidate], chosen: tuple[int, ...]) -> int:
    bits = [1 if c.id in chosen else 0 for c in cands]
    return int("".join(map(str, bits)), 2)


def random_instance(rng: random.Random) -> tuple[list[Candidate], Rules]:
    n = rng.randint(1, 12)
    communities = rng.randint(1, 4)
    tier_of = {k: rng.choice(TIERS) for k in range(1, communities + 1)}
    orgs = rng.randint(1, 4)
    ids = rng.sample(range(1, 1000), n)
    cands = []
    for i in ids:
        k = rng.randint(1, communities)
        cands.append(
            Candidate(
                id=i,
                cost=Decimal(rng.randint(1_000_00, 50_000_00)).scaleb(-2),
                beneficiaries=rng.randint(0, 500),
                community_id=k,
                tier=tier_of[k],
                field="文体活动",
                org_id=rng.choice([None, *range(1, orgs + 1)]),
                review_score=float(rng.randint(50, 100)),
                need_score=rng.choice([0.0, 0.25, 0.5, 0.8, 1.0, 37.5]),
            )
        )
    total = sum(c.cost for c in cands)
    budget = max(
        Decimal("0.01"), (total * Decimal(rng.uniform(0.1, 0.9))).quantize(Decimal("0.01"))
    )
    chance = rng.random
    return cands, Rules(
        budget=budget,
        max_community_share=rng.choice([0.2, 0.25, 0.4, 0.5, 0.75]) if chance() < 0.5 else None,
        weak_floor=rng.choice([0.05, 0.1, 0.2, 0.3, 0.5]) if chance() < 0.5 else None,
        max_per_org=(budget * Decimal(rng.uniform(0.2, 0.7))).quantize(Decimal("0.01"))
        if chance() < 0.4
        else None,
        max_projects_per_org=rng.randint(1, 3) if chance() < 0.4 else None,
        must_fund=frozenset(rng.sample(ids, rng.randint(1, min(2, n))))
        if chance() < 0.25
        else frozenset(),
        must_not_fund=frozenset(rng.sample(ids, rng.randint(1, min(3, n))))
        if chance() < 0.25
        else frozenset(),
    )


def active_groups(rules: Rules) -> set[str]:
    active = {"budget"}
    for key in ("max_community_share", "weak_floor", "max_per_org", "max_projects_per_org"):
        if getattr(rules, key) is not None:
            active.add(key)
    for key in ("must_fund", "must_not_fund"):
        if getattr(rules, key):
            active.add(key)
    return active


def test_optimal_against_brute_force_on_random_instances() -> None:
    rng = random.Random(20240611)
    solved: dict[str, int] = dict.fromkeys(GROUPS, 0)
    infeasible = 0
    for _ in range(400):
        cands, rules = random_instance(rng)
        _subsets, ok, values = brute(cands, rules)
        if not ok.any():
            with pytest.raises(Infeasible) as caught:
                solve(cands, rules, mip_rel_gap=EXACT)
            infeasible += 1
            # Each conflict reported is infeasible by itself and minimal: without any one of
            # its rule groups the others can be met.
            assert caught.value.conflicts
            for conflict in caught.value.conflicts:
                assert not brute(cands, rules, conflict)[1].any(), (conflict, rules)
                for group in conflict:
                    assert brute(cands, rules, conflict - {group})[1].any(), (conflict, group)
            continue
        best = values[ok].max()
        result = solve(cands, rules, mip_rel_gap=EXACT)
        assert result.status == "optimal"
        row = subset_row(cands, result.chosen)
        assert ok[row], (rules, result.chosen)  # the chosen set obeys every rule
        top = max(benefit(c) for c in cands)
        assert result.objective == pytest.approx(best, rel=1e-9, abs=1e-9 * max(top, 1))
        assert violations(cands, rules, result.chosen) == []
        for group in active_groups(rules):
            solved[group] += 1
    # Every rule was active in many solved instances, and some instances were infeasible.
    assert min(solved.values()) >= 15, solved
    assert infeasible >= 50


def test_each_rule_changes_the_optimum_as_brute_force_says() -> None:
    """One instance, each rule switched on alone: the optimum moves and matches brute force."""
    cands = [
        cand(1, 400, people=300, community=1, tier="star", org=1),
        cand(2, 300, people=200, community=1, tier="star", org=1),
        cand(3, 250, people=150, community=2, tier="ordinary", org=1),
        cand(4, 200, people=90, community=3, tier="weak", org=2),
        cand(5, 150, people=60, community=3, tier="weak", org=3),
        cand(6, 100, people=70, community=2, tier="ordinary", org=None),
    ]
    base = Rules(budget=Decimal(1000))
    variants = [
        Rules(budget=Decimal(1000), max_community_share=0.5),
        Rules(budget=Decimal(1000), weak_floor=0.3),
        Rules(budget=Decimal(1000), max_per_org=Decimal(500)),
        Rules(budget=Decimal(1000), max_projects_per_org=1),
        Rules(budget=Decimal(1000), must_fund=frozenset({5})),
        Rules(budget=Decimal(1000), must_not_fund=frozenset({1})),
    ]
    unconstrained = solve(cands, base, mip_rel_gap=EXACT)
    for rules in variants:
        _subsets, ok, values = brute(cands, rules)
        result = solve(cands, rules, mip_rel_gap=EXACT)
        assert result.objective == pytest.approx(values[ok].max())
        assert ok[subset_row(cands, result.chosen)]
        assert result.objective < unconstrained.objective, rules


# ---------------------------------------------------------------------------------------
# Hand-checked cases


def knapsack3() -> list[Candidate]:
    return [
        cand(1, 60, people=100, community=1, label="A"),
        cand(2, 50, people=70, community=2, label="B"),
        cand(3, 50, people=70, community=2, label="C"),
    ]


def test_benefit_formula() -> None:
    # 200 beneficiaries × need 0.8 × review 90 / 100 = 144
    assert benefit(cand(1, 10, people=200, need=0.8, review=90.0)) == pytest.approx(144.0)


def test_budget_only_by_hand() -> None:
    # Subsets within ¥100: {A}=100, {B}=70, {C}=70, {B,C}=140 (¥100); A with B or C costs
    # ¥110. Optimum {B, C}: benefit 140, spent ¥100, nothing left.
    result = solve(knapsack3(), Rules(budget=Decimal(100)), mip_rel_gap=EXACT)
    assert result.chosen == (2, 3)
    assert result.objective == pytest.approx(140)
    assert result.spent == Decimal(100)
    assert result.leftover == Decimal(0)
    assert result.status == "optimal"
    assert result.gap is not None and result.gap <= 1e-9
    assert result.solver_seconds <= result.total_seconds


def test_community_cap_by_hand() -> None:
    # Cap 0.6 × ¥100 = ¥60 per community. {B,C} puts ¥100 in community 2: out. {A} puts
    # exactly ¥60 in community 1: allowed (the boundary is exact). {A}=100 beats {B}=70.
    result = solve(
        knapsack3(), Rules(budget=Decimal(100), max_community_share=0.6), mip_rel_gap=EXACT
    )
    assert result.chosen == (1,)
    assert result.by_community[1].amount == Decimal(60)
    assert result.by_community[2].amount == Decimal(0)


def test_weak_floor_by_hand_and_sums() -> None:
    cands = [
        cand(1, 60, people=100, community=1, tier="star"),
        cand(2, 50, people=30, community=2, tier="weak"),
        cand(3, 40, people=60, community=3, tier="ordinary"),
    ]
    # Without a floor: {1,3} costs ¥100, benefit 160 — the best.
    assert solve(cands, Rules(budget=Decimal(100)), mip_rel_gap=EXACT).chosen == (1, 3)
    # Floor 0.5 × ¥100 = ¥50 for weak communities: project 2 must be in; {1,2} costs ¥110,
    # so {2,3}: benefit 30 + 60 = 90, spent ¥90, ¥10 left.
    result = solve(cands, Rules(budget=Decimal(100), weak_floor=0.5), mip_rel_gap=EXACT)
    assert result.chosen == (2, 3)
    assert result.objective == pytest.approx(90)
    assert result.leftover == Decimal(10)
    weak, ordinary, star = (result.by_tier[t] for t in ("weak", "ordinary", "star"))
    assert (weak.amount, weak.projects, weak.beneficiaries) == (Decimal(50), 1, 30)
    assert (ordinary.amount, ordinary.projects, ordinary.beneficiaries) == (Decimal(40), 1, 60)
    assert (star.amount, star.projects, star.beneficiaries) == (Decimal(0), 0, 0)
    assert weak.benefit == pytest.approx(30)
    assert set(result.by_community) == {1, 2, 3}  # every community with candidates
    assert result.by_community[1].amount == Decimal(0)


def test_org_caps_by_hand() -> None:
    cands = [
        cand(1, 40, people=50, org=1),
        cand(2, 40, people=50, org=1),
        cand(3, 40, people=30, org=2),
    ]
    # Any two fit ¥100 (three cost ¥120): {1,2}=100 is best.
    assert solve(cands, Rules(budget=Decimal(100)), mip_rel_gap=EXACT).chosen == (1, 2)
    # Organisation 1 may get ¥50 (one project) or one project: {1,3} or {2,3} = 80.
    for rules in (
        Rules(budget=Decimal(100), max_per_org=Decimal(50)),
        Rules(budget=Decimal(100), max_projects_per_org=1),
    ):
        result = solve(cands, rules, mip_rel_gap=EXACT)
        assert result.objective == pytest.approx(80)
        assert 3 in result.chosen and len(result.chosen) == 2


def test_must_and_must_not_fund_by_hand() -> None:
    # Must fund A (¥60): ¥40 left, B and C cost ¥50 each → {A} = 100.
    result = solve(
        knapsack3(), Rules(budget=Decimal(100), must_fund=frozenset({1})), mip_rel_gap=EXACT
    )
    assert result.chosen == (1,)
    # Must not fund C: {A}=100 beats {B}=70.
    result = solve(
        knapsack3(), Rules(budget=Decimal(100), must_not_fund=frozenset({3})), mip_rel_gap=EXACT
    )
    assert result.chosen == (1,)


def test_money_is_exact_decimal() -> None:
    # In binary floating point 0.1 + 0.2 > 0.3; in 分 it is exactly the budget.
    cands = [cand(1, "0.10", people=1), cand(2, "0.20", people=1)]
    result = solve(cands, Rules(budget=Decimal("0.30")), mip_rel_gap=EXACT)
    assert result.chosen == (1, 2)
    assert result.spent == Decimal("0.30") and result.leftover == Decimal("0.00")
    # 2 % of ¥1,000.00 is exactly ¥20.00: a ¥20.00 project fits the community cap, ¥20.01 not.
    rules = Rules(budget=Decimal("1000.00"), max_community_share=0.02)
    assert solve([cand(1, "20.00")], rules, mip_rel_gap=EXACT).chosen == (1,)
    assert solve([cand(1, "20.01")], rules, mip_rel_gap=EXACT).chosen == ()
    # A floor of 0.5 × ¥100.01 = ¥50.005 needs ¥50.01 in whole 分: ¥50.00 of weak projects
    # is not enough.
    weak = [cand(1, "50.00", tier="weak"), cand(2, 10, community=2)]
    with pytest.raises(Infeasible) as caught:
        solve(weak, Rules(budget=Decimal("100.01"), weak_floor=0.5), mip_rel_gap=EXACT)
    assert "¥50.01" in caught.value.details[0] and "¥50.00" in caught.value.details[0]


def test_pool_smaller_than_every_project_is_an_empty_allocation() -> None:
    result = solve(knapsack3(), Rules(budget=Decimal(10)))
    assert result.chosen == ()
    assert result.objective == 0
    assert result.spent == Decimal(0) and result.leftover == Decimal(10)
    assert result.status == "optimal"
    assert result.notes == ("预算少于任何一个项目的费用，无法资助任何项目。",)
    assert all(s.amount == 0 for s in result.by_tier.values())


def test_medium_instance_obeys_every_rule() -> None:
    # 400 projects in 60 communities: many rows of every kind; the result must pass the exact
    # Decimal check and beat the review-score baseline, which ignores benefit.
    rng = random.Random(7)
    tier_of = {k: rng.choice(TIERS) for k in range(1, 61)}
    cands = []
    for i in range(1, 401):
        k = rng.randint(1, 60)
        cands.append(
            Candidate(
                id=i,
                cost=Decimal(rng.randint(20_000, 300_000)),
                beneficiaries=rng.randint(30, 2000),
                community_id=k,
                tier=tier_of[k],
                field="就业技能",
                org_id=rng.randint(1, 150),
                review_score=float(rng.randint(50, 98)),
                need_score=rng.uniform(0.6, 1.0) if tier_of[k] == "weak" else rng.uniform(0.1, 0.7),
            )
        )
    budget = (sum((c.cost for c in cands), Decimal(0)) / 4).quantize(Decimal(1))
    rules = Rules(
        budget=budget,
        max_community_share=0.04,
        weak_floor=0.25,
        max_per_org=Decimal(400_000),
        max_projects_per_org=3,
    )
    result = solve(cands, rules)
    assert result.status in ("optimal", "gap")
    assert violations(cands, rules, result.chosen) == []
    assert result.spent <= budget
    assert result.objective > baseline_by_review(cands, budget).objective


# ---------------------------------------------------------------------------------------
# Infeasible rules, explained


def test_must_fund_and_must_not_fund_overlap() -> None:
    with pytest.raises(Infeasible) as caught:
        solve(
            knapsack3(),
            Rules(budget=Decimal(100), must_fund=frozenset({2}), must_not_fund=frozenset({2})),
        )
    assert caught.value.rules == {"must_fund", "must_not_fund"}
    assert caught.value.details == ["项目“B”（编号 2）同时被列为必须资助和不得资助。"]


def test_must_fund_over_budget() -> None:
    with pytest.raises(Infeasible) as caught:
        solve(knapsack3(), Rules(budget=Decimal(100), must_fund=frozenset({1, 2})))
    assert caught.value.rules == {"must_fund", "budget"}
    assert caught.value.details == ["必须资助的项目合计 ¥110.00，超过预算 ¥100.00。"]
    assert caught.value.message  # Chinese summary for the page


def test_weak_floor_over_all_weak_candidates() -> None:
    cands = [cand(1, 30, tier="weak"), cand(2, 100, community=2)]
    with pytest.raises(Infeasible) as caught:
        solve(cands, Rules(budget=Decimal(100), weak_floor=0.5))
    assert caught.value.rules == {"weak_floor"}
    assert caught.value.details == [
        "薄弱社区下限要求至少 ¥50.00，但薄弱社区全部候选项目合计只有 ¥30.00。"
    ]


def test_weak_floor_over_weak_candidates_left_by_must_not_fund() -> None:
    cands = [cand(1, 30, tier="weak"), cand(2, 40, tier="weak"), cand(3, 100, community=2)]
    with pytest.raises(Infeasible) as caught:
        solve(cands, Rules(budget=Decimal(100), weak_floor=0.5, must_not_fund=frozenset({2})))
    assert caught.value.rules == {"weak_floor", "must_not_fund"}
    assert "除去不得资助的项目" in caught.value.details[0]
    assert "¥30.00" in caught.value.details[0]


def test_must_fund_breaks_community_cap_named() -> None:
    with pytest.raises(Infeasible) as caught:
        solve(
            knapsack3(),
            Rules(budget=Decimal(100), max_community_share=0.5, must_fund=frozenset({1})),
            community_names={1: "凯旋社区"},
        )
    assert caught.value.rules == {"must_fund", "max_community_share"}
    assert caught.value.details == [
        "社区上限与必须资助的项目冲突：社区“凯旋社区”必须资助的项目合计 ¥60.00，"
        "超过每个社区的上限 ¥50.00（预算的 50%）。"
    ]


def test_must_fund_breaks_org_caps() -> None:
    cands = [cand(1, 40, org=9), cand(2, 40, org=9), cand(3, 10, org=1)]
    rules = Rules(
        budget=Decimal(100),
        max_per_org=Decimal(50),
        max_projects_per_org=1,
        must_fund=frozenset({1, 2}),
    )
    with pytest.raises(Infeasible) as caught:
        solve(cands, rules, org_names={9: "阳光社工中心"})
    assert caught.value.conflicts == (
        frozenset({"must_fund", "max_per_org"}),
        frozenset({"must_fund", "max_projects_per_org"}),
    )
    assert caught.value.details == [
        "组织金额上限与必须资助的项目冲突：社会组织“阳光社工中心”必须资助的项目合计 ¥80.00，"
        "超过每个组织的上限 ¥50.00。",
        "组织项目数上限与必须资助的项目冲突：社会组织“阳光社工中心”有 2 个必须资助的项目，"
        "超过每个组织至多 1 个的上限。",
    ]


def test_budget_below_every_weak_project_with_a_floor() -> None:
    cands = [cand(1, 150, tier="weak"), cand(2, 50, community=2)]
    with pytest.raises(Infeasible) as caught:
        solve(cands, Rules(budget=Decimal(100), weak_floor=0.1))
    assert caught.value.rules == {"budget", "weak_floor"}
    assert caught.value.details == [
        "预算 ¥100.00 少于任何一个薄弱社区项目的费用，无法满足薄弱社区下限（至少 ¥10.00）。"
    ]
    # Below every project at all: the note's wording, and still a conflict with the floor.
    with pytest.raises(Infeasible) as caught:
        solve(cands, Rules(budget=Decimal(40), weak_floor=0.1))
    assert caught.value.details[0].startswith("预算少于任何一个项目的费用，无法资助任何项目")


def test_weak_floor_against_community_cap_by_deletion_filter() -> None:
    # Weak projects of ¥40 in two weak communities; floor 0.6 × ¥100 = ¥60 needs both, but
    # the cap 0.25 × ¥100 = ¥25 per community admits neither. No direct check sees it; the
    # filter drops the budget (still infeasible without it) and keeps cap + floor.
    cands = [
        cand(1, 40, community=10, tier="weak"),
        cand(2, 40, community=11, tier="weak"),
        cand(3, 20, community=1),
    ]
    rules = Rules(budget=Decimal(100), weak_floor=0.6, max_community_share=0.25)
    with pytest.raises(Infeasible) as caught:
        solve(cands, rules)
    assert caught.value.conflicts == (frozenset({"max_community_share", "weak_floor"}),)
    assert caught.value.details == [
        "以下规则不能同时满足：每个社区至多 ¥25.00（预算的 25%）；"
        "薄弱社区合计至少 ¥60.00（预算的 60%）。去掉其中任何一条，其余规则就能同时满足。",
        "在社区上限下，薄弱社区最多只能获得 ¥50.00，达不到薄弱社区下限 ¥60.00。",
    ]


def test_weak_floor_against_org_cap_by_deletion_filter() -> None:
    cands = [
        cand(1, 40, community=10, tier="weak", org=7),
        cand(2, 40, community=11, tier="weak", org=7),
        cand(3, 20, community=1, org=8),
    ]
    rules = Rules(budget=Decimal(100), weak_floor=0.6, max_per_org=Decimal(50))
    with pytest.raises(Infeasible) as caught:
        solve(cands, rules)
    assert caught.value.rules == {"max_per_org", "weak_floor"}
    # Both weak projects belong to organisation 7: at most min(¥50, ¥80) = ¥50 < ¥60.
    assert caught.value.details[1] == (
        "在社会组织金额上限下，薄弱社区最多只能获得 ¥50.00，达不到薄弱社区下限 ¥60.00。"
    )


def test_deletion_filter_narrows_must_fund_to_the_conflicting_project() -> None:
    # Weak projects of ¥40 each; the floor ¥60 needs both (¥80). Must-fund M1 (¥30) then
    # breaks the ¥100 budget; M2 (¥5) alone would not (80 + 5 ≤ 100). Lumpy costs: the sum
    # check 30 + 5 + 60 ≤ 100 sees nothing, the filter does.
    cands = [
        cand(1, 40, community=10, tier="weak"),
        cand(2, 40, community=11, tier="weak"),
        cand(3, 30, community=1, label="M1"),
        cand(4, 5, community=2, label="M2"),
    ]
    rules = Rules(budget=Decimal(100), weak_floor=0.6, must_fund=frozenset({3, 4}))
    with pytest.raises(Infeasible) as caught:
        solve(cands, rules)
    assert caught.value.rules == {"budget", "weak_floor", "must_fund"}
    assert caught.value.details[0].startswith(
        "以下规则不能同时满足：必须资助的 2 个项目（合计 ¥35.00）"
    )
    assert caught.value.details[-1] == "冲突涉及的必须资助项目：项目“M1”（编号 3）。"


# ---------------------------------------------------------------------------------------
# Baselines and given sets


def review_pool() -> list[Candidate]:
    return [
        cand(1, 70, review=90.0, label="A"),
        cand(2, 30, review=90.0, label="B"),
        cand(3, 50, review=80.0, label="C"),
        cand(4, 20, review=70.0, label="D"),
    ]


def test_baseline_by_review_order_ties_and_skip() -> None:
    # Order: B (90, ¥30) before A (90, ¥70) — lower cost first on a tie — then C (80), D (70).
    # ¥100: B (¥70 left), A (¥0 left), C and D do not fit.
    assert baseline_by_review(review_pool(), Decimal(100)).chosen == (1, 2)
    # ¥120: B (¥90 left), A (¥20 left), C (¥50) no longer fits and is skipped, D (¥20) fits.
    result = baseline_by_review(review_pool(), Decimal(120))
    assert result.chosen == (1, 2, 4)
    assert result.spent == Decimal(120) and result.leftover == Decimal(0)
    assert result.status == "baseline" and result.gap is None
    # Same score and cost: the lower id first.
    twins = [cand(6, 10, review=60.0), cand(5, 10, review=60.0)]
    assert baseline_by_review(twins, Decimal(15)).chosen == (5,)


def test_allocation_from_ids_and_violations() -> None:
    # A + B: benefit 100 + 70 = 170, ¥110 — over a ¥100 budget by ¥10.
    result = allocation_from_ids(knapsack3(), [2, 1], budget=Decimal(100))
    assert result.chosen == (1, 2)
    assert result.objective == pytest.approx(170)
    assert result.spent == Decimal(110) and result.leftover == Decimal(-10)
    assert result.by_community[2].projects == 1 and result.by_community[2].beneficiaries == 70
    assert result.status == "given"
    assert allocation_from_ids(knapsack3(), []).chosen == ()
    assert allocation_from_ids(knapsack3(), [3]).leftover is None
    assert violations(knapsack3(), Rules(budget=Decimal(100)), [1, 2]) == [
        "支出 ¥110.00 超过预算 ¥100.00。"
    ]
    broken = violations(
        knapsack3(),
        Rules(budget=Decimal(200), max_community_share=0.25, must_fund=frozenset({3})),
        [1, 2],
    )
    # Cap 0.25 × ¥200 = ¥50: community 1 gets ¥60 (over), community 2 exactly ¥50 (fine).
    assert broken == [
        "社区（编号 1）获得 ¥60.00，超过社区上限 ¥50.00。",
        "必须资助的项目“C”（编号 3）没有得到资助。",
    ]


# ---------------------------------------------------------------------------------------
# Bad input


@pytest.mark.parametrize(
    ("cands", "words"),
    [
        ([], "没有候选项目"),
        ([cand(1, 0)], "费用"),
        ([cand(1, -5)], "费用"),
        ([cand(1, "12.345")], "精确到了分以下"),
        ([cand(1, "NaN")], "费用"),
        ([cand(1, 10, people=-1)], "受益人数"),
        ([cand(1, 10, need=-0.5)], "需求得分"),
        ([cand(1, 10, need=float("nan"))], "需求得分"),
        ([cand(1, 10, review=101.0)], "评审得分"),
        ([cand(1, 10, review=float("inf"))], "评审得分"),
        ([cand(1, 10, tier="gold")], "社区分层"),
        ([cand(1, 10), cand(1, 20)], "重复"),
        ([cand(1, 10, tier="weak"), cand(2, 10, tier="star")], "分层不一致"),
    ],
)
def test_bad_candidates(cands: list[Candidate], words: str) -> None:
    with pytest.raises(MethodError) as caught:
        solve(cands, Rules(budget=Decimal(100)))
    assert words in caught.value.message
    assert not isinstance(caught.value, Infeasible)


def test_float_cost_is_refused() -> None:
    bad = Candidate(1, 10.5, 1, 1, "weak", "x", None, 80.0, 1.0)  # type: ignore[arg-type]
    with pytest.raises(MethodError, match="费用"):
        solve([bad], Rules(budget=Decimal(100)))


def test_several_problems_are_listed() -> None:
    with pytest.raises(MethodError) as caught:
        solve([cand(1, 0), cand(2, 10, review=-1.0)], Rules(budget=Decimal(100)))
    assert caught.value.message == "候选项目数据有 2 处问题，请修正后再计算。"
    assert len(caught.value.details) == 2


@pytest.mark.parametrize(
    ("rules", "words"),
    [
        (Rules(budget=Decimal(0)), "预算"),
        (Rules(budget=Decimal(-1)), "预算"),
        (Rules(budget=100.0), "预算"),  # type: ignore[arg-type]
        (Rules(budget=Decimal(100), max_community_share=0.0), "单个社区资金上限比例"),
        (Rules(budget=Decimal(100), max_community_share=1.5), "单个社区资金上限比例"),
        (Rules(budget=Decimal(100), weak_floor=-0.1), "薄弱社区资金下限比例"),
        (Rules(budget=Decimal(100), weak_floor=float("nan")), "薄弱社区资金下限比例"),
        (Rules(budget=Decimal(100), max_per_org=Decimal(0)), "单个社会组织资金上限"),
        (Rules(budget=Decimal(100), max_projects_per_org=0), "项目数上限"),
        (Rules(budget=Decimal(100), must_fund=frozenset({99})), "必须资助的项目编号 99"),
        (Rules(budget=Decimal(100), must_not_fund=frozenset({98})), "不得资助的项目编号 98"),
    ],
)
def test_bad_rules(rules: Rules, words: str) -> None:
    with pytest.raises(MethodError) as caught:
        solve(knapsack3(), rules)
    assert words in caught.value.message
    assert not isinstance(caught.value, Infeasible)


def test_bad_solver_settings_and_other_entry_points() -> None:
    with pytest.raises(MethodError, match="时限"):
        solve(knapsack3(), Rules(budget=Decimal(100)), time_limit=0)
    with pytest.raises(MethodError) as caught:
        solve(knapsack3(), Rules(budget=Decimal(100)), mip_rel_gap=1.0)
    assert caught.value.message == (
        "允许的相对差距“1.0”无效：应在 0 到 1 之间（例如 0.0005 表示 0.05%）。"
    )
    with pytest.raises(MethodError) as caught:
        solve(knapsack3(), Rules(budget=Decimal(100), max_community_share=1.5))
    assert caught.value.message == (
        "单个社区资金上限比例“1.5”无效：应在 0 到 1 之间（不含 0，例如 0.02 表示 2%）。"
    )
    with pytest.raises(MethodError, match="预算"):
        baseline_by_review(knapsack3(), Decimal(0))
    with pytest.raises(MethodError, match="不在候选项目中"):
        allocation_from_ids(knapsack3(), [1, 42])
    with pytest.raises(MethodError, match="没有候选项目"):
        baseline_by_review([], Decimal(100))


# ---------------------------------------------------------------------------------------
# Published example: the 0/1 knapsack instances P01–P08 of John Burkardt's KNAPSACK_01
# dataset ("Data for the 01 Knapsack Problem", Florida State University,
# https://people.sc.fsu.edu/~jburkardt/datasets/knapsack_01/knapsack_01.html): capacity
# pXX_c.txt, weights pXX_w.txt, profits pXX_p.txt and the published optimal selection
# pXX_s.txt. The numbers were read from copies of the dataset in public test suites (e.g.
# KsProblemGenerator.java of Kunlei Lian's OR heuristics repository, and beatngu13's
# knapsack-problem Problem.java for P07). Modelled with the budget rule only: weight = cost,
# profit = benefit (beneficiaries = profit, need 1, review 100), capacity = budget.

KNAPSACK_01 = {
    "P01": (165, [23, 31, 29, 44, 53, 38, 63, 85, 89, 82],
            [92, 57, 49, 68, 60, 43, 67, 84, 87, 72],
            [1, 1, 1, 1, 0, 1, 0, 0, 0, 0], 309),
    "P02": (26, [12, 7, 11, 8, 9], [24, 13, 23, 15, 16], [0, 1, 1, 1, 0], 51),
    "P03": (190, [56, 59, 80, 64, 75, 17], [50, 50, 64, 46, 50, 5], [1, 1, 0, 0, 1, 0], 150),
    "P04": (50, [31, 10, 20, 19, 4, 3, 6], [70, 20, 39, 37, 7, 5, 10],
            [1, 0, 0, 1, 0, 0, 0], 107),
    "P05": (104, [25, 35, 45, 5, 25, 3, 2, 2], [350, 400, 450, 20, 70, 8, 5, 5],
            [1, 0, 1, 1, 1, 0, 1, 1], 900),
    "P06": (170, [41, 50, 49, 59, 55, 57, 60], [442, 525, 511, 593, 546, 564, 617],
            [0, 1, 0, 1, 0, 0, 1], 1735),
    "P07": (750, [70, 73, 77, 80, 82, 87, 90, 94, 98, 106, 110, 113, 115, 118, 120],
            [135, 139, 149, 150, 156, 163, 173, 184, 192, 201, 210, 214, 221, 229, 240],
            [1, 0, 1, 0, 1, 0, 1, 1, 1, 0, 0, 0, 0, 1, 1], 1458),
    "P08": (6404180,
            [382745, 799601, 909247, 729069, 467902, 44328, 34610, 698150, 823460, 903959,
             853665, 551830, 610856, 670702, 488960, 951111, 323046, 446298, 931161, 31385,
             496951, 264724, 224916, 169684],
            [825594, 1677009, 1676628, 1523970, 943972, 97426, 69666, 1296457, 1679693,
             1902996, 1844992, 1049289, 1252836, 1319836, 953277, 2067538, 675367, 853655,
             1826027, 65731, 901489, 577243, 466257, 369261],
            [1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 1, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 1, 1, 1],
            13549094),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(KNAPSACK_01))
def test_published_knapsack_01_instances(name: str) -> None:
    capacity, weights, profits, selection, optimum = KNAPSACK_01[name]
    # The published selection's profit is the optimum quoted here.
    assert sum(p for p, s in zip(profits, selection, strict=True) if s) == optimum
    cands = [
        Candidate(i + 1, Decimal(w), p, i + 1, "ordinary", "x", None, 100.0, 1.0)
        for i, (w, p) in enumerate(zip(weights, profits, strict=True))
    ]
    result = solve(cands, Rules(budget=Decimal(capacity)), mip_rel_gap=EXACT)
    assert result.objective == optimum
    assert result.spent <= capacity
    if len(weights) <= 15:
        # P01–P07 have a single optimal selection (checked by enumerating every subset).
        assert result.chosen == tuple(i + 1 for i, s in enumerate(selection) if s)
