"""Query pieces shared by the apps' reads."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, QuerySet, Subquery
from django.db.models.functions import Coalesce


def count_of(rows: QuerySet[Any], key: str) -> Coalesce:
    """The number of `rows` (filtered on an OuterRef, so all with the same `key`), as a
    subquery; 0 when there are none. Counting in a correlated subquery rather than joining
    and grouping keeps a list's query small: a join multiplies the rows it counts."""
    # COUNT(*), not COUNT(id): the index of `key` alone answers it (an index-only scan).
    counted = rows.order_by().values(key).annotate(n=Count("*")).values("n")
    return Coalesce(Subquery(counted), 0)
