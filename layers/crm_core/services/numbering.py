"""Gapless per-tenant numbers (a quote's ``Q-2026-0001``): the sequence's item holds the last number given
in a period; a record takes the next by writing the item, on the number it read, in its own transaction.

Two creates that read the same number cannot both commit (the item's condition fails for the second,
which is prepared again from a fresh read: ``writes.write_retrying``), and a create that fails for any
other reason writes neither its record nor the number: no number is given twice, none is skipped.
"""

from __future__ import annotations

from typing import Any

from pynamodb.exceptions import DoesNotExist

from crm_core.repositories import keys
from crm_core.repositories.table import SequenceItem


def last_number(tenant_id: str, sequence: str, period: str) -> int:
    """The last number given in ``period`` (0: none yet), read consistently."""
    try:
        item = SequenceItem.get(keys.sequence_pk(tenant_id, sequence), period, consistent_read=True)
    except DoesNotExist:
        return 0
    return int(item.last)


def claim(tenant_id: str, sequence: str, period: str, number: int) -> tuple[SequenceItem, Any]:
    """The item and condition that give ``number`` (the last read plus one), to save in the transaction of
    the record that takes it: it fails when another record took that number meanwhile."""
    item = SequenceItem(keys.sequence_pk(tenant_id, sequence), period, last=number)
    condition = SequenceItem.PK.does_not_exist() if number == 1 else SequenceItem.last == number - 1
    return item, condition


def formatted(prefix: str, period: str, number: int) -> str:
    """``Q-2026-0001``: at least four digits, more when the year needs them."""
    return f"{prefix}-{period}-{number:04d}"
