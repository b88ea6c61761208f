"""Consumes the imports bucket's notifications of uploaded files: each file read once and its rows queued
in chunks for the chunk workers."""

from crm_core.coldstart import long_lived_imports

with long_lived_imports():
    import crm_core.repositories.table  # noqa: F401  (the table's models first, as in every function)
    from crm_core.consumers import sqs_consumer
    from crm_core.services.imports import split_upload

handler = sqs_consumer(split_upload, "import file")
