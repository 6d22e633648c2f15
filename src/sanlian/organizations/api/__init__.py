"""JSON API of 组织联建. Every read and every id in a body goes through visible_to().

Each part has its module with a `router`; they are mounted here.
"""

from ninja import Router

from . import cobuilding, imports, people, tree, unionbuilding, workforce

router = Router(tags=["组织联建"])
router.add_router("", people.router)
router.add_router("", tree.router)
router.add_router("", workforce.router)
router.add_router("", cobuilding.router)
router.add_router("", unionbuilding.router)
router.add_router("", imports.router)
