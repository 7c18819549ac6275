"""Shared pieces of the demo portfolio: products, option record, reference data."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

Progress = Callable[[str, int, int], None]

CHANNELS = ("auto_debit", "wechat_pay", "alipay", "bank_transfer", "mobile_banking", "counter")
_REFERENCE_PREFIX = {
    "auto_debit": "AD",
    "wechat_pay": "42000",
    "alipay": "2088",
    "bank_transfer": "BT",
    "mobile_banking": "MB",
    "counter": "CT",
}


@dataclass(frozen=True)
class ProductSpec:
    code: str
    name: str
    annual_rate: str
    term: int
    method: str
    grace_days: int
    penalty_mode: str
    penalty_daily_rate: str
    penalty_multiple: str
    late_fee_fixed_fen: int
    late_fee_percent: str
    weight: int
    amounts_yuan: tuple[int, int]  # range of loan amounts, multiples of 500


# fmt: off
PRODUCTS = (
    ProductSpec("JSD-03", "极速贷·3期", "0.2160", 3, "equal_instalment",
                3, "daily", "0.0005", "1.5", 3000, "0", 24, (1000, 8000)),
    ProductSpec("JSD-06", "极速贷·6期", "0.1980", 6, "equal_instalment",
                3, "daily", "0.0005", "1.5", 0, "0.05", 22, (2000, 20000)),
    ProductSpec("XFD-12", "消费贷·12期", "0.1800", 12, "equal_instalment",
                3, "multiple", "0.0005", "1.5", 5000, "0", 22, (5000, 50000)),
    ProductSpec("FQ-EP-24", "分期·等额本金24期", "0.1296", 24, "equal_principal",
                5, "daily", "0.0004", "1.5", 0, "0.03", 12, (10000, 80000)),
    ProductSpec("ZXD-36", "装修贷·36期", "0.0720", 36, "equal_instalment",
                5, "multiple", "0.0003", "1.5", 10000, "0", 6, (50000, 200000)),
    ProductSpec("JYD-IF-12", "经营贷·先息后本12期", "0.1440", 12, "interest_first",
                3, "daily", "0.0004", "1.5", 0, "0.02", 8, (20000, 100000)),
    ProductSpec("ZZ-BL-03", "周转贷·到期还本付息", "0.2400", 3, "bullet",
                3, "daily", "0.0005", "1.5", 2000, "0", 6, (1000, 10000)),
)
# fmt: on

REGIONS = (
    "110101", "110105", "120101", "130102", "140105", "210102", "220102", "230102", "310101", "310115",
    "320102", "320505", "330106", "330203", "340104", "350203", "360102", "370102", "370202", "410105",
    "420106", "430104", "440106", "440305", "450103", "460105", "500103", "510104", "520102", "530102",
    "610113", "620102", "640104", "650102",
)  # fmt: skip
MOBILE_PREFIXES = (
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "155", "156",
    "157", "158", "159", "166", "173", "176", "177", "180", "181", "182", "185", "186", "187", "188",
    "189", "191", "198", "199",
)  # fmt: skip
EMAIL_DOMAINS = ("qq.com", "163.com", "126.com", "sina.com", "foxmail.com", "139.com")
CONTACT_TIMES = ("09:00-12:00", "12:00-14:00", "14:00-18:00", "18:00-21:00")
PREFERRED_CHANNELS = ("phone", "wechat", "sms", "email", "app")
_POSTCODE = re.compile(r"\s*\d{6}$")


@dataclass(frozen=True)
class SeedOptions:
    borrowers: int
    business_date: date
    loans_per_borrower: float = 1.5
    seed: int = 20261126
    simulate_days: int = 60
    history_days: int = 548  # about 18 months
    batch_borrowers: int = 10_000
    # Processes building batches side by side (seed/loader.py); 1 builds them in this process.
    workers: int = 1
    # After-close steps left out of the window's closes but its last `full_close_days` (the demo: the
    # risk score, which rescored the whole book each day; see after_close.skipping).
    skip_steps: tuple[str, ...] = ()
    full_close_days: int = 14
    # Modules that act on each simulated day before its close (seed/players.py; the demo: hardship
    # negotiations, which must be agreed and judged inside the window).
    players: tuple[str, ...] = ()
