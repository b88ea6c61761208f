"""DynamoDB access for the numberings a tenant keeps (services/numbering.py) and the receivables kept per
company (services/contracts.py). No Scan."""

from __future__ import annotations

from pynamodb.exceptions import DoesNotExist
from pynamodb.expressions.condition import Condition

from crm_core.repositories import keys
from crm_core.repositories.table import ReceivablesTotal, SequenceItem


def last_number(tenant_id: str, numbering: str) -> int:
    """The last number given in ``numbering`` (0: none yet), read consistently (to take the next)."""
    try:
        pk = keys.sequence_pk(tenant_id, numbering)
        item = SequenceItem.get(pk, keys.SEQUENCE_SK, consistent_read=True)
    except DoesNotExist:
        return 0
    return int(item.last or 0)


def next_number(tenant_id: str, numbering: str, last: int) -> tuple[SequenceItem, Condition]:
    """The sequence item moved on to ``last + 1``, and the condition that it still stands at ``last``: put in
    the transaction of the record that takes the number, a concurrent taker makes it fail (and retry)."""
    pk = keys.sequence_pk(tenant_id, numbering)
    condition = SequenceItem.PK.does_not_exist() if last == 0 else SequenceItem.last == last
    return SequenceItem(pk, keys.SEQUENCE_SK, last=last + 1), condition


def company_receivables(tenant_id: str, company_id: str) -> list[ReceivablesTotal]:
    """A company's receivables by currency: one Query (a few items, one per currency)."""
    return list(ReceivablesTotal.query(keys.receivables_pk(tenant_id, company_id), consistent_read=False))
