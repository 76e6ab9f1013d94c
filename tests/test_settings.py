from __future__ import annotations

from pathlib import Path

import pytest

from banso.settings import Settings, SettingsError, load_settings


def test_it_defaults_to_sqlite_in_the_data_dir(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("BANSO_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("BANSO_DATABASE_URL", raising=False)
    settings = load_settings()
    assert settings.effective_database_url == f"sqlite:///{(tmp_path / 'banso.db').resolve()}"
    assert settings.is_sqlite


def test_it_uses_psycopg_for_postgresql_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BANSO_DATABASE_URL", "postgresql://u@db/banso")
    assert load_settings().effective_database_url == "postgresql+psycopg://u@db/banso"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("BANSO_PORT", "eighty", "BANSO_PORT"),
        ("BANSO_PORT", "70000", "BANSO_PORT"),
        ("BANSO_TIMEZONE", "Mars/Olympus", "unknown timezone"),
        ("BANSO_DEFAULT_CURRENCY", "XYZ", "unsupported currency"),
        ("BANSO_DATABASE_URL", "mysql://x", "only sqlite"),
    ],
)
def test_it_fails_loudly_on_bad_values(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=message):
        load_settings()


def test_it_reads_secrets_from_files(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("postgresql://banso:s3cret@db/banso\n", encoding="utf-8")
    monkeypatch.setenv("BANSO_DATABASE_URL_FILE", str(secret))
    assert load_settings().database_url == "postgresql+psycopg://banso:s3cret@db/banso"


def test_a_missing_secret_file_is_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("BANSO_DATABASE_URL_FILE", str(tmp_path / "nope"))
    with pytest.raises(SettingsError, match="BANSO_DATABASE_URL_FILE"):
        load_settings()


def test_every_setting_is_documented_in_the_readme() -> None:
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    missing = [
        f"BANSO_{name.upper()}"
        for name in Settings.model_fields
        if f"BANSO_{name.upper()}" not in readme
    ]
    assert missing == [], f"document these settings in README.md: {missing}"
