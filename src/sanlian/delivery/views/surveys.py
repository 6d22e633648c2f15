"""Pages of the needs surveys (需求调查): the staff's list, builder, preview, QR poster,
results with ranked needs and free-text answers, the link of needs to project calls; and the
residents' public answering page (no account, phone-sized, no script needed)."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any, TypeVar

import segno
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import get_callable, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from sanlian.core.decorators import role_required
from sanlian.core.lanes import public_lane
from sanlian.core.xlsx import export_response, wants_xlsx

from ..forms.surveys import AnswerForm, CallNeedLinkForm, QuestionForm, SurveyForm
from ..models.surveys import (
    TEXT_KINDS,
    CallNeedLink,
    Question,
    Survey,
    SurveyStatus,
)
from ..services import surveys as services


def _user(request: HttpRequest) -> Any:
    return request.user


def _add_errors(form: forms.BaseForm, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            for error in errors:
                form.add_error(name if name in form.fields else None, error)
    else:
        form.add_error(None, exc)


def _survey(request: HttpRequest, pk: int) -> Survey:
    return get_object_or_404(Survey.objects.visible_to(_user(request)), pk=pk)


def _managed(request: HttpRequest, pk: int) -> Survey:
    survey = _survey(request, pk)
    if not services.may_manage(_user(request), survey):
        raise Http404
    return survey


def public_url(request: HttpRequest, survey: Survey) -> str:
    return request.build_absolute_uri(reverse("delivery:survey_answer", args=[survey.token]))


# ---- staff pages -------------------------------------------------------------------------------


@login_required
def survey_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    surveys = Survey.objects.visible_to(user).prefetch_related("communities")
    status = request.GET.get("status")
    if status in SurveyStatus.values:
        surveys = surveys.filter(status=status)
    page = Paginator(surveys.order_by("-created_at", "-pk"), 30).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "statuses": SurveyStatus.choices,
        "status": status,
        "can_create": services.survey_communities(user).exists(),
        "now": timezone.now(),
    }
    return render(request, "delivery/surveys/survey_list.html", context)


@role_required(*services.BUILDER_ROLES)
def survey_create(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = SurveyForm(request.POST or None, communities=services.survey_communities(user))
    if request.method == "POST" and form.is_valid():
        try:
            survey = services.survey_create(by=user, **form.cleaned_data)
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("问卷已创建，请添加题目。"))
            return redirect(survey)
    return render(request, "delivery/surveys/survey_form.html", {"form": form, "survey": None})


@role_required(*services.BUILDER_ROLES)
def survey_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    survey = _managed(request, pk)
    form = SurveyForm(
        request.POST or None,
        communities=services.survey_communities(user),
        initial=SurveyForm.initial_of(survey),
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.survey_update(survey=survey, by=user, **form.cleaned_data)
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("问卷已保存。"))
            return redirect(survey)
    return render(request, "delivery/surveys/survey_form.html", {"form": form, "survey": survey})


def _detail_context(request: HttpRequest, survey: Survey, **extra: Any) -> dict[str, Any]:
    user = _user(request)
    manage = services.may_manage(user, survey)
    draft = survey.status == SurveyStatus.DRAFT
    return {
        "survey": survey,
        "questions": survey.questions.prefetch_related("options").select_related(
            "show_if_option__question"
        ),
        "communities": survey.communities.order_by("name"),
        "manage": manage,
        "question_form": extra.get("question_form")
        or (
            QuestionForm(conditions=services.show_if_choices(survey)) if manage and draft else None
        ),
        "public_url": public_url(request, survey) if survey.status != SurveyStatus.DRAFT else "",
        "responses": survey.responses.count(),
        "is_open": survey.is_open(),
    }


@login_required
def survey_detail(request: HttpRequest, pk: int) -> HttpResponse:
    survey = _survey(request, pk)
    return render(request, "delivery/surveys/survey_detail.html", _detail_context(request, survey))


@role_required(*services.BUILDER_ROLES)
@require_POST
def question_add(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    survey = _managed(request, pk)
    form = QuestionForm(request.POST, conditions=services.show_if_choices(survey))
    if form.is_valid():
        try:
            services.question_add(survey=survey, by=user, **form.cleaned_data)
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("题目已添加。"))
            return redirect(survey)
    context = _detail_context(request, survey, question_form=form)
    return render(request, "delivery/surveys/survey_detail.html", context, status=400)


@role_required(*services.BUILDER_ROLES)
@require_POST
def question_delete(request: HttpRequest, pk: int, question_pk: int) -> HttpResponse:
    survey = _managed(request, pk)
    question = get_object_or_404(Question.objects.filter(survey=survey), pk=question_pk)
    try:
        services.question_delete(question=question, by=_user(request))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("题目已删除。"))
    return redirect(survey)


@role_required(*services.BUILDER_ROLES)
@require_POST
def survey_transition(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    survey = _managed(request, pk)
    change = {"publish": services.survey_publish, "close": services.survey_close}.get(action)
    if change is None:
        raise Http404
    try:
        change(survey=survey, by=_user(request))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("问卷已发布。") if action == "publish" else _("问卷已结束。"))
    return redirect(survey)


@login_required
def survey_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """The residents' page as they will see it, without a submit button."""
    survey = _survey(request, pk)
    form = AnswerForm(shape=services.survey_shape(survey))
    return render(
        request,
        "delivery/surveys/public/answer.html",
        {"survey": survey, "form": form, "preview": True, "nonce": "preview"},
    )


@login_required
def survey_qr(request: HttpRequest, pk: int) -> HttpResponse:
    """A large QR code of the public link (PNG, sharp when printed on an A4 poster)."""
    survey = _survey(request, pk)
    if survey.status == SurveyStatus.DRAFT:
        raise Http404
    raw = request.GET.get("scale", "")
    scale = min(max(int(raw), 2), 40) if raw.isdigit() else 16
    buffer = io.BytesIO()
    segno.make(public_url(request, survey), error="m").save(
        buffer, kind="png", scale=scale, border=4
    )
    response = HttpResponse(buffer.getvalue(), content_type="image/png")
    if request.GET.get("download"):
        response["Content-Disposition"] = f'attachment; filename="survey-{survey.pk}-qr.png"'
    return response


@login_required
def survey_poster(request: HttpRequest, pk: int) -> HttpResponse:
    """A printable A4 poster: title, invitation, the QR code and the link."""
    survey = _survey(request, pk)
    if survey.status == SurveyStatus.DRAFT:
        raise Http404
    context = {
        "survey": survey,
        "public_url": public_url(request, survey),
        "communities": survey.communities.order_by("name"),
    }
    return render(request, "delivery/surveys/poster.html", context)


def _counted(chart: dict[str, Any] | None) -> dict[str, Any] | None:
    """A chart of counts: whole-number ticks on its value axis (no 0.5 answers)."""
    if not chart:
        return chart
    axis = "xAxis" if chart.get("horizontal") else "yAxis"
    return {**chart, axis: {"type": "value", "minInterval": 1}}


@login_required
def survey_results(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    survey = _survey(request, pk)
    results = services.survey_results(survey)
    manage = services.may_manage(user, survey)
    need_q = next(
        (q for q in results.need_questions if str(q.pk) == request.GET.get("need")),
        results.need_questions[0] if results.need_questions else None,
    )
    groups = results.by_community.get(need_q.pk, []) if need_q else []
    links = (
        CallNeedLink.objects.visible_to(user)
        .filter(option__question__survey=survey)
        .select_related("call", "option__question")
    )
    link_form = (
        CallNeedLinkForm(options=services.need_options(survey), calls=services.linkable_calls(user))
        if manage and results.need_questions
        else None
    )
    context = {
        "survey": survey,
        "results": results,
        "charts": [(r, _counted(r.chart()), f"chart-{r.question.pk}") for r in results.questions],
        "need_q": need_q,
        "need_page": Paginator(groups, 20).get_page(request.GET.get("page")),
        "tiers": results.by_tier.get(need_q.pk, []) if need_q else [],
        "tier_chart": results.tier_chart(need_q.pk) if need_q else None,
        "community_chart": _counted(
            {
                "_kind": "bar",
                "categories": [c.name for c in results.communities],
                "series": [c.responses for c in results.communities],
            }
        ),
        "links": links,
        "link_form": link_form,
        "manage": manage,
        "has_texts": any(q.kind in TEXT_KINDS for q in (r.question for r in results.questions)),
    }
    return render(request, "delivery/surveys/results.html", context)


@login_required
def survey_texts(request: HttpRequest, pk: int) -> HttpResponse:
    """Free-text answers, readable a page at a time, exportable to Excel."""
    survey = _survey(request, pk)
    questions = list(survey.questions.filter(kind__in=TEXT_KINDS).order_by("seq"))
    chosen = next((q for q in questions if str(q.pk) == request.GET.get("question")), None)
    answers = services.text_answers(survey, chosen.pk if chosen else None)
    if wants_xlsx(request):
        return export_response(
            request,
            filename=f"survey-{survey.pk}-texts.xlsx",
            title=_("文字回答"),
            headers=[_("提交时间"), _("社区"), _("题目"), _("回答")],
            rows=(
                [a.response.submitted_at, a.community.name, a.question.text, a.text]
                for a in answers.iterator(chunk_size=2000)
            ),
            object_type="delivery.Answer",
        )
    context = {
        "survey": survey,
        "questions": questions,
        "chosen": chosen,
        "page": Paginator(answers, 30).get_page(request.GET.get("page")),
    }
    return render(request, "delivery/surveys/texts.html", context)


@role_required(*services.BUILDER_ROLES)
@require_POST
def need_link(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    survey = _managed(request, pk)
    form = CallNeedLinkForm(
        request.POST, options=services.need_options(survey), calls=services.linkable_calls(user)
    )
    if form.is_valid():
        try:
            services.call_need_link(by=user, **form.cleaned_data)
        except ValidationError as exc:
            _add_errors(form, exc)
    if form.errors:
        messages.error(request, " ".join(str(e) for errs in form.errors.values() for e in errs))
    else:
        messages.success(request, _("需求已关联到项目指南。"))
    return redirect(reverse("delivery:survey_results", args=[survey.pk]) + "#needs-links")


@role_required(*services.BUILDER_ROLES)
@require_POST
def need_unlink(request: HttpRequest, pk: int, link_pk: int) -> HttpResponse:
    survey = _managed(request, pk)
    link = get_object_or_404(
        CallNeedLink.objects.filter(option__question__survey=survey), pk=link_pk
    )
    try:
        services.call_need_unlink(link=link, by=_user(request))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect(reverse("delivery:survey_results", args=[survey.pk]) + "#needs-links")


# ---- the residents' page (public) --------------------------------------------------------------


def client_address(request: HttpRequest) -> str:
    """The resident's address: behind N reverse proxies (SANLIAN_PROXY_COUNT, the setting
    axes uses too) the N-th address from the right of X-Forwarded-For, else REMOTE_ADDR."""
    from django.conf import settings

    proxies = int(getattr(settings, "AXES_IPWARE_PROXY_COUNT", 0) or 0)
    if proxies:
        forwarded = [
            a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()
        ]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return str(request.META.get("REMOTE_ADDR", ""))


def _render_public(
    request: HttpRequest,
    survey: Survey,
    template: str,
    context: dict[str, Any],
    *,
    status: int = 200,
    device: str = "",
) -> HttpResponse:
    # Rendered without the request: the residents' pages use no context processor (no user,
    # no navigation); the form number is their only per-visitor value.
    html = render_to_string(f"delivery/surveys/public/{template}", {"survey": survey, **context})
    return _with_device(request, HttpResponse(html, status=status), device)


def _with_device(request: HttpRequest, response: HttpResponse, device: str) -> HttpResponse:
    if device and request.COOKIES.get(services.DEVICE_COOKIE) != device:
        response.set_cookie(
            services.DEVICE_COOKIE,
            device,
            max_age=365 * 24 * 3600,
            httponly=True,
            samesite="Lax",
            secure=request.is_secure(),
        )
    return response


# Pages of a published survey rendered once per process and language. Its title, questions
# and options cannot change any more, so a phone's page is cached (as the bytes sent) with
# the form number put in (a survey flood is mostly page views).
_pages: dict[tuple[Any, ...], Any] = {}
NONCE_MARK = b"@@sanlian-nonce@@"
Rendered = TypeVar("Rendered", str, bytes)


def _cached(key: tuple[Any, ...], render: Callable[[], Rendered]) -> Rendered:
    full = (*key, translation.get_language() or "")
    html: Rendered | None = _pages.get(full)
    if html is None:
        if len(_pages) > 500:
            _pages.clear()
        html = _pages[full] = render()
    return html


def _blank_questions(survey: Survey, shape: services.SurveyShape) -> str:
    return _cached(
        (survey.pk, survey.token, "questions"),
        lambda: render_to_string(
            "delivery/surveys/public/_questions.html", {"form": AnswerForm(shape=shape)}
        ),
    )


def _answer_page(survey: Survey, shape: services.SurveyShape, *, device_hash: str,
                 answered: bool) -> bytes:  # fmt: skip
    page = _cached(
        (survey.pk, survey.token, "answer", answered),
        lambda: render_to_string(
            "delivery/surveys/public/answer.html",
            {
                "survey": survey,
                "blank_questions": _blank_questions(survey, shape),
                "answered": answered,
                "nonce": NONCE_MARK.decode(),
            },
        ).encode(),
    )
    # URL-safe base64 with '.' and ':': nothing to escape in an attribute.
    return page.replace(NONCE_MARK, services.new_nonce(survey, device_hash).encode(), 1)


def _thanks(request: HttpRequest, survey: Survey, state: str, *, device: str) -> HttpResponse:
    """The page after sending: stored ('ok'), stored before ('repeat'), device at its
    limit ('limit', 429)."""
    html = _cached(
        (survey.pk, survey.token, "thanks", state),
        lambda: render_to_string(
            "delivery/surveys/public/thanks.html",
            {"survey": survey, "repeat": state == "repeat", "limit": state == "limit"},
        ).encode(),
    )
    status = 429 if state == "limit" else 200
    return _with_device(request, HttpResponse(html, status=status), device)


@public_lane  # no session, no user: see sanlian.core.lanes
@csrf_exempt  # the form number is the page's CSRF token (services.new_nonce), checked below
@never_cache
def survey_answer(request: HttpRequest, token: str) -> HttpResponse:
    """The public page of a survey (GET) and its submission (POST); see services.surveys for
    the protection against floods and double submission. A page view may use the survey row
    read a moment ago; a submission is checked against the row in the database as it is
    stored (services.response_submit)."""
    # META, not request.headers: that builds a dict of every header, for one of them.
    if request.method == "POST" and request.META.get("HTTP_SEC_FETCH_SITE") == "cross-site":
        # A form of another site: refused as Django refuses a CSRF failure (403, audited).
        return get_callable(settings.CSRF_FAILURE_VIEW)(request, reason="cross-site survey post")
    survey = services.public_survey(token, fresh=False)
    now = timezone.now()
    if survey is not None and not survey.is_open(now):
        survey = services.public_survey(token)  # reopened or published just now?
    if survey is None:
        raise Http404
    device = request.COOKIES.get(services.DEVICE_COOKIE, "")[:64] or services.new_device_token()
    if not survey.is_open(now):
        status = 410 if request.method == "POST" else 200
        not_yet = {"not_yet": now < survey.opens_at}
        return _render_public(request, survey, "closed.html", not_yet, status=status)
    shape = services.survey_shape(survey)
    device_hash = services.keyed_hash("device", device)
    if request.method != "POST":
        known = services.DEVICE_COOKIE in request.COOKIES
        answered = known and services.device_answers(survey, device_hash) > 0
        page = _answer_page(survey, shape, device_hash=device_hash, answered=answered)
        return _with_device(request, HttpResponse(page), device)
    form = AnswerForm(request.POST, shape=shape)
    nonce = services.check_nonce(survey, request.POST.get("nonce", ""), device_hash)

    def again(message: str, status: int) -> HttpResponse:
        # The resident's answers stay on the page; a new form number (for the device cookie
        # this response sets, if the phone sent none) if the old one was bad.
        fresh = request.POST.get("nonce", "")
        if nonce is None:
            fresh = services.new_nonce(survey, device_hash)
        kept = AnswerForm(request.POST, shape=shape)
        kept.is_valid()
        context = {"form": kept, "notice": message, "nonce": fresh}
        return _render_public(request, survey, "answer.html", context, status=status, device=device)

    if nonce is None and services.DEVICE_COOKIE not in request.COOKIES:
        return again(_("请允许浏览器保存 Cookie 后再次提交，您的回答已保留。"), 400)
    if nonce is None:
        return again(_("页面已过期，您的回答已保留，请确认后再次提交。"), 400)
    if not form.is_valid():
        context = {"form": form, "nonce": request.POST.get("nonce", "")}
        return _render_public(request, survey, "answer.html", context, status=400, device=device)
    ip_hash = services.keyed_hash("address", client_address(request))
    try:
        submission = services.response_submit(
            survey=survey,
            community_id=form.community_id(),
            answers=form.answers(),
            nonce=nonce,
            device_hash=device_hash,
            ip_hash=ip_hash,
            now=now,
        )
    except services.DeviceLimitReached:
        return _thanks(request, survey, "limit", device=device)
    except services.AddressLimitReached:
        return again(_("提交过于频繁，请稍等一分钟后再提交，您的回答已保留。"), 429)
    except services.SurveyNotOpen:  # closed a moment ago
        current = services.public_survey(token) or survey
        not_yet = {"not_yet": timezone.now() < current.opens_at}
        return _render_public(request, current, "closed.html", not_yet, status=410)
    except ValidationError as exc:  # a community not of the survey
        return again(" ".join(exc.messages), 400)
    return _thanks(request, survey, "ok" if submission.created else "repeat", device=device)
