"""JSON API of the funding part of 资源联合."""

from ninja import Router

router = Router()
