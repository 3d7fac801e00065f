"""Template tags that render GOV.UK Design System patterns from Django forms."""

from __future__ import annotations

import html
from collections.abc import Iterable
from datetime import date
from typing import Any

from django import template
from django.forms import BoundField
from django.template.defaultfilters import linebreaksbr
from django.template.loader import render_to_string
from django.utils.html import format_html
from django.utils.safestring import mark_safe

register = template.Library()

STATUS_COLOURS = {
    "identified": "grey",
    "clarification": "light-blue",
    "stage_1": "blue",
    "stage_2": "turquoise",
    "stage_3": "purple",
    "stage_4": "pink",
    "final_referral": "red",
    "resolved": "green",
    "partially_resolved": "yellow",
    "not_resolved": "orange",
    "withdrawn": "grey",
    "learning_review": "light-blue",
    "closed": "grey",
}

TEMPLATES = {
    "radioselect": "ui/fields/radios.html",
    "checkboxselectmultiple": "ui/fields/checkboxes.html",
    "checkbox": "ui/fields/checkbox.html",
    "govukdate": "ui/fields/date.html",
    "select": "ui/fields/select.html",
    "textarea": "ui/fields/textarea.html",
}


def _describedby(field: BoundField) -> str:
    ids = []
    if field.help_text:
        ids.append(f"{field.auto_id}-hint")
    if field.errors:
        ids.append(f"{field.auto_id}-error")
    return " ".join(ids)


@register.simple_tag
def govuk_field(field: BoundField, heading: bool = False, size: str = "m", **options: Any) -> str:
    """Render one form field as a GOV.UK form group (label, hint, error, input)."""
    template_name = TEMPLATES.get(field.widget_type, "ui/fields/input.html")
    widget_attrs: dict[str, Any] = {}
    describedby = _describedby(field)
    if describedby:
        widget_attrs["aria-describedby"] = describedby
    classes = options.pop("classes", "")
    base_class = {
        "textarea": "govuk-textarea",
        "select": "govuk-select",
    }.get(field.widget_type, "govuk-input")
    error_class = f" {base_class}--error" if field.errors else ""
    # Keep the classes the form gave the widget (e.g. govuk-input--width-5 for a time).
    own_classes = field.field.widget.attrs.get("class", "")
    widget_attrs["class"] = " ".join(
        part for part in (f"{base_class}{error_class}", own_classes, classes) if part
    )
    # No HTML maxlength: browsers silently cut the text off; the form's own check says why.
    field.field.widget.attrs.pop("maxlength", None)
    rendered_widget = ""
    if field.widget_type not in ("radioselect", "checkboxselectmultiple", "govukdate", "checkbox"):
        rendered_widget = field.as_widget(attrs=widget_attrs)
    date_value: Any = None
    if field.widget_type == "govukdate":
        value = field.value()
        date_value = [value.day, value.month, value.year] if isinstance(value, date) else value
    context = {
        "date_value": date_value or [None, None, None],
        "field": field,
        "heading": heading,
        "size": size,
        "widget": rendered_widget,
        "describedby": describedby,
        **options,
    }
    return render_to_string(template_name, context)


@register.inclusion_tag("ui/_error_summary.html")
def govuk_error_summary(*forms: Any) -> dict[str, Any]:
    """The error summary at the top of a page, linking to each field in error."""
    errors = []
    for form in forms:
        if form is None or not getattr(form, "errors", None):
            continue
        for message in form.non_field_errors():
            errors.append({"href": "#main-content", "message": message})
        for field in form:
            for message in field.errors:
                anchor = field.auto_id
                if field.widget_type == "govukdate":
                    anchor = f"{field.auto_id}_day"
                elif field.widget_type in ("radioselect", "checkboxselectmultiple"):
                    anchor = f"{field.auto_id}_0"
                errors.append({"href": f"#{anchor}", "message": message})
    return {"errors": errors}


@register.simple_tag
def select_options(choices: Iterable[tuple[Any, Any, bool]]) -> str:
    """A drop-down's ``<option>`` elements from (value, label, selected) triples: the same
    markup as ``{% for value, label, selected in choices %}<option value="{{ value }}"{% if
    selected %} selected{% endif %}>{{ label }}</option>{% endfor %}``, which a list's filter
    panel (fifty options) paid a template loop for."""
    return mark_safe(  # noqa: S308 (every value and label is escaped here)
        "".join(
            f'<option value="{_e(value)}"{" selected" if selected else ""}>{_e(label)}</option>'
            for value, label, selected in choices
        )
    )


@register.simple_tag
def status_tag(status: str, label: str = "") -> str:
    """A GOV.UK tag for a case's status (built here rather than from a template: a case list
    shows fifty, and a template render each cost more than the rest of the row)."""
    return format_html(
        '<strong class="govuk-tag govuk-tag--{}">{}</strong>',
        STATUS_COLOURS.get(status, "grey"),
        label or status,
    )


def _e(value: Any) -> str:
    """What ``escape`` gives (``&<>"'``), without its lazy-string wrapper: a table of fifty
    rows escapes a thousand values."""
    return html.escape(str(value))


def _case_row_html(row: Any) -> str:
    urgent = '<br><strong class="govuk-tag govuk-tag--red">Urgent</strong>' if row.is_urgent else ""
    if row.overdue:
        clock = '<strong class="govuk-tag govuk-tag--red">Overdue</strong>' + (
            '<br><span class="govuk-body-s">Clock paused</span>' if row.paused else ""
        )
    else:
        clock = _e(row.clock_text)
    children = "<br>".join(
        f'<a class="govuk-link" href="{_e(child.url)}">{_e(child.label)}'
        '<span class="govuk-visually-hidden">: chronology of this child</span></a>'
        for child in row.children
    )
    agencies = "<br>".join(_e(agency) for agency in row.other_agencies)
    colour = STATUS_COLOURS.get(row.status, "grey")
    return (
        '<tr class="govuk-table__row">\n'
        '      <th scope="row" class="govuk-table__header">\n'
        f'        <a class="govuk-link" href="{_e(row.url)}">{_e(row.reference)}</a>\n'
        f"        {urgent}\n"
        "      </th>\n"
        f'      <td class="govuk-table__cell"><strong class="govuk-tag govuk-tag--{_e(colour)}">'
        f"{_e(row.status_label or row.status)}</strong></td>\n"
        f'      <td class="govuk-table__cell">{_e(row.stage_label)}</td>\n'
        f'      <td class="govuk-table__cell">\n        {clock}\n      </td>\n'
        f'      <td class="govuk-table__cell">\n        {children}\n      </td>\n'
        f'      <td class="govuk-table__cell">\n        {agencies}\n'
        f'        <br><span class="govuk-body-s">Raised by {_e(row.raising_agency)}</span>\n'
        "      </td>\n"
        f'      <td class="govuk-table__cell">{_e(row.raised_on)}</td>\n'
        "    </tr>"
    )


@register.simple_tag
def case_table_rows(rows: Any) -> str:
    """The rows of a case table (``_case_table.html``), built here rather than by the
    template: a list page shows fifty rows of a dozen values each, and the template engine's
    lookups for them were a quarter of the page's time. Every value is escaped (``_e``), and
    a property test holds the result to what the template wrote."""
    return mark_safe("\n    ".join(_case_row_html(row) for row in rows))  # noqa: S308


def _text_html(value: Any) -> str:
    """``{{ value|linebreaksbr }}``: escaped, each line break a ``<br>``."""
    return str(linebreaksbr(value, autoescape=True))


def _timeline_item_html(item: Any) -> str:
    entry = item.entry
    reviewed = item.is_recorded or item.is_correction
    parts = [
        f'<li class="app-timeline__item" id="entry-{_e(entry.pk)}">',
        f'<h3 class="govuk-heading-s govuk-!-margin-bottom-1">{_e(item.heading)} '
        f'<span class="govuk-!-font-weight-regular">by {_e(item.by)}</span>'
        + (' <strong class="govuk-tag govuk-tag--yellow">Corrected below</strong>'
           if item.corrected else "")
        + "</h3>",
        '<p class="govuk-body-s govuk-!-margin-bottom-2">',
        f'<time datetime="{_e(item.when_iso)}">{_e(item.when)}</time>'
        + (f" (recorded {_e(item.recorded)})" if reviewed else ""),
        "</p>",
    ]  # fmt: skip
    if item.is_correction:
        what = (
            f"the {_e(str(item.corrects.get_kind_display()).lower())} of {_e(item.corrects_on)}"
            if item.corrects
            else "an earlier entry"
        )
        parts.append(
            f'<p class="govuk-body-s">Corrects <a class="govuk-link" '
            f'href="#entry-{_e(entry.corrects_id)}">{what}</a></p>'
        )
    if entry.method or entry.participants:
        parts.append('<dl class="govuk-summary-list govuk-summary-list--no-border '
                     'govuk-!-margin-bottom-2">')  # fmt: skip
        row = (
            '<div class="govuk-summary-list__row"><dt class="govuk-summary-list__key">{}</dt>'
            '<dd class="govuk-summary-list__value">{}</dd></div>'
        )
        if entry.method:
            parts.append(row.format("Method", _e(entry.method)))
        if entry.participants:
            parts.append(row.format("Participants", _text_html(entry.participants)))
        parts.append("</dl>")
    for value, css, label in (
        (entry.reason, "app-entry__reason", item.reason_label),
        (entry.facts, "app-entry__facts govuk-!-margin-bottom-3", "Facts"),
        (entry.opinion, "app-entry__opinion govuk-!-margin-bottom-3", item.opinion_label),
        (entry.outcome, "app-entry__outcome", "Outcome agreed" if reviewed else "Outcome"),
    ):
        if value:
            parts.append(
                f'<div class="{css}">\n<h4 class="govuk-heading-s govuk-!-margin-bottom-1">'
                f'{_e(label)}</h4>\n<p class="govuk-body">{_text_html(value)}</p>\n</div>'
            )
    if reviewed:
        heading = _e(str(item.heading).lower())
        on_date = _e(item.on_date)
        parts.append(
            '<p class="govuk-body-s govuk-!-margin-bottom-0">\n'
            f'<a class="govuk-link" href="{_e(item.copy_url)}">Copy for your agency\'s record'
            f'<span class="govuk-visually-hidden">: {heading} of {on_date}</span></a>\n'
            "&nbsp;|&nbsp;\n"
            f'<a class="govuk-link" href="{_e(item.correct_url)}">Record a correction'
            f'<span class="govuk-visually-hidden"> to the {heading} of {on_date}</span></a>\n'
            "</p>"
        )
    parts.append("</li>")
    return "\n".join(parts)


@register.simple_tag
def timeline_items(items: Any) -> str:
    """The items of a case's timeline (``_timeline.html``), built here rather than by the
    template, as ``case_table_rows``: each entry is a dozen conditions and values, and the
    template engine's lookups for them were a third of a case page's time. Every value is
    escaped, and a test holds the result to what the template wrote (up to whitespace
    between elements, which HTML does not show)."""
    return mark_safe("\n".join(_timeline_item_html(item) for item in items))  # noqa: S308
