"""The one place that reads configuration: `VORONKA_*` environment variables and `.env`."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_VAR_DIR = Path("var")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VORONKA_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default=f"sqlite:///{DEFAULT_VAR_DIR / 'voronka.db'}",
        description="SQLAlchemy URL; SQLite file under ./var/ by default, postgresql+psycopg://... in production.",
    )
    bootstrap_admin: str | None = Field(
        default=None, description="`user:password`: creates this admin on first start when no such user exists."
    )
    auto_migrate: bool = Field(default=False, description="Upgrade the schema on `serve` instead of refusing.")
    secret_key: str | None = Field(
        default=None, description="JWT signing secret; generated and stored in the database when unset."
    )
    token_minutes: float = Field(default=60, gt=0, description="Lifetime of access tokens and UI sessions.")
    login_max_failures: int = Field(default=5, ge=1, description="Failed sign-ins allowed per user and per "
                                    "address within the window; the next attempt is refused with 429.")
    login_window_seconds: int = Field(default=900, ge=1, description="Window for counting failed sign-ins.")
    basic_cache_seconds: float = Field(default=60.0, ge=0, description="How long verified HTTP Basic "
                                       "credentials are remembered by one process (argon2 is slow on purpose).")
    fast_password_hashing: bool = Field(default=False, description="TESTS ONLY: cheap argon2 parameters. "
                                        "Never set this in production.")

    max_upload_bytes: int = Field(default=5_000_000, ge=1, description="Largest accepted BPMN file.")
    max_upload_files: int = Field(default=20, ge=1, description="Most files in one deployment.")
    max_payload_bytes: int = Field(default=1_000_000, ge=1, description="Largest JSON request body.")
    max_variables_bytes: int = Field(default=1_000_000, ge=1, description="Largest serialized instance data.")

    expression_seconds: float = Field(default=1.0, gt=0, description="Time limit for one expression/script.")
    expression_max_size: int = Field(default=1_000_000, ge=1, description="Largest value a script may build.")
    max_engine_steps: int = Field(default=10_000, ge=1, description="Automatic steps one request may run.")

    embedded_worker: bool = Field(default=True, description="Run the job worker inside `voronka serve`.")
    worker_poll_seconds: float = Field(default=1.0, gt=0, description="Longest idle wait of the worker.")
    job_lock_seconds: float = Field(default=60.0, gt=0, description="How long a claimed job stays locked.")
    worker_batch_size: int = Field(default=20, ge=1, description="Due jobs one worker claims at a time.")
    job_retries: int = Field(default=3, ge=1, description="Attempts of a failing timer job before an incident.")
    job_retry_seconds: float = Field(default=10.0, ge=0, description="First retry delay of a failing job "
                                     "(doubles with each attempt).")
    message_buffer_seconds: float = Field(default=86400.0, gt=0, description="How long a buffered message "
                                          "waits for a receiver.")

    files_dir: Path = Field(default=DEFAULT_VAR_DIR / "files", description="Where deal documents and imported "
                            "lead files are kept, named by their sha256 (unless an S3 bucket is configured).")
    s3_bucket: str | None = Field(default=None, description="Keep files in this S3-compatible bucket instead "
                                  "(needs `pip install voronka[s3]`).")
    s3_endpoint_url: str | None = Field(default=None, description="S3-compatible endpoint (MinIO, Yandex Object "
                                        "Storage...); AWS when unset. Credentials come from the usual AWS_* "
                                        "variables.")
    s3_prefix: str = Field(default="voronka/", description="Key prefix of the files in the bucket.")
    max_document_bytes: int = Field(default=20_000_000, ge=1, description="Largest document one may attach.")
    document_types: list[str] = Field(
        default=["application/pdf", "image/png", "image/jpeg", "image/gif", "image/webp", "text/plain",
                 "text/csv", "text/html", "application/zip",
                 "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                 "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                 "application/vnd.openxmlformats-officedocument.presentationml.presentation",
                 "application/vnd.oasis.opendocument.text", "application/vnd.oasis.opendocument.spreadsheet",
                 "application/msword", "application/vnd.ms-excel"],
        description="Document types accepted, as sniffed from the content (not the file name).")
    max_import_bytes: int = Field(default=30_000_000, ge=1, description="Largest lead import file (CSV/XLSX).")
    max_import_rows: int = Field(default=100_000, ge=1, description="Most rows in one lead import.")
    import_lock_seconds: float = Field(default=30.0, gt=0, description="A worker running an import renews its "
                                       "lock each batch; after this long without renewal another worker resumes.")
    lead_dedupe_days: int = Field(default=180, ge=0, description="A lead is a duplicate of a running deal, or of "
                                  "one that ended within this many days, with the same phone, e-mail, INN or "
                                  "company.")
    lead_rate_per_minute: int = Field(default=60, ge=1, description="Leads one API key may post per minute.")
    db_connect_timeout_seconds: float = Field(default=5.0, gt=0, description="Longest wait for a new database "
                                              "connection (PostgreSQL) before the request gets a 503.")
    db_pool_timeout_seconds: float = Field(default=5.0, gt=0, description="Longest wait for a free pooled "
                                           "connection before the request gets a 503.")
    db_statement_timeout_seconds: float = Field(default=15.0, gt=0, description="PostgreSQL cancels a statement "
                                                "running longer (the request gets a 503).")
    db_lock_timeout_seconds: float = Field(default=5.0, gt=0, description="Longest wait for a row or table lock "
                                           "(PostgreSQL lock_timeout, SQLite busy timeout) before a 503.")
    shutdown_seconds: float = Field(default=20.0, ge=0, description="On SIGTERM, how long in-flight requests may "
                                    "run on before they are cut off.")

    bpmn_dir: Path = Field(default=Path("bpmn"), description="Models deployed by `voronka deploy`/`make run`.")
    log_json: bool = Field(default=False, description="One JSON object per log line (production).")
    log_level: str = Field(default="INFO", description="Python log level of the server and worker processes.")
    metrics_token: str | None = Field(default=None, min_length=16, description="Bearer token that may read "
                                      "/metrics without an admin account (Prometheus).")
    cors_origins: list[str] = Field(default=["null"], description="Origins allowed by CORS (Camunda Modeler).")

    @field_validator("database_url")
    @classmethod
    def _normalize_postgres_driver(cls, value: str) -> str:
        # Operators paste postgresql:// URLs; we always use psycopg 3.
        for prefix in ("postgres://", "postgresql://"):
            if value.startswith(prefix):
                return "postgresql+psycopg://" + value[len(prefix) :]
        return value

    @field_validator("secret_key")
    @classmethod
    def _long_enough_secret(cls, value: str | None) -> str | None:
        if value is not None and len(value) < 32:
            raise ValueError("VORONKA_SECRET_KEY must be at least 32 characters (or unset: one is generated)")
        return value

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    return Settings()
