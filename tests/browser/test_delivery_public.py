"""服务联动 in the browser, the two parts residents reach without an account.

Needs survey: the 凯旋 community cadre builds a questionnaire (single and multiple choice, a
need question, a Likert scale, a number, a short text shown only for one answer, a long text),
previews and publishes it; the public link and QR code on the survey's page are what gets
printed on the poster. Residents open that link on their phones (a phone-sized context each, no
login): one skips a required question and is told so in Chinese with the answers kept, then
answers; two neighbours answer too. The cadre reads the results with their charts.

Demand: district staff set a routing rule; a resident raises a labour demand on the public page
on a phone (first without a phone number, refused in Chinese), which the rule sends to the
residents' committee; the cadre reroutes it to the social-work centre, whose manager accepts,
starts, records a call and resolves it, mediated in the community; the cadre closes it after a
call-back with the resident's satisfaction. The resident follows each step by the link of the
status page. The database is only read, to check what the pages said."""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Callable
from typing import Any

from django.utils import timezone
from playwright.sync_api import expect

from .conftest import screenshot, watch_page
from .support import login, sidebar

PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 3,
    "is_mobile": True,
    "has_touch": True,
}
SURVEY = "凯旋社区2026年职工家庭服务需求调查"
COMMUNITY = "凯旋社区"
SOCIAL_ORG = "沈阳市阳光社会工作服务中心"
COMMITTEE = "凯旋社区居民委员会"


def _staff(new_context: Callable[..., Any], base_url: str, username: str) -> Any:
    """A signed-in desktop page of its own; confirmation dialogs are accepted, as the user would."""
    page = new_context().new_page()
    watch_page(page)
    page.on("dialog", lambda dialog: dialog.accept())
    login(page, base_url, username)
    return page


def _phone(new_context: Callable[..., Any]) -> Any:
    """A resident's phone: a fresh phone-sized context, no account, no cookies."""
    page = new_context(**PHONE).new_page()
    watch_page(page)
    return page


def _click(page: Any, locator: Any) -> None:
    with page.expect_navigation():
        locator.click()


def _success(page: Any, text: str) -> None:
    expect(page.locator(".message-success")).to_contain_text(text)


def _clean(*pages: Any) -> None:
    for p in pages:
        assert not p.watch.page_errors, f"uncaught script errors: {p.watch.page_errors}"
        assert not p.watch.csp_violations, f"CSP violations: {p.watch.csp_violations}"


def _local(moment: dt.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


# ---- needs survey ------------------------------------------------------------------------------

QUESTIONS: list[dict[str, Any]] = [
    {"kind": "single", "text": "您目前的就业状态", "options": ["在职", "退休", "待业"]},
    {
        "kind": "multiple",
        "text": "您和家人最需要哪些服务？",
        "options": ["子女课后托管", "职工心理疏导", "劳动法律咨询", "老人日间照料"],
        "need": True,
    },
    {"kind": "likert", "text": "我对社区现有的职工服务感到满意"},
    {"kind": "number", "text": "家中需要照顾的老人人数", "required": False},
    {
        "kind": "short_text",
        "text": "您希望参加哪类技能培训？",
        "show_if": "1. 您目前的就业状态 = 待业",
    },
    {"kind": "long_text", "text": "对社区工会的其他意见和建议", "required": False},
]


def _build_survey(cadre: Any) -> str:
    """The cadre builds, previews and publishes; returns the survey page's URL."""
    _click(cadre, sidebar(cadre).get_by_role("link", name="需求调查"))
    _click(cadre, cadre.get_by_role("link", name="发起调查"))
    now = timezone.now()
    cadre.fill("#id_title", SURVEY)
    cadre.fill("#id_intro", "为安排明年的职工服务项目，请花两分钟告诉我们您和家人的需要。")
    cadre.select_option("#id_communities", label=COMMUNITY)
    cadre.fill("#id_opens_at", _local(now - dt.timedelta(hours=1)))
    cadre.fill("#id_closes_at", _local(now + dt.timedelta(days=14)))
    _click(cadre, cadre.get_by_role("button", name="保存"))
    _success(cadre, "问卷已创建")
    expect(cadre.locator("h1 [data-status]")).to_have_text("草稿")

    form = cadre.get_by_test_id("question-form")
    for q in QUESTIONS:
        cadre.select_option("#id_kind", q["kind"])
        cadre.fill("#id_text", q["text"])
        cadre.fill("#id_options", "\n".join(q.get("options", [])))
        cadre.locator("#id_required").set_checked(q.get("required", True))
        cadre.locator("#id_is_need_question").set_checked(q.get("need", False))
        if "show_if" in q:
            cadre.select_option("#id_show_if_option", label=q["show_if"])
        _click(cadre, form.get_by_role("button", name="添加"))
        _success(cadre, "题目已添加")
    rows = cadre.get_by_test_id("questions").locator("tbody tr")
    expect(rows).to_have_count(len(QUESTIONS))
    expect(rows.nth(1)).to_contain_text("需求题")
    expect(rows.nth(4)).to_contain_text("第 1 题选“待业”时")
    survey_url = cadre.url

    _click(cadre, cadre.get_by_test_id("preview"))
    expect(cadre.locator("[role=status]")).to_contain_text("预览")
    expect(cadre.locator("fieldset.q")).to_have_count(len(QUESTIONS))
    expect(cadre.get_by_role("button", name="提交")).to_have_count(0)
    cadre.goto(survey_url)

    _click(cadre, cadre.get_by_test_id("publish"))  # confirms
    _success(cadre, "问卷已发布")
    expect(cadre.locator("h1 [data-status]")).to_have_text("已发布")
    screenshot(cadre, "delivery_survey_published")
    return survey_url


def _check_qr(cadre: Any, public_url: str) -> None:
    """The QR image on the page encodes the public link: the PNG served is the one segno makes
    of that link."""
    import segno

    qr = cadre.locator("img[alt=问卷二维码]")
    expect(qr).to_be_visible()
    assert qr.evaluate("img => img.complete && img.naturalWidth") > 0
    response = cadre.request.get(qr.evaluate("img => img.src"))
    assert response.ok and response.headers["content-type"] == "image/png"
    expected = io.BytesIO()
    segno.make(public_url, error="m").save(expected, kind="png", scale=6, border=4)
    assert response.body() == expected.getvalue()


def _fieldset(page: Any, text: str) -> Any:
    return page.locator("fieldset.q", has_text=text)


def _answer(
    phone: Any,
    *,
    status: str,
    needs: list[str],
    likert: str,
    training: str = "",
    elders: str = "",
    comment: str = "",
) -> None:
    _fieldset(phone, "就业状态").get_by_label(status, exact=True).check()
    for need in needs:
        _fieldset(phone, "最需要哪些服务").get_by_label(need, exact=True).check()
    _fieldset(phone, "感到满意").get_by_label(likert, exact=True).check()
    if elders:
        _fieldset(phone, "老人人数").locator("input").fill(elders)
    if training:
        _fieldset(phone, "技能培训").locator("input").fill(training)
    if comment:
        _fieldset(phone, "意见和建议").locator("textarea").fill(comment)


def _submit(phone: Any) -> None:
    _click(phone, phone.get_by_role("button", name="提交"))


def _first_resident(new_context: Callable[..., Any], public_url: str) -> Any:
    """Answers on a phone: the training question appears only for 待业; the need question
    skipped is refused in Chinese, the other answers stay; then the answer is accepted."""
    phone = _phone(new_context)
    phone.goto(public_url)
    expect(phone.locator("h1")).to_have_text(SURVEY)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scroll
    training = _fieldset(phone, "技能培训")
    expect(training).to_be_hidden()
    _fieldset(phone, "就业状态").get_by_label("待业", exact=True).check()
    expect(training).to_be_visible()
    _fieldset(phone, "感到满意").get_by_label("2 不同意", exact=True).check()
    training.locator("input").fill("电工证培训")
    screenshot(phone, "delivery_survey_phone")
    _submit(phone)

    expect(phone.locator(".notice-error")).to_have_text("有题目需要修改，请查看标红的提示。")
    needs = _fieldset(phone, "最需要哪些服务")
    expect(needs.locator(".error")).to_have_text("此题为必答题。")
    expect(_fieldset(phone, "就业状态").get_by_label("待业", exact=True)).to_be_checked()
    expect(training.locator("input")).to_have_value("电工证培训")
    screenshot(phone, "delivery_survey_phone_refused")
    needs.get_by_label("劳动法律咨询", exact=True).check()
    needs.get_by_label("职工心理疏导", exact=True).check()
    _fieldset(phone, "意见和建议").locator("textarea").fill("希望晚上<b>八点</b>以后也有人值班。")
    _submit(phone)
    expect(phone.get_by_test_id("result")).to_have_text("提交成功，感谢您的参与！")
    screenshot(phone, "delivery_survey_phone_thanks")
    return phone


def _survey_results(cadre: Any, survey_url: str) -> None:
    cadre.goto(survey_url)
    expect(cadre.get_by_test_id("response-count")).to_have_text("3")
    _click(cadre, cadre.get_by_role("link", name="查看结果"))
    expect(cadre.locator("h1")).to_have_text("调查结果")
    expect(cadre.get_by_test_id("total")).to_have_text("3")
    results = cadre.get_by_test_id("question-result")
    expect(results).to_have_count(len(QUESTIONS))
    # Charts of the choice and scale questions, and of the needs by tier, drawn as SVG.
    expect(cadre.locator("[data-chart] svg")).to_have_count(4)
    needs = results.nth(1)
    expect(needs.locator("tr", has_text="子女课后托管")).to_contain_text("66.7%")
    expect(needs.locator("tr", has_text="劳动法律咨询")).to_contain_text("66.7%")
    expect(results.nth(2).get_by_test_id("average")).to_have_text("3.00")
    kaixuan = cadre.get_by_test_id("community-needs").locator("tr", has_text=COMMUNITY)
    expect(kaixuan).to_contain_text("1. 子女课后托管")
    # Counts have whole-number ticks.
    ticks = results.nth(0).locator("[data-chart] svg text").all_text_contents()
    assert "1" in ticks and not [t for t in ticks if re.fullmatch(r"\d*\.\d+", t)], ticks
    screenshot(cadre, "delivery_survey_results")

    # The top need is linked to a project call that answers it.
    cadre.select_option("#id_option", label="您和家人最需要哪些服务？：子女课后托管")
    cadre.select_option("#id_call", index=1)
    call = cadre.locator("#id_call option:checked").inner_text()
    _click(cadre, cadre.get_by_role("button", name="关联到项目指南"))
    _success(cadre, "需求已关联到项目指南")
    linked = cadre.get_by_test_id("need-links").locator("tbody tr")
    expect(linked).to_have_count(1)
    expect(linked).to_contain_text("子女课后托管")
    expect(linked.get_by_role("link", name=call)).to_be_visible()
    _click(cadre, cadre.get_by_role("link", name="文字回答", exact=True))
    texts = cadre.get_by_test_id("texts")
    expect(texts).to_contain_text("电工证培训")
    # Markup a resident typed is shown as text, never run.
    expect(texts).to_contain_text("希望晚上<b>八点</b>以后也有人值班。")


def test_cadre_builds_a_survey_residents_answer_it_on_their_phones(
    demo: Any, new_context: Callable[..., Any]
) -> None:
    from sanlian.delivery.models import Survey, SurveyResponse

    cadre = _staff(new_context, demo.url, "cadre")
    survey_url = _build_survey(cadre)
    link = cadre.get_by_test_id("public-url")
    public_url = link.get_attribute("href")
    assert public_url == link.inner_text()
    survey = Survey.objects.get(title=SURVEY)
    assert public_url.endswith(f"/s/{survey.token}/")
    _check_qr(cadre, public_url)

    first = _first_resident(new_context, public_url)
    neighbours = []
    for answers in (
        {"status": "在职", "needs": ["子女课后托管", "老人日间照料"], "likert": "4 同意"},
        {
            "status": "退休",
            "needs": ["子女课后托管", "劳动法律咨询"],
            "likert": "3 一般",
            "elders": "2",
        },
    ):
        phone = _phone(new_context)
        phone.goto(public_url)
        _answer(phone, **answers)
        _submit(phone)
        expect(phone.get_by_test_id("result")).to_have_text("提交成功，感谢您的参与！")
        neighbours.append(phone)
    assert SurveyResponse.objects.filter(survey=survey).count() == 3

    _survey_results(cadre, survey_url)
    _clean(cadre, first, *neighbours)


# ---- demand ------------------------------------------------------------------------------------

DEMAND = "在小区门口的快递站工作三个月，老板一直拖欠工资，不知道该怎么办。"


def _routing_rule(district: Any) -> None:
    _click(district, sidebar(district).get_by_role("link", name="诉求分派规则"))
    district.select_option("#id_category", label="劳动争议/工资待遇")
    district.select_option("#id_community", label=COMMUNITY)
    district.select_option("#id_organization", label=COMMITTEE)
    district.fill("#id_note", "劳动争议先由居委会人民调解委员会接待")
    _click(district, district.get_by_role("button", name="保存"))
    _success(district, "分派规则已保存")
    # The new rule's row (the demo city's own rules are listed too).
    row = district.get_by_test_id("rule-table").locator("tbody tr", has_text="人民调解委员会接待")
    expect(row).to_contain_text(COMMITTEE)


def _public_page(district: Any) -> str:
    """The address of the residents' page, as staff pass it on (poster, group chat)."""
    _click(district, sidebar(district).get_by_role("link", name="居民诉求"))
    return str(district.get_by_role("link", name="居民提交页").evaluate("a => a.href"))


def _raise_demand(resident: Any, public_page: str) -> str:
    """On the public page, on a phone; returns the status page's URL (the resident keeps it)."""
    resident.goto(public_page)
    expect(resident.locator("h1")).to_have_text("反映诉求")
    assert resident.evaluate("document.documentElement.scrollWidth") <= 390
    resident.select_option("#id_community", label=COMMUNITY)
    resident.select_option("#id_category", label="劳动争议/工资待遇")
    resident.fill("#id_resident_name", "王立军")
    resident.fill("#id_description", DEMAND)
    _click(resident, resident.get_by_role("button", name="提交"))
    refusal = resident.locator(".field", has=resident.locator("#id_resident_phone"))
    expect(refusal.locator(".field-error")).to_have_text("请填写手机号，便于回访。")
    expect(resident.locator("#id_description")).to_have_value(DEMAND)
    screenshot(resident, "delivery_demand_phone_refused")
    resident.fill("#id_resident_phone", "13912345678")
    _click(resident, resident.get_by_role("button", name="提交"))
    expect(resident.locator("[role=status]")).to_contain_text("提交成功")
    expect(resident.get_by_test_id("public-status")).to_have_text("待受理")
    screenshot(resident, "delivery_demand_phone_status")
    return resident.url.split("?")[0]


def _open_demand(page: Any, number: str) -> None:
    _click(page, sidebar(page).get_by_role("link", name="居民诉求"))
    row = page.get_by_test_id("demand-table").locator("tbody tr", has_text=number)
    _click(page, row.get_by_role("link", name=number))
    expect(page.locator("h1")).to_contain_text(number)


def _reroute(cadre: Any, number: str) -> None:
    _open_demand(cadre, number)
    expect(cadre.get_by_test_id("handler")).to_have_text(COMMITTEE)
    expect(cadre.get_by_test_id("demand-status")).to_have_text("待受理")
    screenshot(cadre, "delivery_demand_received")
    form = cadre.locator("form", has=cadre.locator("#id_reroute-organization"))
    cadre.select_option("#id_reroute-organization", label=SOCIAL_ORG)
    cadre.fill("#id_reroute-reason", "涉及欠薪维权，转社工机构协同法律援助")
    _click(cadre, form.get_by_role("button", name="改派"))
    _success(cadre, "已保存")
    expect(cadre.get_by_test_id("handler")).to_have_text(SOCIAL_ORG)
    expect(cadre.get_by_test_id("timeline")).to_contain_text("涉及欠薪维权")


def _handle(org: Any, number: str) -> None:
    _open_demand(org, number)
    actions = org.get_by_test_id("demand-actions")
    _click(org, actions.get_by_role("button", name="受理", exact=True))
    expect(org.get_by_test_id("demand-status")).to_have_text("已受理")
    _click(org, actions.get_by_role("button", name="开始办理"))
    expect(org.get_by_test_id("demand-status")).to_have_text("办理中")
    org.fill("#id_note-note", "已电话联系王先生，约定周三来社工站面谈，准备工资条和聊天记录。")
    note = org.locator("form", has=org.locator("#id_note-note"))
    _click(org, note.get_by_role("button", name="添加"))
    expect(org.get_by_test_id("timeline")).to_contain_text("约定周三来社工站面谈")
    org.fill("#id_resolve-resolution", "经社区人民调解，快递站补发三个月工资共9600元。")
    org.fill("#id_resolve-public_reply", "经调解，拖欠的工资已于本周补发，如有问题请联系社工站。")
    org.check("#id_resolve-resolved_in_community")
    resolve = org.locator("form", has=org.locator("#id_resolve-resolution"))
    _click(org, resolve.get_by_role("button", name="办结"))
    expect(org.get_by_test_id("demand-status")).to_have_text("已办结")
    expect(org.locator("h1")).to_contain_text("调解在社区")


def _close(cadre: Any, number: str) -> None:
    _open_demand(cadre, number)
    form = cadre.locator("form", has=cadre.locator("input[name=close-satisfaction]").first)
    form.get_by_label("5 分 · 非常满意").check()
    cadre.fill("#id_close-comment", "王先生表示工资已全部到账，感谢社区。")
    _click(cadre, form.get_by_role("button", name="回访关闭"))
    _success(cadre, "已保存")
    expect(cadre.get_by_test_id("demand-status")).to_have_text("已关闭")
    expect(cadre.get_by_test_id("satisfaction")).to_contain_text("5 / 5")
    screenshot(cadre, "delivery_demand_closed")


def test_resident_raises_a_demand_staff_route_handle_and_close_it(
    demo: Any, new_context: Callable[..., Any]
) -> None:
    from sanlian.delivery.models import Demand

    district = _staff(new_context, demo.url, "district")
    _routing_rule(district)

    public_page = _public_page(district)
    resident = _phone(new_context)
    status_url = _raise_demand(resident, public_page)
    demand = Demand.objects.get(description=DEMAND)
    assert status_url.endswith(demand.public_url())
    number = resident.locator("dd.mono").inner_text()
    assert number == demand.number

    cadre = _staff(new_context, demo.url, "cadre")
    _reroute(cadre, number)

    org = _staff(new_context, demo.url, "orgmanager")
    _handle(org, number)

    resident.goto(status_url)
    expect(resident.get_by_test_id("public-status")).to_have_text("已办结")
    expect(resident.get_by_test_id("public-reply")).to_contain_text("拖欠的工资已于本周补发")
    expect(resident.get_by_role("heading", name="请评价本次办理")).to_be_visible()

    _close(cadre, number)
    resident.goto(status_url)
    expect(resident.get_by_test_id("public-status")).to_have_text("已关闭")
    expect(resident.locator("dl.kv")).to_contain_text("5 / 5")
    # The resident's page shows nothing of the handling inside.
    expect(resident.locator("body")).not_to_contain_text(SOCIAL_ORG)
    expect(resident.locator("form")).to_have_count(0)
    screenshot(resident, "delivery_demand_phone_closed")
    demand.refresh_from_db()
    assert (demand.status, demand.satisfaction, demand.resolved_in_community) == (
        "closed",
        5,
        True,
    )
    _clean(district, resident, cadre, org)
