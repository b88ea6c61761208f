"""Duplicates are found through the type-ahead entries: every duplicate key's token must be one of the
record's own tokens, or a record would never be found as another's duplicate."""

from __future__ import annotations

from crm_core.services.companies import company_dedupe_keys, company_tokens
from crm_core.services.contacts import contact_dedupe_keys, contact_tokens
from hypothesis import given, settings
from hypothesis import strategies as st

NAMES = st.text(alphabet="abcdeÉé -'", min_size=0, max_size=60)
PHONES = st.one_of(st.just(""), st.from_regex(r"\+?[0-9 ()-]{0,24}", fullmatch=True))


@settings(max_examples=300, deadline=None)
@given(first=NAMES, last=NAMES, phone=PHONES, company=NAMES)
def test_a_contacts_duplicate_keys_are_among_its_tokens(
    first: str, last: str, phone: str, company: str
) -> None:
    data = {"first_name": first, "last_name": last, "phone": phone, "email": "x@example.com"}
    tokens = contact_tokens(data, {"company_name": company} if company else {})
    for key in contact_dedupe_keys(data):
        assert key.split(":", 1)[1] in tokens, (key, tokens)


@settings(max_examples=200, deadline=None)
@given(name=NAMES)
def test_a_companys_duplicate_key_is_among_its_tokens(name: str) -> None:
    data = {"name": name, "domain": "example.com"}
    for key in company_dedupe_keys(data):
        assert key.split(":", 1)[1] in company_tokens(data, {}), key


def test_a_full_name_makes_the_first_names_token_redundant() -> None:
    tokens = contact_tokens({"first_name": "Ada", "last_name": "Lovelace"}, {})
    assert "ada" not in tokens and "ada lovelace" in tokens and "lovelace" in tokens
    assert contact_tokens({"first_name": "Ada"}, {}) == ["ada"]  # no full name: the first name's own
