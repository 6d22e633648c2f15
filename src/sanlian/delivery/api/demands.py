"""JSON API of the demands part of 服务联动."""

from ninja import Router

router = Router()
