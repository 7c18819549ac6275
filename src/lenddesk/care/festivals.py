"""Festival dates for greeting campaigns: pure, no clock.

The lunar festivals come from `lunardate` (pure Python, lunar years 1900–2099). `chinesecalendar`,
which the working calendar uses, knows statutory holidays only up to 2026 and says nothing about the
lunar calendar itself, so it cannot place 春节 2027 (docs/CARE.md "Festivals").
"""

from __future__ import annotations

from datetime import date, timedelta

# name → (lunar month, lunar day) or, for the solar ones, (None, (month, day)).
LUNAR_FESTIVALS: dict[str, tuple[int, int]] = {
    "spring_festival": (1, 1),  # 春节
    "lantern": (1, 15),  # 元宵节
    "dragon_boat": (5, 5),  # 端午节
    "qixi": (7, 7),  # 七夕
    "mid_autumn": (8, 15),  # 中秋节
    "double_ninth": (9, 9),  # 重阳节
    "laba": (12, 8),  # 腊八节
}
SOLAR_FESTIVALS: dict[str, tuple[int, int]] = {"new_year": (1, 1), "national_day": (10, 1)}
FESTIVALS = (*LUNAR_FESTIVALS, *SOLAR_FESTIVALS, "new_years_eve")
NAMES_ZH = {
    "spring_festival": "春节",
    "lantern": "元宵节",
    "dragon_boat": "端午节",
    "qixi": "七夕",
    "mid_autumn": "中秋节",
    "double_ninth": "重阳节",
    "laba": "腊八节",
    "new_year": "元旦",
    "national_day": "国庆节",
    "new_years_eve": "除夕",
}


def festival_on(name: str, year: int) -> date:
    """The Gregorian date of festival `name` in Gregorian year `year`."""
    if name in SOLAR_FESTIVALS:
        month, day = SOLAR_FESTIVALS[name]
        return date(year, month, day)
    from lunardate import LunarDate  # pinned in pyproject; only festival dates need it

    if name == "new_years_eve":  # the day before 春节, whether the 12th month has 29 or 30 days
        return festival_on("spring_festival", year) - timedelta(days=1)
    if name not in LUNAR_FESTIVALS:
        raise ValueError(f"unknown festival {name!r}; festivals are {list(FESTIVALS)}")
    month, day = LUNAR_FESTIVALS[name]
    # A lunar date of lunar year Y falls in Gregorian Y or, for late-winter ones (腊八), in Y + 1.
    for lunar_year in (year, year - 1):
        solar = LunarDate(lunar_year, month, day).to_solar_date()
        if solar.year == year:
            return solar
    raise ValueError(f"{name} does not fall in {year}")


def next_festival(name: str, today: date) -> date:
    """The festival's next date on or after `today`."""
    this_year = festival_on(name, today.year)
    return this_year if this_year >= today else festival_on(name, today.year + 1)
