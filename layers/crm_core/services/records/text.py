"""How text is folded for type-ahead search: tokens are stored and queries matched the same way."""

from __future__ import annotations

import unicodedata


def normalize_text(value: str) -> str:
    """Lowercase, accents folded, single spaces: how tokens are stored and queries are matched."""
    folded = unicodedata.normalize("NFKD", value)
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return " ".join(folded.lower().split())


def phone_digits(value: str) -> str:
    return "".join(ch for ch in value if ch.isdigit())


def normalize_query(q: str) -> str:
    """A type-ahead query as the tokens it should match: a phone number as its digits, other text folded."""
    text = q.strip()
    if (
        text
        and not any(ch.isalpha() for ch in text)
        and sum(ch.isdigit() for ch in text) >= 3
        and "@" not in text
    ):
        return phone_digits(text)
    return normalize_text(text)
