"""Agreements, pure: the Chinese text from a template, the canonical content and the hash chain.

Each stored agreement is chained: sha256 = SHA-256 of the canonical JSON (sorted keys, UTF-8, no
spaces) of its chained fields, which include the previous record's sha256 (64 zeros for the
first). Changing one byte of any chained field of any record — or dropping, inserting or
re-ordering a record — makes `verify_chain` fail and name the first record that no longer fits.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, StrictUndefined

GENESIS = "0" * 64
CHAINED_FIELDS = ("seq", "number", "case_id", "proposal_id", "loan_id", "kind", "content", "text_zh")

# The template lives with the console's templates (packaged with them); every placeholder must be given.
TEMPLATE_PATH = (
    Path(__file__).resolve().parent.parent / "web" / "templates" / "negotiation" / "agreement_zh.txt"
)

_environment = Environment(autoescape=False, undefined=StrictUndefined, keep_trailing_newline=True)
_template = _environment.from_string(TEMPLATE_PATH.read_text(encoding="utf-8"))


def render_text(terms: dict[str, Any]) -> str:
    """The agreement in Chinese (the template above; every placeholder must be given)."""
    return _template.render(**terms)


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def chain_hash(record: dict[str, Any], previous_sha256: str) -> str:
    """SHA-256 of the chained fields of `record` together with the previous record's hash."""
    chained = {name: record[name] for name in CHAINED_FIELDS}
    chained["previous_sha256"] = previous_sha256
    return hashlib.sha256(canonical(chained).encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class ChainCheck:
    ok: bool
    checked: int
    first_tampered: str | None  # the agreement number of the first record that does not fit
    reason: str | None = None


def verify_chain(records: Iterable[dict[str, Any]]) -> ChainCheck:
    """Walk the records in `seq` order; the first one whose link or hash does not hold is named."""
    previous, expected_seq, checked = GENESIS, 1, 0
    for record in records:
        checked += 1
        reason = None
        if record["seq"] != expected_seq:
            reason = "sequence"
        elif record["previous_sha256"] != previous:
            reason = "link"
        elif chain_hash(record, record["previous_sha256"]) != record["sha256"]:
            reason = "hash"
        if reason:
            return ChainCheck(False, checked, str(record["number"]), reason)
        previous, expected_seq = record["sha256"], expected_seq + 1
    return ChainCheck(True, checked, None)
