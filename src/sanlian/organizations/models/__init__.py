"""Link 1, 组织联建: the organisation tree, communities, people and their unions.

One module per part (a package since it passed ~500 lines); import from here.
"""

from .people import Membership, MembershipQuerySet, MembershipStatus, Person, PersonQuerySet, Sex
from .tree import (
    AREA_KINDS,
    Community,
    CommunityQuerySet,
    Organization,
    OrganizationQuerySet,
    OrgKind,
    Tier,
)
from .workforce import (
    Qualification,
    SocialWorker,
    SocialWorkerQuerySet,
    Volunteer,
    VolunteerQuerySet,
)

__all__ = [
    "AREA_KINDS",
    "Community",
    "CommunityQuerySet",
    "Membership",
    "MembershipQuerySet",
    "MembershipStatus",
    "OrgKind",
    "Organization",
    "OrganizationQuerySet",
    "Person",
    "PersonQuerySet",
    "Qualification",
    "Sex",
    "SocialWorker",
    "SocialWorkerQuerySet",
    "Tier",
    "Volunteer",
    "VolunteerQuerySet",
]
