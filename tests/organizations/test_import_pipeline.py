"""The PostgreSQL import pipeline: rows read and validated by a second process while this one
writes the previous batch on a thread of its own. Committed data is needed for the other
process and connection to see the world, hence transactional tests; on SQLite (one writer)
imports run in one thread and these tests are skipped."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from sanlian.core import importing
from sanlian.core.roles import Role
from sanlian.organizations.models import Membership, Person

from ..conftest import World
from .factories_imports import (
    MEMBER_HEADERS,
    bad_check_digit,
    counts,
    data_dir,  # noqa: F401 - a fixture
    person_row,
    report_lines,
    resident_id,
    run_file,
    write_xlsx,
)

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("data_dir"),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the pipeline is PostgreSQL's"),
]


@pytest.fixture(autouse=True)
def read_aside(settings: Any) -> None:
    settings.IMPORT_READ_ASIDE_MIN_BYTES = 0  # a second reading process even for a few rows


@pytest.fixture
def readers(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The reading processes started (the real ones, counted on the way)."""
    started: list[Any] = []
    real_init = importing._ChildRows.__init__

    def counting_init(self: Any, *args: Any, **kwargs: Any) -> None:
        real_init(self, *args, **kwargs)
        started.append(self)

    monkeypatch.setattr(importing._ChildRows, "__init__", counting_init)
    return started


def _member(n: int, **over: Any) -> dict[str, Any]:
    row = person_row(n, 所属工会="凯旋社区联合工会", 会员证号=f"PIPE{n:05d}", 入会时间="2020-05-01")
    row.update(over)
    return row


def _file(tmp_path: Path, rows: list[dict[str, Any]]) -> Path:
    return write_xlsx(tmp_path / "members.xlsx", rows, MEMBER_HEADERS)


@pytest.fixture
def small_batches(settings: Any) -> None:
    settings.IMPORT_BATCH_SIZE = 3  # several batches in flight for a dozen rows


@pytest.mark.usefixtures("small_batches")
def test_good_rows_are_imported_and_bad_ones_reported_in_row_order(
    world: World, tmp_path: Path, readers: list[Any]
) -> None:
    rows = [_member(n) for n in range(1, 13)]
    rows[4]["身份证号"] = bad_check_digit(resident_id(5))  # row 6 of the sheet
    rows[9]["手机号"] = "12345"  # row 11
    run = run_file(_file(tmp_path, rows), world.users[Role.COMMUNITY_CADRE])
    assert len(readers) == 1
    assert counts(run) == (10, 0, 2)
    assert [line[0] for line in report_lines(run)] == [6, 11]
    assert Membership.objects.filter(card_number__startswith="PIPE").count() == 10


@pytest.mark.usefixtures("small_batches")
def test_a_second_run_of_the_same_file_updates_without_duplicates(
    world: World, tmp_path: Path, readers: list[Any]
) -> None:
    path = _file(tmp_path, [_member(n) for n in range(1, 8)])
    run_file(path, world.users[Role.COMMUNITY_CADRE])
    before = Person.objects.count()
    again = run_file(path, world.users[Role.COMMUNITY_CADRE])
    assert (len(readers), counts(again), Person.objects.count()) == (2, (0, 7, 0), before)


def test_rows_refer_to_the_communities_and_unions_of_this_database(
    world: World, tmp_path: Path, readers: list[Any]
) -> None:
    run_file(_file(tmp_path, [_member(1)]), world.users[Role.COMMUNITY_CADRE])
    membership = Membership.objects.select_related("person", "union").get(card_number="PIPE00001")
    assert (membership.person.community_id, membership.union_id) == (
        world.c1.pk,
        world.c1.organization_id,
    )


def test_a_sheet_broken_midway_keeps_the_rows_before_and_a_rerun_completes_it(
    world: World, tmp_path: Path, readers: list[Any], settings: Any
) -> None:
    import zipfile

    settings.IMPORT_FAST_READER_MAX_XML_BYTES = 0  # streamed, as a large file is
    settings.IMPORT_BATCH_SIZE = 100
    good = _file(tmp_path, [_member(n) for n in range(600)])
    broken = tmp_path / "broken.xlsx"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(broken, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"</sheetData>", b"<row r='999'><c r='A999'><v>1</v></row>")
            dst.writestr(item, data)
    run = run_file(broken, world.users[Role.COMMUNITY_CADRE])
    assert "行之后已损坏" in run.result["file_error"]
    assert counts(run)[0] >= 100  # the rows read before the break are in
    rerun = run_file(good, world.users[Role.COMMUNITY_CADRE])
    imported, _updated, rejected = counts(rerun)
    assert (imported + counts(run)[0], rejected) == (600, 0)
    assert Membership.objects.filter(card_number__startswith="PIPE").count() == 600


@pytest.mark.usefixtures("small_batches")
def test_a_small_file_is_read_in_this_process(
    world: World, tmp_path: Path, settings: Any, readers: list[Any]
) -> None:
    """A second process takes seconds to start: below IMPORT_READ_ASIDE_MIN_BYTES of sheet
    XML the rows are read here (the batches are still written on the writer thread)."""
    path = _file(tmp_path, [_member(n) for n in range(1, 8)])
    settings.IMPORT_READ_ASIDE_MIN_BYTES = importing._reading_size(path) + 1
    run = run_file(path, world.users[Role.COMMUNITY_CADRE])
    assert (len(readers), counts(run)) == (0, (7, 0, 0))
    settings.IMPORT_READ_ASIDE_MIN_BYTES = importing._reading_size(path)
    again = run_file(path, world.users[Role.COMMUNITY_CADRE])
    assert (len(readers), counts(again)) == (1, (0, 7, 0))
