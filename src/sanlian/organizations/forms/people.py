"""Forms for people and memberships."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _


class PersonFilterForm(forms.Form):
    q = forms.CharField(label=_("姓名/手机号/身份证号"), required=False)
    community = forms.TypedChoiceField(
        label=_("社区"), required=False, coerce=int, empty_value=None
    )

    def __init__(self, *args: Any, communities: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["community"].choices = [("", _("全部社区")), *communities]  # type: ignore[attr-defined]
