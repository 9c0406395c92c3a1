"""Settings: where the data lives and what the seller configured (settings.json in the data dir)."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import platformdirs

from daemon.files import write_text_atomic
from scraper.netguard import env_allows_private

DATA_DIR_ENV = "PICGUARD_DATA_DIR"
SETTINGS_FILE = "settings.json"
# Public RFC 3161 TSAs that need no account (freetsa.org's root must be added to tsa-roots/
# in the data dir to count as trusted; DigiCert's and Sectigo's chain to public roots).
DEFAULT_TSA_URLS = ("https://freetsa.org/tsr", "http://timestamp.digicert.com",
                    "http://timestamp.sectigo.com")


class ConfigError(ValueError):
    """A settings value or file that cannot be used; the message says how to fix it."""


def default_data_dir() -> Path:
    """`$PICGUARD_DATA_DIR`, else the platform's user data dir (~/.local/share/picguard)."""
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir("picguard", appauthor=False))


def own_store_key(entry: str) -> str:
    """`marketplace:store_id` of an own-store setting; a bare id is an AliExpress store."""
    entry = str(entry).strip()
    market, sep, store_id = entry.partition(":")
    if sep and market.strip() and store_id.strip():
        return f"{market.strip().lower()}:{store_id.strip()}"
    return f"aliexpress:{entry}"


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
    # RFC 3161 Time-Stamp Authorities that vouch for the ledger's head (tried in order; every
    # one that answers adds a token). Public, free, no account (provenance.timestamps).
    tsa_urls: list[str] = field(default_factory=lambda: list(DEFAULT_TSA_URLS))
    stamp_interval_s: int = 24 * 3600
    # Automatic backups (daemon.backup): a folder the seller picks ("" = off), keeping the last N.
    backup_dir: str = ""
    backup_keep: int = 7
    backup_interval_s: int = 24 * 3600
    # Discovery (daemon.monitor.sweeps): sending a catalog photo to the marketplace's image
    # search is the one time a photo leaves the machine, so it is off until the seller says so.
    image_search_consent: bool = False
    min_interval_s: int = 20
    per_day: int = 300
    pause_when_idle: bool = False
    keywords: list[str] = field(default_factory=list)
    pages_per_keyword: int = 2
    image_sweep_every_days: int = 7

    # Fields that live in settings.json; the rest come from flags and the environment.
    PERSISTED = (
        "own_stores", "notify_urls", "fetch_interval_s", "match_interval_s",
        "rescan_interval_s", "notify_interval_s", "fetch_workers", "per_host_interval_ms",
        "max_fetch_attempts",
        "max_body_bytes", "max_images_per_page", "max_image_bytes", "extra_origins", "port",
        "tsa_urls", "stamp_interval_s", "backup_dir", "backup_keep", "backup_interval_s",
        "image_search_consent", "min_interval_s", "per_day", "pause_when_idle", "keywords",
        "pages_per_keyword", "image_sweep_every_days",
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
        """Whether a listing's store is one of the seller's own (never raises alerts).

        Both the marketplace and the store id must match: the same number can be one
        shop on AliExpress and another on Lazada. A bare id in the settings (older
        settings files) is an AliExpress store.
        """
        if not store_id:
            return False
        key = f"{(marketplace or '').lower()}:{store_id}"
        return key in {own_store_key(entry) for entry in self.own_stores}

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
    settings = Settings(data_dir=data_dir, allow_private_hosts=env_allows_private())
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
        elif kind == "str" and not isinstance(value, str):
            raise ValueError("must be a string")
        elif kind == "bool" and not isinstance(value, bool):
            words = {"true": True, "on": True, "yes": True, "1": True,
                     "false": False, "off": False, "no": False, "0": False}
            if str(value).strip().lower() not in words:
                raise ValueError("must be true or false")
            value = words[str(value).strip().lower()]
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"setting {key!r}: {value!r} is not valid ({exc})") from exc
    setattr(settings, key, value)


def save_settings(settings: Settings) -> None:
    """Write settings.json atomically (temp file + rename), so a crash never leaves half a file."""
    path = settings.settings_path
    write_text_atomic(path, json.dumps(settings.persisted(), indent=2, ensure_ascii=False))
