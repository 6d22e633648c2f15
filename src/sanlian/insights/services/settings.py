"""Writes of an area's fairness alert settings."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _

from sanlian.core.models import User

from ..models import FairnessSettings
from .common import analysis_area


@transaction.atomic
def fairness_settings_save(
    *, by: User, star_share_alert: Decimal, weak_idle_days: int
) -> FairnessSettings:
    """The alert thresholds of the area of `by` (federation or area staff)."""
    area = analysis_area(by, _("只有工会联合会或区域工作人员可以设置预警。"))
    found = FairnessSettings.objects.select_for_update().filter(area=area).first()
    settings = found or FairnessSettings(area=area)
    settings.star_share_alert = star_share_alert
    settings.weak_idle_days = weak_idle_days
    settings.save()
    return settings
