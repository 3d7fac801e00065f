"""The Appendix 2 PDF rendered once per content version and stamped per download (ADR 0010).

The oracle is the live render (``pdf.render_record_pdf``: the whole PDF with the footer line
in its HTML, as before the ADR): a stamped PDF, warm or cold, must read the same page by page.
Pages are compared by position (pypdf's layout mode, whitespace collapsed): the stamp is drawn
after the page's content, so plain extraction, which follows the content stream, would list
the footer line last.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from pypdf.generic import IndirectObject

from agencies.models import Partnership
from escalations import services
from escalations.models import Child, ProfessionalDifference
from escalations.states import Status
from records import appendix2, pdf, pdf_stamp, record_pdf, retention
from records.models import EntryKind, RecordRender
from records.services import entry_correct, entry_record
from records.tasks import prerender_record
from tests.conftest import World, _service_missing
from tests.factories.differences import raise_difference
from tests.records.retention_world import IDENTIFYING, closed_case
from tests.records.test_pdf import (
    EVERYTHING,
    IMG,
    assert_fetched_only_our_stylesheet,
    case_at_stage_2,
    hostile_case,
    pdf_text,
    pdf_text_with_missing_glyphs,
    reader,
    record_discussions,
    record_url,
    signed_in,
    squash,
)

pytestmark = pytest.mark.django_db

BY = "Pat Example"
AT = datetime(2026, 9, 28, 13, 5, tzinfo=UTC)  # 14:05 in London
LINE = "Generated 28 September 2026 at 14:05 by Pat Example"


def fetched(case: ProfessionalDifference) -> ProfessionalDifference:
    return ProfessionalDifference.objects.select_related("partnership", "category").get(pk=case.pk)


def download(case: ProfessionalDifference, by: str = BY, **kwargs: Any) -> record_pdf.RecordPdf:
    return record_pdf.case_record_pdf(fetched(case), generated_by=by, generated_at=AT, **kwargs)


def live(case: ProfessionalDifference, by: str = BY) -> bytes:
    return pdf.render_record_pdf(
        appendix2.record_for(fetched(case)), generated_by=by, generated_at=AT
    ).pdf


def pages_by_position(content: bytes) -> list[str]:
    return [
        " ".join(page.extract_text(extraction_mode="layout").split())
        for page in reader(content).pages
    ]


def footer_runs(content: bytes) -> list[list[tuple[str, float, float, float]]]:
    """Per page, the text drawn in the footer's middle box: each run's text, where it starts
    (x and baseline, in points from the page's bottom left) and its size in points."""
    found: list[list[tuple[str, float, float, float]]] = []

    def visit(text: str, cm: Any, tm: Any, font: Any, size: float) -> None:
        x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
        y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
        if text.strip() and y < 70 and 150 < x < 440:
            found[-1].append((text.strip(), x, y, size * abs(cm[0])))

    for page in reader(content).pages:
        found.append([])
        page.extract_text(visitor_text=visit)
    return found


def assert_same_footer(stamped: bytes, live: bytes) -> None:
    got, expected = footer_runs(stamped), footer_runs(live)
    assert len(got) == len(expected)
    for page_got, page_expected in zip(got, expected, strict=True):
        assert [run[0] for run in page_got] == [run[0] for run in page_expected]
        for run, want in zip(page_got, page_expected, strict=True):
            assert run[1:] == pytest.approx(want[1:], abs=0.05), run


def references(value: Any) -> Any:
    """Object numbers in place of indirect references (comparable across two readers)."""
    if isinstance(value, IndirectObject):
        return value.idnum
    if isinstance(value, list):
        return [references(item) for item in value]
    return value


def long_case(world: World) -> ProfessionalDifference:
    case = case_at_stage_2(world)
    record_discussions(world, case, 12)
    return case


# -- warm and cold give the live render's pages ------------------------------------------------


def test_cold_and_warm_downloads_read_exactly_like_the_live_render(world: World) -> None:
    case = long_case(world)
    cold = download(case)
    warm = download(case)
    assert (cold.source, warm.source) == ("rendered", "stored")
    expected = pages_by_position(live(case))
    assert len(expected) > 2
    footer = f"{case.reference} · {LINE}"
    for sent in (cold.pdf, warm.pdf):
        pages = pages_by_position(sent)
        assert pages == expected
        for number, page in enumerate(pages, start=1):
            assert footer in page
            assert f"Page {number} of {len(pages)}" in page
        for page in reader(sent).pages:
            assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (
                595,
                842,
            )
        # And by plain extraction too, each page has the whole line once.
        assert all(page.extract_text().count(LINE) == 1 for page in reader(sent).pages)


def test_the_stamp_is_where_and_how_the_live_render_draws_the_line(world: World) -> None:
    case = case_at_stage_2(world)
    assert_same_footer(download(case).pdf, live(case))


def test_a_name_too_long_for_the_footer_wraps_as_the_live_render_wraps_it(world: World) -> None:
    case = case_at_stage_2(world)
    name = "Alexandra Montgomery-Featherstonehaugh, Designated Safeguarding Lead of Northmoor"
    stamped = download(case, by=name).pdf
    assert len(footer_runs(live(case, by=name))[0]) == 2, "the live render wraps it"
    assert_same_footer(stamped, live(case, by=name))
    assert pages_by_position(stamped) == pages_by_position(live(case, by=name))


def test_the_stamped_pdf_keeps_the_tags_metadata_and_embeds_its_font(world: World) -> None:
    case = case_at_stage_2(world)
    sent = download(case).pdf
    stored = bytes(RecordRender.objects.get(difference=case).pdf)
    # An incremental update: the stored render's bytes come first, unchanged.
    assert sent.startswith(stored)
    stamped, base = reader(sent), reader(stored)
    root, base_root = stamped.trailer["/Root"], base.trailer["/Root"]
    assert bool(root["/MarkInfo"]["/Marked"])
    assert stamped.trailer.raw_get("/Root").idnum == base.trailer.raw_get("/Root").idnum
    tree, base_tree = root["/StructTreeRoot"], base_root["/StructTreeRoot"]
    assert references(tree.raw_get("/K")) == references(base_tree.raw_get("/K"))
    assert len(tree["/ParentTree"]["/Nums"][1]) == len(base_tree["/ParentTree"]["/Nums"][1])
    for page, base_page in zip(stamped.pages, base.pages, strict=True):
        assert page["/StructParents"] == base_page["/StructParents"]
        assert page["/Tabs"] == "/S"
    assert root["/Lang"] == "en-GB"
    xmp = root["/Metadata"].get_object().get_data()
    assert b"pdfuaid" in xmp and xmp == base_root["/Metadata"].get_object().get_data()
    assert stamped.metadata.title == base.metadata.title
    assert case.reference in stamped.metadata.title
    for page in stamped.pages:
        fonts = page["/Resources"]["/Font"]
        font = fonts[pdf_stamp.FONT_RESOURCE].get_object()
        assert font["/Subtype"] == "/TrueType"
        assert font["/Encoding"] == "/WinAnsiEncoding"
        assert font["/BaseFont"].endswith("+LiberationSans")
        assert len(font["/Widths"]) == font["/LastChar"] - font["/FirstChar"] + 1
        assert font["/FontDescriptor"]["/FontFile2"].get_object().get_data()[:4] == (
            b"\x00\x01\x00\x00"
        )
        assert "/ToUnicode" in font
        # WeasyPrint's own fonts are all still there.
        assert len(fonts) >= 2
        content = page.get_contents().get_data()
        assert b"/Artifact <</Type /Pagination /Subtype /Footer>> BDC" in content


def test_qpdf_finds_no_error_and_pdftotext_reads_the_line_on_every_page(
    world: World, tmp_path: Path
) -> None:
    if not (shutil.which("qpdf") and shutil.which("pdftotext")):
        # Skipped on a laptop without them; CI installs both (.ci/run) and fails without.
        _service_missing("qpdf and pdftotext (apt-get install qpdf poppler-utils)")
    case = long_case(world)
    path = tmp_path / "record.pdf"
    path.write_bytes(download(case).pdf)
    checked = subprocess.run(  # noqa: S603 (our own file)
        ["qpdf", "--check", str(path)],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "No syntax or stream encoding errors" in checked.stdout
    text = subprocess.run(  # noqa: S603
        ["pdftotext", "-layout", str(path), "-"],  # noqa: S607
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    pages = text.split("\f")[:-1]
    assert len(pages) == len(reader(path.read_bytes()).pages)
    for number, page in enumerate(pages, start=1):
        assert re.search(
            rf"OFFICIAL-SENSITIVE\s+{case.reference} · {LINE}\s+Page {number} of", page
        ), page[-300:]


def test_the_stamp_font_widths_are_the_fonts_own() -> None:
    font = pdf_stamp.stamp_font()
    for char in "Gen 28·éÆ€":
        code = char.encode("cp1252")[0]
        width = font.widths[code - pdf_stamp.FIRST_CODE]
        assert width == pytest.approx(font.advances[char] * 1000 / font.units_per_em, abs=0.001)


# -- the key ------------------------------------------------------------------------------


def test_the_same_record_gives_the_same_key(world: World) -> None:
    case = case_at_stage_2(world)
    first = record_pdf.render_key(record_pdf.record_html(appendix2.record_for(fetched(case))))
    again = record_pdf.render_key(record_pdf.record_html(appendix2.record_for(fetched(case))))
    assert first == again


def _add_entry(world: World, case: ProfessionalDifference) -> None:
    entry_record(actor=world.raiser, difference=case, kind=EntryKind.CALL, facts="One more call.")


def _correct(world: World, case: ProfessionalDifference) -> None:
    entry = case.entries.filter(kind=EntryKind.CALL).first()
    entry_correct(
        actor=world.raiser,
        difference=case,
        corrects=entry,
        facts="It was Wednesday.",
        reason="Wrong day.",
    )


def _escalate(world: World, case: ProfessionalDifference) -> None:
    services.difference_escalate(
        actor=world.a_line_manager,
        difference_id=case.pk,
        reason="Still not agreed.",
        oversight_note="Read both notes.",
    )


def _child(world: World, case: ProfessionalDifference) -> None:
    Child.objects.filter(difference=case).update(school="Hill Academy")


def _partnership(world: World, case: ProfessionalDifference) -> None:
    Partnership.objects.filter(pk=case.partnership_id).update(protocol_version="8")


@pytest.mark.parametrize("change", [_add_entry, _correct, _escalate, _child, _partnership])
def test_any_change_to_the_record_renders_anew_and_replaces_the_stored_one(
    world: World, change: Any
) -> None:
    case = case_at_stage_2(world)
    assert download(case).source == "rendered"
    old = RecordRender.objects.get(difference=case)
    change(world, case)
    again = download(case)
    assert again.source == "rendered"
    new = RecordRender.objects.get(difference=case)
    assert new.key != old.key and new.pk == old.pk
    assert RecordRender.objects.filter(difference=case).count() == 1
    assert pages_by_position(again.pdf) == pages_by_position(live(case))


def test_a_stored_render_is_never_served_for_another_case(world: World) -> None:
    first, second = case_at_stage_2(world), case_at_stage_2(world)
    download(first)
    # Even the first case's render filed under the second case is not served for it.
    RecordRender.objects.create(
        difference=second,
        key=RecordRender.objects.get(difference=first).key,
        pdf=RecordRender.objects.get(difference=first).pdf,
        pages=1,
    )
    sent = download(second)
    assert sent.source == "rendered"
    text = pdf_text(sent.pdf)
    assert second.reference in text and first.reference not in text


# -- anonymisation ---------------------------------------------------------------------------


def _stored_texts() -> str:
    return " ".join(pdf_text(bytes(row.pdf)) for row in RecordRender.objects.all())


def test_anonymising_deletes_the_stored_render(world: World) -> None:
    case = closed_case(world)
    download(case)
    assert "Amira" in _stored_texts()
    now = timezone.now() + timedelta(days=365 * 30)
    retention.retention_scan(now=now)
    retention.difference_anonymise(actor=world.administrator, difference_id=case.pk, now=now)
    assert not RecordRender.objects.filter(difference=case).exists()
    after = download(case)
    assert after.source == "rendered"
    for text in (_stored_texts(), pdf_text(after.pdf)):
        for identifying in IDENTIFYING:
            assert identifying not in text, identifying


def test_a_render_of_the_case_read_before_it_was_anonymised_is_not_stored(world: World) -> None:
    case = closed_case(world)
    before = fetched(case)
    html = record_pdf.record_html(appendix2.record_for(before))
    now = timezone.now() + timedelta(days=365 * 30)
    retention.retention_scan(now=now)
    retention.difference_anonymise(actor=world.administrator, difference_id=case.pk, now=now)
    base = pdf.render_html_to_pdf(html, stylesheets=pdf.PDF_STYLESHEETS).pdf
    assert not record_pdf.store(before, record_pdf.render_key(html), base, 1)
    assert not RecordRender.objects.exists()


# -- the fallback: a line the stamp font cannot encode ------------------------------------------


@pytest.mark.parametrize("name", ["Ελένη Παπαδοπούλου", "李华"])
def test_a_name_outside_windows_1252_renders_the_whole_pdf_live(world: World, name: str) -> None:
    case = case_at_stage_2(world)
    sent = download(case, by=name)
    assert sent.source == "live"
    assert not RecordRender.objects.exists()
    assert len(reader(sent.pdf).pages) == len(reader(live(case)).pages)
    if name.startswith("Ε"):  # Liberation Sans has Greek; no installed font has Chinese
        assert f"by {name}" in pdf_text(sent.pdf)


def test_the_view_names_a_person_whose_name_is_in_greek(world: World) -> None:
    person = world.a_line_manager
    person.first_name, person.last_name = "Ελένη", "Παπαδοπούλου"
    person.save()
    case = case_at_stage_2(world)
    response = signed_in(person).get(record_url(case))
    assert response.status_code == 200
    assert "by Ελένη Παπαδοπούλου" in pdf_text(response.content)


def test_names_in_windows_1252_are_stamped(world: World) -> None:
    case = case_at_stage_2(world)
    name = "Zoë Ó Súilleabháin-Brontë"
    sent = download(case, by=name)
    assert sent.source == "rendered"
    assert f"by {name}" in pdf_text(sent.pdf)
    assert pages_by_position(sent.pdf) == pages_by_position(live(case, by=name))


# -- hostile content and the fetcher ----------------------------------------------------------


def test_hostile_content_renders_as_text_cold_and_warm_and_fetches_nothing(world: World) -> None:
    case = hostile_case(world, EVERYTHING)
    fetcher = pdf.static_only_fetcher()
    cold = download(case, fetcher=fetcher)
    assert cold.source == "rendered"
    assert_fetched_only_our_stylesheet(fetcher, cold.pdf)
    warm_fetcher = pdf.static_only_fetcher()
    warm = download(case, fetcher=warm_fetcher)
    assert warm.source == "stored" and warm_fetcher.log == []
    for sent in (cold.pdf, warm.pdf):
        assert reader(sent).attachments == {}
        assert b"/EmbeddedFile" not in sent
        assert squash(IMG) in squash(pdf_text_with_missing_glyphs(sent))


# -- the blank form ---------------------------------------------------------------------------


def test_the_blank_form_is_rendered_once_and_stamped_for_each_person(world: World) -> None:
    cache.clear()
    first = record_pdf.blank_record_pdf(world.partnership, generated_by=BY, generated_at=AT)
    again = record_pdf.blank_record_pdf(
        world.partnership, generated_by="Sam Other", generated_at=AT
    )
    other = record_pdf.blank_record_pdf(world.other_partnership, generated_by=BY, generated_at=AT)
    assert (first.source, again.source, other.source) == ("rendered", "stored", "rendered")
    assert LINE in pdf_text(first.pdf)
    assert "by Sam Other" in pdf_text(again.pdf) and "Pat Example" not in pdf_text(again.pdf)
    assert "Partnership Q" in pdf_text(other.pdf) and "Partnership P" not in pdf_text(other.pdf)
    expected = pdf.render_record_pdf(
        appendix2.blank_record(world.partnership), generated_by=BY, generated_at=AT
    ).pdf
    assert pages_by_position(first.pdf) == pages_by_position(expected)


def test_the_blank_form_view_is_stamped(world: World) -> None:
    response = signed_in(world.raiser).get(reverse("blank_record_pdf"))
    text = pdf_text(response.content)
    assert re.search(r"Generated \d{1,2} \w+ \d{4} at \d\d:\d\d by ", text)


# -- the background render --------------------------------------------------------------------


# The test's own transaction never commits, so callbacks queued while the case is built would
# stay pending; the setting goes on once it is built.


def test_an_entry_queues_the_render_when_it_commits(
    world: World, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    case = case_at_stage_2(world)
    settings.RECORD_PDF_PRERENDER = True
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        _add_entry(world, case)
        _add_entry(world, case)
    assert len(callbacks) == 1, "one render for the case per transaction"
    stored = RecordRender.objects.get(difference=case)
    assert stored.key == record_pdf.render_key(
        record_pdf.record_html(appendix2.record_for(fetched(case)))
    )
    assert download(case).source == "stored"


def test_a_transition_queues_the_render(
    world: World, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    case = case_at_stage_2(world)
    settings.RECORD_PDF_PRERENDER = True
    with django_capture_on_commit_callbacks(execute=True):
        _escalate(world, case)
    assert download(case).source == "stored"


def test_nothing_is_queued_when_the_transaction_rolls_back(
    world: World, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    case = case_at_stage_2(world)
    settings.RECORD_PDF_PRERENDER = True
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        _add_entry(world, case)
        raise RuntimeError("roll back")
    assert callbacks == []
    assert not RecordRender.objects.exists()


def test_nothing_is_queued_when_the_setting_is_off(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    case = case_at_stage_2(world)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        _add_entry(world, case)
    assert callbacks == []


def test_the_task_is_idempotent(world: World) -> None:
    case = case_at_stage_2(world)
    assert prerender_record(case.pk) is True
    first = RecordRender.objects.get(difference=case)
    assert prerender_record(case.pk) is False
    assert RecordRender.objects.get(difference=case).rendered_at == first.rendered_at
    _add_entry(world, case)
    assert prerender_record(case.pk) is True
    assert prerender_record(999_999) is False


def test_a_broker_that_is_down_loses_only_the_warm_up(
    world: World,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise ConnectionError("broker down")

    monkeypatch.setattr(prerender_record, "apply_async", refuse)
    case = raise_difference(world)
    settings.RECORD_PDF_PRERENDER = True
    with django_capture_on_commit_callbacks(execute=True):
        _add_entry(world, case)
    assert not RecordRender.objects.exists()
    assert download(case).source == "rendered"


def test_a_download_after_the_time_limit_for_a_cold_render(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = case_at_stage_2(world)
    download(case)
    # Warm: stamping is not a render, so the limit does not apply.
    monkeypatch.setattr(pdf, "DEFAULT_TIME_LIMIT", 0.0001)
    assert download(case).source == "stored"
    _add_entry(world, case)
    with pytest.raises(pdf.RenderTimeout):
        download(case)


def test_the_view_sends_the_stored_render_stamped_for_the_person(world: World) -> None:
    case = case_at_stage_2(world)
    prerender_record(case.pk)
    rendered_at = RecordRender.objects.get(difference=case).rendered_at
    response = signed_in(world.a_line_manager).get(record_url(case))
    assert response.status_code == 200
    assert f"by {world.a_line_manager.get_full_name()}" in pdf_text(response.content)
    assert RecordRender.objects.get(difference=case).rendered_at == rendered_at
    assert Status(ProfessionalDifference.objects.get(pk=case.pk).status) == Status.STAGE_2


def test_the_stored_page_count_is_the_pdfs(world: World) -> None:
    case = long_case(world)
    download(case)
    stored = RecordRender.objects.get(difference=case)
    assert stored.pages == len(reader(bytes(stored.pdf)).pages) > 2


def test_a_stamp_that_cannot_be_made_falls_back_to_the_live_render(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = case_at_stage_2(world)

    def broken(*args: Any) -> bytes:
        raise pdf_stamp.CannotStamp("a page without its own resources")

    monkeypatch.setattr(pdf_stamp, "stamp", broken)
    sent = download(case)
    assert sent.source == "live"
    assert LINE in pdf_text(sent.pdf)


@pytest.mark.parametrize("person", ["c_practitioner", "q_business_manager", "outsider"])
def test_someone_who_may_not_see_the_case_gets_404_and_nothing_is_rendered(
    world: World, person: str
) -> None:
    case = case_at_stage_2(world)
    response = signed_in(world.people[person]).get(record_url(case))
    assert response.status_code == 404
    assert not RecordRender.objects.exists()
