"""RELANCE_DATABASE_URL picks the store; a wrong one is one clear sentence."""

import pytest

from adapters.infra.store import StoreError, parse_database_url


def test_an_sqlite_url_names_a_relative_or_absolute_file():
    assert str(parse_database_url("sqlite:///var/relance.db").sqlite_path) == "var/relance.db"
    assert str(parse_database_url("sqlite:////srv/relance.db").sqlite_path) == "/srv/relance.db"


def test_a_postgres_url_maps_onto_the_event_store_settings_without_showing_the_password():
    store = parse_database_url("postgresql://relance:s%40cret@db.local:6543/prod?schema=acme")
    assert store.env["POSTGRES_HOST"] == "db.local"
    assert store.env["POSTGRES_PORT"] == "6543"
    assert store.env["POSTGRES_PASSWORD"] == "s@cret"
    assert store.env["POSTGRES_SCHEMA"] == "acme"
    assert "POSTGRES_ENABLE_DB_FUNCTIONS" not in store.env
    assert "cret" not in store.description
    assert "cret" not in repr(store)


@pytest.mark.parametrize(("url", "message"), [
    ("mysql://x/y", "must start with sqlite:/// or postgresql://"),
    ("sqlite:///:memory:", "needs a file path"),
    ("postgresql://u:topsecret@host/", "names no database"),
])
def test_a_wrong_url_is_refused_in_one_line(url, message):
    with pytest.raises(StoreError, match=message) as refused:
        parse_database_url(url)
    assert "\n" not in str(refused.value)
    assert "topsecret" not in str(refused.value)


def test_a_setting_that_is_not_a_number_is_one_clear_sentence():
    from adapters.settings import ConfigurationError, Settings

    with pytest.raises(ConfigurationError, match="RELANCE_PORT must be a whole number, got 'abc'"):
        Settings.from_env({"RELANCE_PORT": "abc"})
