"""Pages of residents' demands (诉求): the list with filters and export, staff intake with the
routing suggestion, a demand's page with its timeline and the next steps, the routing rules,
and the two public pages a resident uses without an account (raise a demand; its status by the
secret link, where a resolved demand is rated)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from sanlian.core.audit import client_ip
from sanlian.core.decorators import role_required
from sanlian.core.forms import add_service_errors
from sanlian.core.scoping import AREA_ROLES
from sanlian.core.xlsx import disclosure_for, export_response, wants_xlsx
from sanlian.organizations.models import Community

from ..forms.demands import (
    DemandFilterForm,
    DemandForm,
    NoteForm,
    PublicDemandForm,
    RejectForm,
    RerouteForm,
    ResolveForm,
    RoutingRuleForm,
    SatisfactionForm,
)
from ..models import Demand, DemandCategory, DemandStatus, RoutingRule
from ..services import demands as services


def _user(request: HttpRequest) -> Any:
    return request.user


def _htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


# ---- list ------------------------------------------------------------------------------------


def _export(request: HttpRequest, demands: Any) -> HttpResponse:
    disclosure = disclosure_for(request.user)
    return export_response(
        request,
        filename="demands.xlsx",
        title=_("诉求"),
        headers=[
            _("编号"),
            _("接收时间"),
            _("社区"),
            _("类别"),
            _("来源渠道"),
            _("居民"),
            _("联系电话"),
            _("诉求内容"),
            _("承办组织"),
            _("分派依据"),
            _("状态"),
            _("受理期限"),
            _("办结期限"),
            _("超期"),
            _("调解在社区"),
            _("满意度"),
        ],
        rows=(
            [
                d.number,
                d.received_at,
                d.community.name,
                d.get_category_display(),
                d.get_channel_display(),
                d.resident_name,
                disclosure.phone(d.resident_phone),
                d.description,
                d.handler_org.name if d.handler_org else "",
                d.get_routing_source_display(),
                d.get_status_display(),
                d.accept_due,
                d.resolve_due,
                d.overdue_label(),
                _("是") if d.resolved_in_community else "",
                d.satisfaction,
            ]
            for d in demands.iterator(chunk_size=2000)
        ),
        object_type="delivery.Demand",
    )


@role_required(*services.HANDLER_ROLES)
def demand_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    demands: Any = Demand.objects.visible_to(user)
    form = DemandFilterForm(request.GET or None, communities=Community.objects.visible_to(user))
    overdue_total = demands.overdue().count()
    if form.is_valid():
        demands = services.filter_demands(demands, form.cleaned_data)
    elif form.is_bound:
        demands = demands.none()
    demands = demands.select_related("community", "handler_org").order_by("-received_at", "-pk")
    if wants_xlsx(request):
        return _export(request, demands)
    context = {
        "form": form,
        "page": Paginator(demands, 50).get_page(request.GET.get("page")),
        "overdue_total": overdue_total,
        "can_record": services.intake_communities(user).exists(),
    }
    template = "delivery/demands/list.html"
    return render(request, f"{template}#results" if _htmx(request) else template, context)


# ---- intake ----------------------------------------------------------------------------------


@role_required(*services.HANDLER_ROLES)
def demand_create(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    initial = {k: request.GET[k] for k in ("community", "category", "project") if k in request.GET}
    form = DemandForm(
        request.POST or None,
        initial=initial,
        communities=services.intake_communities(user),
        projects=services.demand_projects(user),
    )
    if request.method == "POST" and form.is_valid():
        try:
            demand = services.demand_record(by=user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("诉求已登记，编号 %(number)s。") % {"number": demand.number},
            )
            return redirect(demand)
    return render(request, "delivery/demands/form.html", {"form": form})


@role_required(*services.HANDLER_ROLES)
def demand_suggest(request: HttpRequest) -> HttpResponse:
    """The routing suggestion for the intake form's community and category (an htmx part)."""
    user = _user(request)
    community = services.intake_communities(user).filter(pk=_int(request.GET.get("community")))
    category = request.GET.get("category", "")
    suggestion = None
    if community.exists() and category in DemandCategory.values:
        suggestion = services.routing_suggestion(community=community.get(), category=category)
    return render(request, "delivery/demands/_suggestion.html", {"suggestion": suggestion})


def _int(value: str | None) -> int:
    try:
        return int(value or 0)
    except ValueError:
        return 0


# ---- one demand ------------------------------------------------------------------------------


def _visible(request: HttpRequest, pk: int) -> Demand:
    return get_object_or_404(
        Demand.objects.visible_to(request.user).select_related(
            "community__organization", "handler_org", "project", "created_by"
        ),
        pk=pk,
    )


def _action_forms(user: Any, demand: Demand, actions: list[str]) -> dict[str, forms.Form]:
    out: dict[str, forms.Form] = {}
    if "resolve" in actions:
        out["resolve"] = ResolveForm(prefix="resolve")
    if "close" in actions:
        out["close"] = SatisfactionForm(prefix="close")
    if "reject" in actions:
        out["reject"] = RejectForm(prefix="reject")
    if "reroute" in actions:
        out["reroute"] = RerouteForm(prefix="reroute", organizations=services.routing_targets(user))
    return out


def _detail_context(user: Any, demand: Demand, **bound: forms.Form) -> dict[str, Any]:
    actions = services.allowed_actions(user, demand)
    action_forms = _action_forms(user, demand, actions)
    action_forms.update(bound)
    return {
        "demand": demand,
        "events": demand.events.select_related("organization").order_by("at", "pk"),
        "actions": actions,
        "forms": action_forms,
        "note_form": bound.get("note") or NoteForm(prefix="note"),
        "can_note": services.may_handle(user, demand),
        "suggestion": services.routing_suggestion(
            community=demand.community, category=demand.category
        )
        if "reroute" in actions
        else None,
    }


@role_required(*services.HANDLER_ROLES)
def demand_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    demand = _visible(request, pk)
    return render(request, "delivery/demands/detail.html", _detail_context(user, demand))


ACTIONS = ("accept", "start", "resolve", "close", "reject", "reroute", "note")


def _run(user: Any, demand: Demand, action: str, data: Any) -> tuple[bool, forms.Form | None]:
    """Validate the action's form and call its service. (done, the bound form if any)."""
    form: forms.Form
    if action in ("accept", "start"):
        note = NoteForm(data, prefix="note")
        text = note.cleaned_data["note"] if note.is_valid() else ""
        call = services.demand_accept if action == "accept" else services.demand_start
        call(demand=demand, by=user, note=text)
        return True, None
    if action == "resolve":
        form = ResolveForm(data, prefix="resolve")
        if form.is_valid():
            services.demand_resolve(demand=demand, by=user, **form.cleaned_data)
            return True, None
    elif action == "close":
        form = SatisfactionForm(data, prefix="close")
        if form.is_valid():
            services.demand_close(demand=demand, by=user, **form.cleaned_data)
            return True, None
    elif action == "reject":
        form = RejectForm(data, prefix="reject")
        if form.is_valid():
            services.demand_reject(demand=demand, by=user, **form.cleaned_data)
            return True, None
    elif action == "reroute":
        form = RerouteForm(data, prefix="reroute", organizations=services.routing_targets(user))
        if form.is_valid():
            services.demand_reroute(demand=demand, by=user, **form.cleaned_data)
            return True, None
    else:
        form = NoteForm(data, prefix="note")
        if form.is_valid():
            services.demand_note(demand=demand, by=user, note=form.cleaned_data["note"])
            return True, None
    return False, form


@role_required(*services.HANDLER_ROLES)
@require_POST
def demand_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    if action not in ACTIONS:
        raise Http404
    user = _user(request)
    demand = _visible(request, pk)
    form: forms.Form | None = None
    try:
        done, form = _run(user, demand, action, request.POST)
    except ValidationError as exc:
        done = False
        if form is None:
            form = _bound_form(user, action, request.POST)
        add_service_errors(form, exc)
        messages.error(request, "；".join(str(m) for m in exc.messages))
    if done:
        messages.success(request, _("已保存。"))
        return redirect(demand)
    demand.refresh_from_db()
    bound = {action: form} if form is not None else {}
    context = _detail_context(user, demand, **bound)
    return render(request, "delivery/demands/detail.html", context, status=400)


def _bound_form(user: Any, action: str, data: Any) -> forms.Form:
    form: forms.Form
    if action == "resolve":
        form = ResolveForm(data, prefix="resolve")
    elif action == "close":
        form = SatisfactionForm(data, prefix="close")
    elif action == "reject":
        form = RejectForm(data, prefix="reject")
    elif action == "reroute":
        form = RerouteForm(data, prefix="reroute", organizations=services.routing_targets(user))
    else:
        form = NoteForm(data, prefix="note")
    form.is_valid()
    return form


# ---- routing rules ---------------------------------------------------------------------------


def _rule_form(user: Any, data: Any = None) -> RoutingRuleForm:
    return RoutingRuleForm(
        data,
        communities=services.rule_communities(user),
        streets=services.rule_streets(user),
        organizations=services.routing_targets(user),
    )


@role_required(*AREA_ROLES)
def rule_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    can_edit = user.has_role(*services.RULE_ROLES)
    form = _rule_form(user, request.POST or None) if can_edit else None
    if request.method == "POST":
        if form is None:
            raise PermissionDenied
        if form.is_valid():
            try:
                services.routing_rule_create(by=user, **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("分派规则已保存。"))
                return redirect("delivery:demand_rules")
    rules = (
        RoutingRule.objects.visible_to(user)
        .select_related("owner", "community", "street", "organization")
        .order_by("-is_active", "category", "-pk")
    )
    context = {"form": form, "rules": rules, "can_edit": can_edit}
    return render(request, "delivery/demands/rules.html", context)


@role_required(*services.RULE_ROLES)
@require_POST
def rule_deactivate(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    rule = get_object_or_404(RoutingRule.objects.visible_to(user), pk=pk)
    try:
        services.routing_rule_deactivate(rule=rule, by=user)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, _("规则已停用。"))
    return redirect("delivery:demand_rules")


# ---- public pages (no account) ---------------------------------------------------------------


@never_cache
def demand_public(request: HttpRequest) -> HttpResponse:
    """A resident raises a demand. Any active community may be chosen (names are public); the
    page shows nothing else of the system."""
    communities = Community.objects.active()
    initial = {"community": request.GET["c"]} if request.GET.get("c", "").isdigit() else {}
    form = PublicDemandForm(request.POST or None, initial=initial, communities=communities)
    if request.method == "POST" and form.is_valid():
        try:
            demand = services.demand_submit(address=client_ip(request), **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return redirect(demand.public_url() + "?new=1")
    return render(request, "delivery/demands/public_form.html", {"form": form})


@never_cache
def demand_status(request: HttpRequest, token: str) -> HttpResponse:
    """The resident's view of a demand by its secret link: status and public reply only; a
    resolved demand can be rated here, which closes it."""
    demand = get_object_or_404(Demand.objects.select_related("community"), token=token)
    form = SatisfactionForm(request.POST or None)
    if request.method == "POST":
        if demand.status != DemandStatus.RESOLVED:
            form.add_error(None, _("该诉求当前不能评价。"))
        elif form.is_valid():
            try:
                services.demand_feedback(token=token, **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                return redirect(demand.public_url() + "?rated=1")
    context = {
        "demand": demand,
        "form": form,
        "can_rate": demand.status == DemandStatus.RESOLVED,
        "new": request.GET.get("new") == "1",
        "rated": request.GET.get("rated") == "1",
    }
    return render(request, "delivery/demands/public_status.html", context)
