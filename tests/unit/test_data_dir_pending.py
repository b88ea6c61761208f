"""``crm dev --data``: the changes whose events were not published when crm dev stopped are published
after its restart, each with its own images, a record changed twice meanwhile included."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from crm_local.data_dir import JOURNAL, DataDir

KEY = {"PK": {"S": "T#t1#contact#c1"}, "SK": {"S": "#RECORD"}}


def _record(version: int) -> dict[str, Any]:
    change = {"M": {"version": {"N": str(version)}, "events": {"L": []}}}
    return {**KEY, "type": {"S": "record"}, "version": {"N": str(version)}, "change": change}


def _pending_after(tmp_path: Path, *entries: dict[str, Any]) -> list[dict[str, Any]]:
    (tmp_path / JOURNAL).write_text("".join(json.dumps(entry) + "\n" for entry in entries))
    folder = DataDir(tmp_path)
    folder._key_attributes = ("PK", "SK")
    state: dict[str, Any] = {}
    folder._replay_journal(state)
    return folder._unpublished(state)


def test_each_unpublished_change_of_a_record_keeps_its_own_images(tmp_path: Path) -> None:
    pending = _pending_after(
        tmp_path,
        {"changes": [{"put": _record(1)}], "outbox": [KEY]},
        {"changes": [{"put": _record(2)}], "outbox": [KEY]},
    )
    assert [p["eventName"] for p in pending] == ["INSERT", "MODIFY"]
    assert [p["dynamodb"]["NewImage"]["version"]["N"] for p in pending] == ["1", "2"]
    assert "OldImage" not in pending[0]["dynamodb"]
    assert pending[1]["dynamodb"]["OldImage"] == _record(1)


def test_a_published_change_is_not_published_again_and_the_next_one_is(tmp_path: Path) -> None:
    pending = _pending_after(
        tmp_path,
        {"changes": [{"put": _record(1)}], "outbox": [KEY]},
        {"changes": [{"put": _record(2)}], "outbox": [KEY]},
        {"published": [{"Keys": KEY, "version": "1"}]},
    )
    assert [p["dynamodb"]["NewImage"]["version"]["N"] for p in pending] == ["2"]


def test_a_journal_of_before_record_changes_carried_events_still_publishes_its_event_items(
    tmp_path: Path,
) -> None:
    """Journals written when every change had an outbox item named those items by key alone."""
    event_key = {"PK": {"S": "T#t1#contact#c1"}, "SK": {"S": "EVT#e1"}}
    event = {**event_key, "type": {"S": "event"}, "detail": {"M": {}}}
    published_key = {"PK": {"S": "T#t1#contact#c1"}, "SK": {"S": "EVT#e0"}}
    pending = _pending_after(
        tmp_path,
        {"changes": [{"put": {**published_key, "type": {"S": "event"}}}], "outbox": [published_key]},
        {"published": [published_key]},
        {"changes": [{"put": event}]},
        {"pending": [event_key]},
    )
    assert [p["dynamodb"]["NewImage"] for p in pending] == [event]
