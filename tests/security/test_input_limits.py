"""Every form field of the app has a maximum length or a closed set of values, validated on
the server; every export neutralises spreadsheet formulas; e-mails are plain text only."""

from __future__ import annotations

import importlib
import inspect
from typing import Any

import pytest
from django import forms

FORM_MODULES = (
    "escalations.forms.actions",
    "escalations.forms.lists",
    "escalations.forms.raise_journey",
    "reports.forms",
    "ui.forms",
)


def _project_forms() -> list[type[forms.BaseForm]]:
    found = []
    for name in FORM_MODULES:
        module = importlib.import_module(name)
        for _, value in vars(module).items():
            if (
                inspect.isclass(value)
                and issubclass(value, forms.BaseForm)
                and value.__module__ == module.__name__
            ):
                found.append(value)
    return found


def _unbounded(field: forms.Field) -> list[str]:
    """Why ``field`` could take an unbounded value (empty: it cannot)."""
    if isinstance(field, forms.MultiValueField):
        return [reason for sub in field.fields for reason in _unbounded(sub)]
    if isinstance(field, (forms.ChoiceField, forms.ModelChoiceField)):
        return []  # a closed set, checked by the field on the server
    if isinstance(field, (forms.BooleanField, forms.DateField, forms.IntegerField)):
        return []
    if isinstance(field, forms.CharField):
        return [] if field.max_length else ["a CharField without max_length"]
    return [f"a {type(field).__name__} the test does not know"]


def test_every_field_of_every_form_is_bounded() -> None:
    problems = []
    classes = _project_forms()
    assert len(classes) >= 10, [c.__name__ for c in classes]
    for form_class in classes:
        for name, field in form_class.base_fields.items():
            for reason in _unbounded(field):
                problems.append(f"{form_class.__module__}.{form_class.__name__}.{name}: {reason}")
    assert not problems, "\n".join(problems)


def test_the_outcome_forms_action_fields_are_bounded() -> None:
    from escalations.forms.actions import OutcomeForm

    form: Any = OutcomeForm(state="stage_2/stage_2", outcomes=[("resolved", "Resolved")])
    for name, field in form.fields.items():
        assert not _unbounded(field), name


@pytest.mark.parametrize("trigger", ["=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠"])
def test_exports_neutralise_every_formula_trigger(trigger: str) -> None:
    from reports.exports import neutralise

    value = f'{trigger}HYPERLINK("https://evil.example","x")'
    assert neutralise(value) == "'" + value


@pytest.mark.django_db
def test_emails_are_plain_text_with_no_html_alternative(world: Any) -> None:
    from django.core import mail
    from django.utils import timezone

    from escalations.deadlines import outbox_deliver
    from escalations.models import Notification, NotificationKind
    from escalations.states import Status
    from tests.factories.differences import raise_difference

    case = raise_difference(world)
    case.children.update(name="<b onclick=alert(1)>Amira</b> Khan")
    mail.outbox.clear()
    Notification.objects.filter(email_sent_at__isnull=True).update(email_next_attempt_at=None)
    Notification.objects.create(
        recipient=world.raiser,
        difference=case,
        kind=NotificationKind.BREACH,
        subject="Stage overdue",
        stage=Status.STAGE_1,
        due_at=timezone.now(),
        email_next_attempt_at=timezone.now(),
    )
    assert outbox_deliver() == 1
    (message,) = mail.outbox
    assert message.content_subtype == "plain"
    assert getattr(message, "alternatives", []) == []
    # Only the children's initials travel by e-mail, never what was typed as a name.
    assert "<b" not in message.body and "Amira" not in message.body
