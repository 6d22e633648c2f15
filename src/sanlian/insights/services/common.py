"""What the analysis services share: who may write (the area of federation or area staff)
and counting rows per community by the organisation path they hang on."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Count, QuerySet

from sanlian.core.models import User
from sanlian.organizations.models import Organization
from sanlian.resources.services.ledger import OVERVIEW_ROLES

# The analysis pages are the funding levels' tools: federation and area staff.
ROLES = OVERVIEW_ROLES


def analysis_area(by: User, refusal: str) -> Organization:
    """The area node of a federation or area staff member; PermissionDenied(refusal) for
    anyone else (the caller names what was refused, in Chinese)."""
    if not by.has_role(*ROLES) or by.organization is None:
        raise PermissionDenied(refusal)
    return by.organization.area_node()


def count_per_community(
    qs: QuerySet[Any], path_field: str, paths: dict[str, int]
) -> dict[int, int]:
    """Counts of rows per community, by the organisation path of the row (`paths`: each
    community organisation's path → community id). Rows of every organisation inside the
    community count: its union, social organisations, teams."""
    out: dict[int, int] = defaultdict(int)
    for path, n in qs.order_by().values_list(path_field).annotate(n=Count("pk")):
        # Paths are "/1/5/20/": the community is the ancestor (or self) whose path is known,
        # found by walking up the segments (a dict lookup each, not a scan of the communities).
        prefix = "/"
        for segment in (path or "").strip("/").split("/"):
            prefix += f"{segment}/"
            if prefix in paths:
                out[paths[prefix]] += n
                break
    return out
