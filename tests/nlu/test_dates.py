"""Dutch time expressions resolve to the right moment in the past for an injected clock."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.base.clock import AMSTERDAM
from nlu.dates import PRECISIONS, When, find_when, parse_when


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=AMSTERDAM)


SUNDAY = at(2026, 11, 29, 15)  # Sunday afternoon
NEW_YEAR = at(2027, 1, 10, 10)  # Sunday morning early in the year: "12 maart" is last year's
AFTER_MIDNIGHT = at(2026, 11, 30, 0, 30)  # Monday, half an hour after midnight

CASES = [
    # phrase, now, moment, precision, ambiguous
    ("vandaag", SUNDAY, at(2026, 11, 29), "day", False),
    ("gisteren", SUNDAY, at(2026, 11, 28), "day", False),
    ("gister", SUNDAY, at(2026, 11, 28), "day", False),
    ("eergisteren", SUNDAY, at(2026, 11, 27), "day", False),
    ("gisteravond", SUNDAY, at(2026, 11, 28, 18), "part_of_day", False),
    ("Gisteren avond!", SUNDAY, at(2026, 11, 28, 18), "part_of_day", False),
    ("gistermiddag", SUNDAY, at(2026, 11, 28, 12), "part_of_day", False),
    ("gisterochtend", SUNDAY, at(2026, 11, 28, 6), "part_of_day", False),
    ("gisternacht", SUNDAY, at(2026, 11, 29, 0), "part_of_day", True),
    ("vannacht", SUNDAY, at(2026, 11, 29, 0), "part_of_day", False),
    ("vanochtend", SUNDAY, at(2026, 11, 29, 6), "part_of_day", False),
    ("vanmorgen", SUNDAY, at(2026, 11, 29, 6), "part_of_day", False),
    ("vanmiddag", SUNDAY, at(2026, 11, 29, 12), "part_of_day", False),
    # The evening has not begun yet: today as a whole, to be confirmed.
    ("vanavond", SUNDAY, at(2026, 11, 29), "day", True),
    ("net", SUNDAY, at(2026, 11, 29, 15), "minute", False),
    ("zojuist", SUNDAY, at(2026, 11, 29, 15), "minute", False),
    ("een uur geleden", SUNDAY, at(2026, 11, 29, 14), "hour", False),
    ("één uur geleden", SUNDAY, at(2026, 11, 29, 14), "hour", False),
    ("twee uur geleden", SUNDAY, at(2026, 11, 29, 13), "hour", False),
    ("een half uur geleden", SUNDAY, at(2026, 11, 29, 14, 30), "minute", False),
    ("drie dagen geleden", SUNDAY, at(2026, 11, 26), "day", False),
    ("een paar dagen geleden", SUNDAY, at(2026, 11, 26), "day", True),
    ("twee weken geleden", SUNDAY, at(2026, 11, 9), "week", False),
    ("vorige week", SUNDAY, at(2026, 11, 16), "week", False),
    ("begin deze week", SUNDAY, at(2026, 11, 23), "week", False),
    ("eind vorige week", SUNDAY, at(2026, 11, 20), "week", False),
    ("vorige week dinsdag", SUNDAY, at(2026, 11, 17), "day", False),
    ("dinsdag vorige week", SUNDAY, at(2026, 11, 17), "day", False),
    ("vorige week vrijdag om 14:00", SUNDAY, at(2026, 11, 20, 14), "minute", False),
    ("afgelopen maandag", SUNDAY, at(2026, 11, 23), "day", False),
    ("afgelopen zondag", SUNDAY, at(2026, 11, 22), "day", False),
    # A bare weekday is the most recent one, today included, and is confirmed.
    ("maandag", SUNDAY, at(2026, 11, 23), "day", True),
    ("zondag", SUNDAY, at(2026, 11, 29), "day", True),
    ("zondag om 20:00", SUNDAY, at(2026, 11, 22, 20), "minute", True),
    ("zaterdag rond 23.00", SUNDAY, at(2026, 11, 28, 23), "hour", True),
    ("zaterdagavond", SUNDAY, at(2026, 11, 28, 18), "part_of_day", True),
    ("zaterdag avond", SUNDAY, at(2026, 11, 28, 18), "part_of_day", True),
    ("dinsdagmiddag", SUNDAY, at(2026, 11, 24, 12), "part_of_day", True),
    ("in de nacht van vrijdag op zaterdag", SUNDAY, at(2026, 11, 28), "part_of_day", True),
    ("afgelopen donderdag rond half 10 's avonds", SUNDAY, at(2026, 11, 26, 21, 30), "hour", False),
    ("12 maart", SUNDAY, at(2026, 3, 12), "day", False),
    ("12-03", SUNDAY, at(2026, 3, 12), "day", True),
    ("12/3", SUNDAY, at(2026, 3, 12), "day", True),
    ("25-11", SUNDAY, at(2026, 11, 25), "day", False),
    ("12-03-2026", SUNDAY, at(2026, 3, 12), "day", False),
    ("woensdag 25 november", SUNDAY, at(2026, 11, 25), "day", False),
    ("woensdag 26 november", SUNDAY, at(2026, 11, 26), "day", True),  # weekday is wrong
    ("3 november om 14:00", SUNDAY, at(2026, 11, 3, 14), "minute", False),
    ("om 8 uur", SUNDAY, at(2026, 11, 29, 8), "hour", True),
    ("gisteren om 8 uur", SUNDAY, at(2026, 11, 28, 8), "hour", True),
    ("vandaag om 8 uur", SUNDAY, at(2026, 11, 29, 8), "hour", False),  # 20:00 is still ahead
    ("vanochtend om 7 uur", SUNDAY, at(2026, 11, 29, 7), "hour", False),
    ("gisteravond om tien uur", SUNDAY, at(2026, 11, 28, 22), "hour", False),
    ("half drie", SUNDAY, at(2026, 11, 29, 14, 30), "minute", True),
    ("half drie 's nachts", SUNDAY, at(2026, 11, 29, 2, 30), "minute", False),
    ("tien voor half vier", SUNDAY, at(2026, 11, 29, 3, 20), "minute", True),
    ("kwart over negen 's avonds", SUNDAY, at(2026, 11, 28, 21, 15), "minute", False),
    ("s avonds om 10 uur", SUNDAY, at(2026, 11, 28, 22), "hour", False),
    ("om 23.15", SUNDAY, at(2026, 11, 28, 23, 15), "minute", False),
    ("rond middernacht", SUNDAY, at(2026, 11, 29), "hour", False),
    ("vorige maand", SUNDAY, at(2026, 10, 1), "month", False),
    ("eind oktober", SUNDAY, at(2026, 10, 21), "month", False),
    ("weekend", SUNDAY, at(2026, 11, 28), "week", False),
    # On a Sunday "afgelopen weekend" is the one before; some mean this one.
    ("afgelopen weekend", SUNDAY, at(2026, 11, 21), "week", True),
    ("gisteren of eergisteren", SUNDAY, at(2026, 11, 28), "day", True),
    ("12 maart", NEW_YEAR, at(2026, 3, 12), "day", False),
    ("12-03", NEW_YEAR, at(2026, 3, 12), "day", True),
    ("31 december", NEW_YEAR, at(2026, 12, 31), "day", False),
    ("vorige maand", NEW_YEAR, at(2026, 12, 1), "month", False),
    ("vorige week", NEW_YEAR, at(2026, 12, 28), "week", False),
    ("vannacht", AFTER_MIDNIGHT, at(2026, 11, 30), "part_of_day", False),
    ("vanavond", AFTER_MIDNIGHT, at(2026, 11, 29, 18), "part_of_day", False),
    ("om 23:30", AFTER_MIDNIGHT, at(2026, 11, 29, 23, 30), "minute", False),
    ("vanochtend", AFTER_MIDNIGHT, at(2026, 11, 30), "day", True),
]


@pytest.mark.parametrize(
    ("phrase", "now", "moment", "precision", "ambiguous"),
    CASES,
    ids=[f"{c[0]}@{c[1]:%m-%d %H:%M}" for c in CASES],
)
def test_phrase_resolves_in_the_past(
    phrase: str, now: datetime, moment: datetime, precision: str, ambiguous: bool
) -> None:
    when = parse_when(phrase, now)
    assert when == When(moment, precision, ambiguous)
    assert when.moment.tzinfo is AMSTERDAM
    assert when.moment.utcoffset() == moment.utcoffset()


def test_clock_in_utc_gives_amsterdam_moments() -> None:
    when = parse_when("gisteravond", SUNDAY.astimezone(timezone.utc))
    assert when is not None
    assert when.moment.tzinfo is AMSTERDAM
    assert when.moment.isoformat() == "2026-11-28T18:00:00+01:00"


@pytest.mark.parametrize(
    ("now", "moment"),
    [
        # 02:10 for the second time on 25 October: the first 02:30 is 40 minutes ago.
        (datetime(2026, 10, 25, 1, 10, tzinfo=timezone.utc), "2026-10-25T02:30:00+02:00"),
        # 02:30 does not exist on 29 March: the clock jumped from 02:00 to 03:00.
        (datetime(2026, 3, 29, 2, 0, tzinfo=timezone.utc), "2026-03-29T03:30:00+02:00"),
    ],
)
def test_clock_changes(now: datetime, moment: str) -> None:
    when = parse_when("om 2:30", now)
    assert when is not None
    assert when.moment.isoformat() == moment


def test_naive_clock_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        parse_when("gisteren", datetime(2026, 11, 29, 15))


@pytest.mark.parametrize(
    "phrase",
    ["", "   ", "blabla", "ik weet het niet", "30-02", "31 april", "om 25 uur", "morgen"],
)
def test_no_time_expression_gives_none(phrase: str) -> None:
    assert parse_when(phrase, SUNDAY) is None


@pytest.mark.parametrize("phrase", ["12-03-2030", "vanavond om 9 uur", "1 december 2026"])
def test_a_moment_in_the_future_is_refused(phrase: str) -> None:
    assert parse_when(phrase, SUNDAY) is None


@pytest.mark.parametrize(
    ("phrase", "now", "described"),
    [
        ("gisteravond", SUNDAY, "zaterdag 28 november, 's avonds"),
        ("zaterdag rond 23.00", SUNDAY, "zaterdag 28 november rond 23:00"),
        ("3 november om 14:00", SUNDAY, "dinsdag 3 november om 14:00"),
        ("vannacht", SUNDAY, "nacht van zaterdag 28 op zondag 29 november"),
        ("vannacht", at(2026, 11, 1, 10), "nacht van zaterdag 31 oktober op zondag 1 november"),
        ("afgelopen weekend", SUNDAY, "weekend van 21 en 22 november"),
        ("vorige week", SUNDAY, "week van maandag 16 november"),
        ("eind vorige week", SUNDAY, "rond vrijdag 20 november"),
        ("vorige maand", SUNDAY, "oktober"),
        ("eind oktober", SUNDAY, "eind oktober"),
        ("12 maart", NEW_YEAR, "donderdag 12 maart 2026"),
    ],
)
def test_describe_in_dutch(phrase: str, now: datetime, described: str) -> None:
    when = parse_when(phrase, now)
    assert when is not None
    assert when.describe(now) == described


def test_describe_without_a_clock_names_the_year() -> None:
    when = parse_when("gisteravond", SUNDAY)
    assert when is not None
    assert when.describe() == "zaterdag 28 november 2026, 's avonds"


@pytest.mark.parametrize(
    ("story", "moment", "precision"),
    [
        (
            "gisteravond stond er iemand bij mijn huis te schreeuwen",
            at(2026, 11, 28, 18),
            "part_of_day",
        ),
        (
            "Vorige week dinsdag kreeg ik na de raadsvergadering een dreigbrief in de bus.",
            at(2026, 11, 17),
            "day",
        ),
        ("Hij heeft me twee uur geleden op Facebook bedreigd", at(2026, 11, 29, 13), "hour"),
        (
            "Ik heb net een bericht gekregen dat ze weten waar ik woon",
            at(2026, 11, 29, 15),
            "minute",
        ),
        (
            "Afgelopen maandag rond half tien 's avonds stonden er twee mannen voor de deur",
            at(2026, 11, 23, 21, 30),
            "hour",
        ),
        ("Op zaterdag 14 november is mijn auto bekrast", at(2026, 11, 14), "day"),
        ("Er werd vanochtend om 7 uur een steen door de ruit gegooid", at(2026, 11, 29, 7), "hour"),
        ("Om 8 uur 's avonds werd er aangebeld", at(2026, 11, 28, 20), "hour"),
        ("Gisteren belde hij, en vanochtend stond hij weer voor de deur", at(2026, 11, 28), "day"),
        (
            "Hij zei dat hij morgen terug zou komen. Gisteren stond hij al hier",
            at(2026, 11, 28),
            "day",
        ),
    ],
)
def test_find_when_in_a_story(story: str, moment: datetime, precision: str) -> None:
    when = find_when(story, SUNDAY)
    assert when is not None
    assert (when.moment, when.precision) == (moment, precision)


@pytest.mark.parametrize(
    "story",
    [
        "",
        "Ik heb twee uur gewacht op de politie",
        "Ik kreeg 3 berichten en 2 telefoontjes",
        "Hij zei dat hij morgen terug zou komen",
        "Het kostte 3.50 euro",
        "Ik ben 2-3 keer gebeld door een onbekend nummer",
        "'s avonds ben ik vaak alleen thuis",
        "Jan belde me op en zei dat ik moest oppassen",
        "Dat is net wat ik bedoel",
        "Ik ben nu bang",
    ],
)
def test_find_when_ignores_what_is_not_a_date(story: str) -> None:
    assert find_when(story, SUNDAY) is None


DAYS = [
    "",
    "vandaag",
    "gisteren",
    "eergisteren",
    "maandag",
    "zondag",
    "afgelopen zaterdag",
    "vorige week dinsdag",
    "12 maart",
    "12-03",
    "29 februari",
    "1 januari",
    "31 december",
    "zondag 29 maart",
    "drie dagen geleden",
    "zaterdagnacht",
    "gisteravond",
    "vanochtend",
    "vanavond",
    "vannacht",
]
PARTS = ["", "'s ochtends", "'s middags", "'s avonds", "'s nachts"]
CLOCKS = [
    "",
    "om 8 uur",
    "rond 23.00",
    "om 2:30",
    "half drie",
    "kwart over negen",
    "tien voor half een",
    "om 00:15",
    "rond middernacht",
    "om 12 uur",
]
WHOLES = [
    "net",
    "een uur geleden",
    "anderhalf uur geleden",
    "vorige week",
    "eind deze week",
    "twee weken geleden",
    "vorige maand",
    "in maart",
    "eind oktober",
    "weekend",
    "afgelopen weekend",
]
phrases = st.one_of(
    st.sampled_from(WHOLES),
    st.tuples(st.sampled_from(DAYS), st.sampled_from(PARTS), st.sampled_from(CLOCKS))
    .flatmap(st.permutations)
    .map(lambda words: " ".join(w for w in words if w)),
)
clocks = st.datetimes(datetime(2000, 1, 1), datetime(2040, 12, 31), timezones=st.just(timezone.utc))


def assert_sound(when: When | None, now: datetime) -> None:
    if when is None:
        return
    assert when.moment.timestamp() <= now.timestamp()
    assert when.precision in PRECISIONS
    assert when.moment.tzinfo is AMSTERDAM
    assert when.describe()


@settings(max_examples=300, deadline=None)
@given(phrase=phrases, now=clocks)
# Around the clock changes: 02:30 does not exist on 29 March 2026 and occurs twice on 25 October.
@example(phrase="om 2:30", now=datetime(2026, 3, 29, 1, 10, tzinfo=timezone.utc))
@example(phrase="half drie 's nachts", now=datetime(2026, 3, 29, 1, 10, tzinfo=timezone.utc))
@example(phrase="om 2:30", now=datetime(2026, 10, 25, 1, 10, tzinfo=timezone.utc))
def test_never_in_the_future(phrase: str, now: datetime) -> None:
    assert_sound(parse_when(phrase, now), now)
    assert_sound(find_when(f"Ik wil melden dat {phrase} iets gebeurde.", now), now)
