"""The one settings table: every setting's name, type and help line.

Values are layered: the defaults in ``config/defaults.toml`` → an optional site
file named by ``MODERATION_CONFIG`` → ``MODERATION_*`` environment variables.
The same table carries each default and whether a value is secret, and drives
validation, the CLI's ``settings`` listing and the README (tests fail when the
README misses a setting or ``config/defaults.toml`` disagrees with a default).
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
"""The checkout (or installed tree) holding ``config/``."""

DEFAULTS_FILE = PROJECT_ROOT / "config" / "defaults.toml"
"""The shipped config file: every setting with the table's default (a test holds the two equal)."""

ENV_PREFIX = "MODERATION_"
"""Environment variables with this prefix override the files."""


def _as_bool(value: Any) -> bool:
    """Parse a boolean from TOML or an environment string."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"not a boolean: {value!r}")


def _as_list(value: Any) -> list[str]:
    """Parse a list from TOML or a comma-separated environment string."""
    if isinstance(value, list):
        return [str(v) for v in value]
    return [part.strip() for part in str(value).split(",") if part.strip()]


def _as_int_list(value: Any) -> list[int]:
    """Parse a list of whole numbers (e.g. retry intervals)."""
    return [int(v) for v in _as_list(value)]


def _as_zone(value: Any) -> str:
    """An IANA time zone name that zoneinfo knows."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    name = str(value)
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(f"not an IANA time zone name: {name!r}") from None
    return name


def _as_language(value: Any) -> str:
    """A console language: id or en."""
    if str(value) not in ("id", "en"):
        raise ValueError("must be id or en")
    return str(value)


@dataclass(frozen=True)
class Setting:
    """One row of the settings table: name, parser, default, help line, and whether its value is secret."""

    name: str
    parse: Callable[[Any], Any]
    default: Any
    help: str
    secret: bool = False
    """Never printed or logged (keys, and URLs that may carry a password)."""

    @property
    def env_var(self) -> str:
        """The environment variable that overrides this setting."""
        return ENV_PREFIX + self.name.upper().replace(".", "_")


SETTINGS: tuple[Setting, ...] = (
    Setting("data_dir", str, "./var", "Where SQLite, the embedded Redis, models and logs live (relative to the working directory)."),
    Setting("database_url", str, "", "SQLAlchemy URL of the database; empty means SQLite at DATA_DIR/moderation.db.", secret=True),
    Setting("redis_url", str, "", "Redis URL (redis://, rediss://, unix://, redis+sentinel://h1:26379,h2:26379/SERVICE/DB); empty means the embedded Redis under DATA_DIR.", secret=True),
    Setting("model_dir", str, "", "Model registry folder (one sub-folder per version, ACTIVE names the live one); empty means DATA_DIR/models."),
    Setting("training_data", _as_list, [], "Default training sources (CSV files or folders laid out like shared/data); empty means the shipped seed set."),
    Setting("secret_key", str, "", "Flask session key; empty means one generated once and kept in DATA_DIR/secret_key.", secret=True),
    Setting("log_level", str, "INFO", "Logging level of every process (DEBUG, INFO, WARNING, ERROR)."),
    Setting("database.sqlite_synchronous", str, "FULL", "SQLite PRAGMA synchronous (FULL survives power loss; NORMAL survives process crashes)."),
    Setting("intake.signature_max_age", int, 300, "Seconds a request's X-Moderation-Timestamp may differ from the server clock."),
    Setting("intake.max_body_bytes", int, 262144, "Largest request body accepted (413 above it)."),
    Setting("intake.max_content_chars", int, 20000, "Longest comment content accepted (422 above it)."),
    Setting("intake.batch_max_items", int, 500, "Most comments accepted in one /batch request."),
    Setting("intake.rate_limit_per_minute", int, 12000, "Requests one site may make to /api/v1 per minute (429 above it; 0 disables)."),
    Setting("intake.ip_rate_limit_per_minute", int, 30, "Comments one commenter IP may send per minute through one site (intake and Akismet comment-check; 429 above it; 0 disables)."),
    Setting("policy.approve_below", float, 0.5, "Spam score under which a comment is approved, unless the site or the model card sets its own."),
    Setting("policy.spam_above", float, 0.9, "Spam score above which a comment is marked spam, unless the site or the model card sets its own."),
    Setting("policy.abusive_above", float, 0.8, "Abusive score above which a comment is held for a moderator."),
    Setting("policy.max_held_share", float, 0.0, "Most share of one site's comments (over the last hour, once it has 20) the model may hold as uncertain; past it an uncertain comment is decided by the 0.5 line (0 disables: a guard for a new site's first days)."),
    Setting("trust.min_approved", int, 0, "Approved comments an author (the site's user id, else e-mail) needs on a site, with no spam within trust.window_days, to be trusted: their uncertain comments are approved (reason trust.trusted); 0: nobody is."),
    Setting("trust.window_days", int, 90, "Days back an author's approved and spam comments count towards their trust."),
    Setting("trust.hold_first", _as_bool, False, "Hold an author's first comment on a site for a moderator, even when the model would approve it (reason trust.newcomer)."),
    Setting("retrain.enabled", _as_bool, True, "Retrain each site's own model from its moderators' labels automatically (the cron job; `moderation model retrain` works either way)."),
    Setting("retrain.interval", int, 3600, "Seconds between automatic retraining checks (a site is retrained only when retrain.min_new_labels arrived)."),
    Setting("retrain.min_new_labels", int, 50, "New labels from a site's moderators (or its own key's submit-spam/submit-ham) since its last retraining before another is tried."),
    Setting("retrain.holdout_share", float, 0.2, "Share of a site's labels, the most recent, held out by time to judge a candidate (never trained on)."),
    Setting("retrain.moderator_weight", float, 5.0, "How much one of a site's own labels weighs in training against one row of public data."),
    Setting("retrain.implicit_after", int, 259200, "Seconds after which a comment the model published and nobody reported counts as ham for the site's training (0: never)."),
    Setting("retrain.max_reversals", float, 0.1, "Share of the site's recent moderator decisions a candidate may contradict (and more than the model it replaces) before it is refused as poisoned."),
    Setting("lists.dir", str, "", "Folder of global allow/deny lists (words, domains, emails, IPs, names), one value per line."),
    Setting("queue.prefix", str, "moderation", "Prefix of the RQ queue names (score, callbacks, maintenance) and of the service's Redis keys."),
    Setting("scoring.batch_size", int, 256, "Most queued comments one scoring job takes per model call."),
    Setting("scoring.max_batches_per_job", int, 20, "Batches one scoring job drains before handing over to a fresh job."),
    Setting("sweeper.interval", int, 15, "Seconds between sweeps that re-enqueue stranded comments and callbacks."),
    Setting("sweeper.stale_after", int, 60, "Seconds a comment may stay queued (or a callback pending) before the sweeper re-enqueues it."),
    Setting("callbacks.timeout", float, 5.0, "Seconds one callback may take in all, connecting to reading the answer (a site trickling its answer is cut off)."),
    Setting("callbacks.block_private", _as_bool, False, "Refuse callback URLs, and sites' own alert webhook URLs, on private and loopback addresses too (link-local and cloud metadata addresses are always refused)."),
    Setting("callbacks.concurrency", int, 16, "Callbacks a worker sends at once from one batch (a slow site must not hold up the others)."),
    Setting("callbacks.retry_intervals", _as_int_list, [5, 30, 120, 600, 1800, 7200], "Back-off in seconds before each callback retry; its length is the number of retries."),
    Setting("serve.host", str, "127.0.0.1", "Address `moderation serve` and `moderation web` bind to."),
    Setting("serve.port", int, 8000, "Port `moderation serve` and `moderation web` bind to."),
    Setting("serve.web_processes", int, 2, "Gunicorn worker processes of the web app."),
    Setting("serve.web_threads", int, 8, "Threads per gunicorn worker process (gthread)."),
    Setting("serve.workers", int, 2, "RQ worker processes `moderation serve` starts."),
    Setting("serve.trusted_proxies", int, 0, "Reverse proxies in front of the web app that append X-Forwarded-For/-Proto (0: none; rate limits, login back-off and HSTS then see the real client and scheme)."),
    Setting("flood.window", int, 600, "Seconds over which near-identical comments to one site are counted as a flood."),
    Setting("flood.threshold", int, 5, "Near-identical comments within flood.window from which the spam score is raised (0 disables)."),
    Setting("privacy.retain_days", int, 90, "Days commenters' raw IPs and e-mails are kept before the retention job replaces them with keyed hashes."),
    Setting("privacy.hash_key", str, "", "Key of those hashes (set the same value on every machine); empty means one generated once and kept in DATA_DIR/privacy_key.", secret=True),
    Setting("console.session_hours", int, 12, "Hours without use after which a moderator's console session ends (each request restarts this clock)."),
    Setting("console.session_max_hours", int, 24, "Hours after login when a console session ends however busy it is (the absolute lifetime)."),
    Setting("console.secure_cookies", _as_bool, True, "Send the console's session cookie only over HTTPS (browsers also accept it from http://127.0.0.1 and localhost)."),
    Setting("console.login_max_failures", int, 5, "Failed console logins allowed per user name and IP within console.login_window before further attempts are refused."),
    Setting("console.login_window", int, 900, "Seconds over which failed console logins are counted."),
    Setting("console.page_size", int, 50, "Comments per console queue page."),
    Setting("console.bulk_max", int, 10000, "Most comments one 'select all matching the filter' action may change."),
    Setting("console.similar_window_hours", int, 24, "Hours back the console looks for identical comments (same site, same text ignoring case)."),
    Setting("console.time_zone", _as_zone, "Asia/Jakarta", "IANA time zone the console shows a site's times in when the site has none of its own (`moderation sites time-zone`), and cuts stats days in when the sites one sees differ."),
    Setting("console.language", _as_language, "en", "Console language (id or en) for a person who has not picked one when the browser's Accept-Language names neither (and for API clients that send none, so their messages stay as they were)."),
    Setting("console.secret_grace_hours", int, 24, "Hours a site's previous secret still verifies signatures after an admin rotates it."),
    Setting("metrics.allow", _as_list, ["127.0.0.1", "::1"], "Addresses or networks that may read /metrics without a token (it names every site and its volume)."),
    Setting("metrics.token", str, "", "Bearer token that also opens /metrics (Authorization: Bearer TOKEN); empty means only metrics.allow.", secret=True),
    Setting("flags.review_after", int, 1, "Distinct reader reports that put a published comment in the console's reported queue."),
    Setting("alerts.smtp_url", str, "", "SMTP server of alert e-mails (the global ones and every site's own): smtp://user:pass@host:587 (plain), smtp+starttls://... (STARTTLS) or smtps://...:465 (TLS); empty: no e-mail.", secret=True),
    Setting("alerts.email_to", _as_list, [], "Who receives the global alert e-mails (addresses): they see every site's held queue. A site's own recipients are set on the admin page."),
    Setting("alerts.email_from", str, "moderation@localhost", "The From address of alert e-mails."),
    Setting("alerts.webhook_url", str, "", "Chat webhook receiving the global alerts (every site) as JSON (Slack-compatible \"text\" plus an \"alert\" object); empty: no webhook.", secret=True),
    Setting("alerts.held_over", int, 50, "Held comments above which an alert goes out (all sites together for the global recipients, the site's own for a site's recipients)."),
    Setting("alerts.oldest_over", int, 3600, "Seconds the oldest held comment (of every site, or of the site for a site's recipients) may wait before an alert goes out."),
    Setting("alerts.interval", int, 1800, "Least seconds between two alerts on one channel (each site's own channels have their own; shared through Redis by every process)."),
    Setting("alerts.digest_comments", int, 5, "Oldest held comments an alert lists, each with its one-tap links."),
    Setting("alerts.link_lifetime", int, 86400, "Seconds an alert's one-tap approve/spam link stays valid (each works once)."),
    Setting("alerts.public_url", str, "", "The console's public base URL (https://moderasi.example.id) for absolute one-tap links; empty: alerts carry no links."),
)
"""Every setting the service reads, in the order the README lists them."""

BY_NAME: dict[str, Setting] = {s.name: s for s in SETTINGS}


def shown(name: str, value: Any) -> Any:
    """A value as it may be printed: secret keys as ``[set]``, a URL's password as ``***``."""
    if not BY_NAME[name].secret or not value:
        return value
    if name.endswith("webhook_url"):  # a webhook's secret is its path (Slack, Telegram bot tokens)
        return re.sub(r"^([a-z]+://)?(?:[^/@]*@)?([^/?#]*).*$", r"\1\2/***", str(value))  # a query's token too
    if name.endswith("_url"):
        return re.sub(r"(//[^:/@]*):[^@/]*@", r"\1:***@", str(value))
    return "[set]"


class SettingsError(ValueError):
    """A configuration value is unknown or malformed."""


def _flatten(table: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Turn nested TOML tables into dotted names."""
    flat: dict[str, Any] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, name + "."))
        else:
            flat[name] = value
    return flat


def read_toml(path: Path) -> dict[str, Any]:
    """Read a TOML settings file into dotted names, refusing unknown ones."""
    with path.open("rb") as fh:
        flat = _flatten(tomllib.load(fh))
    unknown = sorted(set(flat) - set(BY_NAME))
    if unknown:
        raise SettingsError(f"{path}: unknown settings {', '.join(unknown)}")
    return flat


class Settings(Mapping[str, Any]):
    """Parsed, validated settings with derived paths resolved."""

    def __init__(self, values: Mapping[str, Any]):
        self._values = dict(values)

    def __getitem__(self, name: str) -> Any:
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    @property
    def data_dir(self) -> Path:
        """The data directory as an absolute path."""
        return Path(self._values["data_dir"])

    @property
    def model_dir(self) -> Path:
        """The model registry folder."""
        return Path(self._values["model_dir"])

    def with_overrides(self, overrides: Mapping[str, Any]) -> Settings:
        """A copy with some values replaced (validated like any other source)."""
        merged = dict(self._values)
        merged.update(_parse_all(overrides, "override"))
        return Settings(_derive(merged))


def _parse_all(raw: Mapping[str, Any], source: str) -> dict[str, Any]:
    """Parse raw values through the table, naming the source in errors."""
    parsed: dict[str, Any] = {}
    for name, value in raw.items():
        if name not in BY_NAME:
            raise SettingsError(f"{source}: unknown setting {name!r}")
        try:
            parsed[name] = BY_NAME[name].parse(value)
        except (TypeError, ValueError) as exc:
            raise SettingsError(f"{source}: {name}: {exc}") from None
    return parsed


def _derive(values: dict[str, Any]) -> dict[str, Any]:
    """Fill the settings whose empty value means 'under the data directory'."""
    data_dir = Path(values["data_dir"]).resolve()
    values["data_dir"] = data_dir
    if not values["database_url"]:
        values["database_url"] = f"sqlite:///{data_dir / 'moderation.db'}"
    values["model_dir"] = Path(values["model_dir"]).resolve() if values["model_dir"] else data_dir / "models"
    if not values["lists.dir"]:
        values["lists.dir"] = str(PROJECT_ROOT / "config" / "lists")
    return values


def _from_env(environ: Mapping[str, str]) -> dict[str, str]:
    """Pick the table's environment variables out of the environment."""
    return {s.name: environ[s.env_var] for s in SETTINGS if s.env_var in environ}


def load_settings(
    overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Load the table's defaults → config/defaults.toml → MODERATION_CONFIG file → environment → overrides."""
    env = os.environ if environ is None else environ
    values = {s.name: s.parse(s.default) for s in SETTINGS}
    values.update(_parse_all(read_toml(DEFAULTS_FILE), str(DEFAULTS_FILE)))
    site_file = env.get(ENV_PREFIX + "CONFIG")
    if site_file:
        values.update(_parse_all(read_toml(Path(site_file)), site_file))
    values.update(_parse_all(_from_env(env), "environment"))
    values.update(_parse_all(overrides or {}, "overrides"))
    return Settings(_derive(values))
