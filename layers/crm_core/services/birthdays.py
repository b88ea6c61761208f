"""Birthdays (API.md "contacts", "notifications"): each owner is told of its contacts' birthdays on the
day in the owner's own time zone, once per contact and year.

A recurring schedule (``definitions.BIRTHDAYS_SCHEDULE``: hourly, so every time zone's day is reached
soon after it starts) puts ``{"sweep": true}`` on the birthdays queue; its consumer puts one message per
tenant on the same queue (``sweep``: pages of the tenant directory, each page a message of its own), and
each tenant's message is ``notify_tenant``: the tenant's active users and their time zones (one Query and
one BatchGetItem per 100 users), then for each local date its users are in (at most three at any moment),
the contacts whose birthday entry is that month and day (one Query per date: ``contacts.birthday_entries``,
no Scan), their records (BatchGetItem), and for each contact whose owner's day it is, the owner's
notification (kind ``birthday``) with a marker for the contact and year, in one transaction on the
marker's absence: an hourly run, a redelivered message or a second sweep tells nobody twice.

The same run hands the contacts whose birthday it is to the tenant's active birthday campaigns
(services/birthday_campaigns.py), which greet each once a year.

A ``--02-29`` birthday is told on 28 February in a year without 29 February.
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from crm_core import metrics
from crm_core.definitions import BIRTHDAYS_QUEUE
from crm_core.models.contact import birthday_month_day
from crm_core.repositories import keys, notification_repository, tenant_repository
from crm_core.repositories import record_repository as repo
from crm_core.repositories.table import RecordItem, UniqueMarker
from crm_core.repositories.transaction import ChangeSet, WriteConflict
from crm_core.services.contacts import BIRTHDAY_ENTRY
from crm_core.services.records import record_data, record_title
from crm_core.tenant_access import tenant_prefix

TENANTS_PER_MESSAGE = 100
USERS_PER_READ = 100
MAX_USERS = 2000  # a tenant's users read per run (its seats are far fewer)
ENTRIES_PER_READ = 1000


def handle(message: dict[str, Any], now: datetime | None = None) -> str:
    """One message of the birthdays queue: a sweep (``{"sweep": true, "after": <tenant id>|null}``) or one
    tenant's day (``{"tenant_id"}``)."""
    if message.get("sweep"):
        return sweep(message.get("after"))
    return f"{notify_tenant(str(message['tenant_id']), now)} told"


def sweep(after: str | None = None) -> str:
    """One message per tenant of a page of the directory, and the rest of the directory in a message of
    its own (each message a bounded amount of work)."""
    from crm_core.consumers import send_continuation

    tenants, more = tenant_repository.list_tenants(TENANTS_PER_MESSAGE, after)
    for tenant in tenants:
        send_continuation(BIRTHDAYS_QUEUE, {"tenant_id": tenant.id})
    if more:
        send_continuation(BIRTHDAYS_QUEUE, {"sweep": True, "after": more})
    return f"{len(tenants)} tenants queued"


def _zone(name: Any) -> ZoneInfo:
    try:
        return ZoneInfo(str(name or "UTC"))
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _active_users(tenant_id: str) -> dict[str, dict[str, Any]]:
    """The tenant's active users' fields by id (their time zones)."""
    users: dict[str, dict[str, Any]] = {}
    start: dict[str, str] | None = None
    while len(users) < MAX_USERS:
        ids, start = repo.index_record_ids(
            keys.list_pk(tenant_id, "user", "active"), index="GSI1", limit=USERS_PER_READ, start_key=start
        )
        for item in repo.batch_get_records(tenant_id, "user", ids).values():
            data = record_data(item)
            if data.get("active") is not False and item.archived_at is None:
                users[item.id] = data
        if start is None:
            break
    return users


def month_days(day: date) -> list[str]:
    """The birthdays told on ``day``: its own, and 29 February's on 28 February of a common year."""
    found = [f"{day:%m-%d}"]
    if (day.month, day.day) == (2, 28) and not calendar.isleap(day.year):
        found.append("02-29")
    return found


def _contacts_born_on(tenant_id: str, month_day: str) -> list[str]:
    pk = keys.attribute_pk(tenant_id, "contact", "active", BIRTHDAY_ENTRY, month_day)
    ids: list[str] = []
    after: str | None = None
    while True:
        found, ended = repo.ids_after(pk, index=None, after=after, limit=ENTRIES_PER_READ)
        ids += found
        if ended or not found:
            return ids
        after = found[-1]


def birthday_marker_pk(tenant_id: str, contact_id: str, year: int) -> str:
    """Marks the owner told of the contact's birthday in ``year``: told once however often it runs."""
    return f"{tenant_prefix(tenant_id)}#contact#{contact_id}#birthday#{year}"


def notify_tenant(tenant_id: str, now: datetime | None = None) -> int:
    """Tells each of the tenant's owners of the birthdays of its contacts on the owner's day (``now`` in
    the owner's time zone), and hands the contacts whose day it is to the tenant's active birthday
    campaigns (services/birthday_campaigns.py: a contact's day is its owner's, UTC's without an active
    owner); answers how many owners it told now (those told before are not told again)."""
    from crm_core.services import birthday_campaigns

    moment = now or datetime.now(UTC)
    users = _active_users(tenant_id)
    day_of = {
        user_id: moment.astimezone(_zone(user.get("timezone"))).date() for user_id, user in users.items()
    }
    utc_day = moment.astimezone(UTC).date()
    days: dict[date, set[str]] = {utc_day: set()}  # a contact without an active owner: UTC's day
    for user_id, day in day_of.items():
        days.setdefault(day, set()).add(user_id)
    told = 0
    born_today: dict[int, list[RecordItem]] = {}  # by the year of the contact's day
    for day, owners in days.items():
        wanted = month_days(day)
        ids = [one for month_day in wanted for one in _contacts_born_on(tenant_id, month_day)]
        for start in range(0, len(ids), 100):
            contacts = repo.batch_get_records(tenant_id, "contact", ids[start : start + 100])
            to_tell: list[tuple[RecordItem, str]] = []
            for contact in contacts.values():
                data = record_data(contact)
                owner_id = data.get("owner_id")
                if (
                    contact.archived_at is not None
                    or birthday_month_day(data.get("birthday")) not in wanted
                    or day_of.get(str(owner_id), utc_day) != day
                ):
                    continue
                born_today.setdefault(day.year, []).append(contact)
                if owner_id in owners:
                    to_tell.append((contact, str(owner_id)))
            told_before = _told_before(tenant_id, [contact.id for contact, _ in to_tell], day.year)
            for contact, owner in to_tell:
                if contact.id not in told_before:
                    told += _tell(tenant_id, owner, contact.id, record_data(contact), day.year)
    metrics.count("BirthdaysTold", told)
    birthday_campaigns.greet(tenant_id, born_today)
    return told


def _told_before(tenant_id: str, contact_ids: list[str], year: int) -> set[str]:
    """Of ``contact_ids``, those whose owner was told this year: one BatchGetItem of their markers (so that
    the day's later runs cost a read, not a failed transaction per contact; the marker's condition in
    ``_tell`` is still what tells once)."""
    if not contact_ids:
        return set()
    by_pk = {birthday_marker_pk(tenant_id, one, year): one for one in contact_ids}
    found = repo.get_items([(pk, keys.UNIQUE_SK) for pk in by_pk])
    return {by_pk[item.PK] for item in found if item.PK in by_pk}


def _tell(tenant_id: str, owner_id: str, contact_id: str, data: dict[str, Any], year: int) -> int:
    changes = ChangeSet()
    changes.save(
        UniqueMarker(birthday_marker_pk(tenant_id, contact_id, year), keys.UNIQUE_SK, record_id=contact_id),
        condition=UniqueMarker.PK.does_not_exist(),
        label="birthday",
    )
    changes.save(
        notification_repository.new_notification(
            tenant_id,
            owner_id,
            kind="birthday",
            title=f"Birthday today: {record_title(data) or 'a contact'}",
            record={"type": "contact", "id": contact_id},
        )
    )
    try:
        changes.commit()
    except WriteConflict as conflict:
        if conflict.label == "birthday":
            return 0
        raise
    return 1
