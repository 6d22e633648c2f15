"""Pages of the resource ledger: the scoped list with filters, totals and export, recording and
correcting, the monthly volunteer hours, the city's view by community and tier, and the
community page's resources section."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from sanlian.core.models import AuditAction, AuditEntry
from sanlian.core.roles import Role
from sanlian.organizations.models import HourLogStatus
from sanlian.resources.models import ResourceEntry, ResourceKind

from ..conftest import World
from ..organizations.factories_workforce import VolunteerHourLogFactory
from .factories import ResourceEntryFactory, project_in

pytestmark = pytest.mark.django_db

LIST = reverse("resources:ledger_list")
NEW = reverse("resources:ledger_create")
OVERVIEW = reverse("resources:resources_overview")
THIS_YEAR = dt.date(timezone.localdate().year, 1, 15)


def _entries(world: World) -> tuple[ResourceEntry, ResourceEntry]:
    return (
        ResourceEntryFactory(community=world.c1, value=Decimal("1200.00"), occurred_on=THIS_YEAR),
        ResourceEntryFactory(community=world.c2, value=Decimal("800.00"), occurred_on=THIS_YEAR),
    )


# ---- the list ----------------------------------------------------------------------------------


def test_the_list_shows_the_entries_in_scope(world: World) -> None:
    near, _far = _entries(world)
    response = world.client(Role.COMMUNITY_CADRE).get(LIST)
    assert [e.pk for e in response.context["page"]] == [near.pk]


def test_the_list_filters_by_kind_and_totals_what_it_shows(world: World) -> None:
    _entries(world)
    ResourceEntryFactory(community=world.c1, kind=ResourceKind.IN_KIND, value=Decimal("50.50"))
    response = world.client(Role.FEDERATION_STAFF).get(LIST, {"kind": ResourceKind.MATERIALS})
    assert response.context["total"] == Decimal("2000.00")


def test_the_list_filters_by_date(world: World) -> None:
    near, _far = _entries(world)
    ResourceEntryFactory(community=world.c1, occurred_on=THIS_YEAR - dt.timedelta(days=60))
    response = world.client(Role.COMMUNITY_CADRE).get(
        LIST, {"date_from": THIS_YEAR.isoformat(), "date_to": THIS_YEAR.isoformat()}
    )
    assert [e.pk for e in response.context["page"]] == [near.pk]


def test_an_htmx_filter_returns_only_the_results(world: World) -> None:
    _entries(world)
    response = world.client(Role.COMMUNITY_CADRE).get(LIST, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert 'id="ledger-results"' in body and "<html" not in body


def test_the_export_holds_the_filtered_rows_and_is_audited(world: World) -> None:
    _entries(world)
    response = world.client(Role.FEDERATION_STAFF).get(
        LIST, {"community": world.c2.pk, "format": "xlsx"}
    )
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    exported = AuditEntry.objects.filter(
        action=AuditAction.EXPORT, object_type="resources.ResourceEntry"
    ).get()
    assert (len(rows), rows[1][1], rows[1][8], exported.changes["rows"]) == (2, "丽都社区", 800, 1)


def test_funds_rows_offer_no_edit_link(world: World) -> None:
    funds = ResourceEntryFactory(community=world.c1, kind=ResourceKind.FUNDS)
    response = world.client(Role.COMMUNITY_CADRE).get(LIST)
    assert funds.pk not in response.context["editable"]


# ---- recording ---------------------------------------------------------------------------------


def _form(world: World, **fields: object) -> dict[str, object]:
    data: dict[str, object] = {
        "community": world.c1.pk,
        "kind": ResourceKind.IN_KIND,
        "description": "捐赠图书200册",
        "source_name": "北方图书城",
        "value": "3000",
        "occurred_on": timezone.localdate().isoformat(),
    }
    data.update(fields)
    return data


def test_recording_a_resource_through_the_page(world: World) -> None:
    response = world.client(Role.COMMUNITY_CADRE).post(NEW, _form(world))
    entry = ResourceEntry.objects.get()
    assert (response.status_code, entry.description, entry.value) == (
        302,
        "捐赠图书200册",
        Decimal("3000.00"),
    )


def test_the_page_offers_no_funds_kind(world: World) -> None:
    response = world.client(Role.COMMUNITY_CADRE).get(NEW)
    kinds = [value for value, _label in response.context["form"].fields["kind"].choices]
    assert ResourceKind.FUNDS not in kinds


def test_an_amount_with_three_decimals_is_refused_on_the_page(world: World) -> None:
    response = world.client(Role.COMMUNITY_CADRE).post(NEW, _form(world, value="10.001"))
    assert response.context["form"].errors == {"value": ["金额最多保留两位小数（到分）。"]}


def test_a_services_refusal_lands_on_its_field(world: World) -> None:
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    response = world.client(Role.COMMUNITY_CADRE).post(NEW, _form(world, occurred_on=tomorrow))
    assert response.context["form"].errors == {"occurred_on": ["日期不能晚于今天。"]}


def test_a_volunteer_cannot_open_the_recording_page(world: World) -> None:
    assert world.client(Role.VOLUNTEER).get(NEW).status_code == 403


def test_editing_a_funds_row_is_forbidden(world: World) -> None:
    funds = ResourceEntryFactory(community=world.c1, kind=ResourceKind.FUNDS)
    response = world.client(Role.COMMUNITY_CADRE).get(
        reverse("resources:ledger_edit", args=[funds.pk])
    )
    assert response.status_code == 403


def test_an_entry_is_deleted_from_its_page(world: World) -> None:
    entry = ResourceEntryFactory(community=world.c1, source_name="超市")
    world.client(Role.COMMUNITY_CADRE).post(reverse("resources:ledger_delete", args=[entry.pk]))
    assert not ResourceEntry.objects.filter(pk=entry.pk).exists()


def test_the_monthly_volunteer_hours_are_previewed_then_recorded(world: World) -> None:
    month = (timezone.localdate().replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    VolunteerHourLogFactory(
        volunteer=world.people["volunteer"].volunteer,
        served_on=month,
        status=HourLogStatus.CONFIRMED,
        confirmed_at=timezone.now(),
    )
    client = world.client(Role.COMMUNITY_CADRE)
    url = reverse("resources:volunteer_hours_record")
    data = {"community": world.c1.pk, "month": month.strftime("%Y-%m")}
    preview = client.post(url, data).context["preview"]
    client.post(url, {**data, "confirm": "1"})
    entry = ResourceEntry.objects.get(kind=ResourceKind.VOLUNTEER_HOURS)
    assert (preview.hours, entry.quantity, entry.occurred_on) == (
        Decimal("2.00"),
        Decimal("2.00"),
        month,
    )


# ---- the city's view ---------------------------------------------------------------------------


def test_the_overview_shows_what_weak_communities_received(world: World) -> None:
    _entries(world)  # C1 is a star community, C2 a weak one
    response = world.client(Role.FEDERATION_STAFF).get(OVERVIEW)
    overview = response.context["overview"]
    assert (overview.total.total, overview.weak_share) == (Decimal("2000.00"), Decimal("40.0"))


def test_the_overview_counts_per_capita(world: World) -> None:
    _entries(world)
    response = world.client(Role.FEDERATION_STAFF).get(OVERVIEW)
    weak = response.context["weak"]
    assert (weak.population, weak.per_capita) == (5000, Decimal("0.16"))


def test_the_overview_takes_one_year(world: World) -> None:
    _entries(world)
    last_year = THIS_YEAR.year - 1
    ResourceEntryFactory(
        community=world.c1, value=Decimal("7"), occurred_on=dt.date(last_year, 5, 1)
    )
    response = world.client(Role.FEDERATION_STAFF).get(OVERVIEW, {"year": last_year})
    assert response.context["overview"].total.total == Decimal("7.00")


def test_the_overview_of_a_district_holds_its_communities_only(world: World) -> None:
    _entries(world)
    response = world.client(Role.AREA_STAFF).get(OVERVIEW)
    assert [r.label for r in response.context["overview"].rows] == ["凯旋社区"]


def test_the_overview_charts_each_tier(world: World) -> None:
    _entries(world)
    response = world.client(Role.FEDERATION_STAFF).get(OVERVIEW)
    assert response.context["share_chart"]["series"][0]["data"] == ["60.0", "0", "40.0"]


def test_the_overview_is_for_federation_and_area_staff(world: World) -> None:
    assert world.client(Role.COMMUNITY_CADRE).get(OVERVIEW).status_code == 403


def test_the_overview_exports_its_communities(world: World) -> None:
    _entries(world)
    response = world.client(Role.FEDERATION_STAFF).get(OVERVIEW, {"format": "xlsx"})
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert [r[0] for r in rows[1:]] == ["凯旋社区", "丽都社区"]


# ---- the community page ------------------------------------------------------------------------


def test_the_community_page_shows_its_projects_and_resources(world: World) -> None:
    project = project_in(world.city, world.c1, world.o1)
    ResourceEntryFactory(
        community=world.c1, value=Decimal("1234.00"), occurred_on=timezone.localdate()
    )
    response = world.client(Role.COMMUNITY_CADRE).get(world.c1.get_absolute_url())
    section = next(
        s.context
        for s in response.context["sections"]
        if s.template_name.endswith("_community.html")
    )
    assert (section["projects"], section["total"]) == ([project], Decimal("1234.00"))


def test_the_community_page_renders_the_section(world: World) -> None:
    project_in(world.city, world.c1, world.o1)
    response = world.client(Role.COMMUNITY_CADRE).get(world.c1.get_absolute_url())
    assert 'data-testid="community-resources"' in response.content.decode()


def test_the_sidebar_offers_the_ledger(world: World) -> None:
    response = world.client(Role.COMMUNITY_CADRE).get(LIST)
    assert any(link["url"] == LIST for s in response.context["nav_sections"] for link in s["links"])
