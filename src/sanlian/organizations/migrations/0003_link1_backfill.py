"""Backfill what the link-1 schema added for rows that existed before it: search keys,
new-employment kinds, the current area period of each community, volunteer hour totals."""

from django.db import migrations
from django.db.models import Sum


def backfill(apps, schema_editor):
    from django.utils import timezone

    from sanlian.organizations.pinyin import search_keys

    Person = apps.get_model("organizations", "Person")
    Organization = apps.get_model("organizations", "Organization")
    Community = apps.get_model("organizations", "Community")
    CommunityAreaPeriod = apps.get_model("organizations", "CommunityAreaPeriod")
    Volunteer = apps.get_model("organizations", "Volunteer")

    Person.objects.filter(is_new_employment=True, new_employment_kind="").update(
        new_employment_kind="other"
    )
    for model, is_person in ((Person, True), (Organization, False), (Community, False)):
        batch = []
        for row in model.objects.filter(search_text="").only("pk", "name").iterator(2000):
            row.search_text = " " + search_keys(row.name, is_person_name=is_person)
            batch.append(row)
            if len(batch) >= 2000:
                model.objects.bulk_update(batch, ["search_text"])
                batch = []
        model.objects.bulk_update(batch, ["search_text"])

    today = timezone.localdate()
    CommunityAreaPeriod.objects.bulk_create(
        CommunityAreaPeriod(
            community_id=c.pk, street_id=c.street_id, district_id=c.district_id, valid_from=today
        )
        for c in Community.objects.filter(area_periods__isnull=True)
    )

    # Hour totals are now the sum of confirmed logs (older rows held free-typed numbers).
    for v in Volunteer.objects.all().iterator(2000):
        total = v.hour_logs.filter(status="confirmed").aggregate(t=Sum("hours"))["t"] or 0
        if v.hours_logged != total:
            Volunteer.objects.filter(pk=v.pk).update(hours_logged=total)


class Migration(migrations.Migration):
    dependencies = [("organizations", "0002_link1_structure")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
