"""Forms of the raise-a-difference journey: one question per page, shapes only.

Choices that depend on the person (their agencies, the partnership's agencies, categories and
people) are passed in by the view as ``(value, label)`` pairs, so a tampered id is simply not
one of the choices and gives a field error. ``escalations.services.difference_raise`` makes
the decisions.
"""

from __future__ import annotations

from typing import Any

from django import forms

from escalations.states import Context
from ui.forms import GovukDateField

SHORT_TEXT = 200
ADDRESS_TEXT = 500
LONG_TEXT = 20_000
MAX_CHILDREN = 20

YES, NO = "yes", "no"
YES_NO: list[tuple[str, str]] = [(YES, "Yes"), (NO, "No")]
URGENT, STANDARD = "urgent", "standard"

Choices = list[tuple[str, str]]


def _choice(
    label: str, message: str, choices: Choices, *, help_text: str = "", select: bool = False
) -> forms.ChoiceField:
    """A required single choice (radios, or a select), one message for missing or invalid."""
    return forms.ChoiceField(
        label=label,
        choices=choices,
        help_text=help_text,
        widget=forms.Select if select else forms.RadioSelect,
        error_messages={"required": message, "invalid_choice": message},
    )


def _text(
    label: str,
    *,
    max_length: int = SHORT_TEXT,
    required: bool = False,
    required_message: str = "",
    help_text: str = "",
    too_long_subject: str = "",
    textarea_rows: int = 0,
) -> forms.CharField:
    """Free text with a GOV.UK message when it is missing or too long."""
    subject = too_long_subject or label
    error_messages = {"max_length": f"{subject} must be {max_length:,} characters or fewer"}
    if required_message:
        error_messages["required"] = required_message
    widget: forms.Widget = (
        forms.Textarea(attrs={"rows": textarea_rows}) if textarea_rows else forms.TextInput()
    )
    field = forms.CharField(
        label=label,
        max_length=max_length,
        required=required,
        help_text=help_text,
        widget=widget,
        error_messages=error_messages,
    )
    # No HTML maxlength: browsers cut text off silently; the field error says what to do.
    field.widget.attrs.pop("maxlength", None)
    return field


class AgencyForm(forms.Form):
    def __init__(self, *args: Any, agencies: Choices, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["agency"] = _choice(
            "Which agency are you raising this for?",
            "Select the agency you are raising this for",
            agencies,
            help_text="You hold a role in more than one agency.",
        )


class ImmediateRiskForm(forms.Form):
    immediate_risk = _choice(
        "Is a child at immediate risk of significant harm?",
        "Select yes if a child is at immediate risk of significant harm",
        YES_NO,
    )


class TrackForm(forms.Form):
    track = _choice(
        "How do you want to continue?",
        "Select whether to use the urgent track or continue on the standard track",
        [(URGENT, "Use the urgent track"), (STANDARD, "Continue on the standard track")],
        help_text=(
            "The urgent track opens the difference straight at Stage 2, with the line manager "
            "or safeguarding lead of your agency who agreed it, and uses the partnership's "
            "urgent timeframes."
        ),
    )


class UrgentManagerForm(forms.Form):
    def __init__(self, *args: Any, agency_name: str, managers: Choices, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["urgent_manager"] = _choice(
            f"Which line manager or safeguarding lead of {agency_name} agreed to use the "
            "urgent track?",
            "Select the line manager or safeguarding lead who agreed to use the urgent track",
            managers,
        )


class ComplaintForm(forms.Form):
    complaint = _choice(
        "Is this a complaint about an individual professional?",
        "Select yes if this is a complaint about an individual professional",
        YES_NO,
        help_text=(
            "A complaint is about how one professional behaved or did their job. A professional "
            "difference is a disagreement between agencies about what a child needs."
        ),
    )


class ChildForm(forms.Form):
    name = _text(
        "Full name",
        required=True,
        required_message="Enter the child's full name",
        too_long_subject="The child's name",
    )
    date_of_birth = GovukDateField(
        label="Date of birth",
        required=False,
        past_only=True,
        earliest_year=1990,
        help_text="For example, 27 3 2015. Leave it blank if you do not know it.",
    )
    address = _text("Address", max_length=ADDRESS_TEXT, textarea_rows=3)
    school = _text("Early years placement or school")
    lead_professional = _text(
        "Lead professional",
        help_text="The name of the child's lead professional, if there is one.",
    )


class AddAnotherChildForm(forms.Form):
    add_another = _choice(
        "Do you need to add another child?",
        "Select yes if you need to add another child",
        YES_NO,
        help_text="Add every child the difference is about, such as brothers and sisters.",
    )

    def __init__(self, *args: Any, children_count: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.children_count = children_count

    def clean_add_another(self) -> str:
        value: str = self.cleaned_data["add_another"]
        if value == YES and self.children_count >= MAX_CHILDREN:
            raise forms.ValidationError(f"You can add up to {MAX_CHILDREN} children")
        return value


class RemoveChildForm(forms.Form):
    def __init__(self, *args: Any, child_name: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["remove"] = _choice(
            f"Are you sure you want to remove {child_name}?",
            f"Select yes if you want to remove {child_name}",
            YES_NO,
        )


class OtherAgenciesForm(forms.Form):
    def __init__(self, *args: Any, agencies: Choices, own_agency_name: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        message = "Select the agency or agencies the difference is with"
        self.fields["other_agencies"] = forms.MultipleChoiceField(
            label="Which agency or agencies is the difference with?",
            choices=agencies,
            widget=forms.CheckboxSelectMultiple,
            help_text=(
                "Select all that apply. If you select your own agency "
                f"({own_agency_name}) as well as others, it will be left out: a disagreement "
                "inside one agency follows your agency's in-house procedures."
            ),
            error_messages={"required": message, "invalid_choice": message},
        )


class NamedProfessionalsForm(forms.Form):
    unlisted_name = _text(
        "Name",
        help_text="Only if the person is not in the partnership directory.",
        too_long_subject="The name",
    )
    unlisted_role = _text("Their role", too_long_subject="Their role")

    def __init__(self, *args: Any, people: Choices, agencies: Choices, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fields: dict[str, forms.Field] = {}
        if people:
            message = "Select people from the list"
            fields["named"] = forms.MultipleChoiceField(
                label="Who at those agencies is involved?",
                choices=people,
                required=False,
                widget=forms.CheckboxSelectMultiple,
                help_text="Select everyone you know is involved. You can leave this blank.",
                error_messages={"invalid_choice": message},
            )
        fields["unlisted_name"] = self.fields["unlisted_name"]
        fields["unlisted_role"] = self.fields["unlisted_role"]
        agency_message = "Select the agency of the person not listed"
        fields["unlisted_agency"] = forms.ChoiceField(
            label="Their agency",
            choices=[("", "Select an agency"), *agencies],
            required=False,
            widget=forms.Select,
            error_messages={"invalid_choice": agency_message},
        )
        self.fields = fields

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        name = cleaned.get("unlisted_name", "")
        if name and "unlisted_agency" in cleaned and not cleaned["unlisted_agency"]:
            self.add_error("unlisted_agency", "Select the agency of the person not listed")
        if not name and cleaned.get("unlisted_role"):
            self.add_error("unlisted_name", "Enter the name of the person not listed")
        return cleaned


class CategoryForm(forms.Form):
    def __init__(self, *args: Any, categories: Choices, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"] = _choice(
            "Which category best describes the difference?",
            "Select the category that best describes the difference",
            categories,
        )


class ContextForm(forms.Form):
    context = _choice(
        "What was this issue about?",
        "Select what the issue was about",
        list(Context.choices),
    )


class IssueForm(forms.Form):
    issue = _text(
        "Describe the issue in your own words",
        max_length=LONG_TEXT,
        required=True,
        required_message="Describe the issue in your own words",
        too_long_subject="The issue",
        textarea_rows=12,
        help_text=(
            "Keep the facts (what happened, when, and who was involved) distinct from your "
            "professional opinion. Include only the personal information the difference needs. "
            f"You can use up to {LONG_TEXT:,} characters."
        ),
    )


class ConfirmForm(forms.Form):
    """Check your answers: no fields; a refusal from the service is added as an error."""
