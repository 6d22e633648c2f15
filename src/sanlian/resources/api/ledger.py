"""JSON API of the ledger part of 资源联合."""

from ninja import Router

router = Router()
