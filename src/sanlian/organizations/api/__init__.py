"""JSON API of 组织联建. Every read and every id in a body goes through visible_to().

Each part has its module with a `router`; they are mounted here.
"""

from ninja import Router

from . import core_records

router = Router(tags=["组织联建"])
router.add_router("", core_records.router)
