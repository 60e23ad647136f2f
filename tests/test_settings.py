"""The one settings table: defaults for every row, environment overrides, validation, README coverage."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from moderation.cli import settings_markdown
from moderation.settings import BY_NAME, DEFAULTS_FILE, SETTINGS, SettingsError, load_settings, read_toml, shown

README = Path(__file__).resolve().parent.parent / "README.md"


def test_every_setting_has_a_shipped_default() -> None:
    """config/defaults.toml and the table name exactly the same settings, with the same default values."""
    shipped = read_toml(DEFAULTS_FILE)
    assert set(shipped) == {s.name for s in SETTINGS}
    assert {name: BY_NAME[name].parse(v) for name, v in shipped.items()} == {s.name: s.parse(s.default)
                                                                              for s in SETTINGS}


def test_secret_settings_are_never_shown() -> None:
    """Keys print as [set] and a URL's password as ***: `moderation settings` can be pasted into a bug report."""
    assert {s.name for s in SETTINGS if s.secret} == {"secret_key", "privacy.hash_key", "database_url", "redis_url",
                                                      "metrics.token", "alerts.smtp_url", "alerts.webhook_url"}
    assert shown("secret_key", "abc123") == "[set]" and shown("secret_key", "") == ""
    assert shown("database_url", "postgresql+psycopg://app:hunter2@db:5432/m") == "postgresql+psycopg://app:***@db:5432/m"
    assert shown("redis_url", "redis://:hunter2@cache:6379/0") == "redis://:***@cache:6379/0"
    assert shown("log_level", "INFO") == "INFO"
    assert shown("alerts.smtp_url", "smtps://ani:hunter2@mail:465") == "smtps://ani:***@mail:465"
    assert shown("alerts.webhook_url", "https://hooks.example/services/T0/B0/s3cr3t") == "https://hooks.example/***"
    assert shown("alerts.webhook_url", "https://relay.example.id?token=s3cr3t") == "https://relay.example.id/***"
    assert shown("alerts.webhook_url", "https://relay.example.id#s3cr3t") == "https://relay.example.id/***"


def test_every_setting_has_help() -> None:
    """Each row carries a help line long enough to mean something."""
    assert all(len(s.help) > 20 for s in SETTINGS)


def test_readme_documents_every_setting() -> None:
    """The README holds the generated settings table verbatim (regenerate with `moderation settings --markdown`)."""
    text = README.read_text(encoding="utf-8")
    missing = [s.name for s in SETTINGS if f"`{s.name}`" not in text or f"`{s.env_var}`" not in text]
    assert not missing, f"README misses settings: {missing}"
    assert settings_markdown() in text, "README's settings table is stale: paste `moderation settings --markdown`"


def test_environment_overrides_files() -> None:
    """MODERATION_* variables win over the shipped defaults and are parsed by type."""
    settings = load_settings(environ={"MODERATION_POLICY_SPAM_ABOVE": "0.75", "MODERATION_SERVE_WORKERS": "4",
                                      "MODERATION_CALLBACKS_RETRY_INTERVALS": "1, 2,3"})
    assert settings["policy.spam_above"] == 0.75
    assert settings["serve.workers"] == 4
    assert settings["callbacks.retry_intervals"] == [1, 2, 3]


def test_config_file_layer(tmp_path: Path) -> None:
    """A file named by MODERATION_CONFIG sits between the defaults and the environment."""
    site_file = tmp_path / "site.toml"
    site_file.write_text("[policy]\nspam_above = 0.8\napprove_below = 0.3\n")
    env = {"MODERATION_CONFIG": str(site_file), "MODERATION_POLICY_APPROVE_BELOW": "0.2"}
    settings = load_settings(environ=env)
    assert settings["policy.spam_above"] == 0.8 and settings["policy.approve_below"] == 0.2


def test_derived_paths_follow_the_data_dir(tmp_path: Path) -> None:
    """Empty database_url and model_dir mean 'under the data directory'."""
    settings = load_settings(environ={"MODERATION_DATA_DIR": str(tmp_path)})
    assert settings["database_url"] == f"sqlite:///{tmp_path / 'moderation.db'}"
    assert settings.model_dir == tmp_path / "models"


def test_bad_values_are_refused(tmp_path: Path) -> None:
    """A malformed value or an unknown name in a file is a clear error, not a silent default."""
    with pytest.raises(SettingsError, match="serve.port"):
        load_settings(environ={"MODERATION_SERVE_PORT": "eighty"})
    bad = tmp_path / "bad.toml"
    bad.write_text("[policy]\nspam_abvoe = 0.8\n")
    with pytest.raises(SettingsError, match="spam_abvoe"):
        load_settings(environ={"MODERATION_CONFIG": str(bad)})


def test_env_var_names_follow_the_rule() -> None:
    """Every variable is MODERATION_ plus the upper-cased name with dots as underscores."""
    for s in SETTINGS:
        assert re.fullmatch(r"MODERATION_[A-Z0-9_]+", s.env_var)
