"""JSON API of the cases part of 服务联动."""

from ninja import Router

router = Router()
