"""Settings read once from the environment (or a test's mapping), typed and checked."""

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path

from cryptography.fernet import Fernet

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INSTANCE = PROJECT_ROOT / "instance"


class ConfigError(RuntimeError):
    """Raised when the settings cannot run the product safely."""


def _parse_bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True

    if value in {"0", "false", "no", "off", ""}:
        return False

    raise ConfigError(f"not a boolean: {raw!r}")


@dataclass(frozen=True)
class Settings:
    """Every setting the product reads; the names are the environment variables."""

    GATEKEEPER_ENV: str = "production"
    INSTANCE_PATH: str = str(DEFAULT_INSTANCE)
    DATABASE_URL: str = ""
    SECRET_KEY: str = ""
    PHOTO_KEY: str = ""
    RATELIMIT_STORAGE_URI: str = "memory://"
    SESSION_IDLE_MINUTES: int = 15
    LOGIN_MAX_FAILURES: int = 5
    LOGIN_LOCKOUT_MINUTES: int = 15
    LOGIN_RATE_PER_ADDRESS: str = "30 per 5 minutes"
    LOGIN_RATE_PER_ACCOUNT: str = "10 per 5 minutes"
    COOKIE_SECURE: bool = True
    TRUST_PROXY: bool = False
    LOG_LEVEL: str = "INFO"
    AUTO_MIGRATE: bool = True
    SMTP_HOST: str = ""
    SMTP_PORT: int = 25
    SMTP_USER: str = ""
    SMTP_PASSWORD: str = field(default="", repr=False)
    SMTP_STARTTLS: bool = False
    MAIL_FROM: str = "kiosk@localhost"

    @property
    def is_production(self) -> bool:
        return self.GATEKEEPER_ENV == "production"

    @property
    def instance(self) -> Path:
        return Path(self.INSTANCE_PATH)

    @property
    def database_url(self) -> str:
        if self.DATABASE_URL:
            return self.DATABASE_URL

        return f"sqlite:///{self.instance / 'gatekeeper.sqlite3'}"


def load_settings(overrides: Mapping[str, object] | None = None) -> Settings:
    """Read settings from the environment, then apply overrides (a test's mapping)."""
    values: dict[str, object] = {}
    for item in fields(Settings):
        raw = os.environ.get(item.name)
        if raw is not None:
            values[item.name] = _coerce(item.name, item.type, raw)

    for name, value in (overrides or {}).items():
        if name not in Settings.__dataclass_fields__:
            raise ConfigError(f"unknown setting {name}")

        values[name] = value

    settings = Settings(**values)
    if settings.GATEKEEPER_ENV not in {"production", "development", "testing"}:
        raise ConfigError("GATEKEEPER_ENV must be production, development or testing")

    return _with_instance_secrets(settings)


def _coerce(name: str, kind: object, raw: str) -> object:
    if kind in (bool, "bool"):
        return _parse_bool(raw)

    if kind in (int, "int"):
        try:
            return int(raw)
        except ValueError as error:
            raise ConfigError(f"{name} must be a whole number") from error

    return raw


def _with_instance_secrets(settings: Settings) -> Settings:
    """Fill the secret key and photo key from the instance folder when not set."""
    secret = settings.SECRET_KEY or _read_secret(settings.instance / "secret_key")
    photo = settings.PHOTO_KEY or _read_secret(settings.instance / "photo.key")
    updated = Settings(
        **{**settings.__dict__, "SECRET_KEY": secret, "PHOTO_KEY": photo}
    )
    check_secrets(updated)
    return updated


def _read_secret(path: Path) -> str:
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        return ""


def check_secrets(settings: Settings) -> None:
    """Refuse to run in production without a real secret key and photo key."""
    if not settings.is_production:
        return

    if len(settings.SECRET_KEY) < 32 or settings.SECRET_KEY.startswith("dev"):
        raise ConfigError(
            "SECRET_KEY is missing or too short: set it, or run "
            "'kiosk init-instance' to write one into the instance folder"
        )

    try:
        Fernet(settings.PHOTO_KEY.encode("ascii"))
    except (ValueError, TypeError) as error:
        raise ConfigError(
            "PHOTO_KEY is missing or not a Fernet key: set it, or run "
            "'kiosk init-instance' to write one into the instance folder"
        ) from error


def write_instance_secrets(instance: Path) -> list[Path]:
    """Create the instance folder's secret key and photo key where they are absent."""
    instance.mkdir(parents=True, exist_ok=True)
    written = []
    makers = {
        "secret_key": lambda: secrets.token_urlsafe(48),
        "photo.key": lambda: Fernet.generate_key().decode("ascii"),
    }
    for name, make in makers.items():
        path = instance / name
        if path.exists():
            continue

        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(make() + "\n")

        written.append(path)

    return written
