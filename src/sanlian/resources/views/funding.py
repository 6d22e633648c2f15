"""Pages of the funding part: budget pools, project calls, applications, reviews and award
decisions. Reads go through visible_to() (outside scope: 404); a wrong role is 403; each
write is one service call whose Chinese refusal is shown on the page."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Prefetch, Q, Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sanlian.core.decorators import role_required
from sanlian.core.roles import Role
from sanlian.core.scoping import AREA_ROLES
from sanlian.core.services import ConcurrentEditError
from sanlian.core.xlsx import export_response, wants_xlsx
from sanlian.organizations.models import Community

from ..forms.funding import (
    ROW_FORMS,
    ApplicationBundle,
    ApplicationFilterForm,
    CallEditForm,
    CallFilterForm,
    CallForm,
    CallReviewersForm,
    CancelForm,
    Decision,
    DecisionForm,
    PoolEditForm,
    PoolFilterForm,
    PoolForm,
    RecuseForm,
    ReviewerForm,
    ReviewForm,
    application_initial,
    criteria_formset,
    validation_errors,
)
from ..models import (
    FUNDER_ROLES,
    Application,
    ApplicationStatus,
    BudgetPool,
    CallReviewer,
    CallStatus,
    ProjectCall,
    Review,
    ReviewScore,
    ReviewStatus,
    ServiceProject,
)
from ..services import funding as services

REVIEWER_ROLES = tuple(services.REVIEWER_ROLES)
APPLICANT_ROLES = (Role.SOCIAL_ORG_MANAGER,)
APPLICATION_READERS = (*FUNDER_ROLES, Role.SOCIAL_ORG_MANAGER, Role.SOCIAL_WORKER, Role.EVALUATOR)
CALL_READERS = (*AREA_ROLES, Role.SOCIAL_ORG_MANAGER, Role.SOCIAL_WORKER, Role.EVALUATOR)


def user_of(request: HttpRequest) -> Any:
    return request.user


def _errors_to_messages(request: HttpRequest, exc: ValidationError) -> None:
    for field_messages in validation_errors(exc).values():
        for message in field_messages:
            messages.error(request, message)


def _url(obj: Any) -> str:
    """An object's page, or "" while the part that shows it has no page yet."""
    try:
        return str(obj.get_absolute_url())
    except NoReverseMatch:
        return ""


def _managed_pools(user: Any) -> Any:
    try:
        level = services.funder_level(user)
    except ValidationError:
        return BudgetPool.objects.none()
    return (
        BudgetPool.objects.visible_to(user)
        .filter(owner__path__startswith=level.path)
        .select_related("owner")
    )


def _funder_communities(user: Any, owner_path: str | None = None) -> Any:
    communities = Community.objects.visible_to(user).active().order_by("organization__path")
    if owner_path:
        communities = communities.filter(organization__path__startswith=owner_path)
    return communities


# ---- pools ---------------------------------------------------------------------------------


def _pool_chart(pools: list[BudgetPool]) -> dict[str, Any]:
    """Stacked bars: what each pool's money is doing (a pool's amount in four parts)."""
    return {
        "_kind": "bar",
        "horizontal": True,
        "stack": True,
        "categories": [f"{p.year} {p.name}" for p in pools],
        "series": [
            {"name": _("已拨付"), "data": [str(p.disbursed) for p in pools]},
            {"name": _("已签约未拨付"), "data": [str(p.contracted - p.disbursed) for p in pools]},
            {"name": _("已立项未签约"), "data": [str(p.allocated - p.contracted) for p in pools]},
            {"name": _("未分配"), "data": [str(p.remaining) for p in pools]},
        ],
    }


@role_required(*FUNDER_ROLES)
def pool_list(request: HttpRequest) -> HttpResponse:
    user = user_of(request)
    form = PoolFilterForm(request.GET or None)
    pools = (
        BudgetPool.objects.visible_to(user)
        .select_related("owner")
        .annotate(call_count=Count("calls", distinct=True))
        .order_by("-year", "owner__path", "pk")  # GROUP BY drops Meta.ordering
    )
    if form.is_valid() and form.cleaned_data["year"]:
        pools = pools.filter(year=form.cleaned_data["year"])
    if wants_xlsx(request):
        return export_response(
            request,
            filename="budget_pools.xlsx",
            title=_("资金池"),
            headers=[
                _("年度"),
                _("资金层级"),
                _("名称"),
                _("限定服务领域"),
                _("限定社区类别"),
                _("资金总额（元）"),
                _("已分配（元）"),
                _("已签约（元）"),
                _("已拨付（元）"),
                _("剩余可分配（元）"),
                _("项目指南数"),
            ],
            rows=(
                [
                    p.year,
                    p.owner.name,
                    p.name,
                    p.get_service_field_display(),
                    p.get_tier_display(),
                    p.amount,
                    p.allocated,
                    p.contracted,
                    p.disbursed,
                    p.remaining,
                    p.call_count,
                ]
                for p in pools
            ),
            object_type="resources.BudgetPool",
        )
    page = Paginator(pools, 50).get_page(request.GET.get("page"))
    rows = list(page)
    totals = {
        key: sum((getattr(p, key) for p in rows), Decimal(0))
        for key in ("amount", "allocated", "contracted", "disbursed", "remaining")
    }
    context = {
        "form": form,
        "page": page,
        "totals": totals,
        "chart": _pool_chart(rows),
        "can_create": _can_fund(user),
    }
    return render(request, "resources/funding/pool_list.html", context)


def _can_fund(user: Any) -> bool:
    try:
        services.funder_level(user)
    except ValidationError:
        return False
    return True


@role_required(*FUNDER_ROLES)
def pool_create(request: HttpRequest) -> HttpResponse:
    user = user_of(request)
    try:
        level = services.funder_level(user)
    except ValidationError as exc:
        raise PermissionDenied(exc.messages[0]) from None
    form = PoolForm(request.POST or None, initial={"year": timezone.localdate().year})
    if request.method == "POST" and form.is_valid():
        try:
            pool = services.pool_create(by=user, **form.cleaned_data)
        except ValidationError as exc:
            form.apply_errors(exc)
        else:
            messages.success(request, _("资金池已创建。"))
            return redirect(pool)
    return render(request, "resources/funding/pool_form.html", {"form": form, "level": level})


@role_required(*FUNDER_ROLES)
def pool_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = user_of(request)
    pool = get_object_or_404(BudgetPool.objects.visible_to(user).select_related("owner"), pk=pk)
    calls = (
        ProjectCall.objects.visible_to(user)
        .filter(pool=pool)
        .annotate(
            application_count=Count(
                "applications",
                filter=~Q(applications__status__in=[ApplicationStatus.DRAFT]),
                distinct=True,
            ),
            awarded=Sum(
                "applications__awarded_amount",
                filter=Q(applications__status=ApplicationStatus.AWARDED),
            ),
        )
    )
    projects = [
        (p, _url(p))
        for p in ServiceProject.objects.visible_to(user)
        .filter(pool=pool)
        .select_related("organization")
        .order_by("-starts_on", "-pk")
    ]
    context = {
        "pool": pool,
        "calls": calls,
        "projects": projects,
        "chart": _pool_chart([pool]),
        "can_manage": services.can_manage(user, pool.owner),
    }
    return render(request, "resources/funding/pool_detail.html", context)


@role_required(*FUNDER_ROLES)
def pool_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = user_of(request)
    pool = get_object_or_404(BudgetPool.objects.visible_to(user).select_related("owner"), pk=pk)
    if not services.can_manage(user, pool.owner):
        raise PermissionDenied
    form = PoolEditForm(request.POST or None, pool=pool)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            services.pool_update(pool=pool, by=user, **data)
        except ConcurrentEditError as exc:
            form.add_error(None, str(exc))
        except ValidationError as exc:
            form.apply_errors(exc)
        else:
            messages.success(request, _("资金池已保存。"))
            return redirect(pool)
    return render(request, "resources/funding/pool_form.html", {"form": form, "pool": pool})


# ---- calls ---------------------------------------------------------------------------------


def _applicant_roles(user: Any) -> bool:
    return bool(user.has_role(Role.SOCIAL_ORG_MANAGER, Role.SOCIAL_WORKER))


@role_required(*CALL_READERS)
def call_list(request: HttpRequest) -> HttpResponse:
    user = user_of(request)
    services.calls_close_due()
    form = CallFilterForm(request.GET or None)
    calls = (
        ProjectCall.objects.visible_to(user)
        .select_related("pool__owner")
        .annotate(
            application_count=Count(
                "applications",
                filter=~Q(applications__status=ApplicationStatus.DRAFT),
                distinct=True,
            )
        )
        .order_by("-deadline", "-pk")  # GROUP BY drops Meta.ordering
    )
    if _applicant_roles(user) and not user.has_role(*AREA_ROLES):
        # Social organisations: the open calls above them, and those they applied to.
        calls = calls.filter(
            Q(status=CallStatus.OPEN) | Q(applications__organization_id=user.organization_id)
        ).distinct()
    if form.is_valid():
        if form.cleaned_data["year"]:
            calls = calls.filter(pool__year=form.cleaned_data["year"])
        if form.cleaned_data["status"]:
            calls = calls.filter(status=form.cleaned_data["status"])
    if wants_xlsx(request):
        return export_response(
            request,
            filename="project_calls.xlsx",
            title=_("项目指南"),
            headers=[
                _("指南编号"),
                _("名称"),
                _("资金层级"),
                _("资金池"),
                _("服务领域"),
                _("状态"),
                _("单个项目资助上限（元）"),
                _("本指南计划资金（元）"),
                _("项目周期上限（月）"),
                _("申报截止"),
                _("申报数"),
            ],
            rows=(
                [
                    c.code,
                    c.title,
                    c.pool.owner.name,
                    str(c.pool),
                    c.get_service_field_display(),
                    c.get_status_display(),
                    c.budget_ceiling,
                    c.total_budget,
                    c.max_months,
                    c.deadline,
                    c.application_count,
                ]
                for c in calls
            ),
            object_type="resources.ProjectCall",
        )
    page = Paginator(calls, 50).get_page(request.GET.get("page"))
    context = {"form": form, "page": page, "can_create": _can_fund(user), "now": timezone.now()}
    return render(request, "resources/funding/call_list.html", context)


@role_required(*FUNDER_ROLES)
def call_create(request: HttpRequest) -> HttpResponse:
    user = user_of(request)
    pools = _managed_pools(user)
    if not pools.exists():
        messages.warning(request, _("请先创建本层级的资金池。"))
        return redirect("resources:pool_list")
    initial_pool = None
    if request.GET.get("pool"):
        initial_pool = get_object_or_404(pools, pk=request.GET.get("pool"))
    data = request.POST if request.method == "POST" else None
    level = services.funder_level(user)
    form = CallForm(
        data,
        pools=pools,
        communities=_funder_communities(user, level.path),
        initial={
            "pool": initial_pool,
            "service_field": initial_pool.service_field if initial_pool else "",
            "deadline": (timezone.localtime() + timedelta(days=30)).replace(
                hour=17, minute=0, second=0, microsecond=0
            ),
        },
    )
    criteria = criteria_formset(data)
    # Reviewers are offered for the pool chosen (or to be chosen); the service checks again.
    posted = str(data.get("pool", "")) if data is not None else ""
    chosen = pools.filter(pk=posted).first() if posted.isdigit() else initial_pool
    reviewers = CallReviewersForm(data, candidates=services.reviewer_candidates(chosen or pools[0]))
    if data is not None and form.is_valid() and criteria.is_valid() and reviewers.is_valid():
        try:
            call = services.call_create(
                pool=form.cleaned_data["pool"],
                by=user,
                criteria=criteria.specs(),
                reviewers=list(reviewers.cleaned_data["reviewers"]),
                **form.values(),
            )
        except ValidationError as exc:
            form.apply_errors(exc)
        else:
            messages.success(request, _("项目指南草稿已保存；设置好评审指标与专家后即可发布。"))
            return redirect(call)
    context = {"form": form, "criteria": criteria, "reviewers": reviewers}
    return render(request, "resources/funding/call_form.html", context)


def _call_for(request: HttpRequest, pk: int) -> ProjectCall:
    return get_object_or_404(
        ProjectCall.objects.visible_to(request.user).select_related("pool__owner"), pk=pk
    )


def _managed_call(request: HttpRequest, pk: int) -> ProjectCall:
    call = _call_for(request, pk)
    if not services.can_manage(request.user, call.pool.owner):
        raise PermissionDenied
    return call


@login_required
def call_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = user_of(request)
    services.calls_close_due()
    call = _call_for(request, pk)
    manage = services.can_manage(user, call.pool.owner)
    is_reviewer = CallReviewer.objects.filter(call=call, reviewer=user).exists()
    applications = (
        Application.objects.visible_to(user)
        .filter(call=call)
        .select_related("organization")
        .order_by("rank", "-average_score", "submitted_at", "pk")
    )
    transitions = (
        [t for t in services.CALL_LIFECYCLE.allowed(call, user) if t.name != "cancel"]
        if manage
        else []
    )
    awarded = call.applications.filter(status=ApplicationStatus.AWARDED).aggregate(
        s=Sum("awarded_amount")
    )["s"] or Decimal(0)
    my_org_apps = (
        applications.filter(organization_id=user.organization_id)
        if _applicant_roles(user)
        else Application.objects.none()
    )
    reviewer_rows = (
        CallReviewer.objects.filter(call=call)
        .select_related("reviewer__organization")
        .annotate(
            submitted=Count(
                "reviewer__reviews",
                filter=Q(
                    reviewer__reviews__application__call=call,
                    reviewer__reviews__status=ReviewStatus.SUBMITTED,
                ),
            )
        )
        if manage
        else CallReviewer.objects.none()
    )
    context = {
        "call": call,
        "criteria": call.criteria.all(),
        "communities": call.communities.order_by("organization__path"),
        "applications": applications if (manage or is_reviewer) else my_org_apps,
        "show_scores": manage,
        "manage": manage,
        "is_reviewer": is_reviewer,
        "transitions": transitions,
        "can_cancel": manage and call.status in (CallStatus.DRAFT, CallStatus.OPEN),
        "cancel_form": CancelForm(),
        "reviewer_rows": reviewer_rows,
        "reviewer_form": ReviewerForm(
            candidates=services.reviewer_candidates(call.pool).exclude(
                pk__in=call.reviewers.values("reviewer")
            )
        )
        if manage and call.status not in (CallStatus.DECIDED, CallStatus.CANCELLED)
        else None,
        "can_apply": user.has_role(*APPLICANT_ROLES)
        and call.status == CallStatus.OPEN
        and call.deadline > timezone.now(),
        "awarded": awarded,
        "needs": services.call_needs(call, user),
        "now": timezone.now(),
        "criteria_total": sum(c.weight for c in call.criteria.all()),
    }
    return render(request, "resources/funding/call_detail.html", context)


@role_required(*FUNDER_ROLES)
def call_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = user_of(request)
    call = _managed_call(request, pk)
    if call.status != CallStatus.DRAFT:
        messages.error(request, _("只有草稿状态的项目指南可以修改。"))
        return redirect(call)
    data = request.POST if request.method == "POST" else None
    form = CallEditForm(
        data, call=call, communities=_funder_communities(user, call.pool.owner.path)
    )
    criteria = criteria_formset(data, call=call)
    if data is not None and form.is_valid() and criteria.is_valid():
        try:
            with transaction.atomic():  # the fields and the criteria, or neither
                services.call_update(
                    call=call,
                    by=user,
                    expected_version=form.cleaned_data["expected_version"],
                    **form.values(),
                )
                services.call_set_criteria(call=call, by=user, criteria=criteria.specs())
        except ConcurrentEditError as exc:
            form.add_error(None, str(exc))
        except ValidationError as exc:
            form.apply_errors(exc)
        else:
            messages.success(request, _("项目指南已保存。"))
            return redirect(call)
    context = {"form": form, "criteria": criteria, "call": call}
    return render(request, "resources/funding/call_form.html", context)


@role_required(*FUNDER_ROLES)
@require_POST
def call_transition(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    user = user_of(request)
    call = _managed_call(request, pk)
    try:
        if action == "open":
            services.call_open(call=call, by=user)
            messages.success(request, _("项目指南已发布，社会组织可以申报。"))
        elif action == "close":
            services.call_close(call=call, by=user)
            messages.success(request, _("已截止征集，进入评审。"))
        elif action == "decide":
            services.call_decide(call=call, by=user)
            messages.success(request, _("本指南立项工作已完成。"))
        elif action == "cancel":
            form = CancelForm(request.POST)
            if not form.is_valid():
                messages.error(request, _("请填写撤销原因。"))
                return redirect(call)
            services.call_cancel(call=call, by=user, reason=form.cleaned_data["reason"])
            messages.success(request, _("项目指南已撤销。"))
        else:
            raise Http404
    except ValidationError as exc:
        _errors_to_messages(request, exc)
    return redirect(call)


@role_required(*FUNDER_ROLES)
@require_POST
def call_reviewer_add(request: HttpRequest, pk: int) -> HttpResponse:
    user = user_of(request)
    call = _managed_call(request, pk)
    form = ReviewerForm(request.POST, candidates=services.reviewer_candidates(call.pool))
    if form.is_valid():
        try:
            services.call_add_reviewer(call=call, by=user, reviewer=form.cleaned_data["reviewer"])
        except ValidationError as exc:
            _errors_to_messages(request, exc)
        else:
            messages.success(request, _("评审专家已添加。"))
    else:
        messages.error(request, _("请选择评审专家。"))
    return redirect(call)


@role_required(*FUNDER_ROLES)
@require_POST
def call_reviewer_remove(request: HttpRequest, pk: int, reviewer_pk: int) -> HttpResponse:
    user = user_of(request)
    call = _managed_call(request, pk)
    row = get_object_or_404(
        CallReviewer.objects.select_related("reviewer"), call=call, reviewer_id=reviewer_pk
    )
    try:
        services.call_remove_reviewer(call=call, by=user, reviewer=row.reviewer)
    except ValidationError as exc:
        _errors_to_messages(request, exc)
    else:
        messages.success(request, _("已移出评审名单。"))
    return redirect(call)


# ---- applications --------------------------------------------------------------------------


@role_required(*APPLICATION_READERS)
def application_list(request: HttpRequest) -> HttpResponse:
    user = user_of(request)
    calls = ProjectCall.objects.visible_to(user).order_by("-deadline")
    form = ApplicationFilterForm(request.GET or None, calls=calls)
    applications = (
        Application.objects.visible_to(user)
        .select_related("call__pool__owner", "organization")
        .order_by("-call__deadline", "call", "rank", "-pk")
    )
    if form.is_valid():
        if form.cleaned_data["call"]:
            applications = applications.filter(call=form.cleaned_data["call"])
        if form.cleaned_data["status"]:
            applications = applications.filter(status=form.cleaned_data["status"])
    if wants_xlsx(request):
        return export_response(
            request,
            filename="applications.xlsx",
            title=_("项目申报"),
            headers=[
                _("指南编号"),
                _("项目指南"),
                _("申报机构"),
                _("项目名称"),
                _("申请金额（元）"),
                _("项目周期（月）"),
                _("受益人数"),
                _("状态"),
                _("提交时间"),
                _("评审平均分"),
                _("排名"),
                _("立项金额（元）"),
                _("立项决定理由"),
            ],
            rows=(
                [
                    a.call.code,
                    a.call.title,
                    a.organization.name,
                    a.title,
                    a.amount,
                    a.months,
                    a.beneficiaries,
                    a.get_status_display(),
                    a.submitted_at,
                    a.average_score,
                    a.rank,
                    a.awarded_amount,
                    a.decision_reason,
                ]
                for a in applications
            ),
            object_type="resources.Application",
        )
    page = Paginator(applications, 50).get_page(request.GET.get("page"))
    return render(request, "resources/funding/application_list.html", {"form": form, "page": page})


def _applicant(request: HttpRequest) -> Any:
    user = user_of(request)
    try:
        return services.applicant_org(user)
    except ValidationError as exc:
        raise PermissionDenied(exc.messages[0]) from None


@role_required(*APPLICANT_ROLES)
def application_create(request: HttpRequest, pk: int) -> HttpResponse:
    user = user_of(request)
    call = _call_for(request, pk)
    try:
        org = services.applicant_org(user)
    except ValidationError as exc:
        _errors_to_messages(request, exc)
        return redirect(call)
    data = request.POST if request.method == "POST" else None
    bundle = ApplicationBundle(data, call=call, org=org)
    if data is not None and bundle.is_valid():
        try:
            with transaction.atomic():  # "save and submit" keeps nothing when submitting fails
                application = services.application_create(call=call, by=user, **bundle.values())
                if request.POST.get("submit") == "1":
                    application = services.application_submit(application=application, by=user)
        except ValidationError as exc:
            bundle.apply_errors(exc)
        else:
            if application.status == ApplicationStatus.SUBMITTED:
                messages.success(request, _("申报已提交。"))
            else:
                messages.success(request, _("申报草稿已保存，确认无误后请提交。"))
            return redirect(application)
    context = {"bundle": bundle, "call": call, "org": org}
    return render(request, "resources/funding/application_form.html", context)


@role_required(*APPLICANT_ROLES)
def application_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = user_of(request)
    application = get_object_or_404(
        Application.objects.visible_to(user).select_related("call__pool__owner"), pk=pk
    )
    org = _applicant(request)
    if application.organization_id != org.pk:
        raise PermissionDenied
    if application.status != ApplicationStatus.DRAFT:
        messages.error(request, _("只有草稿状态的申报可以修改。"))
        return redirect(application)
    data = request.POST if request.method == "POST" else None
    initial, indicators, lines = application_initial(application)
    bundle = ApplicationBundle(
        data,
        call=application.call,
        org=org,
        initial=initial,
        indicators=indicators,
        lines=lines,
        extra_rows=1,
    )
    if data is not None and bundle.is_valid():
        try:
            with transaction.atomic():
                services.application_update(
                    application=application,
                    by=user,
                    expected_version=bundle.form.cleaned_data["expected_version"] or 0,
                    **bundle.values(),
                )
                if request.POST.get("submit") == "1":
                    services.application_submit(application=application, by=user)
        except ConcurrentEditError as exc:
            bundle.form.add_error(None, str(exc))
        except ValidationError as exc:
            bundle.apply_errors(exc)
        else:
            messages.success(request, _("申报已保存。"))
            return redirect(application)
    context = {"bundle": bundle, "call": application.call, "org": org, "application": application}
    return render(request, "resources/funding/application_form.html", context)


@role_required(*APPLICANT_ROLES)
def application_row(request: HttpRequest, kind: str) -> HttpResponse:
    """One more blank row of an application's indicators or budget lines (htmx)."""
    form_class = ROW_FORMS.get(kind)
    try:
        index = int(request.GET.get("index", ""))
    except ValueError:
        raise Http404 from None
    if form_class is None or not 0 <= index < 100:
        raise Http404
    form = form_class(prefix=f"{kind}-{index}")
    context = {"f": form, "kind": kind, "index": index, "next_index": index + 1}
    return render(request, "resources/funding/application_form.html#new-row", context)


def _reviews_of(application: Application) -> list[Review]:
    return list(
        application.reviews.select_related("reviewer__organization").prefetch_related(
            Prefetch(
                "scores",
                queryset=ReviewScore.objects.select_related("criterion").order_by("criterion__seq"),
            )
        )
    )


@role_required(*APPLICATION_READERS)
def application_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = user_of(request)
    application = get_object_or_404(
        Application.objects.visible_to(user).select_related(
            "call__pool__owner", "organization", "submitted_by", "decided_by"
        ),
        pk=pk,
    )
    call = application.call
    manage = services.can_manage(user, call.pool.owner)
    is_reviewer = CallReviewer.objects.filter(call=call, reviewer=user).exists()
    own = user.has_role(*APPLICANT_ROLES) and user.organization_id == application.organization_id
    my_review = (
        Review.objects.filter(application=application, reviewer=user).first()
        if is_reviewer
        else None
    )
    context = {
        "application": application,
        "call": call,
        "lines": application.budget_lines.all(),
        "communities": application.communities.order_by("organization__path"),
        "team": application.team.select_related("person"),
        "manage": manage,
        "own": own,
        "is_reviewer": is_reviewer,
        "my_review": my_review,
        "reviews": _reviews_of(application) if manage else [],
        "track_record": services.applicant_track_record(application.organization)
        if (manage or is_reviewer)
        else [],
        "can_edit": own and application.status == ApplicationStatus.DRAFT,
        "can_submit": own
        and application.status == ApplicationStatus.DRAFT
        and call.status == CallStatus.OPEN,
        "can_withdraw": own
        and application.status == ApplicationStatus.SUBMITTED
        and call.status == CallStatus.OPEN,
        "can_review": is_reviewer
        and call.status == CallStatus.REVIEWING
        and application.status == ApplicationStatus.SUBMITTED
        and (my_review is None or my_review.status == ReviewStatus.DRAFT),
        "can_decide": manage
        and call.status == CallStatus.REVIEWING
        and application.status == ApplicationStatus.SUBMITTED,
    }
    return render(request, "resources/funding/application_detail.html", context)


def _own_application(request: HttpRequest, pk: int) -> Application:
    application = get_object_or_404(Application.objects.visible_to(request.user), pk=pk)
    org = _applicant(request)
    if application.organization_id != org.pk:
        raise PermissionDenied
    return application


@role_required(*APPLICANT_ROLES)
@require_POST
def application_submit(request: HttpRequest, pk: int) -> HttpResponse:
    application = _own_application(request, pk)
    try:
        services.application_submit(application=application, by=user_of(request))
    except ValidationError as exc:
        _errors_to_messages(request, exc)
    else:
        messages.success(request, _("申报已提交。"))
    return redirect(application)


@role_required(*APPLICANT_ROLES)
@require_POST
def application_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    application = _own_application(request, pk)
    try:
        services.application_withdraw(application=application, by=user_of(request))
    except ValidationError as exc:
        _errors_to_messages(request, exc)
    else:
        messages.success(request, _("申报已撤回。"))
    return redirect(application)


# ---- reviews -------------------------------------------------------------------------------


@role_required(*REVIEWER_ROLES)
def review_queue(request: HttpRequest) -> HttpResponse:
    """我的评审: the applications of the calls this user reviews, with their review status."""
    user = user_of(request)
    services.calls_close_due()
    calls = (
        ProjectCall.objects.visible_to(user)
        .filter(
            reviewers__reviewer=user,
            status__in=[CallStatus.OPEN, CallStatus.REVIEWING, CallStatus.DECIDED],
        )
        .select_related("pool__owner")
        .order_by("-deadline")
    )
    mine = {
        r.application_id: r
        for r in Review.objects.filter(reviewer=user, application__call__in=calls)
    }
    groups = []
    pending = 0
    for call in calls:
        rows = []
        if call.status != CallStatus.OPEN:
            for application in (
                Application.objects.visible_to(user)
                .filter(call=call)
                .submitted()
                .select_related("organization")
                .order_by("submitted_at", "pk")
            ):
                review = mine.get(application.pk)
                todo = (
                    call.status == CallStatus.REVIEWING
                    and application.status == ApplicationStatus.SUBMITTED
                    and (review is None or review.status == ReviewStatus.DRAFT)
                )
                pending += int(todo)
                rows.append((application, review, todo))
        groups.append((call, rows))
    return render(
        request,
        "resources/funding/review_queue.html",
        {"groups": groups, "pending": pending},
    )


def _review_target(request: HttpRequest, pk: int) -> Application:
    application = get_object_or_404(
        Application.objects.visible_to(request.user).select_related(
            "call__pool__owner", "organization"
        ),
        pk=pk,
    )
    if not CallReviewer.objects.filter(call=application.call, reviewer_id=request.user.pk).exists():
        raise PermissionDenied
    return application


@role_required(*REVIEWER_ROLES)
def review_form(request: HttpRequest, pk: int) -> HttpResponse:
    user = user_of(request)
    application = _review_target(request, pk)
    criteria = list(application.call.criteria.all())
    review = Review.objects.filter(application=application, reviewer=user).first()
    form = ReviewForm(request.POST or None, criteria=criteria)
    recuse = RecuseForm()
    if request.method == "POST" and form.is_valid():
        try:
            services.review_submit(
                application=application,
                reviewer=user,
                scores=form.scores(),
                comment=form.cleaned_data["comment"],
            )
        except ValidationError as exc:
            form.apply_errors(exc)
        else:
            messages.success(request, _("评分已提交。"))
            return redirect("resources:review_queue")
    context = {
        "application": application,
        "call": application.call,
        "form": form,
        "recuse": recuse,
        "review": review,
        "conflict": services.review_conflict(application, user),
        "lines": application.budget_lines.all(),
        "team": application.team.select_related("person"),
        "track_record": services.applicant_track_record(application.organization),
    }
    return render(request, "resources/funding/review_form.html", context)


@role_required(*REVIEWER_ROLES)
@require_POST
def review_recuse(request: HttpRequest, pk: int) -> HttpResponse:
    user = user_of(request)
    application = _review_target(request, pk)
    form = RecuseForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请说明利益冲突的情况。"))
        return redirect("resources:review_form", pk=application.pk)
    try:
        services.review_recuse(
            application=application, reviewer=user, note=form.cleaned_data["conflict_note"]
        )
    except ValidationError as exc:
        _errors_to_messages(request, exc)
        return redirect("resources:review_form", pk=application.pk)
    messages.success(request, _("已声明利益冲突并回避该申报。"))
    return redirect("resources:review_queue")


# ---- award decision ------------------------------------------------------------------------


@role_required(*FUNDER_ROLES)
def application_decide(request: HttpRequest, pk: int) -> HttpResponse:
    user = user_of(request)
    application = get_object_or_404(
        Application.objects.visible_to(user).select_related("call__pool__owner", "organization"),
        pk=pk,
    )
    call = application.call
    if not services.can_manage(user, call.pool.owner):
        raise PermissionDenied
    form = DecisionForm(
        request.POST or None,
        initial={"decision": Decision.AWARD, "amount": application.amount},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if data["decision"] == Decision.AWARD:
                services.application_award(
                    application=application, by=user, amount=data["amount"], reason=data["reason"]
                )
                messages.success(request, _("已立项。"))
            else:
                services.application_reject(application=application, by=user, reason=data["reason"])
                messages.success(request, _("已决定不予立项。"))
        except ValidationError as exc:
            form.apply_errors(exc)
        else:
            return redirect(call)
    awarded = call.applications.filter(status=ApplicationStatus.AWARDED).aggregate(
        s=Sum("awarded_amount")
    )["s"] or Decimal(0)
    context = {
        "application": application,
        "call": call,
        "pool": call.pool,
        "form": form,
        "awarded": awarded,
        "call_left": call.total_budget - awarded,
        "reviews": _reviews_of(application),
        "track_record": services.applicant_track_record(application.organization),
    }
    return render(request, "resources/funding/decision_form.html", context)
