"""Rules with no I/O: API keys, normalisation, tokens, domains, If-Match."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from crm_core.auth import (
    ParsedApiKey,
    Principal,
    Role,
    api_key_prefix,
    hash_api_key,
    lower_role,
    new_api_key,
    parse_api_key,
)
from crm_core.errors import ProblemError
from crm_core.http.responses import parse_if_match
from crm_core.models.company import normalize_domain
from crm_core.services.contacts import contact_dedupe_keys, contact_tokens
from crm_core.services.records import normalize_query, normalize_text

TENANT = "01ARZ3NDEKTSV4RRFFQ69G5FAV"


KEY_ID = "01ARZ3NDEKTSV4RRFFQ69G5KEY"


def test_api_key_names_its_tenant_and_itself_and_is_stored_as_a_hash() -> None:
    key = new_api_key(TENANT, KEY_ID)
    assert key.startswith("crm_") and parse_api_key(key) == ParsedApiKey(TENANT, KEY_ID)
    assert hash_api_key(key) != key and len(hash_api_key(key)) == 64
    assert new_api_key(TENANT, KEY_ID) != key
    # The prefix tells keys apart and holds no part of the secret.
    assert api_key_prefix(key) == f"crm_{TENANT}_{KEY_ID}"
    assert api_key_prefix(new_api_key(TENANT, "01ARZ3NDEKTSV4RRFFQ69G5KEZ")) != api_key_prefix(key)


def test_a_key_from_before_keys_were_records_is_found_by_its_hash() -> None:
    assert parse_api_key(f"crm_{TENANT}_{'a' * 43}") == ParsedApiKey(TENANT, None)


@pytest.mark.parametrize(
    ("user", "cap", "acts_as"),
    [
        (Role.ADMIN, None, Role.ADMIN),
        (Role.ADMIN, Role.VIEWER, Role.VIEWER),
        (Role.REP, Role.ADMIN, Role.REP),
        (Role.MANAGER, Role.REP, Role.REP),
        (Role.VIEWER, Role.MANAGER, Role.VIEWER),
    ],
)
def test_a_key_acts_with_the_lower_of_its_users_role_and_its_own(
    user: Role, cap: Role | None, acts_as: Role
) -> None:
    assert lower_role(user, cap) == acts_as


@pytest.mark.parametrize(
    "key",
    [
        "",
        "crm_",
        "crm_short_x",
        f"crm_{TENANT}",
        f"crm_{TENANT}_tooshort",
        f"xyz_{TENANT}_{'a' * 43}",
        f"crm_{TENANT[:-1]}!_{'a' * 43}",
    ],
)
def test_malformed_api_keys_name_no_tenant(key: str) -> None:
    assert parse_api_key(key) is None


def principal(role: Role) -> Principal:
    return Principal(TENANT, "U1", role, "api_key", "K1")


def refused(check: Callable[[], None]) -> bool:
    try:
        check()
    except ProblemError as problem:
        assert problem.status == 403
        return True
    return False


def test_who_creates_what() -> None:
    assert refused(lambda: principal(Role.VIEWER).require_create("U1"))
    assert not refused(lambda: principal(Role.REP).require_create("U1"))
    assert not refused(lambda: principal(Role.REP).require_create(None))
    assert refused(lambda: principal(Role.REP).require_create("U2"))
    assert not refused(lambda: principal(Role.MANAGER).require_create("U2"))
    assert not refused(lambda: principal(Role.ADMIN).require_create(None))


@pytest.mark.parametrize(
    ("role", "before", "after", "allowed"),
    [
        (Role.VIEWER, "U1", "U1", False),
        (Role.REP, "U1", "U1", True),  # its own record
        (Role.REP, "U1", None, True),  # lets its own record go
        (Role.REP, "U1", "U2", False),  # gives it to another
        (Role.REP, "U2", "U2", False),  # another's record
        (Role.REP, "U2", "U1", False),  # takes another's record
        (Role.REP, None, None, False),  # an unowned record, left unowned
        (Role.REP, None, "U1", True),  # takes an unowned record by assigning it to itself
        (Role.REP, None, "U2", False),
        (Role.MANAGER, "U2", "U3", True),
        (Role.MANAGER, None, None, True),
        (Role.ADMIN, "U2", None, True),
    ],
)
def test_who_changes_what(role: Role, before: str | None, after: str | None, allowed: bool) -> None:
    assert refused(lambda: principal(role).require_change(before, after)) is not allowed


@pytest.mark.parametrize("role", [Role.VIEWER, Role.REP, Role.MANAGER])
def test_settings_are_an_admins(role: Role) -> None:
    assert refused(lambda: principal(role).require_admin("pipelines"))
    assert not refused(lambda: principal(Role.ADMIN).require_admin("pipelines"))


def test_text_is_folded_for_matching() -> None:
    assert normalize_text("  Zoë   ÅNGSTRÖM ") == "zoe angstrom"
    assert normalize_query("+44 (20) 7946-0018") == "442079460018"
    assert normalize_query("Ada L") == "ada l"


def test_contact_tokens_and_duplicate_keys() -> None:
    data = {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": "Ada@Example.com",
        "phone": "+44 20 7946 0018",
    }
    tokens = contact_tokens(data, {"company_name": "Analytical Engines"})
    # "ada" has no token of its own: each of its prefixes is one of "ada lovelace"'s.
    assert tokens == [
        "ada lovelace",
        "lovelace",
        "ada@example.com",
        "442079460018",
        "analytical engines",
    ]
    assert contact_dedupe_keys(data) == ["same_name:ada lovelace", "same_phone:442079460018"]
    assert contact_dedupe_keys({"first_name": "Ada"}) == []


@pytest.mark.parametrize(
    ("raw", "domain"),
    [
        ("https://www.Example.com/about", "example.com"),
        ("example.co.uk", "example.co.uk"),
        ("WWW.acme.io:443", "acme.io"),
    ],
)
def test_domains_are_normalized(raw: str, domain: str) -> None:
    assert normalize_domain(raw) == domain


@pytest.mark.parametrize("raw", ["localhost", "not a domain", "http://", "a..b.com"])
def test_bad_domains_are_refused(raw: str) -> None:
    with pytest.raises(ValueError):
        normalize_domain(raw)


def test_if_match_forms() -> None:
    assert parse_if_match('"3"') == 3
    assert parse_if_match('W/"3"') == 3
    assert parse_if_match("*") is None
    assert parse_if_match(None) is None
    with pytest.raises(ProblemError) as bad:
        parse_if_match('"abc"')
    assert bad.value.status == 400


def test_ids_are_ulids_in_creation_order() -> None:
    import re

    from crm_core.ids import new_id
    from crm_core.models.common import ULID_PATTERN

    ids = [new_id() for _ in range(2000)]
    assert all(re.match(ULID_PATTERN, i) for i in ids)
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
