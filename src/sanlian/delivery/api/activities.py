"""JSON API of the activities part of 服务联动."""

from ninja import Router

router = Router()
