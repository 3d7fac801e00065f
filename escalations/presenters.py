"""How a case's facts read on a page: initials and ages (never full names in lists), and
the stage clock in words."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from django.utils import timezone

from escalations.models import Child, StageEntry
from escalations.working_time import WorkingCalendar, working_days_between


def initials(name: str) -> str:
    """'Amira Khan' → 'AK'."""
    return "".join(part[0].upper() for part in name.split() if part)


def age_on(born: date | None, today: date | None = None) -> int | None:
    """Age in whole years on ``today``."""
    if born is None:
        return None
    today = today or timezone.localdate()
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


class ChildLike(Protocol):
    """A child as a model or as the few values a list reads."""

    @property
    def name(self) -> str: ...

    @property
    def date_of_birth(self) -> date | None: ...


def child_label(child: Child | ChildLike, today: date | None = None) -> str:
    """'AK (9)' — initials and age, for lists and e-mails."""
    age = age_on(child.date_of_birth, today)
    return f"{initials(child.name)} ({age})" if age is not None else initials(child.name)


@dataclass(frozen=True)
class Clock:
    """The stage clock in words, with a GOV.UK tag colour."""

    text: str
    overdue: bool
    paused: bool
    due_at: datetime


def clock_for(entry: StageEntry, calendar: WorkingCalendar, now: datetime | None = None) -> Clock:
    """'2.5 working days left', 'Overdue by 1 working day', or 'Paused'."""
    now = now or timezone.now()
    if entry.paused_at is not None:
        return Clock("Clock paused", overdue=entry.is_overdue, paused=True, due_at=entry.due_at)
    if entry.breached_at is not None or now >= entry.due_at:
        late = working_days_between(entry.due_at, now, calendar)
        return Clock(f"Overdue by {_days(late)}", overdue=True, paused=False, due_at=entry.due_at)
    left = working_days_between(now, entry.due_at, calendar)
    if left < 1:
        hours = left * 24
        text = f"{hours:.0f} working hours left" if hours >= 1 else "Due within the hour"
        return Clock(text, overdue=False, paused=False, due_at=entry.due_at)
    return Clock(f"{_days(left)} left", overdue=False, paused=False, due_at=entry.due_at)


def _days(value: float) -> str:
    whole = int(value)
    if whole == 1:
        return "1 working day"
    if whole < 1:
        return "less than 1 working day"
    return f"{whole} working days"
