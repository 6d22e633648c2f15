"""Forms of 组织联建, shared by the pages, the Excel import and the API."""

from .people import PersonFilterForm
from .tree import CommunityForm, OrganizationForm

__all__ = ["CommunityForm", "OrganizationForm", "PersonFilterForm"]
