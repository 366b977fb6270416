"""Instants as people type them: French or ISO, Paris time unless a zone is given."""

from datetime import UTC, datetime

import pytest

from adapters.parsing import parse_business_time, parse_instant
from domain.values import paris_day


def test_a_french_time_is_paris_time_and_asks_how_things_stood_at_the_end_of_that_minute():
    instant = parse_instant("01/12/2026 12:21")
    assert instant.astimezone(UTC) == datetime(2026, 12, 1, 11, 21, 59, 999999, tzinfo=UTC)
    assert parse_instant("01/12/2026 12h21") == instant
    assert parse_instant("2026-12-01T12:21") == instant
    assert parse_instant("01/12/2026 12:21:30").astimezone(UTC) == datetime(
        2026, 12, 1, 11, 21, 30, tzinfo=UTC)


def test_a_zone_given_is_kept_and_summer_time_is_paris_summer_time():
    assert parse_instant("2026-12-01T12:21:00+00:00") == datetime(2026, 12, 1, 12, 21,
                                                                   tzinfo=UTC)
    assert parse_business_time("15/07/2026 10:00").astimezone(UTC) == datetime(
        2026, 7, 15, 8, 0, tzinfo=UTC)


def test_a_day_alone_is_its_end_to_read_and_its_noon_to_record():
    assert paris_day(parse_instant("01/12/2026")) == datetime(2026, 12, 1).date()
    assert parse_instant("01/12/2026").astimezone(UTC) == datetime(
        2026, 12, 1, 22, 59, 59, 999999, tzinfo=UTC)
    assert parse_business_time("30/11/2026").astimezone(UTC) == datetime(
        2026, 11, 30, 11, 0, tzinfo=UTC)


def test_half_past_midnight_in_paris_is_that_paris_day():
    late = parse_business_time("02/12/2026 00:30")
    assert late.astimezone(UTC).date().isoformat() == "2026-12-01"
    assert paris_day(late).isoformat() == "2026-12-02"


@pytest.mark.parametrize("text", ["hier", "31/02/2026 10:00", "01/12/2026 25:00", ""])
def test_what_does_not_read_is_refused(text):
    with pytest.raises(ValueError, match="is not a date"):
        parse_instant(text)
