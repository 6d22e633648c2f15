"""资源联合 in the browser: one purchase-of-service project from the call to its acceptance,
each step done by the role that does it, through the pages only (the database is only read,
to check what the pages said).

District staff publish a call under their weak-community pool, with the demo evaluator and a
city colleague as reviewers; the social organisation's manager applies (indicator and budget
rows added with htmx) and submits; the district closes the call, both reviewers score, the
district awards with reasons and draws up the 30/40/30 contract (first with tranches that do
not add up, refused beside the tranches) and signs it. The organisation reports milestone 1
with an evidence file, the district accepts it, the organisation asks for the first tranche;
at 60,000 元 it is above the four-eyes threshold, so the district and the city approve (a stale
second click by the district is refused) and the district pays. The project page shows the
money and the budget-burn chart; the remaining milestones, the closure request, the
evaluator's final evaluation and the district's acceptance give the project its grade."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from playwright.sync_api import expect

from .conftest import screenshot, watch_page
from .support import login, sidebar

CALL = "惠工社区困难职工家庭支持服务项目指南"
PROJECT = "“同心家园”困难职工家庭支持计划"
CONTRACT = "HP-2026-TX-001"
AMOUNT = Decimal("200000.00")  # tranches 60,000 / 80,000 / 60,000
COMMUNITY = "惠工社区"
EVALUATOR = "孙立新（辽宁同创第三方评估中心）"
CITY_REVIEWER = "刘建国（沈阳市总工会）"


def _as(new_context: Callable[..., Any], base_url: str, username: str) -> Any:
    """A signed-in page of its own (one browser context per person, side by side); the
    confirmation dialogs of the pages are accepted, as the user would."""
    page = new_context().new_page()
    watch_page(page)
    page.on("dialog", lambda dialog: dialog.accept())
    login(page, base_url, username)
    return page


def _click(page: Any, locator: Any) -> None:
    with page.expect_navigation():
        locator.click()


def _success(page: Any, text: str) -> None:
    expect(page.locator(".message-success")).to_contain_text(text)


# ---- the call --------------------------------------------------------------------------------


def _publish_call(district: Any) -> None:
    _click(district, sidebar(district).get_by_role("link", name="资金池"))
    _click(district, district.get_by_role("link", name=re.compile("和平区薄弱社区专项资金")))
    screenshot(district, "resources_pool_overview")
    _click(district, district.get_by_role("link", name="新建项目指南"))
    expect(district.locator("h1")).to_have_text("新建项目指南")
    expect(district.locator("#id_pool option:checked")).to_contain_text("和平区薄弱社区专项资金")
    district.fill("#id_title", CALL)
    district.select_option("#id_service_field", label="家庭服务")
    district.fill(
        "#id_description", "面向惠工社区困难职工家庭，开展个案帮扶、亲子小组和社区支持网络建设。"
    )
    district.select_option("#id_communities", label=COMMUNITY)
    district.fill("#id_budget_ceiling", "200000")
    district.fill("#id_total_budget", "400000")
    # The five suggested criteria weigh 25/30/20/15/10; the district replaces the last one.
    district.fill("#id_criteria-4-name", "社区参与度")
    district.fill("#id_criteria-4-description", "职工家庭与社区力量的参与")
    district.fill("#id_criteria-4-weight", "10")
    district.select_option("#id_reviewers", label=[EVALUATOR, CITY_REVIEWER])
    _click(district, district.get_by_role("button", name="保存草稿"))
    _success(district, "项目指南草稿已保存")
    expect(district.get_by_test_id("reviewers")).to_contain_text("孙立新")
    expect(district.get_by_test_id("reviewers")).to_contain_text("刘建国")
    _click(district, district.get_by_test_id("transition-open"))
    _success(district, "项目指南已发布")
    expect(district.locator("h1 [data-status]")).to_have_text("征集中")


def _apply(org: Any) -> None:
    _click(org, sidebar(org).get_by_role("link", name="项目指南"))
    _click(org, org.get_by_role("link", name=CALL))
    _click(org, org.get_by_role("link", name="申报项目"))
    org.fill("#id_title", PROJECT)
    org.fill("#id_proposal", "以困难职工家庭为对象，开展个案管理、亲子小组与社区互助网络建设。")
    org.select_option("#id_communities", label=COMMUNITY)
    org.fill("#id_beneficiaries", "120")
    org.fill("#id_amount", "200000")
    org.fill("#id_months", "12")
    org.locator("[name=team]").first.check()

    indicators = [
        ("cases", "困难职工家庭个案", "30", "个"),
        ("group_sessions", "亲子小组活动", "24", "节"),
        ("activities", "社区互助活动", "12", "场"),
    ]
    org.locator("#add-indicators").click()  # two blank rows are there; htmx brings a third
    expect(org.locator("#indicators-rows tr")).to_have_count(3)
    expect(org.locator("#id_indicators-TOTAL_FORMS")).to_have_value("3")
    for i, (metric, name, target, unit) in enumerate(indicators):
        org.select_option(f"#id_indicators-{i}-metric", metric)
        org.fill(f"#id_indicators-{i}-name", name)
        org.fill(f"#id_indicators-{i}-target", target)
        org.fill(f"#id_indicators-{i}-unit", unit)

    lines = [
        ("staff", "项目社工人员经费", "90000"),
        ("activity", "小组与社区活动经费", "60000"),
        ("materials", "活动物资与宣传材料", "30000"),
        ("admin", "项目管理费", "20000"),
    ]
    for rows in (3, 4):
        org.locator("#add-lines").click()
        expect(org.locator("#lines-rows tr")).to_have_count(rows)
    expect(org.locator("#id_lines-TOTAL_FORMS")).to_have_value("4")
    for i, (category, item, amount) in enumerate(lines):
        org.select_option(f"#id_lines-{i}-category", category)
        org.fill(f"#id_lines-{i}-item", item)
        org.fill(f"#id_lines-{i}-amount", amount)
    _click(org, org.get_by_role("button", name="保存并提交"))
    _success(org, "申报已提交")
    expect(org.locator("h1 [data-status]")).to_have_text("已提交")
    expect(org.get_by_test_id("budget-lines").locator("tbody tr")).to_have_count(4)
    expect(org.get_by_test_id("indicators").locator("tbody tr")).to_have_count(3)


def _close_call(district: Any, call_url: str) -> None:
    district.goto(call_url)
    _click(district, district.get_by_test_id("transition-close"))  # confirms: before deadline
    _success(district, "已截止征集，进入评审")


def _score(reviewer: Any, scores: list[str]) -> None:
    _click(reviewer, sidebar(reviewer).get_by_role("link", name="我的评审"))
    row = reviewer.locator("tbody tr", has_text=PROJECT)
    _click(reviewer, row.get_by_role("link", name="评分"))
    fields = reviewer.locator("form.form input[type=number]")
    expect(fields).to_have_count(len(scores))
    for i, score in enumerate(scores):
        fields.nth(i).fill(score)
    reviewer.fill("#id_comment", "方案针对性强，团队有同类项目经验。")
    _click(reviewer, reviewer.get_by_role("button", name="提交评分"))
    _success(reviewer, "评分已提交")


def _award(district: Any, call_url: str) -> None:
    district.goto(call_url)
    row = district.get_by_test_id("applications").locator("tbody tr", has_text=PROJECT)
    expect(row.locator("td").first).to_have_text("1")  # ranked first
    _click(district, row.get_by_role("link", name="立项决定"))
    expect(district.locator("#id_amount")).to_have_value("200000.00")
    district.fill("#id_reason", "评审排名第一，方案回应惠工社区困难职工家庭需求，预算合理。")
    _click(district, district.get_by_role("button", name="确定"))
    _success(district, "已立项")
    _click(district, district.get_by_test_id("transition-decide"))
    _success(district, "本指南立项工作已完成")


# ---- the contract ----------------------------------------------------------------------------


def _draw_up_and_sign(district: Any) -> None:
    _click(district, sidebar(district).get_by_role("link", name="服务项目"))
    awaiting = district.get_by_test_id("awaiting").locator("div", has_text=PROJECT)
    _click(district, awaiting.get_by_role("link", name="起草合同"))
    expect(district.locator("h1")).to_contain_text("起草合同")
    district.fill("#id_contract_number", CONTRACT)
    # Prefilled 30/40/30; the district mistypes the last tranche.
    expect(district.locator("#id_milestones-0-share")).to_have_value("30")
    district.fill("#id_milestones-2-share", "20")
    _click(district, district.get_by_role("button", name="保存合同"))
    refusal = district.get_by_test_id("milestone-errors")
    expect(refusal).to_have_text("各期拨付比例之和为 90%，须等于 100%。")
    # The refusal sits in the card of the tranches, above the row to correct.
    card = district.locator(".card", has=district.get_by_test_id("milestone-rows"))
    expect(card.get_by_test_id("milestone-errors")).to_be_visible()
    screenshot(district, "resources_contract_refused")
    district.fill("#id_milestones-2-share", "30")
    _click(district, district.get_by_role("button", name="保存合同"))
    _success(district, "合同已起草")
    expect(district.locator("h1 .badge")).to_have_text("待签约")
    for seq, amount in ((1, "60,000.00"), (2, "80,000.00"), (3, "60,000.00")):
        expect(district.get_by_test_id(f"tranche-{seq}").locator("td.num")).to_have_text(amount)
    _click(district, district.get_by_role("button", name="签约"))  # confirms
    _success(district, "合同已签订")
    expect(district.locator("h1 .badge")).to_have_text("执行中")


def _evidence(tmp: Path, name: str) -> Path:
    path = tmp / name
    path.write_bytes(b"%PDF-1.4\n% sign-in sheet\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n")
    return path


def _report_milestone(org: Any, project_url: str, seq: int, evidence: Path) -> None:
    org.goto(project_url)
    row = org.get_by_test_id(f"milestone-{seq}")
    _click(org, row.get_by_role("link", name="提交节点报告"))
    org.fill("#id_report", f"第{seq}阶段：完成个案走访与小组活动，服务困难职工家庭38户。")
    org.set_input_files("#id_evidence", str(evidence))
    org.fill("#id_description", "签到表")
    _click(org, org.get_by_role("button", name="提交验收"))
    _success(org, "节点报告已提交")
    expect(org.get_by_test_id(f"milestone-{seq}")).to_contain_text(evidence.name)


def _accept_milestone(district: Any, project_url: str, seq: int) -> None:
    district.goto(project_url)
    row = district.get_by_test_id(f"milestone-{seq}")
    row.locator("input[name=note]").first.fill("材料齐全，同意验收。")
    _click(district, row.get_by_role("button", name="验收节点"))
    _success(district, "节点已验收")
    expect(district.get_by_test_id(f"milestone-{seq}")).to_contain_text("已验收")


# ---- the first tranche -----------------------------------------------------------------------


def _request_tranche(org: Any, project_url: str) -> None:
    org.goto(project_url)
    request = org.get_by_test_id("request-1")
    request.locator("input[name=note]").fill("第一阶段节点已验收，申请拨付第1期。")
    with org.expect_response(re.compile(r"/disbursements/request/$")):
        request.get_by_role("button", name="申请拨付").click()  # htmx swaps the card
    tranche = org.get_by_test_id("tranche-1")
    expect(tranche).to_contain_text("待审批")
    expect(tranche).to_contain_text("审批 0/2")  # 60,000 is above the four-eyes threshold


def _queue_row(page: Any) -> Any:
    return page.get_by_test_id("queue").locator("tbody tr", has_text=PROJECT)


def _approve_twice_in_two_tabs(district: Any) -> None:
    """The district approves in one tab; a second click in a tab left open is refused."""
    stale = district.context.new_page()
    watch_page(stale)
    stale.goto(district.url)
    for p in (district, stale):
        _click(p, sidebar(p).get_by_role("link", name="拨付审批"))
    _click(district, _queue_row(district).get_by_role("button", name="审批通过"))
    _success(district, "已审批")
    expect(_queue_row(district)).to_contain_text("1/2")
    expect(_queue_row(district).get_by_role("button", name="审批通过")).to_have_count(0)
    _click(stale, _queue_row(stale).get_by_role("button", name="审批通过"))
    expect(stale.locator(".message-error")).to_have_text("您已审批过该拨付申请，不能重复审批。")
    expect(_queue_row(stale)).to_contain_text("1/2")
    assert not stale.watch.page_errors, stale.watch.page_errors
    stale.close()


def _second_approval_and_payment(city: Any, district: Any, project_url: str) -> None:
    _click(city, sidebar(city).get_by_role("link", name="拨付审批"))
    _click(city, _queue_row(city).get_by_role("button", name="审批通过"))
    _success(city, "已审批")
    expect(_queue_row(city)).to_contain_text("已批准")
    # The district pays from the project page: every figure on it follows.
    district.watch.clear()
    district.goto(project_url)
    expect(district.get_by_test_id("disbursed")).to_contain_text("¥0.00")
    tranche = district.get_by_test_id("tranche-1")
    tranche.locator("input[name=payment_reference]").fill("HPZJ-2026-0188")
    with district.expect_navigation():
        tranche.get_by_role("button", name="确认拨付").click()  # confirms
    _success(district, "已确认拨付")


def _check_project_page(district: Any) -> None:
    expect(district.get_by_test_id("disbursed")).to_contain_text("¥60,000.00")
    expect(district.get_by_test_id("tranche-1")).to_contain_text("已拨付")
    expect(district.get_by_test_id("tranche-1")).to_contain_text("HPZJ-2026-0188")
    burn = district.locator("[data-chart=burn-chart-data]")
    expect(burn.locator("svg")).to_have_count(1)
    expect(burn.locator("svg path").first).to_be_attached()
    expect(district.locator("[data-chart=indicator-chart-data] svg")).to_have_count(1)
    assert not district.watch.page_errors, district.watch.page_errors
    assert not district.watch.console_errors, district.watch.console_errors
    district.evaluate("window.scrollTo(0, 0)")  # the reload kept the scroll position
    screenshot(district, "resources_project")


# ---- closure ---------------------------------------------------------------------------------


def _final_evaluation(district: Any, evaluator: Any, project_url: str) -> None:
    district.goto(project_url)
    _click(district, district.get_by_role("link", name="分派评估"))
    district.select_option("#id_stage", label="结项评估")
    district.select_option("#id_evaluator", label=EVALUATOR)
    _click(district, district.get_by_role("button", name="分派"))
    _success(district, "评估已分派")

    _click(evaluator, sidebar(evaluator).get_by_role("link", name="我的评估"))
    row = evaluator.get_by_test_id("evaluations").locator("tbody tr", has_text=PROJECT)
    expect(row).to_contain_text("待评估")
    _click(evaluator, row.get_by_role("link", name="结项评估"))
    for dim, score in (("input", "18"), ("process", "27"), ("output", "28"), ("outcome", "18")):
        evaluator.fill(f"#id_score_{dim}", score)
    evaluator.fill("#id_findings", "各项产出指标均已完成，服务对象满意度高，建议持续开展。")
    _click(evaluator, evaluator.get_by_role("button", name="提交评估"))  # confirms
    _success(evaluator, "评估已提交")
    result = evaluator.get_by_test_id("result")
    expect(result).to_contain_text("91")
    expect(result).to_contain_text("优秀")


def test_project_from_call_to_acceptance(
    demo: Any, new_context: Callable[..., Any], tmp_path: Path
) -> None:
    from sanlian.resources.models import (
        Application,
        BudgetPool,
        Disbursement,
        DisbursementStatus,
        ProjectCall,
        ResourceEntry,
        ResourceKind,
        ServiceProject,
    )

    assert Decimal(str(settings.DISBURSEMENT_FOUR_EYES_ABOVE)) < AMOUNT * Decimal("0.3")
    base = demo.url
    district = _as(new_context, base, "district")
    org = _as(new_context, base, "orgmanager")
    evaluator = _as(new_context, base, "evaluator")
    city = _as(new_context, base, "city")
    pool = BudgetPool.objects.get(name="和平区薄弱社区专项资金")
    before = (pool.allocated, pool.contracted, pool.disbursed)

    _publish_call(district)
    call_url = district.url
    _apply(org)
    _close_call(district, call_url)
    _score(evaluator, ["88", "90", "85", "80", "86"])
    _score(city, ["92", "88", "90", "85", "90"])
    _award(district, call_url)
    application = Application.objects.get(title=PROJECT)
    assert application.status == "awarded" and application.awarded_amount == AMOUNT
    assert ProjectCall.objects.get(title=CALL).status == "decided"

    _draw_up_and_sign(district)
    project_url = district.url
    project = ServiceProject.objects.get(contract_number=CONTRACT)
    screenshot(district, "resources_project_signed")

    _report_milestone(org, project_url, 1, _evidence(tmp_path, "第一阶段签到表.pdf"))
    _accept_milestone(district, project_url, 1)
    _request_tranche(org, project_url)
    _approve_twice_in_two_tabs(district)
    _second_approval_and_payment(city, district, project_url)
    paid = Disbursement.objects.get(project=project)
    assert paid.status == DisbursementStatus.PAID and paid.amount == Decimal("60000.00")
    assert {a.approver.username for a in paid.approvals.all()} == {"district", "city"}
    _check_project_page(district)

    for seq in (2, 3):
        _report_milestone(org, project_url, seq, _evidence(tmp_path, f"第{seq}阶段总结.pdf"))
        _accept_milestone(district, project_url, seq)
    org.goto(project_url)
    _click(org, org.get_by_role("button", name="申请结项"))  # confirms
    _success(org, "已申请结项")
    expect(org.locator("h1 .badge")).to_have_text("结项评估中")

    _final_evaluation(district, evaluator, project_url)
    district.goto(project_url)
    _click(district, district.get_by_role("button", name="结项验收"))  # confirms
    _success(district, "项目已结项")
    expect(district.locator("h1 .badge")).to_have_text("已结项")
    expect(district.get_by_test_id("final")).to_contain_text("91.00 分 · 优秀")
    screenshot(district, "resources_project_accepted")

    _click(district, sidebar(district).get_by_role("link", name="服务项目"))
    accepted = district.get_by_test_id("column-accepted").locator("div", has_text=PROJECT).last
    expect(accepted).to_contain_text("优秀")
    screenshot(district, "resources_pipeline_board")

    project.refresh_from_db()
    pool.refresh_from_db()
    assert project.status == "accepted" and project.final_grade == "excellent"
    assert (pool.allocated, pool.contracted, pool.disbursed) == (
        before[0] + AMOUNT,
        before[1] + AMOUNT,
        before[2] + Decimal("60000.00"),
    )
    funds = ResourceEntry.objects.filter(project=project, kind=ResourceKind.FUNDS)
    assert [(e.community.name, e.value) for e in funds] == [(COMMUNITY, Decimal("60000.00"))]
    for p in (district, org, evaluator, city):
        assert not p.watch.page_errors, p.watch.page_errors
        assert not p.watch.csp_violations, p.watch.csp_violations
