"""The maths of 数据分析: pure functions over plain numbers and frozen dataclasses, with no
ORM inside (services load the data, call a method, save or show the result).

Each method refuses input it cannot give an exact, explainable answer for by raising
`MethodError` with a Chinese message a user can act on (a community with zero residents,
an indicator with no variance, contradictory allocation rules …), never by crashing or by
returning a silently wrong number.
"""

from __future__ import annotations


class MethodError(ValueError):
    """Input a method cannot answer for; `message` is Chinese, written for the user."""

    def __init__(self, message: str, *, details: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []
