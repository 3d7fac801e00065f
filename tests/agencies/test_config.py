"""The cached partnership configuration (``agencies.config``): the same rows, in the same
order, as the ORM; read once, then from the cache; forgotten when a change commits; and the
database answers when the cache cannot."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from agencies import config as config_module
from agencies.config import (
    CONFIG_CACHE_SECONDS,
    Choice,
    _read,
    partnership_config,
    partnership_configs,
)
from agencies.models import Agency, Category, ClosureDay, Partnership
from escalations.clocks import partnership_calendar
from tests.factories.directory import AgencyFactory, PartnershipFactory

pytestmark = pytest.mark.django_db


def _partnership() -> Partnership:
    partnership = PartnershipFactory(nation="scotland")
    for name in ("school b", "Police", "Health", "school a", "Zebra Trust"):
        AgencyFactory(partnership=partnership, name=name)
    Agency.objects.filter(partnership=partnership, name="Health").update(active=False)
    Category.objects.filter(partnership=partnership).update(position=5)
    for position, name in ((2, "Neglect"), (1, "Thresholds"), (1, "Missing"), (0, "Other")):
        Category.objects.create(partnership=partnership, name=name, position=position)
    for day in (date(2026, 12, 29), date(2026, 12, 24)):
        ClosureDay.objects.create(partnership=partnership, date=day, description="Closed")
    return partnership


def test_the_configuration_is_what_the_orm_reads_in_the_same_order() -> None:
    partnership = _partnership()
    other = _partnership()
    configs = partnership_configs([other.pk, partnership.pk, partnership.pk, 0])
    assert set(configs) == {partnership.pk, other.pk}  # no partnership 0
    config = configs[partnership.pk]
    assert config.nation == "scotland"
    assert config.agencies == tuple(
        Choice(a.pk, a.name, a.active)
        for a in Agency.objects.filter(partnership=partnership).order_by("name")
    )
    assert [a.name for a in config.agencies if not a.active] == ["Health"]
    assert config.categories == tuple(
        Choice(c.pk, c.name, c.active)
        for c in Category.objects.filter(partnership=partnership).order_by("position", "name")
    )
    mine = {"Other", "Missing", "Thresholds", "Neglect"}  # beside the defaults it was made with
    assert [c.name for c in config.categories if c.name in mine] == [
        "Other",
        "Missing",
        "Thresholds",
        "Neglect",
    ]
    assert config.closure_days == (date(2026, 12, 24), date(2026, 12, 29))
    assert config.calendar == partnership_calendar(partnership)
    assert config.calendar is partnership_config(other.pk).calendar  # one instance, one table


def test_it_is_read_once_then_from_the_cache(django_capture_on_commit_callbacks: Any) -> None:
    partnership = _partnership()
    with (
        CaptureQueriesContext(connection) as first,
        django_capture_on_commit_callbacks(execute=True),
    ):
        partnership_config(partnership.pk)
    assert len(first) == 1
    with CaptureQueriesContext(connection) as again:
        config = partnership_config(partnership.pk)
    assert len(again) == 0
    assert config == _read([partnership.pk])[partnership.pk]


def test_what_a_transaction_read_is_cached_only_once_it_commits(
    django_capture_on_commit_callbacks: Any,
) -> None:
    partnership = _partnership()
    with django_capture_on_commit_callbacks(execute=False) as rolled_back:
        _save(Agency.objects.get(partnership=partnership, name="Police"), name="Not committed")
        assert "Not committed" in {a.name for a in partnership_config(partnership.pk).agencies}
    assert rolled_back  # the forget and the store wait for a commit that never comes
    with CaptureQueriesContext(connection) as after:
        partnership_config(partnership.pk)
    assert len(after) == 1


@pytest.mark.parametrize(
    "change",
    [
        lambda p: _save(Agency.objects.get(partnership=p, name="Police"), name="Constabulary"),
        lambda p: _save(Agency.objects.get(partnership=p, name="Police"), active=False),
        lambda p: AgencyFactory(partnership=p, name="New agency"),
        lambda p: Agency.objects.get(partnership=p, name="Zebra Trust").delete(),
        lambda p: _save(Category.objects.get(partnership=p, name="Other"), position=9),
        lambda p: Category.objects.create(partnership=p, name="Attendance"),
        lambda p: Category.objects.get(partnership=p, name="Neglect").delete(),
        lambda p: ClosureDay.objects.create(partnership=p, date=date(2027, 1, 4)),
        lambda p: ClosureDay.objects.filter(partnership=p).first().delete(),
        lambda p: _save(p, nation="england_wales"),
    ],
    ids=[
        "agency renamed", "agency made inactive", "agency added", "agency deleted",
        "category moved", "category added", "category deleted", "closure day added",
        "closure day deleted", "nation changed",
    ],
)  # fmt: skip
def test_a_committed_change_is_read_at_once(
    change: Any, django_capture_on_commit_callbacks: Any
) -> None:
    partnership = _partnership()
    before = partnership_config(partnership.pk)
    with django_capture_on_commit_callbacks(execute=True):
        partnership_config(partnership.pk)  # cached
    with django_capture_on_commit_callbacks(execute=True):
        change(partnership)
    after = partnership_config(partnership.pk)
    assert after != before
    assert after == _read([partnership.pk])[partnership.pk]  # what the database says now


def _save(instance: Any, **changes: Any) -> None:
    for name, value in changes.items():
        setattr(instance, name, value)
    instance.save()


def test_another_process_change_is_read_once_the_copy_is_older_than_its_limit(
    monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    partnership = _partnership()
    clock = [1000.0]
    monkeypatch.setattr(config_module.time, "monotonic", lambda: clock[0])
    with django_capture_on_commit_callbacks(execute=True):
        partnership_config(partnership.pk)
    # As another process would: a change this process's signals never hear of.
    Partnership.objects.filter(pk=partnership.pk).update(nation="england_wales")
    clock[0] += CONFIG_CACHE_SECONDS - 0.5
    assert partnership_config(partnership.pk).nation == "scotland"
    clock[0] += 0.5
    assert partnership_config(partnership.pk).nation == "england_wales"
