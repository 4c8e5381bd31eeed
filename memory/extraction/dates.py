"""Dates in what users say ("tomorrow", "next Friday", "in two weeks", "March 3rd"), resolved
to absolute dates from the day the message was written, and said back in words.

A memory must not say "tomorrow": read a week later, it would be wrong. The rules write
the resolved date instead ("on 4 December") and keep it, with its year, as the memory's
`happened_on`. The year is written only when it is not the year the message was written
in: a year in every memory would match every question that names one ("in May 2023") far
better than the messages that answer it.
"""

import re
from calendar import monthrange
from dataclasses import dataclass
from datetime import date, timedelta

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MONTHS = (
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december",
)  # fmt: skip
_NUMBERS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "a couple of": 2, "a few": 3,
}  # fmt: skip

_MONTH = r"(?P<month>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?" \
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"  # fmt: skip
_DAY = r"(?P<day>[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?"
_YEAR = r"(?:,?\s+(?P<year>(?:19|20)\d\d))?"
_COUNT = r"(?P<count>\d{1,3}|a couple of|a few|an?|one|two|three|four|five|six|seven|eight|nine" \
    r"|ten|eleven|twelve)"  # fmt: skip
_UNIT = r"(?P<unit>day|week|month|year)s?"
_WEEKDAY = r"(?P<weekday>" + "|".join(WEEKDAYS) + r")"

_PATTERNS = tuple(
    (name, re.compile(r"(?i:\b" + pattern + r")(?!\w)"))
    for name, pattern in (
        ("iso", r"(?:on\s+)?(?P<year>(?:19|20)\d\d)-(?P<month>[01]\d)-(?P<day>[0-3]\d)"),
        ("day_month", r"(?:on\s+)?(?:the\s+)?" + _DAY + r"\s+(?:of\s+)?" + _MONTH + _YEAR),
        ("month_day", r"(?:on\s+)?" + _MONTH + r"\s+(?:the\s+)?" + _DAY + _YEAR),
        ("month_year", r"(?:in\s+)?" + _MONTH + r",?\s+(?P<year>(?:19|20)\d\d)"),
        ("in_month", r"(?:in|this|next|last)\s+" + _MONTH + r"(?!\s+(?:the\s+)?\d)"),
        ("relative_day", r"(?:the\s+day\s+(?P<shift>after|before)\s+)?(?P<word>today|tonight"
            r"|tomorrow|yesterday)(?:\s+(?:morning|afternoon|evening|night))?"),
        ("in", r"in\s+" + _COUNT + r"\s+" + _UNIT + r"(?:\s+time)?"),
        ("ago", _COUNT + r"\s+" + _UNIT + r"\s+ago"),
        ("weekday", r"(?:(?:on|this|next|last|coming)\s+)*" + _WEEKDAY
            + r"(?:\s+(?:morning|afternoon|evening|night))?"),
        ("weekend", r"(?P<which>this|next|last)\s+weekend|(?:at|on|over)\s+the\s+weekend"),
        ("period", r"(?P<which>this|next|last)\s+(?P<unit>week|month|year)"),
    )
)  # fmt: skip


@dataclass(frozen=True)
class FoundDate:
    """A date said in a text: where (`start`, `end`), what it resolves to and how precisely."""

    start: int
    end: int
    day: date
    precision: str  # "day" | "week" | "month" | "year" | "yearless" (a birthday: day and month)
    said_on: date  # the day the text was written

    def words(self) -> str:
        """Return the date as a memory says it: "on 4 December", "in the week of 30 November",
        "in March 2027" (said in 2026), "in 2027", …"""
        month = MONTHS[self.day.month - 1].capitalize()
        year = "" if self.day.year == self.said_on.year else f" {self.day.year}"
        if self.precision == "yearless":
            return f"on {self.day.day} {month}"
        if self.precision == "week":
            return f"in the week of {self.day.day} {month}{year}"
        if self.precision == "month":
            return f"in {month}{year}"
        if self.precision == "year":
            return f"in {self.day.year}"
        return f"on {self.day.day} {month}{year}"


def _month(name: str) -> int:
    return (
        int(name)
        if name.isdigit()
        else next(i + 1 for i, month in enumerate(MONTHS) if month.startswith(name.lower()[:3]))
    )


def _add_months(day: date, months: int) -> date:
    year, month = divmod(day.month - 1 + months, 12)
    year, month = day.year + year, month + 1
    return date(year, month, min(day.day, monthrange(year, month)[1]))


def _shift(today: date, count: int, unit: str) -> tuple[date, str]:
    if unit == "day":
        return today + timedelta(days=count), "day"
    if unit == "week":
        return today + timedelta(weeks=count), "day"
    if unit == "month":
        return _add_months(today, count), "month"
    return _add_months(today, 12 * count), "year"


def _resolve(name: str, found: re.Match, today: date) -> tuple[date, str] | None:
    groups = {key: (value or "").lower() for key, value in found.groupdict().items()}
    if name in ("iso", "day_month", "month_day"):
        year = int(groups["year"]) if groups["year"] else today.year
        try:
            day = date(year, _month(groups["month"]), int(groups["day"]))
        except ValueError:
            return None
        return day, "day" if groups["year"] else "yearless"
    if name == "month_year":
        return date(int(groups["year"]), _month(groups["month"]), 1), "month"
    if name == "in_month":
        month, which = _month(groups["month"]), found[0].split()[0].lower()
        year = today.year + {"next": 1, "last": -1}.get(which, 0)
        if which == "in" and month < today.month:
            year += 1  # "in March", said in November: next March
        return date(year, month, 1), "month"
    if name == "relative_day":
        offset = {"today": 0, "tonight": 0, "tomorrow": 1, "yesterday": -1}[groups["word"]]
        offset += {"after": 1, "before": -1, "": 0}[groups["shift"]]
        return today + timedelta(days=offset), "day"
    if name in ("in", "ago"):
        count = int(groups["count"]) if groups["count"].isdigit() else _NUMBERS[groups["count"]]
        return _shift(today, count if name == "in" else -count, groups["unit"])
    if name == "weekday":
        target = WEEKDAYS.index(groups["weekday"])
        words = found[0].lower().split()
        ahead = (target - today.weekday()) % 7
        if "last" in words:
            return today - timedelta(days=(today.weekday() - target) % 7 or 7), "day"
        if "this" in words:
            return today + timedelta(days=ahead), "day"
        # "next Friday", "on Friday": the first one after today.
        return today + timedelta(days=ahead or 7), "day"
    monday = today - timedelta(days=today.weekday())
    if name == "weekend":
        saturday = monday + timedelta(days=5)
        weeks = {"next": 1, "last": -1}.get(groups["which"], 0)
        return saturday + timedelta(weeks=weeks), "day"
    step = {"this": 0, "next": 1, "last": -1}[groups["which"]]
    if groups["unit"] == "week":
        return monday + timedelta(weeks=step), "week"
    if groups["unit"] == "month":
        return _add_months(today.replace(day=1), step), "month"
    return date(today.year + step, 1, 1), "year"


def find_date(text: str, today: date) -> FoundDate | None:
    """Return the first date said in `text`, resolved from `today`, or None."""
    best: FoundDate | None = None
    for name, pattern in _PATTERNS:
        for found in pattern.finditer(text):
            if best is not None and found.start() >= best.start:
                break
            resolved = _resolve(name, found, today)
            if resolved is not None:
                best = FoundDate(found.start(), found.end(), *resolved, said_on=today)
                break
    return best


def with_date(text: str, found: FoundDate) -> str:
    """Return `text` with the date it says written out in words (see `FoundDate.words`)."""
    return f"{text[: found.start]}{found.words()}{text[found.end :]}"
