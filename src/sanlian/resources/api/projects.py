"""JSON API of the projects part of 资源联合."""

from ninja import Router

router = Router()
