"""Pages of 组织联建: Residents, workers and union members."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _

from sanlian.core import audit
from sanlian.core.models import AuditAction
from sanlian.core.xlsx import xlsx_response

from ..forms import PersonFilterForm
from ..models import Community, Person
from ..queries import person_search
from .common import user_of


@login_required
def person_list(request: HttpRequest) -> HttpResponse:
    user = user_of(request)
    communities = [(c.pk, c.name) for c in Community.objects.visible_to(user).only("id", "name")]
    form = PersonFilterForm(request.GET or None, communities=communities)
    people = person_search(user, form.data.get("q", "") if form.is_bound else "")
    if form.is_valid() and form.cleaned_data["community"]:
        people = people.filter(community_id=form.cleaned_data["community"])
    people = people.select_related("community").order_by("pk")
    if request.GET.get("format") == "xlsx":
        audit.record(
            AuditAction.EXPORT, object_type="organizations.Person", changes=dict(request.GET)
        )
        return xlsx_response(
            "people.xlsx",
            [_("姓名"), _("性别"), _("身份证号"), _("手机号"), _("社区"), _("工作单位"), _("退休")],
            (
                [
                    p.name,
                    p.get_sex_display(),
                    p.id_number_masked,
                    p.phone,
                    p.community.name,
                    p.workplace,
                    _("是") if p.is_retired else _("否"),
                ]
                for p in people.iterator(chunk_size=2000)
            ),
            title=_("居民"),
        )
    page = Paginator(people, 50).get_page(request.GET.get("page"))
    return render(request, "organizations/person_list.html", {"form": form, "page": page})


@login_required
def person_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = user_of(request)
    person = get_object_or_404(
        Person.objects.visible_to(user).select_related("community", "employer"), pk=pk
    )
    full_id = None
    if request.method == "POST" and request.POST.get("reveal") == "id_number":
        # Showing the full ID number is a view of confidential data: audited every time.
        full_id = person.id_number()
        audit.record_view(request, person, "id_number")
    context = {
        "person": person,
        "full_id": full_id,
        "memberships": person.memberships.select_related("union").order_by("-joined_on"),
    }
    return render(request, "organizations/person_detail.html", context)
