"""Pages of 组织联建: Social workers and volunteers."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from ..models import SocialWorker, Volunteer


@login_required
def social_worker_list(request: HttpRequest) -> HttpResponse:
    workers = (
        SocialWorker.objects.visible_to(request.user)
        .select_related("person", "organization")
        .order_by("organization__name", "person__name")
    )
    page = Paginator(workers, 50).get_page(request.GET.get("page"))
    return render(request, "organizations/social_worker_list.html", {"page": page})


@login_required
def volunteer_list(request: HttpRequest) -> HttpResponse:
    volunteers = (
        Volunteer.objects.visible_to(request.user)
        .select_related("person", "team")
        .order_by("team__name", "person__name")
    )
    page = Paginator(volunteers, 50).get_page(request.GET.get("page"))
    return render(request, "organizations/volunteer_list.html", {"page": page})
