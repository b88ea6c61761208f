"""The rules every CRM record type shares (see ``service.RecordService``), by concern:

- ``spec``: what a type declares (``ObjectSpec``, ``Referrer``);
- ``text``: how text is folded for type-ahead search;
- ``shape``: a record as the API shows it, and as people name it;
- ``items``: its index keys and the items kept beside it;
- ``writes``: a change as one transaction, and how a lost race is retried;
- ``queries``: lists, search, timelines and duplicates, with one parsed filter type;
- ``merge`` and ``batch``.
"""

from crm_core.services.records.batch import MAX_BATCH
from crm_core.services.records.merge import MAX_MOVED_BY_MERGE
from crm_core.services.records.queries import FilterSet, ListFilters, Page
from crm_core.services.records.service import RecordService
from crm_core.services.records.shape import record_data, record_title, represent
from crm_core.services.records.spec import (
    Expansion,
    MergeMove,
    ObjectSpec,
    Referrer,
    SortKey,
    amount_order,
    text_order,
)
from crm_core.services.records.text import normalize_query, normalize_text, phone_digits
from crm_core.services.records.writes import MAX_RECORD_BYTES, Prepared

__all__ = [
    "MAX_BATCH",
    "MAX_MOVED_BY_MERGE",
    "MAX_RECORD_BYTES",
    "Expansion",
    "FilterSet",
    "ListFilters",
    "MergeMove",
    "ObjectSpec",
    "Page",
    "Prepared",
    "RecordService",
    "Referrer",
    "SortKey",
    "amount_order",
    "normalize_query",
    "normalize_text",
    "phone_digits",
    "record_data",
    "record_title",
    "represent",
    "text_order",
]
