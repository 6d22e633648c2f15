"""JSON API of the groups part of 服务联动."""

from ninja import Router

router = Router()
