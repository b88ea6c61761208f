"""Gapless per-tenant numbers (a contract's ``C-2026-0001``): the number is taken in the transaction that
writes the record holding it, on the last number read, so a number is given once (two writers that read
the same last number cannot both commit: the loser's write is prepared again and takes the next one) and
none is skipped (a write that does not commit takes none)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from crm_core.repositories import receivables_repository as sequences
from crm_core.repositories.transaction import ChangeSet

SEQUENCE_LABEL = "sequence"  # its failed condition is a lost race: the write is prepared again


@dataclass(frozen=True)
class Numbering:
    prefix: str  # "C": contracts
    kind: str  # "contract": what the tenant's sequences are named by, with the year
    width: int = 4

    def take(self, tenant_id: str, year: int) -> tuple[str, Callable[[ChangeSet], None]]:
        """The next number of ``year``, and what adds its sequence's move to the record's transaction."""
        numbering = f"{self.kind}#{year}"
        last = sequences.last_number(tenant_id, numbering)
        item, condition = sequences.next_number(tenant_id, numbering, last)

        def claim(changes: ChangeSet) -> None:
            changes.save(item, condition=condition, label=SEQUENCE_LABEL)

        return f"{self.prefix}-{year}-{last + 1:0{self.width}d}", claim
