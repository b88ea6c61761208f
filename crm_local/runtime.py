"""``crm dev``: the whole CRM in one process, with moto in server mode as the AWS endpoint."""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

STATE_FILE = Path(".crm") / "dev.json"  # beside it, dev.lock: held by the crm dev that wrote it
REGION = "us-east-1"
# A failing webhook receiver on a laptop is tried again after seconds, not the minutes AWS waits
# (definitions.WEBHOOK_RETRY_DELAYS_S): as many tries, one second apart.
LOCAL_WEBHOOK_RETRY_DELAYS_S = (1, 1, 1, 1, 1)
LOCAL_SUSPENDED_HOLD_S = 1  # a suspended tenant's held work is looked at again every second locally
LOCAL_DELETION_ROUND_DELAY_S = 1  # nothing is buffered for minutes locally (no Firehose)


class AlreadyRunning(Exception):
    """Another ``crm dev`` holds this folder, or the data folder; the message says which, in one line."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _local_credentials() -> None:
    # The local endpoint accepts any credentials; fixed ones keep boto3 from looking for real ones.
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
    os.environ["AWS_DEFAULT_REGION"] = os.environ["AWS_REGION"] = REGION
    # Stream calls must reach the endpoint itself: botocore sends them to an account-based host
    # (<account>.streams-ddb.<region>.amazonaws.com) that the local endpoint does not answer.
    os.environ["AWS_ACCOUNT_ID_ENDPOINT_MODE"] = "disabled"


def use_endpoint(endpoint: str, resources: dict[str, str]) -> None:
    """Point this process (and its children) at a local endpoint and its resources."""
    _local_credentials()
    os.environ["AWS_ENDPOINT_URL"] = endpoint
    os.environ["CRM_LOCAL"] = "1"
    os.environ["CRM_TABLE_NAME"] = resources["table_name"]
    os.environ["CRM_EVENT_BUS_NAME"] = resources["event_bus_name"]
    os.environ["CRM_CURSOR_SECRET_ARN"] = resources["cursor_secret_arn"]
    os.environ["CRM_USER_POOL_ID"] = resources["user_pool_id"]
    os.environ["CRM_USER_POOL_CLIENT_ID"] = resources["user_pool_client_id"]
    # The local endpoint serves the pool's signing keys itself (AWS serves them at the issuer's address).
    os.environ["CRM_JWKS_URL"] = f"{endpoint}/{resources['user_pool_id']}/.well-known/jwks.json"
    os.environ["CRM_SCHEDULE_GROUP"] = resources["schedule_group"]
    os.environ["CRM_REMINDERS_QUEUE_ARN"] = resources["reminders_queue_arn"]
    os.environ["CRM_SCHEDULER_ROLE_ARN"] = resources["scheduler_role_arn"]
    os.environ["CRM_WEBHOOK_DELIVERIES_QUEUE_URL"] = resources["webhook_deliveries_queue_url"]
    os.environ["CRM_PARTNER_BUS_ROLE_ARN"] = resources["partner_bus_role_arn"]
    os.environ["CRM_PARTNER_DELIVERIES_DLQ_ARN"] = resources["partner_deliveries_dlq_arn"]
    os.environ["CRM_WEBHOOK_EVENTS_QUEUE_ARN"] = resources.get("webhook_events_queue_arn", "")
    os.environ["CRM_WEBHOOK_EVENTS_DLQ_ARN"] = resources.get("webhook_events_dlq_arn", "")
    # Requests reach the table and the buckets through their tenant's credentials, as in AWS.
    os.environ["CRM_TENANT_ROLE_ARN"] = resources.get("tenant_role_arn", "")
    os.environ.setdefault("CRM_WEBHOOK_RETRY_DELAYS", ",".join(map(str, LOCAL_WEBHOOK_RETRY_DELAYS_S)))
    os.environ.setdefault("CRM_SUSPENDED_HOLD_S", str(LOCAL_SUSPENDED_HOLD_S))
    os.environ.setdefault("CRM_DELETION_ROUND_DELAY_S", str(LOCAL_DELETION_ROUND_DELAY_S))
    os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "crm")
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")  # crm_core.metrics: AWS only
    # Settings and clients are read once per process (as once per Lambda container); anything read before
    # this point saw no endpoint, so read again.
    from crm_core import aws, config, tenant_access
    from crm_core.services import user_directory

    config.settings.cache_clear()
    aws.function_client.cache_clear()
    tenant_access.clear()
    user_directory._signing_keys.cache_clear()


@dataclass
class RunningInstance:
    api: str
    aws_endpoint: str
    region: str
    resources: dict[str, str]


class LocalRuntime:
    def __init__(
        self,
        *,
        port: int = 8000,
        host: str = "127.0.0.1",
        state_file: Path | None = STATE_FILE,
        access_log: bool = False,
        data_dir: Path | None = None,
    ) -> None:
        self.access_log = access_log
        self.data_dir = data_dir
        self.restored = 0  # items the data folder gave back
        self.unpublished = 0  # events it held that were committed and not published
        self._store: Any = None
        self._folder_lock: Any = None
        self._session: Any = None
        self.host, self.port = host, port
        self.state_file = state_file
        self._moto: Any = None
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self.relay: Any = None
        self.workers: Any = None
        self.usage: Any = None
        self.instance: RunningInstance | None = None

    @property
    def api_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _claim(self) -> None:
        """The folder's lock and the data folder's, before anything else: a second ``crm dev`` in the same
        folder, or on the same data, stops here and touches nothing of the first's."""
        from crm_local.data_dir import DataDir
        from crm_local.instance_lock import Held, InstanceLock

        if self.state_file is not None:
            folder_lock = InstanceLock(self.state_file.with_name("dev.lock"))
            try:
                folder_lock.acquire()
            except Held as held:
                raise AlreadyRunning(
                    f"crm dev is already running in this folder ({held.who()}); stop it first, or start "
                    "this one in another folder"
                ) from None
            self._folder_lock = folder_lock
        if self.data_dir is not None:
            store = DataDir(self.data_dir)
            try:
                store.lock.acquire(folder=str(Path.cwd()))
            except Held as held:
                self.stop()
                raise AlreadyRunning(
                    f"the data folder {self.data_dir} is in use by another crm dev ({held.who()}); one "
                    "crm dev per data folder"
                ) from None
            self._store = store

    @property
    def moto_server(self) -> Any:
        """The AWS endpoint's WSGI server (werkzeug), once started."""
        return self._moto._server

    def _listening_on(self, port: int) -> None:
        """The gateway's port, once known; the emails' tracking links lead to it (in AWS, to the API)."""
        self.port = port
        os.environ["CRM_PUBLIC_URL"] = self.api_url
        from crm_core import config

        config.settings.cache_clear()

    def start(self) -> RunningInstance:
        self._claim()
        import boto3
        from crm_core.definitions import WEBHOOK_DELIVERIES_QUEUE
        from moto.server import ThreadedMotoServer

        from crm_local import keep_alive, moto_cognito, moto_fidelity, moto_speed
        from crm_local.provision import provision

        moto_fidelity.install()
        moto_speed.install()
        moto_cognito.install()
        keep_alive.install()
        _local_credentials()
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the endpoint's own access log is noise
        moto_port = free_port()
        self._moto = ThreadedMotoServer(ip_address="127.0.0.1", port=moto_port, verbose=False)
        self._moto.start()
        endpoint = f"http://127.0.0.1:{moto_port}"
        os.environ["AWS_ENDPOINT_URL"] = endpoint
        session = boto3.session.Session(region_name=REGION)
        resources = provision(session)
        resource_map = {
            "table_name": resources.table_name,
            "event_bus_name": resources.event_bus_name,
            "event_bus_arn": resources.event_bus_arn,
            "cursor_secret_arn": resources.cursor_secret_arn,
            "table_stream_arn": resources.table_stream_arn,
            "user_pool_id": resources.user_pool_id,
            "user_pool_client_id": resources.user_pool_client_id,
            "schedule_group": resources.schedule_group,
            "reminders_queue_arn": resources.reminders_queue_arn,
            "scheduler_role_arn": resources.scheduler_role_arn,
            "webhook_deliveries_queue_url": resources.queue_urls[WEBHOOK_DELIVERIES_QUEUE.name],
            "partner_bus_role_arn": resources.partner_bus_role_arn,
            "partner_deliveries_dlq_arn": resources.partner_deliveries_dlq_arn,
            "webhook_events_queue_arn": resources.webhook_events_queue_arn,
            "webhook_events_dlq_arn": resources.webhook_events_dlq_arn,
            "tenant_role_arn": resources.tenant_role_arn,
        }
        use_endpoint(endpoint, resource_map)

        from werkzeug.serving import make_server

        from crm_local.gateway import Gateway
        from crm_local.pages import extra_pages, web_app, web_config
        from crm_local.relay import StreamRelay

        self._session = session
        restored = None
        if self._store is not None:
            from moto.dynamodb.models import dynamodb_backends

            account = resources.table_stream_arn.split(":")[4]
            restored = self._store.restore(dynamodb_backends[account][REGION], resources.table_name)
            self.restored, self.unpublished = len(restored.items), len(restored.pending)
            moto_fidelity.commit_listeners.append(self._store.record)
        if restored is not None:
            _after_restore(restored.items)
        self.relay = StreamRelay(
            session,
            resources.table_stream_arn,
            backlog=restored.pending if restored else None,
            on_published=self._store.published if self._store is not None else None,
        )
        self.relay.start()
        self._start_workers(session, resources)
        gateway = Gateway(
            extra_pages=extra_pages(web_config(resource_map, endpoint, REGION)),
            access_log=self.access_log,
            fallback_page=web_app(),
        )
        self._server = make_server(
            self.host, self.port, gateway, threaded=True, request_handler=keep_alive.KeepAlive
        )
        self._listening_on(self._server.server_port)
        self._thread = threading.Thread(target=self._server.serve_forever, name="gateway", daemon=True)
        self._thread.start()
        self.instance = RunningInstance(self.api_url, endpoint, REGION, resource_map)
        if self._store is not None:
            self._store.lock.describe(folder=str(Path.cwd()), api=self.api_url)
        if self.state_file is not None:
            self._write_state_file(self.state_file, endpoint, resource_map)
        return self.instance

    def _start_workers(self, session: Any, resources: Any) -> None:
        """The queues' consumers and the schedules; and the writer that takes the API's and the relay's
        usage lines to the analytics bucket in batches (as Firehose does in AWS), before the first request."""
        from crm_local.usage_writer import UsageWriter
        from crm_local.workers import Workers

        self.workers = Workers(session, resources.queue_urls, resources.schedule_group)
        self.workers.start()
        self.usage = UsageWriter()
        self.usage.start()

    def _write_state_file(self, state_file: Path, endpoint: str, resource_map: dict[str, str]) -> None:
        """Where this crm dev serves, for the `crm` commands run beside it."""
        self._folder_lock.describe(api=self.api_url)
        state = {"api": self.api_url, "aws_endpoint": endpoint, "region": REGION, "resources": resource_map}
        partial = state_file.with_suffix(".partial")
        partial.write_text(json.dumps(state, indent=2))
        os.replace(partial, state_file)  # whole or not at all, for whoever reads it

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
        if self.relay is not None:
            self.relay.stop()
        if self.workers is not None:
            self.workers.stop()
        if self.usage is not None:
            self.usage.stop()
        if self._moto is not None:
            self._moto.stop()
        if self._store is not None:
            from crm_local import moto_fidelity

            # The endpoint takes no more requests; one still being served finishes first (the lock).
            with moto_fidelity.table_lock:
                if self._store.record in moto_fidelity.commit_listeners:
                    moto_fidelity.commit_listeners.remove(self._store.record)
                    self._store.compact()
            self._store.close()
        if self._folder_lock is not None and self.state_file is not None:
            # This folder's dev.json is ours only while we hold its lock.
            self.state_file.unlink(missing_ok=True)
            self._folder_lock.release()
            self._folder_lock = None


class NotAnswering(Exception):
    """``.crm/dev.json`` names a ``crm dev`` that is gone (killed, crashed) or does not answer."""

    def __init__(self, api: str) -> None:
        super().__init__(api)
        self.api = api


def find_running(state_file: Path = STATE_FILE) -> RunningInstance | None:
    """The ``crm dev`` that is running from this folder, with this process pointed at it; None when this
    folder has no ``dev.json`` (no ``crm dev`` ran here). A ``dev.json`` whose lock no process holds was
    left by one that was killed, and one whose addresses refuse connections names one that cannot answer:
    both raise ``NotAnswering``."""
    from crm_local.instance_lock import held

    if not state_file.exists():
        return None
    try:
        state = json.loads(state_file.read_text())
        api, aws_endpoint = str(state["api"]), str(state["aws_endpoint"])
    except (OSError, ValueError, KeyError, TypeError):
        raise NotAnswering("an address .crm/dev.json does not hold") from None
    if not held(state_file.with_name("dev.lock")) or not all(map(answers, (api, aws_endpoint))):
        raise NotAnswering(api)
    use_endpoint(aws_endpoint, state["resources"])
    return RunningInstance(api, aws_endpoint, state["region"], state["resources"])


def answers(url: str, timeout: float = 2.0) -> bool:
    """Whether something accepts a connection at the URL's host and port."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80), timeout=timeout):
            return True
    except OSError:
        return False


def _after_restore(items: list[dict[str, Any]]) -> None:
    """What the restored table decides and the new endpoint forgot."""
    from crm_local.workers import rebuild

    # Before the relay publishes anything: a partner's rule must be in place for the first event.
    rebuild(items)
    if items:
        # The table is back, but the endpoint's S3 is new: the reports' files are written again from it.
        threading.Thread(target=_reexport_analytics, name="analytics-reexport", daemon=True).start()


def _reexport_analytics() -> None:
    """Every tenant's records written to the analytics files again (docs/decisions/0020), after a restart
    with ``--data``: the data folder keeps the table, not S3. Reports answer from what is written so far
    meanwhile; a failure is logged, and ``crm reports reexport`` does the same on demand."""
    import logging

    from crm_core.services import analytics_export
    from crm_core.services.tenants import list_tenants

    after: str | None = None
    try:
        while True:
            page, after = list_tenants(100, after)
            for tenant in page:
                analytics_export.reexport(tenant.tenant_id)
            if after is None:
                return
    except Exception:
        logging.getLogger(__name__).warning("the analytics files were not written again", exc_info=True)
