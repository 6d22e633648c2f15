"""Money: exact decimals in 元 with two places (分), never floats."""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
# Up to 999,999,999,999.99 元: a city's whole annual budget fits.
MAX_DIGITS = 14


class MoneyField(models.DecimalField):  # type: ignore[type-arg]
    """An amount in 元 to the 分."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max_digits", MAX_DIGITS)
        kwargs.setdefault("decimal_places", 2)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, _path, args, kwargs = super().deconstruct()
        return name, "django.db.models.DecimalField", args, kwargs


def split(amount: Decimal, parts: int) -> list[Decimal]:
    """`amount` in `parts` shares to the 分 that add up exactly, the remainder on the last (how
    a disbursement is shared among a project's communities)."""
    share = (amount / parts).quantize(CENT, rounding=ROUND_DOWN)
    return [share] * (parts - 1) + [amount - share * (parts - 1)]


def yuan(value: Decimal | int | str) -> str:
    """¥1,234.50 for pages."""
    return f"¥{Decimal(value):,.2f}"


MONEY_HELP = _("单位：元，最多两位小数")
