"""The control plane's Lambda entry point: the Chalice app itself takes API Gateway's (REST API) events."""

from crm_core.coldstart import long_lived_imports

with long_lived_imports():
    import crm_core.repositories.table  # noqa: F401  (the table's models first, as in every function)

    from functions.control_plane.app import app

handler = app
