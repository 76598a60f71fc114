"""What every use case needs: settings, the database and the cache of parsed specs."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from app.auth.passwords import PasswordHashing
from app.db.models import ProcessDefinition
from app.db.session import Database, Timeouts
from app.engine.expressions_runtime import Limits
from app.engine.runner import ProcessRuntime
from app.engine.script_engine import SafeScriptEngine
from app.engine.serializer import load_spec
from app.errors import NotFound
from app.settings import Settings
from app.storage import BlobStore, make_store


@dataclass
class RuntimeCache:
    """Parsed specs by definition id: a definition never changes, so each is deserialized once per process."""

    script_engine: SafeScriptEngine
    size: int = 256
    _items: OrderedDict[str, ProcessRuntime] = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, session: Session, definition_id: str) -> ProcessRuntime:
        with self._lock:
            runtime = self._items.get(definition_id)
            if runtime is not None:
                self._items.move_to_end(definition_id)
                return runtime
        definition = session.get(ProcessDefinition, definition_id)
        if definition is None:
            raise NotFound(f"process definition {definition_id} not found")
        spec, subprocess_specs = load_spec(definition.spec)
        runtime = ProcessRuntime(definition_id, spec, subprocess_specs, self.script_engine)
        with self._lock:
            self._items[definition_id] = runtime
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return runtime


def database_timeouts(settings: Settings) -> Timeouts:
    return Timeouts(connect=settings.db_connect_timeout_seconds, pool=settings.db_pool_timeout_seconds,
                    statement=settings.db_statement_timeout_seconds, lock=settings.db_lock_timeout_seconds)


class AppContext:
    """Created once per process (server, worker, CLI) and handed to every service call."""

    def __init__(self, settings: Settings, db: Database | None = None) -> None:
        self.settings = settings
        self.db = db or Database(settings.database_url, database_timeouts(settings))
        limits = Limits(max_seconds=settings.expression_seconds, max_size=settings.expression_max_size)
        self.limits = limits
        self.runtimes = RuntimeCache(SafeScriptEngine(limits=limits))
        self.passwords = PasswordHashing(fast_for_tests=settings.fast_password_hashing)
        # The JWT signing secret: from settings, or generated once and shared through the database
        # (set by services.logins.ensure_signing_secret at startup).
        self.signing_secret: str | None = settings.secret_key
        self._blobs: BlobStore | None = None

    @property
    def blobs(self) -> BlobStore:
        """Where documents and imported files are kept (made on first use: an S3 client is not free)."""
        if self._blobs is None:
            self._blobs = make_store(self.settings)
        return self._blobs

    def close(self) -> None:
        self.db.dispose()
