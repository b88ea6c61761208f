"""One atomic write: a record and what must change with it (its unique markers, counts and counters) in
one ``TransactWriteItems``, or, when the record is all there is, one conditional ``PutItem`` (a
transaction of one item costs twice as much and adds nothing)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

from pynamodb.exceptions import PutError, TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from crm_core.repositories.table import TableItem, connection

MAX_TRANSACTION_ITEMS = 100


class WriteConflict(Exception):
    """A condition of the transaction failed: ``label`` names the operation, ``existing`` what stood there;
    ``labels`` names every operation whose condition failed (DynamoDB checks them all), the first first."""

    def __init__(self, label: str, existing: dict[str, Any] | None, labels: tuple[str, ...] = ()) -> None:
        super().__init__(label)
        self.label = label
        self.existing = existing
        self.labels = labels or (label,)


class TransactionTooLarge(Exception):
    pass


class TransactionRefused(Exception):
    """The transaction was refused for no failed condition nor a concurrent one (its size, throttling)."""


class CounterStep(NamedTuple):
    """Numbers to ADD to a counter item; ``at_least`` (by attribute) is what the results must not fall below,
    checked by the write's condition, so that two concurrent writes cannot both take the last one (a write
    that would is a ``WriteConflict`` labelled ``counter``)."""

    counter: TableItem
    amounts: dict[str, int]
    at_least: dict[str, int] | None = None


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
    # Counters to ADD to, by item key: one update per counter however many changes of a batch touch it
    # (a transaction may not name one item twice); with the floors their results keep.
    counters: dict[tuple[str, str], tuple[TableItem, dict[str, int]]] = field(default_factory=dict)
    floors: dict[tuple[str, str], dict[str, int]] = field(default_factory=dict)

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

    def update(
        self, item: TableItem, actions: list[Action], *, condition: Condition | None = None, label: str = ""
    ) -> None:
        """An UpdateItem (e.g. ADD to a counter), created if absent (unless ``condition`` says otherwise)."""
        self.operations.append(_Operation("update", item, condition, label, False, actions))

    def add_to(
        self, counter: TableItem, amounts: dict[str, int], at_least: dict[str, int] | None = None
    ) -> None:
        """ADD ``amounts`` to the counter's number attributes (created at zero if absent), the results kept at
        ``at_least`` or above (CounterStep)."""
        key = (counter.PK, counter.SK)
        _, totals = self.counters.setdefault(key, (counter, {}))
        for name, amount in amounts.items():
            totals[name] = totals.get(name, 0) + amount
        floors = self.floors.setdefault(key, {})
        for name, floor in (at_least or {}).items():
            floors[name] = max(floor, floors.get(name, floor))

    def add(self, step: CounterStep) -> None:
        self.add_to(step.counter, step.amounts, step.at_least)

    def extend(self, other: ChangeSet) -> None:
        self.operations.extend(other.operations)
        for key, (counter, amounts) in other.counters.items():
            self.add_to(counter, amounts, other.floors.get(key))

    def __len__(self) -> int:
        return len(self.operations) + len(self._counter_updates())

    def _counter_updates(self) -> list[_Operation]:
        updates = []
        for key, (counter, amounts) in self.counters.items():
            model = type(counter)
            actions: list[Action] = [getattr(model, name).add(n) for name, n in amounts.items() if n]
            if actions:
                actions.append(model.item_type.set(model))
                condition = None
                for name, floor in self.floors.get(key, {}).items():
                    if amounts.get(name, 0) < 0:  # only a decrease can cross the floor
                        kept = getattr(model, name) >= floor - amounts[name]
                        condition = kept if condition is None else condition & kept
                updates.append(_Operation("update", counter, condition, "counter", False, actions))
        return updates

    def all_operations(self) -> list[_Operation]:
        return self.operations + self._counter_updates()

    def commit(self, request_token: str | None = None) -> None:
        """Write everything or nothing. ``request_token`` makes a retried commit a no-op for 10 minutes."""
        operations = self.all_operations()
        if not operations:
            return
        if len(operations) > MAX_TRANSACTION_ITEMS:
            raise TransactionTooLarge(f"{len(operations)} items, at most {MAX_TRANSACTION_ITEMS}")
        if len(operations) == 1 and operations[0].kind == "save" and request_token is None:
            _save_alone(operations[0])
            return
        try:
            with TransactWrite(connection=connection(), client_request_token=request_token) as transaction:
                for op in operations:
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
            sent = [op for kind in ("delete", "save", "update") for op in operations if op.kind == kind]
            failed = [
                (op, reason)
                for op, reason in zip(sent, error.cancellation_reasons, strict=False)
                if reason is not None and reason.code == "ConditionalCheckFailed"
            ]
            if failed:
                op, reason = failed[0]
                existing = (
                    TableItem.from_raw_data(reason.raw_item).attribute_values if reason.raw_item else None
                )
                raise WriteConflict(op.label, existing, tuple(o.label for o, _ in failed)) from error
            if error.cause_response_code in ("TransactionCanceledException", "TransactionConflictException"):
                raise WriteConflict("concurrent", None) from error
            raise TransactionRefused(
                f"{error.cause_response_code}: {error.cause_response_message}"
            ) from error


def _save_alone(op: _Operation) -> None:
    """One conditional PutItem (pynamodb adds the version's condition, as in a transaction)."""
    try:
        op.item.save(condition=op.condition)
    except PutError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            raise WriteConflict(op.label, None) from error
        raise
