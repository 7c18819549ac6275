"""Pure rules of emergency mode: kinds, scope by product, and what a data-leak notice must say.

No database, no clock. docs/INCIDENTS.md describes them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping

from lenddesk.core.policy import INCIDENT_KINDS

KINDS = INCIDENT_KINDS
KIND_LABELS_ZH = {"outage": "系统故障", "data_leak": "数据泄露", "fund_risk": "资金风险"}
STATUS_LABELS_ZH = {"active": "进行中", "resolved": "已解除"}

# The elements of a data-leak notice (PIPL Art. 57, and our anti-scam line), in Chinese and English.
LEAK_ELEMENTS: dict[str, tuple[str, str]] = {
    "what_happened": ("发生了什么（事件经过）", "what happened"),
    "data_involved": ("涉及哪些个人信息", "which personal data"),
    "our_measures": ("我们已采取的补救措施", "what we have done"),
    "your_actions": ("借款人可采取的措施", "what the borrower can do"),
    "contact": ("联系方式（电话或邮箱）", "how to contact us (phone or e-mail)"),
    "anti_scam": ("防诈骗提示", "an anti-scam warning"),
}
# A hotline (400/800 numbers, 95xxx, a landline) or an e-mail address.
_CONTACT_ADDRESS = re.compile(
    r"[0-9]{3,4}[- ]?[0-9]{3,4}[- ]?[0-9]{3,4}|(?<![0-9])95[0-9]{3,4}(?![0-9])|[\w.+-]+@[\w-]+\.[\w.]+"
)


def in_scope(products: list[str] | None, loan_products: Iterable[str]) -> bool:
    """Whether an incident over `products` (None: every product) covers a borrower with these loans.

    With a product list, a borrower is in scope through an open loan of one of the products; with
    None, every borrower is, with or without a loan."""
    if products is None:
        return True
    wanted = set(products)
    return any(code in wanted for code in loan_products)


def missing_leak_elements(text: str, phrases: Mapping[str, list[str]]) -> list[str]:
    """The elements (keys of LEAK_ELEMENTS) a data-leak notice lacks; [] when it is complete."""
    plain = unicodedata.normalize("NFKC", text)
    missing = [key for key in LEAK_ELEMENTS if not any(phrase in plain for phrase in phrases.get(key, ()))]
    if "contact" not in missing and not _CONTACT_ADDRESS.search(plain):
        missing.append("contact")
    return [key for key in LEAK_ELEMENTS if key in missing]


def element_names(keys: Iterable[str]) -> tuple[str, str]:
    """The missing elements named in Chinese and English."""
    keys = list(keys)
    return "、".join(LEAK_ELEMENTS[k][0] for k in keys), ", ".join(LEAK_ELEMENTS[k][1] for k in keys)
