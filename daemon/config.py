"""Settings: where the data lives and what the seller configured (settings.json in the data dir)."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import platformdirs

DATA_DIR_ENV = "PICGUARD_DATA_DIR"
ALLOW_PRIVATE_ENV = "PICGUARD_ALLOW_PRIVATE_HOSTS"
SETTINGS_FILE = "settings.json"


class ConfigError(ValueError):
    """A settings value or file that cannot be used; the message says how to fix it."""


def default_data_dir() -> Path:
    """`$PICGUARD_DATA_DIR`, else the platform's user data dir (~/.local/share/picguard)."""
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir("picguard", appauthor=False))


def env_allows_private_hosts() -> bool:
    """True when PICGUARD_ALLOW_PRIVATE_HOSTS=1: tests and the demo fetch from 127.0.0.1."""
    return os.environ.get(ALLOW_PRIVATE_ENV, "").strip().lower() in {"1", "true", "yes"}


@dataclass
class Settings:
    """Everything the daemon and CLI read from configuration; persisted fields are the seller's."""

    data_dir: Path
    # The seller's own stores as "<marketplace>:<store id>", e.g. "aliexpress:1102011".
    own_stores: list[str] = field(default_factory=list)
    # Apprise URLs (mailto://, tgram://, dingtalk://, wecombot://, feishu://, json://...).
    notify_urls: list[str] = field(default_factory=list)
    host: str = "127.0.0.1"
    port: int = 8765
    fetch_interval_s: int = 60
    match_interval_s: int = 60
    rescan_interval_s: int = 6 * 3600
    notify_interval_s: int = 60
    fetch_workers: int = 4
    # Politeness: at most one request per this many seconds to one host (CDNs take more,
    # but a seller's machine should never look like a crawler).
    per_host_interval_ms: int = 250
    max_fetch_attempts: int = 6
    max_body_bytes: int = 8 * 1024 * 1024
    max_images_per_page: int = 500
    max_image_bytes: int = 20 * 1024 * 1024
    # Extra Origins the seller paired by hand (besides chrome-extension:// and moz-extension://).
    extra_origins: list[str] = field(default_factory=list)
    allow_private_hosts: bool = False

    # Fields that live in settings.json; the rest come from flags and the environment.
    PERSISTED = (
        "own_stores", "notify_urls", "fetch_interval_s", "match_interval_s",
        "rescan_interval_s", "notify_interval_s", "fetch_workers", "per_host_interval_ms",
        "max_fetch_attempts",
        "max_body_bytes", "max_images_per_page", "max_image_bytes", "extra_origins", "port",
    )

    @property
    def db_path(self) -> Path:
        return self.data_dir / "picguard.sqlite3"

    @property
    def token_path(self) -> Path:
        return self.data_dir / "token"

    @property
    def settings_path(self) -> Path:
        return self.data_dir / SETTINGS_FILE

    def is_own_store(self, marketplace: str | None, store_id: str | None) -> bool:
        """Whether a listing's store is one of the seller's own (never raises alerts)."""
        if not store_id:
            return False
        key = f"{marketplace or ''}:{store_id}"
        return key in self.own_stores or store_id in self.own_stores

    def persisted(self) -> dict:
        """The seller-editable part, as written to settings.json."""
        d = asdict(self)
        return {k: d[k] for k in self.PERSISTED}


def load_settings(data_dir: Path | None = None, **overrides) -> Settings:
    """Read settings.json from the data dir (creating the dir), then apply flag overrides."""
    data_dir = Path(data_dir) if data_dir else default_data_dir()
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"cannot create the data dir {data_dir}: {exc.strerror}; "
            f"pass --data-dir or set {DATA_DIR_ENV} to a writable folder"
        ) from exc
    settings = Settings(data_dir=data_dir, allow_private_hosts=env_allows_private_hosts())
    path = settings.settings_path
    if path.exists():
        try:
            stored = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigError(
                f"{path} is not valid JSON ({exc}); fix it or delete it to start from defaults"
            ) from exc
        if not isinstance(stored, dict):
            raise ConfigError(f"{path} must hold a JSON object; fix it or delete it")
        for key, value in stored.items():
            if key in Settings.PERSISTED:
                set_value(settings, key, value)
    for key, value in overrides.items():
        if value is not None:
            setattr(settings, key, value)
    return settings


def set_value(settings: Settings, key: str, value: object) -> None:
    """Set one persisted field, converting and checking its type (raises ConfigError)."""
    if key not in Settings.PERSISTED:
        raise ConfigError(
            f"unknown setting {key!r}; known settings: {', '.join(Settings.PERSISTED)}"
        )
    kind = {f.name: f.type for f in fields(Settings)}[key]
    try:
        if kind == "int":
            value = int(value)  # type: ignore[arg-type]
            if value < 0:
                raise ValueError("must not be negative")
        elif kind == "list[str]":
            if isinstance(value, str):
                value = [v.strip() for v in value.split(",") if v.strip()]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ValueError("must be a list of strings")
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"setting {key!r}: {value!r} is not valid ({exc})") from exc
    setattr(settings, key, value)


def save_settings(settings: Settings) -> None:
    """Write settings.json atomically (temp file + rename), so a crash never leaves half a file."""
    path = settings.settings_path
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(settings.persisted(), indent=2, ensure_ascii=False), "utf-8")
    os.replace(tmp, path)
