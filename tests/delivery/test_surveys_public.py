"""The residents' public survey page: answering without an account, the protection against
floods and double submission (which never turns away a genuine first answer), and bad input
refused with a clear Chinese message and nothing lost."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from sanlian.delivery.models import Answer, SurveyResponse, SurveyStatus
from sanlian.delivery.services import surveys as services

from ..conftest import World
from .factories_surveys import SurveyFactory, option, questions_of, survey_with_questions

pytestmark = pytest.mark.django_db

NONCE = re.compile(r'name="nonce" value="([^"]+)"')


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    cache.clear()


def _url(survey: Any) -> str:
    return reverse("delivery:survey_answer", args=[survey.token])


def _page(client: Client, survey: Any) -> Any:
    return client.get(_url(survey))


def _nonce(client: Client, survey: Any) -> str:
    found = NONCE.search(_page(client, survey).content.decode())
    assert found
    return found[1]


def _sheet(survey: Any, world: World, **extra: Any) -> dict[str, Any]:
    q = questions_of(survey)
    data = {
        "community": world.c1.pk,
        f"q{q[1].pk}": option(survey, 1, "居家养老").pk,
        f"q{q[2].pk}": [option(survey, 2, "工作日晚上").pk, option(survey, 2, "周末").pk],
        f"q{q[3].pk}": "4",
        f"q{q[4].pk}": "3",
        f"q{q[5].pk}": "希望多办健康讲座",
    }
    data.update(extra)
    return data


def _submit(client: Client, survey: Any, world: World, **extra: Any) -> Any:
    data = {"nonce": _nonce(client, survey), **_sheet(survey, world)}
    data.update(extra)
    return client.post(_url(survey), data)


# ---- answering ---------------------------------------------------------------------------------


def test_the_page_shows_the_questions_without_an_account(world: World) -> None:
    survey = survey_with_questions(world)
    response = Client().get(_url(survey))
    assert response.status_code == 200
    assert "您家最需要哪项服务？" in response.content.decode()


def test_the_page_gives_the_phone_a_device_cookie(world: World) -> None:
    survey = survey_with_questions(world)
    response = Client().get(_url(survey))
    assert response.cookies[services.DEVICE_COOKIE]["httponly"]


def test_a_draft_has_no_public_page(world: World) -> None:
    survey = survey_with_questions(world, status=SurveyStatus.DRAFT)
    assert Client().get(_url(survey)).status_code == 404


def test_an_unknown_token_is_not_found(world: World) -> None:
    assert Client().get(reverse("delivery:survey_answer", args=["nope"])).status_code == 404


def test_an_answer_is_stored_with_one_row_per_chosen_option(world: World) -> None:
    survey = survey_with_questions(world)
    response = _submit(Client(), survey, world)
    assert "提交成功" in response.content.decode()
    stored = SurveyResponse.objects.get(survey=survey)
    assert sorted(
        (a.question.seq, a.option.text if a.option else a.number or a.text)
        for a in stored.answers.select_related("question", "option")
    ) == sorted(
        [
            (1, "居家养老"),
            (2, "工作日晚上"),
            (2, "周末"),
            (3, 4),
            (4, 3),
            (5, "希望多办健康讲座"),
        ]
    )


def test_the_answer_carries_the_chosen_community(world: World) -> None:
    survey = survey_with_questions(world)
    _submit(Client(), survey, world, community=world.c2.pk)
    assert set(Answer.objects.values_list("community_id", flat=True)) == {world.c2.pk}


def _device_hash(client: Client) -> str:
    return services.keyed_hash("device", client.cookies[services.DEVICE_COOKIE].value)


def test_the_genuine_flow_passes_with_csrf_checks_on(world: World) -> None:
    survey = survey_with_questions(world)
    client = Client(enforce_csrf_checks=True, HTTP_SEC_FETCH_SITE="same-origin")
    response = client.get(_url(survey))
    nonce = NONCE.search(response.content.decode())
    assert nonce
    data = {"nonce": nonce[1], **_sheet(survey, world)}
    assert "提交成功" in client.post(_url(survey), data).content.decode()


def test_the_form_number_is_the_only_token_no_csrf_cookie(world: World) -> None:
    response = Client().get(_url(survey_with_questions(world)))
    assert "csrfmiddlewaretoken" not in response.content.decode()
    assert list(response.cookies) == [services.DEVICE_COOKIE]


def test_a_form_number_of_another_phone_is_refused_and_the_answers_kept(world: World) -> None:
    """The form number is bound to the device cookie: a page of another site cannot use a
    number it fetched itself for a resident's phone (a CSRF token, double-submit)."""
    survey = survey_with_questions(world)
    theirs = _nonce(Client(), survey)
    mine = Client()
    _page(mine, survey)
    response = mine.post(_url(survey), {"nonce": theirs, **_sheet(survey, world)})
    assert (response.status_code, SurveyResponse.objects.count()) == (400, 0)
    assert "页面已过期" in response.content.decode()
    assert "希望多办健康讲座" in response.content.decode()
    fresh = NONCE.search(response.content.decode())
    assert fresh and services.check_nonce(survey, fresh[1], _device_hash(mine)) is not None


def test_a_post_without_the_device_cookie_asks_for_cookies(world: World) -> None:
    """What a form of another site sends (the SameSite cookie stays home), or a phone that
    keeps no cookies: refused, the answers kept, a cookie and a number for it given."""
    survey = survey_with_questions(world)
    nonce = _nonce(Client(), survey)
    client = Client()
    response = client.post(_url(survey), {"nonce": nonce, **_sheet(survey, world)})
    assert (response.status_code, SurveyResponse.objects.count()) == (400, 0)
    assert "请允许浏览器保存 Cookie" in response.content.decode()
    fresh = NONCE.search(response.content.decode())
    assert fresh and services.check_nonce(survey, fresh[1], _device_hash(client)) is not None
    again = client.post(_url(survey), {"nonce": fresh[1], **_sheet(survey, world)})
    assert "提交成功" in again.content.decode()


def test_a_post_from_another_site_is_refused_as_csrf(world: World) -> None:
    from sanlian.core.models import AuditEntry

    survey = survey_with_questions(world)
    client = Client()
    data = {"nonce": _nonce(client, survey), **_sheet(survey, world)}
    response = client.post(_url(survey), data, HTTP_SEC_FETCH_SITE="cross-site")
    assert response.status_code == 403
    assert "安全校验已失效" in response.content.decode()
    assert not SurveyResponse.objects.exists()
    assert AuditEntry.objects.filter(object_type="csrf").exists()


def test_a_single_community_survey_asks_no_community(world: World) -> None:
    survey = SurveyFactory(communities=[world.c1])
    assert 'name="community"' not in _page(Client(), survey).content.decode()


def test_a_survey_of_several_communities_asks_which(world: World) -> None:
    survey = survey_with_questions(world)
    response = _submit(Client(), survey, world, community="")
    assert "请选择您所在的社区。" in response.content.decode()


# ---- double submission and floods --------------------------------------------------------------


def test_the_same_page_sent_twice_is_stored_once(world: World) -> None:
    survey = survey_with_questions(world)
    client = Client()
    data = {"nonce": _nonce(client, survey), **_sheet(survey, world)}
    client.post(_url(survey), data)
    again = client.post(_url(survey), data)
    assert (SurveyResponse.objects.count(), "已提交" in again.content.decode()) == (1, True)


def test_two_pages_of_one_phone_are_two_answers(world: World) -> None:
    survey = survey_with_questions(world)
    client = Client()
    _submit(client, survey, world)
    _submit(client, survey, world)
    assert SurveyResponse.objects.count() == 2


def test_the_page_tells_a_phone_that_has_answered(world: World) -> None:
    survey = survey_with_questions(world)
    client = Client()
    _submit(client, survey, world)
    assert "本设备已提交过答卷" in _page(client, survey).content.decode()


def test_one_phone_may_not_send_more_than_the_device_limit(world: World) -> None:
    survey = survey_with_questions(world)
    client = Client()
    for _ in range(services.DEVICE_LIMIT + 1):
        last = _submit(client, survey, world)
    assert (SurveyResponse.objects.count(), last.status_code) == (services.DEVICE_LIMIT, 429)


def test_an_address_over_the_limit_is_asked_to_wait(world: World, settings: Any) -> None:
    settings.SURVEY_ANSWERS_PER_ADDRESS_PER_MINUTE = 2
    survey = survey_with_questions(world)
    for _ in range(2):
        _submit(Client(), survey, world)
    refused = _submit(Client(), survey, world)
    assert (refused.status_code, SurveyResponse.objects.count()) == (429, 2)


def test_a_refused_answer_stays_on_the_page(world: World, settings: Any) -> None:
    settings.SURVEY_ANSWERS_PER_ADDRESS_PER_MINUTE = 0
    survey = survey_with_questions(world)
    refused = _submit(Client(), survey, world)
    assert "希望多办健康讲座" in refused.content.decode()


def test_addresses_behind_a_proxy_are_counted_apart(world: World, settings: Any) -> None:
    settings.SURVEY_ANSWERS_PER_ADDRESS_PER_MINUTE = 1
    settings.AXES_IPWARE_PROXY_COUNT = 1
    survey = survey_with_questions(world)
    for n in range(3):
        client = Client(HTTP_X_FORWARDED_FOR=f"10.0.0.{n}")
        _submit(client, survey, world)
    assert SurveyResponse.objects.count() == 3


def test_the_address_limit_counts_answers_to_every_survey(world: World, settings: Any) -> None:
    settings.SURVEY_ANSWERS_PER_ADDRESS_PER_MINUTE = 1
    first, second = survey_with_questions(world), survey_with_questions(world)
    _submit(Client(), first, world)
    refused = _submit(Client(), second, world)
    assert (refused.status_code, SurveyResponse.objects.count()) == (429, 1)
    assert "提交过于频繁" in refused.content.decode()


def test_answers_older_than_a_minute_do_not_count_against_the_address(
    world: World, settings: Any
) -> None:
    settings.SURVEY_ANSWERS_PER_ADDRESS_PER_MINUTE = 1
    survey = survey_with_questions(world)
    _submit(Client(), survey, world)
    SurveyResponse.objects.update(submitted_at=timezone.now() - dt.timedelta(seconds=61))
    assert _submit(Client(), survey, world).status_code == 200
    assert SurveyResponse.objects.count() == 2


def test_answers_without_an_address_have_no_address_limit(world: World, settings: Any) -> None:
    settings.SURVEY_ANSWERS_PER_ADDRESS_PER_MINUTE = 1
    survey = survey_with_questions(world)
    for n in range(3):
        services.response_submit(
            survey=survey, community_id=world.c1.pk, answers=[], nonce=f"staff-{n}",
            device_hash=f"device-{n}",
        )  # fmt: skip
    assert SurveyResponse.objects.filter(survey=survey).count() == 3


def test_a_device_at_its_limit_is_told_so_before_the_address(world: World, settings: Any) -> None:
    settings.SURVEY_ANSWERS_PER_ADDRESS_PER_MINUTE = services.DEVICE_LIMIT
    survey = survey_with_questions(world)
    client = Client()
    for _ in range(services.DEVICE_LIMIT):
        _submit(client, survey, world)
    refused = _submit(client, survey, world)
    assert (refused.status_code, "提交过于频繁" in refused.content.decode()) == (429, False)


def test_addresses_are_stored_only_as_hashes(world: World) -> None:
    survey = survey_with_questions(world)
    _submit(Client(REMOTE_ADDR="203.0.113.7"), survey, world)
    stored = SurveyResponse.objects.get()
    assert "203.0.113.7" not in stored.ip_hash and len(stored.ip_hash) == 64


def test_a_forged_form_number_keeps_the_answers_and_stores_nothing(world: World) -> None:
    survey = survey_with_questions(world)
    response = Client().post(_url(survey), {"nonce": "forged", **_sheet(survey, world)})
    assert (response.status_code, SurveyResponse.objects.count()) == (400, 0)


def test_a_forged_form_number_gets_a_fresh_one(world: World) -> None:
    survey = survey_with_questions(world)
    client = Client()
    response = client.post(_url(survey), {"nonce": "forged", **_sheet(survey, world)})
    fresh = NONCE.search(response.content.decode())
    assert fresh and services.check_nonce(survey, fresh[1], _device_hash(client)) is not None


def test_a_form_number_of_another_survey_is_refused(world: World) -> None:
    survey, other = survey_with_questions(world), survey_with_questions(world)
    client = Client()
    _page(client, survey)
    data = {"nonce": services.new_nonce(other, _device_hash(client)), **_sheet(survey, world)}
    assert client.post(_url(survey), data).status_code == 400
    assert SurveyResponse.objects.count() == 0


# ---- bad input ---------------------------------------------------------------------------------


def test_an_answer_after_closing_is_refused(world: World) -> None:
    survey = survey_with_questions(world)
    client = Client()
    data = {"nonce": _nonce(client, survey), **_sheet(survey, world)}
    survey.closes_at = timezone.now() - dt.timedelta(minutes=1)
    survey.save()
    response = client.post(_url(survey), data)
    assert (response.status_code, "本问卷已结束" in response.content.decode()) == (410, True)


def test_nothing_is_stored_after_closing(world: World) -> None:
    survey = survey_with_questions(world, closes_at=timezone.now() - dt.timedelta(minutes=1))
    Client().post(_url(survey), {"nonce": services.new_nonce(survey, ""), **_sheet(survey, world)})
    assert SurveyResponse.objects.count() == 0


def test_a_survey_not_yet_open_says_when_it_opens(world: World) -> None:
    survey = survey_with_questions(world, opens_at=timezone.now() + dt.timedelta(days=1))
    assert "尚未开始" in Client().get(_url(survey)).content.decode()


def test_a_missing_required_answer_is_refused(world: World) -> None:
    survey = survey_with_questions(world)
    q = questions_of(survey)
    response = _submit(Client(), survey, world, **{f"q{q[3].pk}": ""})
    assert (response.status_code, "此题为必答题。" in response.content.decode()) == (400, True)


def test_a_choice_that_does_not_exist_is_refused(world: World) -> None:
    survey = survey_with_questions(world)
    q = questions_of(survey)
    response = _submit(Client(), survey, world, **{f"q{q[1].pk}": "999999"})
    assert "所选选项不存在" in response.content.decode()


def test_an_option_of_another_question_is_refused(world: World) -> None:
    survey = survey_with_questions(world)
    q = questions_of(survey)
    _submit(Client(), survey, world, **{f"q{q[1].pk}": option(survey, 2, "周末").pk})
    assert SurveyResponse.objects.count() == 0


def test_a_likert_value_outside_one_to_five_is_refused(world: World) -> None:
    survey = survey_with_questions(world)
    q = questions_of(survey)
    _submit(Client(), survey, world, **{f"q{q[3].pk}": "9"})
    assert SurveyResponse.objects.count() == 0


def test_a_100_kb_text_is_refused_in_chinese(world: World) -> None:
    survey = survey_with_questions(world)
    q = questions_of(survey)
    response = _submit(Client(), survey, world, **{f"q{q[5].pk}": "长" * 100_000})
    assert "回答过长" in response.content.decode()


def test_a_refused_long_text_stores_nothing(world: World) -> None:
    survey = survey_with_questions(world)
    q = questions_of(survey)
    _submit(Client(), survey, world, **{f"q{q[5].pk}": "x" * 100_000})
    assert SurveyResponse.objects.count() == 0


def test_a_number_that_is_not_a_number_is_refused(world: World) -> None:
    survey = survey_with_questions(world)
    q = questions_of(survey)
    response = _submit(Client(), survey, world, **{f"q{q[4].pk}": "三口人"})
    assert "请填写数字。" in response.content.decode()


def test_script_in_a_text_is_shown_as_text(world: World) -> None:
    survey = survey_with_questions(world)
    q = questions_of(survey)
    response = _submit(
        Client(), survey, world, **{f"q{q[4].pk}": "x", f"q{q[5].pk}": "<script>alert(1)</script>"}
    )
    assert "<script>alert(1)</script>" not in response.content.decode()


# ---- show-if -----------------------------------------------------------------------------------


def test_a_hidden_question_is_not_required(world: World) -> None:
    survey = survey_with_questions(world)
    _submit(Client(), survey, world)  # q1 is not "其他": q6 stays hidden
    assert SurveyResponse.objects.count() == 1


def test_a_shown_question_is_required(world: World) -> None:
    survey = survey_with_questions(world)
    q = questions_of(survey)
    response = _submit(Client(), survey, world, **{f"q{q[1].pk}": option(survey, 1, "其他").pk})
    assert "此题为必答题。" in response.content.decode()


def test_the_answer_of_a_hidden_question_is_dropped(world: World) -> None:
    survey = survey_with_questions(world)
    q = questions_of(survey)
    _submit(Client(), survey, world, **{f"q{q[6].pk}": "不该保存"})
    assert not Answer.objects.filter(question=q[6]).exists()


def test_the_page_marks_the_condition_for_the_script(world: World) -> None:
    survey = survey_with_questions(world)
    q = questions_of(survey)
    page = _page(Client(), survey).content.decode()
    assert f'data-show-value="{option(survey, 1, "其他").pk}"' in page and f"q{q[1].pk}" in page


def test_each_page_view_gets_its_own_form_number(world: World) -> None:
    survey = survey_with_questions(world)
    first, second = _page(Client(), survey), _page(Client(), survey)
    numbers = {NONCE.search(p.content.decode())[1] for p in (first, second)}  # type: ignore[index]
    assert (len(numbers), "您家最需要哪项服务？" in second.content.decode()) == (2, True)


def test_a_submission_is_checked_against_the_survey_as_stored(world: World) -> None:
    """The page may use a survey row read a moment ago; storing re-checks the database."""
    survey = survey_with_questions(world)
    SurveyFactory._meta.model.objects.filter(pk=survey.pk).update(
        closes_at=timezone.now() - dt.timedelta(seconds=1)
    )
    shape = services.survey_shape(survey)
    with pytest.raises(services.SurveyNotOpen):
        services.response_submit(
            survey=survey,
            community_id=world.c1.pk,
            answers=[(shape.questions[3], 4)],
            nonce="n-1",
            device_hash="d",
        )
    assert SurveyResponse.objects.count() == 0


def test_the_cached_page_follows_the_language(world: World) -> None:
    survey = survey_with_questions(world)
    chinese = Client().get(_url(survey)).content.decode()
    english = Client(HTTP_ACCEPT_LANGUAGE="en").get(_url(survey)).content.decode()
    assert (">提交<" in chinese, ">Submit<" in english) == (True, True)


def test_keyed_hashes_are_djangos_salted_hmac(settings: Any) -> None:
    # Stored device and address digests were written with salted_hmac: the cached HMAC of
    # keyed_hash must give the same digests, per kind and per secret key.
    from django.utils.crypto import salted_hmac

    for kind in ("device", "address"):
        expected = salted_hmac(f"sanlian.delivery.surveys.{kind}", "10.0.0.1", algorithm="sha256")
        assert services.keyed_hash(kind, "10.0.0.1") == expected.hexdigest()
    settings.SECRET_KEY = "another-" + "x" * 50
    expected = salted_hmac("sanlian.delivery.surveys.device", "abc", algorithm="sha256")
    assert services.keyed_hash("device", "abc") == expected.hexdigest()
