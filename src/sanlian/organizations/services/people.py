"""Writes about people and memberships."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from sanlian.core import crypto
from sanlian.core.validators import parse_resident_id

from ..models import Community, Person


@transaction.atomic
def person_create(
    *,
    name: str,
    community: Community,
    id_number: str = "",
    phone: str = "",
    sex: str = "",
    birth_date: date | None = None,
    address: str = "",
    workplace: str = "",
    is_retired: bool = False,
    is_new_employment: bool = False,
) -> Person:
    """Create a resident; the same ID number twice is a duplicate, never a second person."""
    if id_number:
        try:
            rid = parse_resident_id(id_number)
        except ValidationError as exc:
            raise ValidationError({"id_number": exc.messages}) from exc
        id_number = rid.number
        sex = sex or rid.sex
        birth_date = birth_date or rid.birth_date
        if Person.objects.filter(id_number_hash=crypto.search_hash(id_number)).exists():
            raise ValidationError(
                {"id_number": _("身份证号已登记，请勿重复录入（可在居民列表中按身份证号查找）")}
            )
    if not sex:
        raise ValidationError({"sex": _("请选择性别或填写身份证号")})
    person = Person(
        name=name,
        community=community,
        phone=phone,
        sex=sex,
        birth_date=birth_date,
        address=address,
        workplace=workplace,
        is_retired=is_retired,
        is_new_employment=is_new_employment,
    )
    person.set_id_number(id_number)
    person.save()
    return person
