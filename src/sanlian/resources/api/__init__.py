"""JSON API of 资源联合. Every read and every id in a body goes through visible_to().

Each part has its module with a `router`; they are mounted here."""

from ninja import Router

from . import funding, ledger, projects

router = Router(tags=["资源联合"])
router.add_router("", funding.router)
router.add_router("", projects.router)
router.add_router("", ledger.router)
