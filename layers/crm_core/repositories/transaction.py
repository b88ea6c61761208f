"""One ``TransactWriteItems``: a record, its outbox event and every item kept beside it commit together."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from crm_core.repositories.table import TableItem, connection

MAX_TRANSACTION_ITEMS = 100


class WriteConflict(Exception):
    """A condition of the transaction failed: ``label`` names the operation, ``existing`` what stood there."""

    def __init__(self, label: str, existing: dict[str, Any] | None) -> None:
        super().__init__(label)
        self.label = label
        self.existing = existing


class TransactionTooLarge(Exception):
    pass


@dataclass
class _Operation:
    kind: str  # "save" | "delete" | "update"
    item: TableItem
    condition: Condition | None
    label: str
    return_old: bool
    actions: list[Action] = field(default_factory=list)


@dataclass
class ChangeSet:
    operations: list[_Operation] = field(default_factory=list)

    def save(
        self,
        item: TableItem,
        *,
        condition: Condition | None = None,
        label: str = "",
        return_old: bool = False,
    ) -> None:
        self.operations.append(_Operation("save", item, condition, label, return_old))

    def delete(self, item: TableItem, *, condition: Condition | None = None, label: str = "") -> None:
        self.operations.append(_Operation("delete", item, condition, label, False))

    def update(self, item: TableItem, actions: list[Action], *, label: str = "") -> None:
        """An UpdateItem (e.g. ADD to a counter), created if absent."""
        self.operations.append(_Operation("update", item, None, label, False, actions))

    def extend(self, other: ChangeSet) -> None:
        self.operations.extend(other.operations)

    def __len__(self) -> int:
        return len(self.operations)

    def commit(self, request_token: str | None = None) -> None:
        """Write everything or nothing. ``request_token`` makes a retried commit a no-op for 10 minutes."""
        if not self.operations:
            return
        if len(self.operations) > MAX_TRANSACTION_ITEMS:
            raise TransactionTooLarge(f"{len(self.operations)} items, at most {MAX_TRANSACTION_ITEMS}")
        try:
            with TransactWrite(connection=connection(), client_request_token=request_token) as transaction:
                for op in self.operations:
                    if op.kind == "save":
                        transaction.save(
                            op.item,
                            condition=op.condition,
                            return_values="ALL_OLD" if op.return_old else None,
                        )
                    elif op.kind == "update":
                        transaction.update(op.item, op.actions, condition=op.condition)
                    else:
                        transaction.delete(op.item, condition=op.condition)
        except TransactWriteError as error:
            # pynamodb sends deletes, then puts, then updates, and DynamoDB gives the reasons in that order.
            sent = [op for kind in ("delete", "save", "update") for op in self.operations if op.kind == kind]
            for op, reason in zip(sent, error.cancellation_reasons, strict=False):
                if reason is not None and reason.code == "ConditionalCheckFailed":
                    existing = (
                        TableItem.from_raw_data(reason.raw_item).attribute_values if reason.raw_item else None
                    )
                    raise WriteConflict(op.label, existing) from error
            if error.cause_response_code in ("TransactionCanceledException", "TransactionConflictException"):
                raise WriteConflict("concurrent", None) from error
            raise
