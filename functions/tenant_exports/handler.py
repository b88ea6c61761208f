"""Consumes queued tenant exports: each export's records written to one zip in S3, then the export
completed with its event, once, however often its message comes."""

from crm_core.coldstart import long_lived_imports

with long_lived_imports():
    import crm_core.repositories.table  # noqa: F401  (the table's models first, as in every function)
    from crm_core.consumers import sqs_consumer
    from crm_core.services.exports import run_export

handler = sqs_consumer(run_export, "tenant export")
