"""Dutch time expressions ("gisteravond", "vorige week dinsdag") resolved to a moment in the past."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

AMSTERDAM = ZoneInfo("Europe/Amsterdam")

PRECISIONS = ("minute", "hour", "part_of_day", "day", "week", "month")
WEEKDAYS = ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag")
MONTHS = (
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
)
_MONTH_WORDS = {name: number for number, name in enumerate(MONTHS, 1)} | {
    "jan": 1,
    "feb": 2,
    "febr": 2,
    "mrt": 3,
    "apr": 4,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sep": 9,
    "sept": 9,
    "okt": 10,
    "nov": 11,
    "dec": 12,
}
_NUMBER_WORDS = {
    "een": 1,
    "twee": 2,
    "drie": 3,
    "vier": 4,
    "vijf": 5,
    "zes": 6,
    "zeven": 7,
    "acht": 8,
    "negen": 9,
    "tien": 10,
    "elf": 11,
    "twaalf": 12,
    "dertien": 13,
    "veertien": 14,
}
_PARTS = {
    "ochtend": "ochtend",
    "morgen": "ochtend",
    "middag": "middag",
    "avond": "avond",
    "nacht": "nacht",
}
_PART_START = {"nacht": 0, "ochtend": 6, "middag": 12, "avond": 18}
_PART_ADVERB = {"ochtend": "'s ochtends", "middag": "'s middags", "avond": "'s avonds"}
_DAY = 24 * 60


@dataclass(frozen=True)
class When:
    """When an incident happened: the best estimate of its start, and how sure that is."""

    moment: datetime
    precision: str
    ambiguous: bool

    def describe(self, now: datetime | None = None) -> str:
        """Short Dutch description; the year is left out when it is the year of `now`."""
        moment = self.moment.astimezone(AMSTERDAM)
        with_year = now is None or now.astimezone(AMSTERDAM).year != moment.year
        day = moment.date()
        if self.precision == "minute":
            return f"{_day_text(day, with_year)} om {moment:%H:%M}"
        if self.precision == "hour":
            return f"{_day_text(day, with_year)} rond {moment:%H:%M}"
        if self.precision == "part_of_day":
            if moment.hour < 6:
                before = day - timedelta(days=1)
                return f"nacht van {_day_text(before, with_year, short_of=day)} op {_day_text(day, with_year)}"
            part = next(p for p, start in _PART_START.items() if start == moment.hour)
            return f"{_day_text(day, with_year)}, {_PART_ADVERB[part]}"
        if self.precision == "week":
            if day.weekday() == 5:
                sunday = day + timedelta(days=1)
                return f"weekend van {_date_text(day, with_year, short_of=sunday)} en {_date_text(sunday, with_year)}"
            prefix = "week van" if day.weekday() == 0 else "rond"
            return f"{prefix} {_day_text(day, with_year)}"
        if self.precision == "month":
            prefix = "" if day.day < 11 else "half " if day.day < 21 else "eind "
            return f"{prefix}{MONTHS[day.month - 1]}" + (f" {day.year}" if with_year else "")
        return _day_text(day, with_year)


def _day_text(day: date, with_year: bool, short_of: date | None = None) -> str:
    return f"{WEEKDAYS[day.weekday()]} {_date_text(day, with_year, short_of)}"


def _date_text(day: date, with_year: bool, short_of: date | None = None) -> str:
    """Day and month, with the year when asked; shortened before a date in the same month."""
    if short_of is not None and (day.year, day.month) == (short_of.year, short_of.month):
        return str(day.day)
    text = f"{day.day} {MONTHS[day.month - 1]}"
    same_year = short_of is not None and short_of.year == day.year
    return f"{text} {day.year}" if with_year and not same_year else text


def parse_when(text: str, now: datetime) -> When | None:
    """Read an answer to "wanneer gebeurde het?"; None when it holds no time expression."""
    local_now = _local(now)
    pieces = _pieces(_normalise(text))
    # "nu" or "net" inside a longer answer is rarely the date itself.
    pieces = [p for p in pieces if not p.parse_only] or pieces
    found = [when for group in _groups(pieces, None) if (when := _resolve(group, local_now))]
    if not found:
        return None
    first = found[0]
    # "gisteren of eergisteren": two readings, the first one is a guess.
    return When(first.moment, first.precision, True) if len(found) > 1 else first


def find_when(text: str, now: datetime) -> When | None:
    """Find the first time expression in a longer story; None when there is none."""
    local_now = _local(now)
    story = _normalise(text)
    pieces = [p for p in _pieces(story) if not p.parse_only]
    for group in _groups(pieces, story):
        # A lone weak piece ("8 uur", "'s avonds", "1-2") is too often not a date in a story.
        if len(group) < 2 and not group[0].strong:
            continue
        when = _resolve(group, local_now)
        if when is not None:
            return when
    return None


def clearly_past(text: str, now: datetime) -> bool:
    """Whether `text` names a time before today ("gisteravond", "vorige week"), not now or today."""
    when = find_when(text, now)
    return when is not None and when.moment.date() < _local(now).date()


@dataclass(frozen=True)
class _Day:
    """Candidate days for a day expression, preferred first."""

    dates: Callable[[datetime], list[date]]
    ambiguous: bool = False
    shift: int = 0  # "zaterdagnacht" is the night into Sunday
    until_now: bool = False  # "vanavond" before the evening falls back to today as a whole
    weekday: int | None = None  # said with a date: "woensdag 25 november"


@dataclass(frozen=True)
class _Clock:
    """A time of day as said: 24-hour, or 12-hour that still needs a morning/evening reading."""

    hour: int  # 0..24; 24 is the midnight that ends the day
    minute: int
    twelve_hour: bool
    precision: str

    def offsets(self, part: str | None) -> list[int]:
        """Minutes after the day's midnight for each reading, preferred first."""
        if not self.twelve_hour:
            offset = self.hour * 60 + self.minute
            if part == "nacht" and self.hour >= 12:
                return [offset - _DAY]
            if part == "avond" and self.hour < 6:
                return [offset + _DAY]
            return [offset]
        hour = self.hour % 12
        am, pm = hour * 60 + self.minute, (hour + 12) * 60 + self.minute
        if part == "ochtend":
            return [am]
        if part == "middag":
            return [pm] if hour <= 6 else [am]
        if part == "avond":
            return [pm] if hour >= 5 else [am + _DAY]
        if part == "nacht":
            return [am] if hour <= 6 else [pm - _DAY]
        # Without context "om 3 uur" is more often afternoon, "om 9 uur" morning, "12 uur" noon.
        return [pm, am] if hour <= 6 else [am, pm]


@dataclass(frozen=True)
class _Piece:
    """One recognised stretch of text and what it contributes to a time expression."""

    start: int
    end: int
    day: _Day | None = None
    part: str | None = None
    clock: _Clock | None = None
    whole: Callable[[datetime], When | None] | None = None  # complete on its own
    strong: bool = True
    parse_only: bool = False

    @property
    def slots(self) -> set[str]:
        if self.whole is not None:
            return {"day", "part", "clock"}
        return {s for s, v in (("day", self.day), ("part", self.part), ("clock", self.clock)) if v}


# --- resolution -------------------------------------------------------------------------------


def _local(now: datetime) -> datetime:
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(AMSTERDAM)


def _at(day: date, minutes: int) -> datetime:
    """Wall-clock time on a day, normalised so a time skipped by summer time exists."""
    naive = datetime(day.year, day.month, day.day) + timedelta(minutes=minutes)
    return naive.replace(tzinfo=AMSTERDAM).astimezone(timezone.utc).astimezone(AMSTERDAM)


def _not_after(moment: datetime, now: datetime) -> bool:
    # Timestamps, not wall clocks: around the autumn clock change one wall time occurs twice.
    return moment.timestamp() <= now.timestamp()


def _resolve(group: list[_Piece], now: datetime) -> When | None:
    """The most likely past moment for a group of pieces, or None."""
    whole = next((p.whole for p in group if p.whole), None)
    if whole is not None:
        when = whole(now)
        return when if when is not None and _not_after(when.moment, now) else None
    day = next((p.day for p in group if p.day), None)
    part = next((p.part for p in group if p.part), None)
    clock = next((p.clock for p in group if p.clock), None)
    today = now.date()
    candidates = day.dates(now) if day else [today, today - timedelta(days=1)]
    shift = timedelta(days=day.shift if day else 0)
    for candidate in candidates:
        moment_day = candidate + shift
        # A named day is confirmed when it is a guess, or when weekday and date disagree.
        day_unsure = day is not None and (
            day.ambiguous or day.weekday not in (None, candidate.weekday())
        )
        if clock is not None:
            readings = [_at(moment_day, offset) for offset in clock.offsets(part)]
            past = [m for m in readings if _not_after(m, now)]
            if not past:
                continue
            # A named day keeps the preferred reading; a bare time means the most recent one.
            moment = past[0] if day else max(past, key=datetime.timestamp)
            unsure = clock.twelve_hour and part is None and (day is None or len(past) > 1)
            return When(moment, clock.precision, unsure or day_unsure)
        start = _at(moment_day, _PART_START[part] * 60 if part else 0)
        if _not_after(start, now):
            precision = "part_of_day" if part else "day"
            return When(start, precision, day is None or day_unsure)
    if day is not None and day.until_now and clock is None:
        return When(_at(today, 0), "day", True)
    return None


# --- pieces -------------------------------------------------------------------------------------


def _normalise(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    plain = re.sub(r"[\u2018\u2019`\u00b4]", "'", plain)
    return re.sub(r"\s+", " ", plain)


def _groups(pieces: list[_Piece], story: str | None) -> Iterator[list[_Piece]]:
    """Pieces that make one expression ("zaterdag" + "rond 23.00"); in a story only neighbours."""
    group: list[_Piece] = []
    filled: set[str] = set()
    for piece in pieces:
        joins = (
            group
            and not (piece.slots & filled)
            and group[-1].whole is None
            and (story is None or _is_filler(story[group[-1].end : piece.start]))
        )
        if group and not joins:
            yield group
            group, filled = [], set()
        group.append(piece)
        filled |= piece.slots
    if group:
        yield group


_FILLERS = {"op", "in", "de", "het", "van", "om", "rond", "ongeveer", "laat", "vroeg", "zo"}
_FILLERS |= {"ergens", "precies", "al", "toen", "was", "dat", "tijdens"}


def _is_filler(gap: str) -> bool:
    words = re.findall(r"[a-z']+", gap)
    rest = re.sub(r"[a-z'\s,.;:\-]", "", gap)
    return not rest and len(words) <= 3 and all(w in _FILLERS for w in words)


# --- rules --------------------------------------------------------------------------------------

_NUM = r"\d{1,3}|een|twee|drie|vier|vijf|zes|zeven|acht|negen|tien|elf|twaalf"
_FEW = r"een\s+paar|paar|enkele"
_HOUR = r"2[0-4]|[01]?\d|een|twee|drie|vier|vijf|zes|zeven|acht|negen|tien|elf|twaalf"
_MINUTES = r"1[0-4]|[1-9]|twee|drie|vier|vijf|zes|zeven|acht|negen|tien|elf|twaalf|dertien|veertien"
_WD = "|".join(WEEKDAYS)
_PART = "ochtend|morgen|middag|avond|nacht"
_MONTH = "|".join(MONTHS)
_MONTH_OR_SHORT = "|".join(sorted(_MONTH_WORDS, key=len, reverse=True))
_PREP = (
    r"om\s+ongeveer|om\s+een\s+uur\s+of|een\s+uur\s+of|om|rondom|rond|omstreeks|ongeveer|tegen"
    r"|circa|ca\.|zo\s+rond|ergens\s+rond|even\s+na|vlak\s+na|vlak\s+voor|na"
)
_AT = rf"(?:(?P<prep>{_PREP})\s+)?"
_AGO = r"\s+(?:geleden|terug)"

_Build = Callable[[re.Match[str]], "_Piece | None"]
_RULES: list[tuple[re.Pattern[str], _Build]] = []


def _rule(pattern: str) -> Callable[[_Build], _Build]:
    """Register a builder for a pattern that must stand as whole words."""

    def register(build: _Build) -> _Build:
        _RULES.append((re.compile(rf"(?<![\w'])(?:{pattern})(?![\w])"), build))
        return build

    return register


def _pieces(text: str) -> list[_Piece]:
    """Every recognised piece, longest first on overlap, in text order."""
    found = [
        piece
        for pattern, build in _RULES
        for match in pattern.finditer(text)
        if (piece := build(match)) is not None
    ]
    found.sort(key=lambda p: (p.start - p.end, p.start))
    chosen: list[_Piece] = []
    for piece in found:
        if all(piece.end <= c.start or piece.start >= c.end for c in chosen):
            chosen.append(piece)
    return sorted(chosen, key=lambda p: p.start)


def _number(word: str) -> int:
    return int(word) if word.isdigit() else _NUMBER_WORDS[word]


def _few(word: str) -> bool:
    return re.fullmatch(_FEW, word) is not None


def _piece(
    match: re.Match[str],
    *,
    day: _Day | None = None,
    part: str | None = None,
    clock: _Clock | None = None,
    whole: Callable[[datetime], When | None] | None = None,
    strong: bool = True,
    parse_only: bool = False,
) -> _Piece:
    return _Piece(match.start(), match.end(), day, part, clock, whole, strong, parse_only)


# Instants and "geleden".


def _now(now: datetime) -> When:
    return When(now.replace(second=0, microsecond=0), "minute", False)


@_rule(
    r"zo\s?juist|zo\s?net|daar\s?net|zoeven|zo-even|nu\s+net|net\s+nog|(?:het\s+is\s+)?net\s+gebeurd"
)
def _just_now(match: re.Match[str]) -> _Piece:
    return _piece(match, whole=_now)


@_rule(
    r"(?:heb|heeft|hebben|is|ben|zijn|werd|werden)\s+(?:ik\s+|hij\s+|ze\s+|zij\s+|er\s+|we\s+)?"
    r"net(?=\s+(?!als|zo|niet|wel|toen|genoeg|iets|wat|op\s+tijd|\d)\w)"
)
def _has_just(match: re.Match[str]) -> _Piece:
    return _piece(match, whole=_now)


@_rule(r"net|nu|(?:op\s+)?dit\s+moment|momenteel")
def _now_word(match: re.Match[str]) -> _Piece:
    return _piece(match, whole=_now, parse_only=True)


@_rule(
    rf"(?P<n>{_NUM}|{_FEW}|een\s+half|anderhalf|half)\s*(?P<u>minuten|minuut|min|kwartier|uur|uren){_AGO}"
)
def _minutes_ago(match: re.Match[str]) -> _Piece | None:
    n, unit = match["n"], match["u"]
    few = _few(n)
    count = (
        2 if few else 0.5 if n in ("half", "een half") else 1.5 if n == "anderhalf" else _number(n)
    )
    minutes = count * {"kwartier": 15, "uur": 60, "uren": 60}.get(unit, 1)
    if not 0 < minutes <= 48 * 60:
        return None
    precision = "hour" if unit in ("uur", "uren") and minutes >= 60 else "minute"

    def when(now: datetime) -> When:
        moment = (now.astimezone(timezone.utc) - timedelta(minutes=minutes)).astimezone(AMSTERDAM)
        return When(moment.replace(second=0, microsecond=0), precision, few)

    return _piece(match, whole=when)


# Days.


def _days_back(days: int) -> Callable[[datetime], list[date]]:
    return lambda now: [now.date() - timedelta(days=days)]


def _weekday_dates(weekday: int, how: str | None) -> Callable[[datetime], list[date]]:
    """Days for a weekday: bare (this one or the week before), last one before today, or in a week."""

    def dates(now: datetime) -> list[date]:
        today = now.date()
        if how in ("afgelopen", "vorige", "vorig", "jongstleden", "jl"):
            return [today - timedelta(days=(today.weekday() - weekday - 1) % 7 + 1)]
        if how in ("week-1", "week0"):
            monday = today - timedelta(days=today.weekday() + (7 if how == "week-1" else 0))
            return [monday + timedelta(days=weekday)]
        latest = today - timedelta(days=(today.weekday() - weekday) % 7)
        return [latest, latest - timedelta(days=7)]

    return dates


def _relative_day(word: str) -> int:
    return 0 if word == "vandaag" else 2 if word.startswith("eer") else 1


@_rule(rf"(?P<rel>eergisteren|eergister|gisteren|gister|vandaag)(?:\s?(?P<p>{_PART}))?")
def _relative(match: re.Match[str]) -> _Piece:
    back, part = _relative_day(match["rel"]), _PARTS.get(match["p"] or "")
    if part == "nacht" and back:
        # "gisternacht" is mostly the night into today, for some the night before.
        return _piece(match, day=_Day(_days_back(back), ambiguous=True, shift=1), part=part)
    return _piece(match, day=_Day(_days_back(back), until_now=back == 0), part=part)


@_rule(rf"van(?P<p>{_PART})|(?:de\s+)?(?:afgelopen|vorige)\s+nacht")
def _this(match: re.Match[str]) -> _Piece:
    part = _PARTS[match["p"] or "nacht"]
    if part == "nacht":
        return _piece(match, day=_Day(_days_back(0)), part=part)
    if part == "avond":
        # Just after midnight "vanavond" still means the evening that just ended.
        def evening(now: datetime) -> list[date]:
            return [now.date() - timedelta(days=1 if now.hour < 5 else 0)]

        return _piece(match, day=_Day(evening, until_now=True), part=part)
    return _piece(match, day=_Day(_days_back(0), until_now=True), part=part)


def _weekday_piece(match: re.Match[str], how: str | None) -> _Piece:
    weekday, part = WEEKDAYS.index(match["wd"]), _PARTS.get(match["p"] or "")
    shift = 1 if part == "nacht" else 0  # "zaterdagnacht" is the night into Sunday
    bare = how is None
    day = _Day(_weekday_dates(weekday, how), ambiguous=bare, shift=shift)
    return _piece(match, day=day, part=part)


@_rule(
    rf"(?:op\s+)?(?P<wk>vorige|afgelopen|deze)\s+week\s+(?:op\s+)?(?P<wd>{_WD})(?:\s?(?P<p>{_PART}))?"
)
def _weekday_in_week(match: re.Match[str]) -> _Piece:
    return _weekday_piece(match, "week0" if match["wk"] == "deze" else "week-1")


@_rule(
    rf"(?:(?P<pre>afgelopen|vorige|vorig|jongstleden|op)\s+)?(?P<wd>{_WD})(?:\s?(?P<p>{_PART}))?"
    r"(?:\s+(?P<wk>vorige|afgelopen|deze)\s+week|\s+(?:van\s+)?(?:de\s+)?(?P<wk2>vorige)\s+week"
    r"|\s+(?P<jl>jl\.?|j\.l\.|jongstleden))?"
)
def _weekday(match: re.Match[str]) -> _Piece:
    week = match["wk"] or match["wk2"]
    if week:
        return _weekday_piece(match, "week0" if week == "deze" else "week-1")
    pre = match["pre"] if match["pre"] != "op" else None
    return _weekday_piece(match, "jl" if match["jl"] else pre)


def _valid(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _impossible(match: re.Match[str]) -> _Piece:
    """A date that does not exist ("31 april"): it holds its place so "april" alone won't count."""
    return _piece(match, whole=lambda now: None, strong=False)


def _date_piece(match: re.Match[str], month: int, strong: bool, unsure: bool) -> _Piece | None:
    day_of_month, year = int(match["d"]), match["y"]
    if _valid(2000, month, day_of_month) is None:
        return _impossible(match)
    weekday = WEEKDAYS.index(match["wd"]) if match.groupdict().get("wd") else None
    if year:
        full_year = int(year) if len(year) == 4 else 2000 + int(year)
        fixed = _valid(full_year, month, day_of_month)
        if fixed is None:
            return _impossible(match)
        day = _Day(lambda now: [fixed], ambiguous=unsure, weekday=weekday)
        return _piece(match, day=day, strong=True)

    def dates(now: datetime) -> list[date]:
        years = range(now.year, now.year - 5, -1)
        return [d for y in years if (d := _valid(y, month, day_of_month))][:2]

    return _piece(match, day=_Day(dates, ambiguous=unsure, weekday=weekday), strong=strong)


@_rule(
    rf"(?:(?P<op>op)\s+)?(?:(?P<wd>{_WD})\s+)?(?:de\s+)?(?P<d>[0-3]?\d)(?:e|ste|de)?\s+"
    rf"(?P<mon>{_MONTH_OR_SHORT})\.?(?:\s+(?P<y>(?:19|20)\d\d))?"
)
def _named_date(match: re.Match[str]) -> _Piece | None:
    return _date_piece(match, _MONTH_WORDS[match["mon"]], strong=True, unsure=False)


@_rule(
    rf"(?:(?P<op>op|sinds|vanaf)\s+)?(?:(?P<wd>{_WD})\s+)?(?P<d>[0-3]?\d)(?P<s>[-/.])(?P<m>[01]?\d)"
    r"(?:(?P=s)(?P<y>(?:19|20)?\d\d))?"
)
def _numeric_date(match: re.Match[str]) -> _Piece | None:
    month, day_of_month = int(match["m"]), int(match["d"])
    if not 1 <= month <= 12 or (match["s"] == "." and not match["y"]):
        return None  # "12.03" is a time
    # "12-03" is 12 March here, 3 December for some.
    unsure = not match["y"] and day_of_month <= 12 and day_of_month != month
    strong = bool(match["op"] or match["wd"] or match["y"])
    return _date_piece(match, month, strong=strong, unsure=unsure)


@_rule(r"(?P<y>(?:19|20)\d\d)-(?P<m>[01]?\d)-(?P<d>[0-3]?\d)")
def _iso_date(match: re.Match[str]) -> _Piece | None:
    return (
        _date_piece(match, int(match["m"]), strong=True, unsure=False)
        if 1 <= int(match["m"]) <= 12
        else None
    )


@_rule(rf"(?P<n>{_NUM}|{_FEW})\s+dag(?:en)?{_AGO}")
def _days_ago(match: re.Match[str]) -> _Piece | None:
    few = _few(match["n"])
    days = 3 if few else _number(match["n"])
    if not 0 < days <= 60:
        return None
    return _piece(match, day=_Day(_days_back(days), ambiguous=few))


@_rule(
    rf"(?:(?:in|op)\s+)?(?:de\s+)?nacht\s+van\s+(?P<a>{_WD}|eergisteren|eergister|gisteren|gister)"
    rf"\s+op\s+(?:{_WD}|gisteren|gister|vandaag)"
)
def _night_of(match: re.Match[str]) -> _Piece:
    first = match["a"]
    if first in WEEKDAYS:
        day = _Day(_weekday_dates(WEEKDAYS.index(first), None), ambiguous=True, shift=1)
    else:
        day = _Day(_days_back(_relative_day(first)), shift=1)
    return _piece(match, day=day, part="nacht")


# Parts of the day.


@_rule(
    r"(?:'\s?s\s?|s\s?|des\s+)?(?P<p>ochtends|morgens|middags|avonds|nachts)(?:\s+(?:laat|vroeg))?"
)
def _part_adverb(match: re.Match[str]) -> _Piece:
    return _piece(match, part=_PARTS[match["p"][:-1]], strong=False)


@_rule(rf"(?:(?:midden|laat|vroeg)\s+)?in\s+de\s+(?P<p>{_PART})")
def _part_phrase(match: re.Match[str]) -> _Piece:
    return _piece(match, part=_PARTS[match["p"]], strong=False)


# Clock times.


def _clock_piece(
    match: re.Match[str], hour: int, minute: int, twelve: bool, exact: str, strong: bool
) -> _Piece:
    prep = match["prep"]
    approximate = prep is not None and prep != "om"
    clock = _Clock(hour, minute, twelve, "hour" if approximate else exact)
    return _piece(match, clock=clock, strong=strong)


def _said_hour(word: str, delta: int) -> tuple[int, int, bool]:
    """Hour, minute and 12-hour flag for "half drie" (delta -30) and the like."""
    hour = _number(word)
    if hour > 12:
        total = (hour * 60 + delta) % _DAY
        return total // 60, total % 60, False
    total = (hour * 60 + delta) % (12 * 60)
    return total // 60, total % 60, True


@_rule(
    rf"{_AT}(?P<h>2[0-3]|[01]?\d)(?P<s>[:.hu])(?P<m>[0-5]\d)(?P<uur>\s?uur|u)?"
    r"(?!\s?(?:euro|eur|%|procent))"
)
def _digital(match: re.Match[str]) -> _Piece:
    strong = bool(match["prep"] or match["uur"]) or match["s"] != "."
    return _clock_piece(match, int(match["h"]), int(match["m"]), False, "minute", strong)


@_rule(rf"{_AT}(?P<h>{_HOUR})(?:\s?uur|u)(?!\s?(?:geleden|terug|lang|later|eerder|per)(?!\w))")
def _hour(match: re.Match[str]) -> _Piece:
    hour = _number(match["h"])
    twelve = 1 <= hour <= 12
    return _clock_piece(match, hour, 0, twelve, "hour", match["prep"] is not None)


@_rule(rf"(?P<prep>{_PREP})\s+(?P<h>{_HOUR})(?![\w:./-])")
def _bare_hour(match: re.Match[str]) -> _Piece:
    hour = _number(match["h"])
    return _clock_piece(match, hour, 0, 1 <= hour <= 12, "hour", strong=False)


@_rule(rf"{_AT}half\s+(?P<h>{_HOUR})(?:\s?uur)?")
def _half(match: re.Match[str]) -> _Piece:
    hour, minute, twelve = _said_hour(match["h"], -30)
    return _clock_piece(match, hour, minute, twelve, "minute", strong=True)


@_rule(
    rf"{_AT}(?P<n>kwart|{_MINUTES})\s+(?:minuten\s+|min\s+)?(?P<dir>over|voor)\s+"
    rf"(?P<half>half\s+)?(?P<h>{_HOUR})"
)
def _past_or_to(match: re.Match[str]) -> _Piece | None:
    if match["n"] == "een" or (match["h"].isdigit() and int(match["h"]) > 23):
        return None  # "een voor een" is not a time
    minutes = 15 if match["n"] == "kwart" else _number(match["n"])
    delta = (minutes if match["dir"] == "over" else -minutes) - (30 if match["half"] else 0)
    hour, minute, twelve = _said_hour(match["h"], delta)
    return _clock_piece(match, hour, minute, twelve, "minute", strong=True)


@_rule(rf"{_AT}middernacht")
def _midnight(match: re.Match[str]) -> _Piece:
    return _clock_piece(match, 24, 0, False, "minute", strong=True)


# Weeks, weekends and months.


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


_POSITION_IN_WEEK = {"begin": 0, "midden": 2, "halverwege": 2, "eind": 4, "einde": 4}


@_rule(
    r"(?:(?P<pos>begin|eind|einde|midden|halverwege)\s+(?:van\s+)?)?(?:de\s+)?"
    r"(?P<which>vorige|afgelopen|deze)\s+week"
)
def _week(match: re.Match[str]) -> _Piece:
    back = 0 if match["which"] == "deze" else 7
    offset = _POSITION_IN_WEEK.get(match["pos"] or "begin", 0)

    def when(now: datetime) -> When:
        start = _monday(now.date()) - timedelta(days=back) + timedelta(days=offset)
        return When(_at(start, 0), "week", False)

    return _piece(match, whole=when)


@_rule(rf"(?P<n>{_NUM}|{_FEW})\s+weken?{_AGO}")
def _weeks_ago(match: re.Match[str]) -> _Piece | None:
    few = _few(match["n"])
    weeks = 2 if few else _number(match["n"])
    if not 0 < weeks <= 26:
        return None
    return _piece(
        match,
        whole=lambda now: When(_at(_monday(now.date() - timedelta(weeks=weeks)), 0), "week", few),
    )


@_rule(
    r"(?:(?P<which>afgelopen|vorig|vorige|dit|deze|(?:in\s+)?het(?:\s+afgelopen|\s+vorige)?)\s+)?weekend"
)
def _weekend(match: re.Match[str]) -> _Piece:
    which = (match["which"] or "").split()

    def when(now: datetime) -> When:
        today = now.date()
        saturday = today - timedelta(days=(today.weekday() - 5) % 7)
        past = bool({"afgelopen", "vorig", "vorige"} & set(which))
        # On a Saturday or Sunday "afgelopen weekend" is the one before; some mean this one.
        during = today.weekday() >= 5
        if past and during:
            return When(_at(saturday - timedelta(days=7), 0), "week", True)
        return When(_at(saturday, 0), "week", False)

    return _piece(match, whole=when, strong=bool(which))


_POSITION_IN_MONTH = {"begin": 1, "half": 11, "midden": 11, "eind": 21, "einde": 21}


def _month_start(year: int, month: int, back: int) -> tuple[int, int]:
    index = year * 12 + month - 1 - back
    return index // 12, index % 12 + 1


@_rule(
    rf"(?:(?P<pos>begin|half|midden|eind|einde)\s+)?(?:(?P<in>in)\s+)?(?P<mon>{_MONTH})(?:\s+(?P<y>(?:19|20)\d\d))?"
)
def _month(match: re.Match[str]) -> _Piece:
    month, year = _MONTH_WORDS[match["mon"]], match["y"]
    day = _POSITION_IN_MONTH.get(match["pos"] or "begin", 1)

    def when(now: datetime) -> When | None:
        for y in [int(year)] if year else [now.year, now.year - 1]:
            moment = _at(date(y, month, day), 0)
            if _not_after(moment, now):
                return When(moment, "month", False)
        return None

    strong = bool(match["pos"] or match["in"] or year)
    return _piece(match, whole=when, strong=strong)


@_rule(
    r"(?:(?P<pos>begin|half|midden|eind|einde)\s+)?(?:de\s+)?(?P<which>vorige|afgelopen|deze)\s+maand"
)
def _this_or_last_month(match: re.Match[str]) -> _Piece:
    back = 0 if match["which"] == "deze" else 1
    day = _POSITION_IN_MONTH.get(match["pos"] or "begin", 1)

    def when(now: datetime) -> When:
        year, month = _month_start(now.year, now.month, back)
        return When(_at(date(year, month, day), 0), "month", False)

    return _piece(match, whole=when)


@_rule(rf"(?P<n>{_NUM}|{_FEW})\s+maand(?:en)?{_AGO}")
def _months_ago(match: re.Match[str]) -> _Piece | None:
    few = _few(match["n"])
    months = 2 if few else _number(match["n"])
    if not 0 < months <= 24:
        return None

    def when(now: datetime) -> When:
        year, month = _month_start(now.year, now.month, months)
        return When(_at(date(year, month, 1), 0), "month", few)

    return _piece(match, whole=when)
