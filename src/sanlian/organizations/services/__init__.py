"""Writes of 组织联建: keyword-only, typed, atomic functions, one module per part."""

from .people import person_create

__all__ = ["person_create"]
