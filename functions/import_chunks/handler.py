"""Consumes an import's chunks: each chunk's rows written as the API writes records and counted on the
import once, however often its message comes."""

from crm_core.coldstart import long_lived_imports

with long_lived_imports():
    import crm_core.repositories.table  # noqa: F401  (the table's models first, as in every function)
    from crm_core.consumers import sqs_consumer
    from crm_core.services.imports import import_chunk

handler = sqs_consumer(import_chunk, "import chunk")
