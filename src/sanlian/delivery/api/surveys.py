"""JSON API of the surveys part of 服务联动."""

from ninja import Router

router = Router()
