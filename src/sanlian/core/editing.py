"""Editing a versioned record from a page: optimistic concurrency with a three-way merge.

The form carries the version and a signed copy of the values the user started from. When
someone else saved in between, nothing is written; fields only the other person changed are
taken over, fields only this user changed are kept, and fields both changed differently are
shown side by side for the user to decide. Never last-write-wins.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core import signing
from django.db import models
from django.forms.models import model_to_dict
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from .services import ConcurrentEditError, FieldConflict, save_versioned

_SALT = "sanlian.editing.original"


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, models.Model):
        return str(value.pk)
    return str(value)


class VersionedModelForm(forms.ModelForm):  # type: ignore[type-arg]
    expected_version = forms.IntegerField(widget=forms.HiddenInput)
    original = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.fields["expected_version"].initial = self.instance.version
            self.fields["original"].initial = signing.dumps(self._current_texts(), salt=_SALT)

    def model_field_names(self) -> list[str]:
        return [n for n in self.fields if n not in ("expected_version", "original")]

    def _current_texts(self, instance: models.Model | None = None) -> dict[str, str]:
        values = model_to_dict(instance or self.instance, fields=self.model_field_names())
        return {k: _as_text(v) for k, v in values.items()}

    def original_texts(self) -> dict[str, str] | None:
        try:
            data = signing.loads(self.cleaned_data.get("original") or "", salt=_SALT)
        except signing.BadSignature:
            return None
        return data if isinstance(data, dict) else None

    def merge(self, current: models.Model, version: int) -> list[FieldConflict]:
        """Rebase this edit on the record as it now is; return the fields still in conflict."""
        original = self.original_texts()
        theirs = self._current_texts(current)
        data = self.data.copy()  # type: ignore[attr-defined]  # a QueryDict
        conflicts = []
        for name in self.model_field_names():
            yours = _as_text(self.cleaned_data.get(name))
            base = original.get(name) if original is not None else None
            if yours == theirs[name]:
                continue
            if base is not None and yours == base:
                data[self.add_prefix(name)] = theirs[name]  # only they changed it: take theirs
                continue
            if base is not None and theirs[name] == base:
                continue  # only you changed it: keep yours
            label = str(self.fields[name].label or name)
            conflicts.append(FieldConflict(name, label, theirs[name], yours))
        data[self.add_prefix("expected_version")] = str(version)
        data[self.add_prefix("original")] = signing.dumps(theirs, salt=_SALT)
        self.data = data
        return conflicts


def versioned_edit(
    request: HttpRequest,
    instance: models.Model,
    form_class: type[VersionedModelForm],
    template: str,
) -> HttpResponse:
    form = form_class(request.POST or None, instance=instance)
    conflicts = None
    merged = False
    if request.method == "POST" and form.is_valid():
        try:
            save_versioned(
                form.instance,
                expected_version=form.cleaned_data["expected_version"],
                fields=form.model_field_names(),
            )
        except ConcurrentEditError as exc:
            current = type(instance)._default_manager.get(pk=instance.pk)
            conflicts = form.merge(current, exc.current_version)
            merged = not conflicts
            form = form_class(form.data, instance=current)
            form.is_valid()
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("已保存。"))
            return redirect(instance.get_absolute_url())  # type: ignore[attr-defined]
    context = {"form": form, "object": instance, "conflicts": conflicts, "merged": merged}
    return render(request, template, context)
