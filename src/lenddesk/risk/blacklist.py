"""Blacklist values, pure: normalisation and the keyed hash that is all the database ever holds.

The clear number never rests anywhere: a request is normalised (NFKC, spaces and dashes dropped,
upper-case X in ID numbers, +86 dropped from mobiles) and hashed with HMAC-SHA256 under the risk key
(settings `risk_key`), kind-prefixed so that an ID number and a mobile never collide.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata

from lenddesk.core.pii import is_valid_id_number, is_valid_mobile, normalise_mobile

KINDS = ("id_number", "mobile")
KIND_LABELS_ZH = {"id_number": "身份证号", "mobile": "手机号"}


def normalise(kind: str, value: str) -> str:
    text = unicodedata.normalize("NFKC", value or "")
    text = re.sub(r"[\s\-]", "", text)
    if kind == "id_number":
        return text.upper()
    return normalise_mobile(text)


def is_valid(kind: str, normalised: str) -> bool:
    return is_valid_id_number(normalised) if kind == "id_number" else is_valid_mobile(normalised)


def keyed_hash(key: str, kind: str, normalised: str) -> str:
    return hmac.new(key.encode(), f"{kind}:{normalised}".encode(), hashlib.sha256).hexdigest()
