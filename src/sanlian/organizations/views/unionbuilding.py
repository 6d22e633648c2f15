"""Pages of 组织联建: union building in social organisations and Trade Union Law training."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Avg, Count, OuterRef, Q, QuerySet, Subquery, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from sanlian.core import audit
from sanlian.core.decorators import role_required
from sanlian.core.editing import versioned_edit
from sanlian.core.models import AuditAction
from sanlian.core.roles import Role
from sanlian.core.xlsx import xlsx_response

from .. import services
from ..forms import (
    TraineeOrganizationForm,
    TrainingCreateForm,
    TrainingEditForm,
    UnionBuildingCreateForm,
    UnionBuildingEditForm,
    UnionBuildingFilterForm,
)
from ..forms.unionbuilding import trainee_formset
from ..models import (
    Organization,
    OrgKind,
    OrgUnionStatus,
    Person,
    TrainingAttendance,
    TrainingSession,
    UnionBuilding,
    union_status_rows,
)
from ..models.unionbuilding import rate
from .common import EDITORS, user_of

UNION_EDITORS = (*EDITORS, Role.SOCIAL_ORG_MANAGER)


def can_edit_union_building(user: Any, org: Organization) -> bool:
    if user.has_role(*EDITORS):
        return True
    return bool(user.has_role(Role.SOCIAL_ORG_MANAGER) and user.organization_id == org.pk)


def social_orgs(user: Any) -> QuerySet[Organization]:
    return Organization.objects.visible_to(user).of_kind(OrgKind.SOCIAL_ORG).active()


def _latest(field: str) -> Subquery:
    newest = UnionBuilding.objects.filter(organization=OuterRef("pk")).order_by(
        "-year", "-as_of", "-pk"
    )
    return Subquery(newest.values(field)[:1])


def _pct(value: Decimal | None) -> str:
    return f"{value}%" if value is not None else "—"


# ---- union building ------------------------------------------------------------------------


@login_required
def unionbuilding_list(request: HttpRequest) -> HttpResponse:
    user = user_of(request)
    today = timezone.localdate()
    form = UnionBuildingFilterForm(request.GET or None)
    orgs = social_orgs(user).annotate(founded_now=_latest("union_founded")).order_by("path")
    if form.is_valid():
        if form.cleaned_data["q"]:
            orgs = orgs.filter(name__contains=form.cleaned_data["q"])
        if form.cleaned_data["founded"] == "yes":
            orgs = orgs.filter(founded_now=True)
        elif form.cleaned_data["founded"] == "no":
            orgs = orgs.filter(Q(founded_now=False) | Q(founded_now__isnull=True))
    if request.GET.get("format") == "xlsx":
        audit.record(
            AuditAction.EXPORT, object_type="organizations.UnionBuilding", changes=dict(request.GET)
        )
        return xlsx_response(
            "union-building.xlsx",
            [
                _("社会组织"),
                _("统一社会信用代码"),
                _("已建立工会"),
                _("建会日期"),
                _("工会名称"),
                _("职工人数"),
                _("入会人数"),
                _("入会率"),
                _("近12个月参训人数"),
                _("培训覆盖率"),
                _("统计日期"),
            ],
            (
                [
                    r.organization.name,
                    r.organization.credit_code or "",
                    (_("是") if r.snapshot.union_founded else _("否")) if r.snapshot else "",
                    r.snapshot.founded_on if r.snapshot else None,
                    r.snapshot.union_name if r.snapshot else "",
                    r.staff_count,
                    r.snapshot.member_count if r.snapshot else None,
                    _pct(r.snapshot.membership_rate) if r.snapshot else "—",
                    r.trained,
                    _pct(r.coverage),
                    r.snapshot.as_of if r.snapshot else None,
                ]
                for r in union_status_rows(orgs, user, today)
            ),
            title=_("建会入会"),
        )
    snapshots = UnionBuilding.objects.visible_to(user).latest_per_organization()
    totals = snapshots.filter(organization__in=orgs.values("pk")).aggregate(
        staff=Sum("staff_count"),
        members=Sum("member_count"),
        founded=Count("pk", filter=Q(union_founded=True)),
    )
    trained = sum(
        TrainingAttendance.objects.visible_to(user)
        .filter(organization__in=orgs.values("pk"))
        .trained_per_organization(today)
        .values()
    )
    page = Paginator(orgs, 50).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "page": page,
        "rows": union_status_rows(page.object_list, user, today),  # type: ignore[arg-type]
        "org_count": page.paginator.count,
        "founded_count": totals["founded"] or 0,
        "staff_total": totals["staff"] or 0,
        "member_total": totals["members"] or 0,
        "member_rate": rate(totals["members"] or 0, totals["staff"] or 0),
        "trained_total": trained,
        "coverage_total": rate(trained, totals["staff"] or 0),
    }
    return render(request, "organizations/unionbuilding/unionbuilding_list.html", context)


@login_required
def unionbuilding_detail(request: HttpRequest, org_pk: int) -> HttpResponse:
    user = user_of(request)
    org = get_object_or_404(social_orgs(user), pk=org_pk)
    today = timezone.localdate()
    status: OrgUnionStatus = union_status_rows(Organization.objects.filter(pk=org.pk), user, today)[
        0
    ]
    context = {
        "org": org,
        "status": status,
        "history": UnionBuilding.objects.visible_to(user)
        .filter(organization=org)
        .order_by("-year"),
        "attendance": TrainingAttendance.objects.visible_to(user)
        .filter(organization=org)
        .select_related("session", "person")
        .order_by("-session__held_on", "attendee_name"),
        "registered_staff": Person.objects.visible_to(user).filter(employer=org).count(),
        "can_edit": can_edit_union_building(user, org),
    }
    return render(request, "organizations/unionbuilding/unionbuilding_detail.html", context)


@role_required(*UNION_EDITORS)
def unionbuilding_create(request: HttpRequest, org_pk: int) -> HttpResponse:
    user = user_of(request)
    org = get_object_or_404(social_orgs(user), pk=org_pk)
    if not can_edit_union_building(user, org):
        raise PermissionDenied
    latest = UnionBuilding.objects.filter(organization=org).order_by("-year", "-as_of").first()
    initial: dict[str, Any] = {"as_of": timezone.localdate()}
    if latest is not None:
        initial |= {
            "union_founded": latest.union_founded,
            "founded_on": latest.founded_on,
            "union_name": latest.union_name,
            "staff_count": latest.staff_count,
            "member_count": latest.member_count,
        }
    form = UnionBuildingCreateForm(
        request.POST or None, instance=UnionBuilding(organization=org), initial=initial
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.union_building_record(organization=org, **data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("建会入会情况已登记。"))
            return redirect("organizations:unionbuilding_detail", org.pk)
    return render(
        request,
        "organizations/unionbuilding/unionbuilding_form.html",
        {"form": form, "org": org},
    )


@role_required(*UNION_EDITORS)
def unionbuilding_edit(request: HttpRequest, pk: int) -> HttpResponse:
    snapshot = get_object_or_404(
        UnionBuilding.objects.visible_to(request.user).select_related("organization"), pk=pk
    )
    return versioned_edit(
        request,
        snapshot,
        UnionBuildingEditForm,
        "organizations/unionbuilding/unionbuilding_edit.html",
    )


# ---- Trade Union Law training -----------------------------------------------------------


def organisers(user: Any) -> QuerySet[Organization]:
    return Organization.objects.visible_to(user).areas().active().order_by("path")


@login_required
def training_list(request: HttpRequest) -> HttpResponse:
    user = user_of(request)
    sessions = TrainingSession.objects.visible_to(user).select_related("organiser")
    page = Paginator(sessions, 50).get_page(request.GET.get("page"))
    stats = {
        r["session_id"]: r
        for r in TrainingAttendance.objects.visible_to(user)
        .filter(session__in=[s.pk for s in page])
        .values("session_id")
        .annotate(
            attended=Count("pk", filter=Q(attended=True)),
            orgs=Count("organization", distinct=True),
            avg=Avg("test_score"),
        )
        .order_by()
    }
    rows = [(s, stats.get(s.pk, {})) for s in page]
    context = {"page": page, "rows": rows, "can_edit": user.has_role(*EDITORS)}
    return render(request, "organizations/unionbuilding/training_list.html", context)


@role_required(*EDITORS)
def training_create(request: HttpRequest) -> HttpResponse:
    user = user_of(request)
    form = TrainingCreateForm(request.POST or None, organisers=organisers(user))
    if request.method == "POST" and form.is_valid():
        session = form.save()
        messages.success(request, _("培训已登记，请录入参训人员。"))
        return redirect(session)
    return render(request, "organizations/unionbuilding/training_form.html", {"form": form})


@login_required
def training_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = user_of(request)
    session = get_object_or_404(
        TrainingSession.objects.visible_to(user).select_related("organiser"), pk=pk
    )
    attendance = list(
        TrainingAttendance.objects.visible_to(user)
        .filter(session=session)
        .select_related("organization", "person")
        .order_by("organization__name", "attendee_name")
    )
    by_org: dict[int, list[TrainingAttendance]] = defaultdict(list)
    for a in attendance:
        by_org[a.organization_id].append(a)
    orgs = Organization.objects.filter(pk__in=by_org).order_by("name")
    summaries = []
    for status in union_status_rows(orgs, user, timezone.localdate()):
        rows = by_org[status.organization.pk]
        scores = [a.test_score for a in rows if a.test_score is not None]
        summaries.append(
            {
                "status": status,
                "registered": len(rows),
                "attended": sum(1 for a in rows if a.attended),
                "average": (Decimal(sum(scores)) / len(scores)).quantize(Decimal("0.1"))
                if scores
                else None,
            }
        )
    context = {
        "session": session,
        "attendance": attendance,
        "summaries": summaries,
        "can_edit": user.has_role(*EDITORS),
    }
    return render(request, "organizations/unionbuilding/training_detail.html", context)


@role_required(*EDITORS)
def training_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = user_of(request)
    session = get_object_or_404(TrainingSession.objects.visible_to(user), pk=pk)
    choices = organisers(user)

    class Form(TrainingEditForm):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, organisers=choices, **kwargs)

    return versioned_edit(request, session, Form, "organizations/unionbuilding/training_edit.html")


@role_required(*EDITORS)
def training_attendance(request: HttpRequest, pk: int) -> HttpResponse:
    """The sign-in sheet of one social organisation at a session: its registered staff are
    listed to tick and score; others are typed by name."""
    user = user_of(request)
    session = get_object_or_404(TrainingSession.objects.visible_to(user), pk=pk)
    candidates = social_orgs(user).order_by("name")
    org_id = request.POST.get("organization") or request.GET.get("organization")
    if not org_id:
        picker = TraineeOrganizationForm(organizations=candidates)
        return render(
            request,
            "organizations/unionbuilding/training_attendance.html",
            {"session": session, "picker": picker},
        )
    org = get_object_or_404(candidates, pk=org_id)
    staff = Person.objects.visible_to(user).filter(employer=org).order_by("name", "pk")
    data = request.POST if request.method == "POST" else None
    initial = None
    if data is None:
        existing: dict[int | str, TrainingAttendance] = {
            (a.person_id or a.attendee_name): a for a in session.attendance.filter(organization=org)
        }
        initial = []
        for p in staff:
            row = existing.pop(p.pk, None)
            initial.append(
                {
                    "person": p,
                    "attendee_name": p.name,
                    "attended": row.attended if row else False,
                    "test_score": row.test_score if row else None,
                }
            )
        for row in existing.values():
            initial.append(
                {
                    "attendee_name": row.attendee_name,
                    "attended": row.attended,
                    "test_score": row.test_score,
                }
            )
    formset = trainee_formset(data, staff=staff, initial=initial)
    if data is not None and formset.is_valid():
        try:
            saved = services.training_attendance_record(
                session=session,
                organization=org,
                trainees=[
                    services.TraineeSpec(
                        attendee_name=r.get("attendee_name", ""),
                        person=r.get("person"),
                        attended=bool(r.get("attended")),
                        test_score=r.get("test_score"),
                    )
                    for r in formset.rows()
                ],
            )
        except ValidationError as exc:
            for m in exc.messages:
                messages.error(request, m)
        else:
            messages.success(
                request,
                _("已保存%(org)s的签到：%(n)d人。") % {"org": org.name, "n": len(saved)},
            )
            return redirect(session)
    context = {"session": session, "org": org, "formset": formset}
    return render(request, "organizations/unionbuilding/training_attendance.html", context)
