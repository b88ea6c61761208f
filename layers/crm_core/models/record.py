"""The shapes of a record that its type decides: named once, so that a signature says which it passes.

The shared record rules (crm_core.services.records) serve every record type, whose fields its own models
declare (models/contact.py, ...): there, a record's fields stay a mapping. Plain typing, no pydantic: a
module that only passes records around does not pay for the models at import.
"""

from __future__ import annotations

from typing import Any

RecordFields = dict[str, Any]  # its own fields ({"email": ...}); as stored: only those that are set
RecordBody = dict[str, Any]  # as the API shows it: every field of its type, then id, version, archived...
RelatedFacts = dict[str, Any]  # other records' facts its tokens are made from: {"company_name": ...}
EventDetail = dict[str, Any]  # an event as the outbox publishes it (crm_core.events.build_event)
FieldChanges = dict[str, Any]  # {field: {"from": old, "to": new}}, as an event's changes list them
