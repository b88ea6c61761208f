"""Several lists' first pages read together (services.records.queries.first_pages, a board's stages) are
each the page ``list_records`` answers alone, cursor included; their records are read in as few
BatchGetItems as 100 keys allow, grouped by the pages' limits, not by what they found."""

from __future__ import annotations

import base64
import json
import threading
from typing import Any

import pytest
from crm_core.auth import Principal
from crm_core.context import RequestContext
from crm_core.repositories import record_repository
from crm_core.services.deals import DEALS
from crm_core.services.records import queries

from tests.support.client import ApiClient


def cursor_position(cursor: str | None) -> Any:
    """What a cursor stands for (its signature aside)."""
    if cursor is None:
        return None
    body = cursor.split(".", 1)[0]
    return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


def test_stages_read_together_answer_their_own_pages(
    client: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    pipeline = client.get("/v1/pipelines").json()["items"][0]
    stages = [s["id"] for s in pipeline["stages"] if s["kind"] == "open"]
    for n, count in enumerate((5, 1, 0)):  # a stage with more than a page, one with less, an empty one
        for k in range(count):
            client.create("deals", {"name": f"Deal {n}.{k}", "amount": "10", "stage_id": stages[n]})
    ctx = RequestContext(Principal.system(client.tenant_id, "test"))
    lists: list[dict[str, Any]] = [{"stage_id": stage} for stage in stages]

    reads: list[int] = []
    here = threading.get_ident()
    items_named = record_repository._items_named

    def counted(entries: list[dict[str, Any]]) -> Any:
        if threading.get_ident() == here:  # the runtime's relay reads in threads of its own
            reads.append(len(entries))
        return items_named(entries)

    monkeypatch.setattr(record_repository, "_items_named", counted)
    for limit, batch_gets in ((2, 1), (40, 2)):  # 3 pages of 3 keys fit in one; of 41 keys, two
        reads.clear()
        together = queries.first_pages(DEALS.spec, ctx, lists, limit=limit)
        assert len(reads) == batch_gets, reads
        for filters, (items, cursor) in zip(lists, together, strict=True):
            alone = queries.list_records(
                DEALS.spec, ctx, filters=filters, q=None, archived=False, limit=limit, cursor=None
            )
            assert items == alone.items
            assert cursor_position(cursor) == cursor_position(alone.next_cursor)
    assert [len(items) for items, _ in queries.first_pages(DEALS.spec, ctx, lists, limit=2)] == [2, 1, 0]


def test_lists_side_entries_serve_are_refused() -> None:
    ctx = RequestContext(Principal.system("t", "test"))
    with pytest.raises(ValueError, match="side entries"):
        queries.first_pages(DEALS.spec, ctx, [{"status": "won"}], limit=2)
