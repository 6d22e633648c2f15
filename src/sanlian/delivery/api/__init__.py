"""JSON API of 服务联动. Every read and every id in a body goes through visible_to().

Each part has its module with a `router`; they are mounted here."""

from ninja import Router

from . import activities, cases, demands, groups, surveys

router = Router(tags=["服务联动"])
for part in (surveys, demands, cases, groups, activities):
    router.add_router("", part.router)
