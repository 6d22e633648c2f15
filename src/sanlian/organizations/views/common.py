"""What the page modules of 组织联建 share."""

from typing import Any

from django.http import HttpRequest

from sanlian.core.roles import Role
from sanlian.core.scoping import AREA_ROLES

# Who may edit the tree, communities and people of their area.
EDITORS = (*AREA_ROLES,)
# Restructuring areas (moving, merging, splitting communities) is district/street or city work.
RESTRUCTURERS = (Role.FEDERATION_STAFF, Role.AREA_STAFF)


def user_of(request: HttpRequest) -> Any:
    return request.user
