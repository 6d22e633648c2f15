"""服务联动 in the browser, the social workers' and the community's part: case work, group work
and community activities, each step done through the pages by the role that does it (the
database is only read, to check what the pages said).

- A case (MZ/T 094-2017): the social worker registers a new person at intake, takes the case
  with a service agreement and the person's separate consent, tries to leave 预估 before
  assessing (refused, in Chinese), assesses, plans with a goal; the supervisor signs the plan
  off; the worker records a home visit and refers the person, with consent, to the community
  union, whose cadre accepts; the worker evaluates the goal and applies for closure, the
  supervisor signs it off, the worker records a follow-up visit.
- A group (MZ/T 095-2017): the worker writes the plan, recruits three members, moves the group
  through its five phases, records two sessions with attendance, the pre-test in 形成期 and
  the post-test in 结束期, and reads the evaluation page with its chart.
- An activity: the community cadre plans and publishes it and books a volunteer's shift; a
  resident signs up on a phone from the public link; on the day the cadre checks her in by
  her code at the desk (a second check-in is refused), marks the activity done afterwards, and
  the volunteer's shift is credited as confirmed hours; the resident rates the activity; the
  service-times page counts it outside the 8-hour day.

The demo city has one social worker with an account; the supervisor is another social worker
of the same organisation, given an account here as the system administrator would. The
activity happens tomorrow evening: the server's clock (`django.utils.timezone.now`) is moved
to the day of the activity, as time would pass."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
from playwright.sync_api import expect

from .conftest import screenshot, watch_page
from .support import login, sidebar

PHONE = {"width": 390, "height": 844}
CLIENT = "韩秀梅"
PROBLEM = "丈夫去年工伤离世，独自抚养两个孩子，欠房租三个月，夜里失眠。"
GOAL = "三个月内补齐拖欠的房租"
KAIXUAN_UNION = "凯旋社区联合工会"
GROUP = "“喘口气”失能老人照顾者支持小组"
MEMBERS = (
    ("刘桂芝", "F", "13904021001"),
    ("王淑珍", "F", "13904021002"),
    ("陈建国", "M", "13904021003"),
)
ACTIVITY = "凯旋社区中秋邻里游园会"
RESIDENT, RESIDENT_PHONE = "周玉兰", "13998800123"
VOLUNTEER_SHIFT = ("18:30", "21:30")  # three hours credited


# ---- helpers ---------------------------------------------------------------------------------


def _as(new_context: Callable[..., Any], base_url: str, username: str, **ctx: Any) -> Any:
    """A signed-in page in a context of its own; the pages' confirmation dialogs are accepted,
    as the user would."""
    page = new_context(**ctx).new_page()
    watch_page(page)
    page.on("dialog", lambda dialog: dialog.accept())
    login(page, base_url, username)
    return page


def _phone(new_context: Callable[..., Any]) -> Any:
    page = new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    watch_page(page)
    return page


def _click(page: Any, locator: Any) -> None:
    with page.expect_navigation():
        locator.click()


def _success(page: Any, text: str) -> None:
    expect(page.locator(".message-success", has_text=text)).to_be_visible()


def _clean(*pages: Any) -> None:
    for p in pages:
        assert not p.watch.page_errors, f"uncaught script errors: {p.watch.page_errors}"
        assert not p.watch.csp_violations, f"CSP violations: {p.watch.csp_violations}"


def _scroll_width(page: Any) -> int:
    return int(page.evaluate("() => document.documentElement.scrollWidth"))


def _today() -> dt.date:
    from django.utils import timezone

    return timezone.localdate()


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[dt.datetime], None]]:
    """Move the server's clock (the live server runs in this process) to a local time."""
    from django.utils import timezone

    real_now = timezone.now
    offset = [dt.timedelta(0)]
    monkeypatch.setattr(timezone, "now", lambda: real_now() + offset[0])

    def set_to(when: dt.datetime) -> None:
        offset[0] = timezone.make_aware(when) - real_now()

    yield set_to


# ---- case work -------------------------------------------------------------------------------


def _supervisor_account() -> str:
    """Another social worker of the demo worker's organisation, qualified to supervise, with
    an account (user `supervisor`, the demo password); returns the name."""
    from sanlian.core.models import RoleGrant, User
    from sanlian.core.roles import Role
    from sanlian.delivery.services.cases import supervisor_candidates, worker_of
    from sanlian.organizations.demo import DEMO_PASSWORD

    worker = worker_of(User.objects.get(username="worker"))
    assert worker is not None
    boss = supervisor_candidates(worker.organization).filter(person__user__isnull=True).first()
    assert boss is not None
    user = User(username="supervisor", full_name=boss.person.name, organization=worker.organization)
    user.set_password(DEMO_PASSWORD)
    user.save()
    RoleGrant.objects.create(user=user, role=Role.SOCIAL_WORKER)
    boss.person.user = user
    boss.person.save(update_fields=["user"])
    return str(boss.person.name)


def _phase(page: Any) -> Any:
    return page.get_by_test_id("phase")


def _step(page: Any, name: str) -> Any:
    return page.get_by_test_id(f"step-{name}")


def _intake(worker: Any, supervisor: str) -> None:
    _click(worker, sidebar(worker).get_by_role("link", name="个案工作", exact=True))
    _click(worker, worker.get_by_role("link", name="接案登记"))
    worker.fill("#id_new_name", CLIENT)
    worker.select_option("#id_new_sex", label="女")
    worker.fill("#id_new_phone", "13904020188")
    worker.select_option("#id_new_community", label="凯旋社区")
    worker.select_option("#id_source", label="主动求助")
    worker.select_option("#id_problem_category", label="经济困难")
    worker.fill("#id_presenting_problem", PROBLEM)
    worker.select_option("#id_supervisor", label=supervisor)
    _click(worker, worker.get_by_role("button", name="保存"))
    _success(worker, "已登记接案")
    expect(_phase(worker)).to_have_text("接案")

    # The decision to take the case, with the service agreement; the separate consent.
    worker.get_by_label("接案", exact=True).check()
    worker.fill("#id_intake_agreement_on", _today().isoformat())
    _click(worker, worker.get_by_role("button", name="保存决定"))
    _success(worker, "接案决定已保存")
    expect(_phase(worker)).to_have_text("预估")
    worker.fill("#id_consent_consent_on", _today().isoformat())
    worker.select_option("#id_consent_method", label="书面签字")
    _click(worker, worker.get_by_role("button", name="登记同意"))
    _success(worker, "已登记服务对象的单独同意")
    expect(worker.get_by_test_id("consent")).to_contain_text("书面签字")


def _assess_and_plan(worker: Any) -> None:
    # Leaving 预估 before assessing is refused, with the reason.
    _click(worker, worker.get_by_role("button", name="完成预估，进入计划阶段"))
    expect(worker.get_by_test_id("errors")).to_contain_text(
        "请先完成预估（至少填写问题分析和预估小结）。"
    )
    expect(_phase(worker)).to_have_text("预估")

    worker.fill("#id_assessment_information", "家访两次，与社区网格员核实家庭收支。")
    worker.fill("#id_assessment_problems", "收入骤降，房租拖欠；照顾两个孩子压力大。")
    worker.fill("#id_assessment_strengths", "有工作意愿；母亲可帮忙接送孩子。")
    worker.fill("#id_assessment_summary", "以经济救助和就业支持为主，兼顾情绪疏导。")
    worker.fill("#id_assessment_health", "睡眠差，无慢性病。")
    _click(worker, worker.get_by_role("button", name="保存预估"))
    _success(worker, "预估已保存")
    _click(worker, worker.get_by_role("button", name="完成预估，进入计划阶段"))
    expect(_phase(worker)).to_have_text("计划")

    worker.fill("#id_plan_aims", "稳定家庭经济，恢复正常作息。")
    worker.fill("#id_plan_strategies", "链接困难职工帮扶资金；推荐就业岗位。")
    worker.fill("#id_plan_timetable", "三个月")
    _click(worker, worker.get_by_role("button", name="保存计划"))
    _success(worker, "服务计划已保存")
    worker.fill("#id_goal_add_goal", GOAL)
    worker.fill("#id_goal_add_measure", "房东出具的收据")
    _click(worker, worker.get_by_role("button", name="添加目标"))
    expect(worker.get_by_test_id("goals")).to_contain_text(GOAL)
    _click(worker, worker.get_by_role("button", name="提交督导审核"))
    _success(worker, "服务计划已提交督导审核")


def _open_from_queue(boss: Any) -> None:
    _click(boss, sidebar(boss).get_by_role("link", name="督导待办"))
    _click(boss, boss.get_by_test_id("case-table").get_by_role("link").first)
    expect(boss.locator("h1")).to_contain_text(CLIENT)


def _intervene_and_refer(worker: Any) -> None:
    worker.reload()
    _click(worker, worker.get_by_role("button", name="进入介入阶段"))
    expect(_phase(worker)).to_have_text("介入")
    worker.fill("#id_contact_served_on", _today().isoformat())
    worker.fill("#id_contact_start_time", "19:00")
    worker.fill("#id_contact_end_time", "20:30")
    worker.select_option("#id_contact_kind", label="家访")
    worker.fill("#id_contact_notes", "家访：协助填写困难职工帮扶申请，讨论求职意向。")
    _click(worker, worker.get_by_role("button", name="保存记录"))
    _success(worker, "介入记录已保存")
    expect(worker.get_by_test_id("contacts")).to_contain_text("19:00–20:30")

    worker.get_by_text("发起转介").click()
    refer = _step(worker, "refer")
    # The target is found through the form's search box (a city has thousands to choose from).
    worker.fill("#id_refer_to_org_q", KAIXUAN_UNION[:4])
    expect(worker.locator("#id_refer_to_org option").first).to_contain_text("找到")
    worker.select_option("#id_refer_to_org", label=KAIXUAN_UNION)
    worker.fill("#id_refer_reason", "申请工会困难职工帮扶和就业推荐。")
    worker.select_option("#id_refer_share_basis", label="服务对象同意")
    worker.fill("#id_refer_consent_on", _today().isoformat())
    worker.fill("#id_refer_summary", "单亲母亲，拖欠房租三个月，有工作意愿。")
    _click(worker, refer.get_by_role("button", name="转介"))
    _success(worker, "已发起转介")
    expect(worker.get_by_test_id("referrals")).to_contain_text("待接收")


def _accept_referral(cadre: Any) -> None:
    _click(cadre, sidebar(cadre).get_by_role("link", name="个案转介"))
    incoming = cadre.get_by_test_id("incoming").locator("tbody tr", has_text=CLIENT)
    _click(cadre, incoming.get_by_role("link", name="查看"))
    # Shared with the person's consent: the summary is there.
    expect(cadre.get_by_test_id("referral")).to_contain_text("有工作意愿")
    cadre.get_by_label("接收").check()
    _click(cadre, cadre.get_by_role("button", name="提交"))
    _success(cadre, "已处理转介")
    expect(cadre.locator("h1")).to_contain_text("已接收")


def _evaluate_and_apply_for_closure(worker: Any) -> None:
    worker.reload()
    expect(worker.get_by_test_id("referrals")).to_contain_text("已接收")
    _click(worker, worker.get_by_role("button", name="进入评估阶段"))
    expect(_phase(worker)).to_have_text("评估")
    goal = worker.get_by_test_id("goals").locator("tbody tr", has_text=GOAL)
    goal.get_by_label("达成情况").select_option(label="完全达成")
    goal.get_by_label("说明").fill("帮扶资金到位，房租已补齐。")
    _click(worker, goal.get_by_role("button", name="保存"))
    _success(worker, "目标达成情况已保存")
    worker.fill("#id_evaluation_summary", "目标达成；服务对象已到社区工会推荐的岗位上班。")
    _click(worker, worker.get_by_role("button", name="保存评估小结"))
    _success(worker, "评估小结已保存")
    worker.get_by_text("申请结案").click()
    worker.select_option("#id_close_reason", label="服务目标达成")
    worker.fill("#id_close_summary", "服务目标达成，家庭经济稳定，转由社区工会持续关注。")
    _click(worker, worker.get_by_role("button", name="提交结案申请"))
    _success(worker, "结案申请已提交督导审核")
    expect(_phase(worker)).to_have_text("结案待审核")


def test_a_case_from_intake_to_closure_with_a_referral(
    demo: Any, new_context: Callable[..., Any]
) -> None:
    from sanlian.delivery.models import Case, CasePhase, ReferralStatus

    supervisor = _supervisor_account()
    worker = _as(new_context, demo.url, "worker")
    _intake(worker, supervisor)
    _assess_and_plan(worker)

    boss = _as(new_context, demo.url, "supervisor")
    _open_from_queue(boss)
    expect(boss.get_by_test_id("goals")).to_contain_text(GOAL)
    _click(boss, boss.get_by_role("button", name="审核通过服务计划"))
    _success(boss, "服务计划已审核通过")

    _intervene_and_refer(worker)
    cadre = _as(new_context, demo.url, "cadre")
    _accept_referral(cadre)
    _evaluate_and_apply_for_closure(worker)

    _open_from_queue(boss)
    _click(boss, boss.get_by_role("button", name="审核通过，结案"))
    _success(boss, "已审核结案")
    expect(_phase(boss)).to_have_text("已结案")

    worker.reload()
    worker.fill("#id_follow_up_visited_on", _today().isoformat())
    worker.select_option("#id_follow_up_kind", label="电话")
    worker.fill("#id_follow_up_notes", "电话回访：工作稳定，孩子按时上学。")
    _click(worker, worker.get_by_role("button", name="保存回访"))
    _success(worker, "回访记录已保存")
    expect(worker.get_by_test_id("follow-ups")).to_contain_text("工作稳定")
    screenshot(worker, "delivery_case_closed")

    case = Case.objects.get(person__name=CLIENT)
    assert case.phase == CasePhase.CLOSED and case.closure_signed_at is not None
    assert case.plan_signed_at is not None and case.has_consent
    assert case.referrals.get().status == ReferralStatus.ACCEPTED
    _clean(worker, boss, cadre)


# ---- group work ------------------------------------------------------------------------------


def _advance(page: Any, to: str) -> None:
    _click(page, page.get_by_role("button", name=f"进入{to}"))
    _success(page, f"小组已进入{to}")


def _plan_group(worker: Any) -> None:
    _click(worker, sidebar(worker).get_by_role("link", name="小组工作"))
    _click(worker, worker.get_by_role("link", name="新建小组"))
    worker.fill("#id_name", GROUP)
    worker.select_option("#id_kind", label="支持小组")
    worker.fill("#id_goals", "减轻照顾压力，建立照顾者之间的互助。")
    worker.fill("#id_target_members", "凯旋社区照顾失能老人的家属")
    worker.fill("#id_planned_sessions", "2")
    worker.select_option("#id_community", label="凯旋社区")
    worker.fill("#id_scale_name", "照顾者负担量表（ZBI）")
    worker.fill("#id_scale_min", "0")
    worker.fill("#id_scale_max", "88")
    worker.get_by_label("得分越高越好").uncheck()  # a burden: lower is better
    _click(worker, worker.get_by_role("button", name="保存"))
    _success(worker, "小组已创建")
    expect(worker.locator("h1")).to_contain_text("筹备期")


def _recruit(worker: Any) -> None:
    _click(worker, worker.get_by_role("link", name="招募组员"))
    for name, sex, phone in MEMBERS:
        worker.fill("#id_quick-name", name)
        worker.select_option("#id_quick-sex", sex)
        worker.fill("#id_quick-phone", phone)
        worker.check("#id_quick-consent")
        worker.check("#id_quick-enroll")
        _click(worker, worker.get_by_role("button", name="登记并加入"))
        _success(worker, name)
    expect(worker.get_by_test_id("members").locator("tbody tr")).to_have_count(3)
    _click(worker, worker.get_by_role("link", name="返回小组"))


def _scores(worker: Any, link: str, scores: tuple[str, ...]) -> None:
    _click(worker, worker.get_by_role("link", name=link))
    for (name, _sex, _phone), score in zip(MEMBERS, scores, strict=True):
        worker.get_by_label(name).fill(score)
    _click(worker, worker.get_by_role("button", name="保存"))
    _success(worker, "得分已保存")


def _session(worker: Any, theme: str, day: dt.date, marks: tuple[str, ...]) -> None:
    _click(worker, worker.get_by_role("link", name="记录节次"))
    worker.fill("#id_held_on", day.isoformat())
    worker.fill("#id_starts_at", "14:00")
    worker.fill("#id_ends_at", "15:30")
    worker.fill("#id_theme", theme)
    sheet = worker.get_by_test_id("attendance")
    for (name, _sex, _phone), mark in zip(MEMBERS, marks, strict=True):
        sheet.get_by_label(name).select_option(label=mark)
    _click(worker, worker.get_by_role("button", name="保存"))
    _success(worker, "已记录")


def test_a_group_with_sessions_and_pre_post_scores(
    demo: Any, new_context: Callable[..., Any]
) -> None:
    from sanlian.delivery.models import Group

    worker = _as(new_context, demo.url, "worker")
    _plan_group(worker)
    _recruit(worker)
    _advance(worker, "形成期")
    _scores(worker, "录入前测", ("62", "55", "48"))
    _session(
        worker, "相识与建立小组契约", _today() - dt.timedelta(days=7), ("出席", "出席", "迟到")
    )
    _advance(worker, "转折期")
    _session(worker, "照顾压力的识别与放松练习", _today(), ("出席", "缺席", "出席"))
    expect(worker.get_by_test_id("sessions").locator("tbody tr")).to_have_count(2)
    _advance(worker, "成熟期")
    _advance(worker, "结束期")
    _scores(worker, "录入后测", ("50", "51", "49"))

    _click(worker, worker.get_by_role("link", name="评估", exact=True))
    expect(worker.locator("h1")).to_contain_text("小组评估")
    expect(worker.get_by_test_id("n")).to_have_text("3")
    # (50−62 + 51−55 + 49−48) / 3 = −5; lower is better: two improved, one worse.
    expect(worker.get_by_test_id("mean-change")).to_contain_text("-5")
    expect(worker.get_by_test_id("improved")).to_have_text("2")
    changes = worker.get_by_test_id("member-changes")
    expect(changes.locator("tbody tr", has_text="刘桂芝")).to_contain_text("改善")
    expect(changes.locator("tbody tr", has_text="王淑珍")).to_contain_text("1/2")
    expect(worker.get_by_test_id("session-rates").locator("tbody tr")).to_have_count(2)
    expect(worker.locator(".chart canvas, .chart svg").first).to_be_visible()
    worker.fill("#id_evaluation", "组员照顾负担平均下降 5 分，建立了互助微信群。")
    _click(worker, worker.get_by_role("button", name="保存评估"))
    _success(worker, "带领者评估已保存")
    expect(worker.locator("#id_evaluation")).to_have_value(re.compile("互助微信群"))
    screenshot(worker, "delivery_group_evaluation")

    group = Group.objects.get(name=GROUP)
    assert group.sessions.count() == 2 and group.evaluation
    _clean(worker)


# ---- community activities --------------------------------------------------------------------


def _plan_activity(cadre: Any, day: dt.date, volunteer: str) -> str:
    """Plan and publish; returns the public sign-up link the page shows."""
    _click(cadre, sidebar(cadre).get_by_role("link", name="社区活动"))
    _click(cadre, cadre.get_by_role("link", name="新建活动"))
    cadre.fill("#id_title", ACTIVITY)
    cadre.select_option("#id_community", label="凯旋社区")
    cadre.fill("#id_date", day.isoformat())
    cadre.fill("#id_start_time", "19:00")
    cadre.fill("#id_end_time", "21:00")
    cadre.fill("#id_place", "凯旋社区文化广场")
    cadre.fill("#id_capacity", "80")
    cadre.fill("#id_description", "猜灯谜、做月饼，欢迎带家人参加。")
    _click(cadre, cadre.get_by_role("button", name="保存"))
    _success(cadre, "活动已创建")
    _click(cadre, cadre.get_by_role("button", name="发布报名"))
    _success(cadre, "报名已发布")
    expect(cadre.get_by_test_id("activity-status")).to_have_text("已发布")

    # The demo volunteer of the community's volunteer team (the cadre knows them).
    option = cadre.locator("#id_volunteer option", has_text=volunteer)
    cadre.select_option("#id_volunteer", value=option.get_attribute("value"))
    cadre.fill("#id_start_time", VOLUNTEER_SHIFT[0])
    cadre.fill("#id_end_time", VOLUNTEER_SHIFT[1])
    cadre.fill("#id_task", "签到引导")
    _click(cadre, cadre.get_by_role("button", name="安排"))
    _success(cadre, "已安排志愿者")
    expect(cadre.get_by_test_id("shift-table")).to_contain_text(volunteer)
    return str(cadre.get_by_test_id("signup-url").inner_text())


def _volunteer_name() -> str:
    from sanlian.core.models import User

    return str(User.objects.get(username="volunteer").full_name)


def _sign_up(resident: Any, link: str) -> str:
    """The resident's sign-up on a phone, without an account; returns her check-in code."""
    resident.goto(link)
    expect(resident.locator("h1")).to_have_text(ACTIVITY)
    resident.fill("#id_name", RESIDENT)
    resident.fill("#id_phone", RESIDENT_PHONE)
    resident.fill("#id_companions", "1")
    screenshot(resident, "delivery_activity_phone_signup")
    _click(resident, resident.get_by_role("button", name="报名"))
    _success(resident, "报名成功")
    code = resident.get_by_test_id("checkin-code")
    expect(code).to_be_visible()
    assert _scroll_width(resident) <= PHONE["width"] + 2, "the phone page scrolls sideways"
    screenshot(resident, "delivery_activity_phone_code")
    return str(code.inner_text()).strip()


def _check_in(cadre: Any, code: str) -> None:
    _click(cadre, cadre.get_by_role("link", name="签到台"))
    cadre.fill("#id_code", code)
    with cadre.expect_response(re.compile(r"/checkin/$")):
        cadre.get_by_role("button", name="签到", exact=True).click()
    expect(cadre.get_by_test_id("checkin-result")).to_contain_text("签到成功（2 人")
    # The same code again (a second scan): refused, nothing changes.
    cadre.fill("#id_code", code)
    with cadre.expect_response(re.compile(r"/checkin/$")):
        cadre.get_by_role("button", name="签到", exact=True).click()
    expect(cadre.locator("#desk [role=alert]").first).to_contain_text("已签到")
    expect(cadre.locator("#desk [role=alert]").first).to_contain_text("不能重复签到")
    expect(cadre.locator("#desk")).to_contain_text("已签到 1 条")
    screenshot(cadre, "delivery_activity_checkin")


def test_an_activity_with_sign_up_check_in_and_volunteer_hours(
    demo: Any, new_context: Callable[..., Any], clock: Callable[[dt.datetime], None]
) -> None:
    from sanlian.delivery.models import Activity, ActivityStatus

    day = _today() + dt.timedelta(days=1)
    volunteer = _as(new_context, demo.url, "volunteer")
    hours_before = Decimal(volunteer.get_by_test_id("volunteer-hours").inner_text())

    cadre = _as(new_context, demo.url, "cadre")
    link = _plan_activity(cadre, day, _volunteer_name())
    resident = _phone(new_context)
    code = _sign_up(resident, link)

    # The day of the activity, before it starts: the desk opens (the cadre signs in again).
    clock(dt.datetime.combine(day, dt.time(18, 40)))
    login(cadre, demo.url, "cadre")
    _click(cadre, sidebar(cadre).get_by_role("link", name="社区活动"))
    _click(cadre, cadre.get_by_role("link", name=ACTIVITY))
    expect(cadre.get_by_test_id("seats")).to_contain_text("已报名 2")
    _check_in(cadre, code)

    # After it: marked done, the volunteer's shift becomes confirmed hours.
    clock(dt.datetime.combine(day, dt.time(21, 45)))
    login(cadre, demo.url, "cadre")
    _click(cadre, sidebar(cadre).get_by_role("link", name="社区活动"))
    _click(cadre, cadre.get_by_role("link", name=ACTIVITY))
    _click(cadre, cadre.get_by_role("button", name="标记为已完成"))
    _success(cadre, "志愿者的服务时长已自动记入")
    expect(cadre.get_by_test_id("activity-status")).to_have_text("已完成")
    expect(cadre.get_by_test_id("shift-table")).to_contain_text("已记入")

    login(volunteer, demo.url, "volunteer")
    expect(volunteer.get_by_test_id("volunteer-hours")).to_have_text(
        f"{hours_before + 3:.1f}".rstrip("0").rstrip(".")
    )

    resident.reload()
    resident.get_by_label("5 分 · 非常满意").check()
    resident.fill("#id_comment", "活动很热闹，孩子很喜欢。")
    _click(resident, resident.get_by_role("button", name="提交评价"))
    _success(resident, "感谢您的评价")

    _click(cadre, sidebar(cadre).get_by_role("link", name="服务时间分布"))
    # The day of this activity alone (the demo city has done activities of its own).
    cadre.goto(f"{cadre.url.split('?')[0]}?date_from={day:%Y-%m-%d}&date_to={day:%Y-%m-%d}")
    row = cadre.get_by_test_id("service-times-table").locator("tbody tr", has_text="社区活动")
    expect(row.locator("td").nth(1)).to_have_text("1")
    expect(row.locator("td").last).to_have_text("100.0%")  # 19:00–21:00: all after hours
    screenshot(cadre, "delivery_service_times")

    activity = Activity.objects.get(title=ACTIVITY)
    assert activity.status == ActivityStatus.DONE
    registration = activity.registrations.get()
    assert registration.checked_in_at is not None and registration.rating == 5
    assert activity.shifts.get().hour_log.hours == Decimal("3.0")
    _clean(volunteer, cadre, resident)
