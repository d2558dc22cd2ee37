"""Configuration, read from the environment once when the app is created.

SQLite in the instance folder by default; PostgreSQL (production) by DATABASE_URL.
"""

from __future__ import annotations

import os
import secrets
import sys
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

# The package carries what the app needs to run (templates, migrations, reference data, built
# assets), so an installed wheel runs from any directory. PROJECT_ROOT is the source checkout.
PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = PACKAGE_DIR.parent
# The instance folder (the SQLite file, a generated secret key): AP_REGISTER_INSTANCE, else
# instance/ in a source checkout, else <prefix>/var/ap_register-instance as Flask places it.
_DEFAULT_INSTANCE = (
    PROJECT_ROOT / "instance"
    if (PROJECT_ROOT / "pyproject.toml").exists()
    else Path(sys.prefix) / "var" / "ap_register-instance"
)
INSTANCE_DIR = Path(os.environ.get("AP_REGISTER_INSTANCE", _DEFAULT_INSTANCE))


def normalise_database_url(url: str) -> str:
    """Accept the usual postgres:// forms and use the psycopg 3 driver for them."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def replica_binds(primary: str, replica: str) -> dict[str, str]:
    """The reports' bind (`reports_session`) for a read replica of the primary: PostgreSQL both."""
    replica = normalise_database_url(replica)
    if not (primary.startswith("postgresql") and replica.startswith("postgresql")):
        raise ValueError(
            "DATABASE_REPLICA_URL is a PostgreSQL read replica of the PostgreSQL at DATABASE_URL: "
            "SQLite has no replicas (leave DATABASE_REPLICA_URL unset)"
        )
    return {"replica": replica}


def _secret_key() -> str:
    """SECRET_KEY from the environment, else one generated once and kept in the instance folder."""
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    path = INSTANCE_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def allowed_hosts(raw: str, environment: str, service_url: str) -> list[str]:
    """The host names the app answers to (ALLOWED_HOSTS, comma-separated; a leading dot takes
    every subdomain). In production, unset, the host of SERVICE_URL: a host name forged in a
    proxy's X-Forwarded-Host must not become the site that redirects point to."""
    names = [name.strip().lower() for name in raw.split(",") if name.strip()]
    if not names and environment == "production":
        names = [urlsplit(service_url).hostname or ""]
    return names


class Config:
    """Settings for a running service. Every value can be set by an environment variable."""

    TESTING = False
    ENVIRONMENT = os.environ.get("AP_REGISTER_ENV", "development")
    SQLALCHEMY_DATABASE_URI = normalise_database_url(
        os.environ.get("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'ap_register.db'}")
    )
    SQLALCHEMY_ENGINE_OPTIONS: dict[str, object] = {"pool_pre_ping": True}
    SECRET_KEY = _secret_key()
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = ENVIRONMENT == "production"
    REMEMBER_COOKIE_DURATION = timedelta(seconds=0)
    # Special category data: a signed-in session lapses after an hour without a request.
    PERMANENT_SESSION_LIFETIME = timedelta(minutes=int(os.environ.get("SESSION_MINUTES", "60")))
    # How long before the session lapses a person is warned (and may stay signed in).
    SESSION_WARNING_SECONDS = int(os.environ.get("SESSION_WARNING_SECONDS", "120"))
    WTF_CSRF_TIME_LIMIT = None  # the session lifetime bounds the token
    MAX_CONTENT_LENGTH = int(os.environ.get("MAX_UPLOAD_MB", "200")) * 1024 * 1024
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    # A PostgreSQL read replica for reports (the placements register's download; the command line's
    # export, coverage, scores and returns): their reads go there; every write, and every other
    # page, stays on DATABASE_URL. Unset: everything reads the primary.
    DATABASE_REPLICA_URL = os.environ.get("DATABASE_REPLICA_URL", "")
    # How long a report waits for the replica to hold all the primary held when it began, before
    # it reads the primary instead.
    REPLICA_WAIT_SECONDS = float(os.environ.get("REPLICA_WAIT_SECONDS", "1"))
    # Processes the nightly scores use at once on PostgreSQL (0: one a core, at most four).
    SCORING_WORKERS = int(os.environ.get("SCORING_WORKERS", "0"))
    RATELIMIT_HEADERS_ENABLED = True
    # Keys in the shared store are named under this prefix (one store can serve several services).
    RATELIMIT_KEY_PREFIX = os.environ.get("RATELIMIT_KEY_PREFIX", "ap_register")
    # Wrong passwords from one address, across every account: a council office signs in behind one
    # public address, so successes never count and the limit is an office's typing, not a person's.
    SIGN_IN_FAILURES_PER_ADDRESS = os.environ.get("SIGN_IN_FAILURES_PER_ADDRESS", "60 per 15 minutes;200 per day")
    # Password changes by one signed-in person (the current password is checked each time).
    PASSWORD_CHANGE_LIMIT = os.environ.get("PASSWORD_CHANGE_LIMIT", "10 per hour")
    # Failed sign-ins (wrong passwords only) to one account (the address as sign-in reads it):
    # from one client, then that client is locked out of it for the window; from all clients
    # together, a higher count, then the account is locked for everyone.
    ACCOUNT_LOCKOUT = os.environ.get("ACCOUNT_LOCKOUT", "5 per 15 minutes")
    ACCOUNT_LOCKOUT_ALL_CLIENTS = os.environ.get("ACCOUNT_LOCKOUT_ALL_CLIENTS", "50 per 15 minutes")
    EXPORT_RATE_LIMIT = os.environ.get("EXPORT_RATE_LIMIT", "30 per hour")
    # The pupil search's suggestions, per signed-in person: a few a second while typing, never a
    # way to read the register out name by name.
    SUGGEST_RATE_LIMIT = os.environ.get("SUGGEST_RATE_LIMIT", "120 per minute;1000 per hour")
    # A form's answers kept as a session lapses: once a lapse, so a few an hour is plenty.
    KEEP_ANSWERS_LIMIT = os.environ.get("KEEP_ANSWERS_LIMIT", "20 per hour")
    # What names children by UPN, counted per organisation (an LA's administrators share one count):
    # requests for another LA's child's record, outreach started or offered, files imported.
    TRANSFER_RATE_LIMIT = os.environ.get("TRANSFER_RATE_LIMIT", "20 per hour")
    PROPOSAL_RATE_LIMIT = os.environ.get("PROPOSAL_RATE_LIMIT", "30 per hour")
    IMPORT_RATE_LIMIT = os.environ.get("IMPORT_RATE_LIMIT", "60 per hour")
    # Recalculating a year's scores on request (each takes a second or more of the server).
    RECALCULATE_RATE_LIMIT = os.environ.get("RECALCULATE_RATE_LIMIT", "10 per minute")
    API_RATE_LIMIT = os.environ.get("API_RATE_LIMIT", "1200 per minute")
    # Years after birth that a child's records are kept before the nightly job anonymises them.
    RETENTION_YEARS = int(os.environ.get("RETENTION_YEARS", "25"))
    # Fernet keys sealing two-step secrets at rest (comma-separated; the first seals, all open).
    # Unset: one key derived from SECRET_KEY.
    TWO_STEP_KEYS = os.environ.get("TWO_STEP_KEYS", "")
    FORCE_HTTPS = ENVIRONMENT == "production"
    # How many proxies in front set X-Forwarded-* (0: none; the app is reached directly).
    TRUSTED_PROXIES = int(os.environ.get("TRUSTED_PROXIES", "0"))
    SERVICE_NAME = "AP register"
    PAGE_SIZE = 50
    # Email (optional): without MAIL_SERVER, notifications stay in people's inboxes only.
    MAIL_SERVER = os.environ.get("MAIL_SERVER")
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "25"))
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD")
    MAIL_STARTTLS = os.environ.get("MAIL_STARTTLS", "false").lower() == "true"
    MAIL_FROM = os.environ.get("MAIL_FROM", "ap-register@localhost")
    SERVICE_URL = os.environ.get("SERVICE_URL", "http://127.0.0.1:5000")
    # Not Flask's TRUSTED_HOSTS: Flask checks that for every request, and a load balancer
    # probes /health by each server's own address.
    ALLOWED_HOSTS = allowed_hosts(os.environ.get("ALLOWED_HOSTS", ""), ENVIRONMENT, SERVICE_URL)
    # Documents on children's records (casework/documents.py): where they are kept, the largest
    # taken, and the virus scanner (ClamAV's `clamscan`; `CLAMAV_DATABASE`, when set, the
    # signatures it reads instead of the ones freshclam keeps in /var/lib/clamav).
    DOCUMENTS_DIR = os.environ.get("DOCUMENTS_DIR", str(INSTANCE_DIR / "documents"))
    DOCUMENT_MAX_MB = int(os.environ.get("DOCUMENT_MAX_MB", "10"))
    # An S3-compatible store for the documents instead of the folder (production): the bucket,
    # the store's address (unset: AWS itself), its region, and the encryption at rest it applies.
    DOCUMENTS_S3_BUCKET = os.environ.get("DOCUMENTS_S3_BUCKET", "")
    DOCUMENTS_S3_ENDPOINT = os.environ.get("DOCUMENTS_S3_ENDPOINT", "")
    DOCUMENTS_S3_REGION = os.environ.get("DOCUMENTS_S3_REGION", "")
    DOCUMENTS_S3_ENCRYPTION = os.environ.get("DOCUMENTS_S3_ENCRYPTION", "AES256")
    CLAMSCAN = os.environ.get("CLAMSCAN", "clamscan")
    # The folder holding the letters' PDF font (casework/letter_files.py): DejaVu Sans.
    LETTER_FONT_DIR = os.environ.get("LETTER_FONT_DIR", "/usr/share/fonts/truetype/dejavu")
    CLAMAV_DATABASE = os.environ.get("CLAMAV_DATABASE", "")
    # The demo area may be loaded only where this is true (never in production).
    ALLOW_DEMO = ENVIRONMENT != "production"


class TestConfig(Config):
    """The test suite's settings: the database comes from the test's own fixture."""

    TESTING = True
    ENVIRONMENT = "test"
    SECRET_KEY = "test-secret-key"
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    # Limits stay on, high enough for a test run; one test lowers them to see them work.
    SIGN_IN_FAILURES_PER_ADDRESS = "1000 per minute"
    PASSWORD_CHANGE_LIMIT = "1000 per minute"
    ACCOUNT_LOCKOUT = "1000 per minute"
    ACCOUNT_LOCKOUT_ALL_CLIENTS = "1000 per minute"
    EXPORT_RATE_LIMIT = "1000 per minute"
    SUGGEST_RATE_LIMIT = "1000 per minute"
    KEEP_ANSWERS_LIMIT = "1000 per minute"
    # A test's own writes are uncommitted (its transaction is rolled back): other processes cannot
    # see them, so scoring stays in the test's session unless a test asks for more.
    SCORING_WORKERS = 1
    DATABASE_REPLICA_URL = ""  # a test that wants a replica starts its own (tests/test_read_replica.py)
    TRANSFER_RATE_LIMIT = "1000 per minute"
    PROPOSAL_RATE_LIMIT = "1000 per minute"
    IMPORT_RATE_LIMIT = "1000 per minute"
    RECALCULATE_RATE_LIMIT = "1000 per minute"
    API_RATE_LIMIT = "100000 per minute"
    FORCE_HTTPS = False
    SESSION_COOKIE_SECURE = False
    ALLOWED_HOSTS: list[str] = []
    ALLOW_DEMO = True
