from __future__ import annotations

import configparser
import pickle

import pytest

import nbflow
from nbflow.core import config as _config
from nbflow.core.configuration import (
    ConfigParserWarning,
    InterpolationMissingEnvvarError,
    LuigiConfigParser,
    LuigiTomlParser,
    ParserUnavailableError,
    add_config_path,
    get_config,
    overridden,
)


@pytest.fixture(autouse=True)
def _fresh_config(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LUIGI_CONFIG_PARSER", raising=False)
    monkeypatch.setattr(LuigiConfigParser, "_config_paths", [])
    monkeypatch.setattr(LuigiTomlParser, "_config_paths", ["luigi.toml"])
    monkeypatch.setattr(LuigiTomlParser, "_instance", None)
    _config.reset_settings_cache()
    yield
    _config.reset_settings_cache()


class ConfiguredGreeting(nbflow.Task):
    word = nbflow.Parameter(default="hello")


def test_configuration_set_is_seen_by_tasks_built_after() -> None:
    assert ConfiguredGreeting().word == "hello"

    get_config().set("ConfiguredGreeting", "word", "hi")

    assert ConfiguredGreeting().word == "hi"
    assert _config.current_settings().get("ConfiguredGreeting", "word") == "hi"


def test_configuration_overridden_merges_then_restores() -> None:
    get_config().set("ConfiguredGreeting", "word", "outer")

    with overridden({"ConfiguredGreeting": {"word": "inner"}, "core": {"workers": 3}}):
        assert ConfiguredGreeting().word == "inner"
        assert _config.current_settings().get_int("core", "workers") == 3
        get_config().set("ConfiguredGreeting", "word", "changed inside")
        assert ConfiguredGreeting().word == "changed inside"

    assert ConfiguredGreeting().word == "outer"
    assert not get_config().has_option("core", "workers")


def test_configuration_overridden_can_replace_whole_sections() -> None:
    get_config().set("s", "kept", "1")
    with overridden({"s": {"new": "2"}}, replace_sections=True):
        assert not get_config().has_option("s", "kept")
        assert get_config().get("s", "new") == "2"
    with overridden({"s": {"new": "2"}}):
        assert get_config().get("s", "kept") == "1"


def test_configuration_interpolates_when_read(monkeypatch) -> None:
    monkeypatch.setenv("NBFLOW_TEST_VAR", "1")
    with overridden(
        {"t": {"a": "${NBFLOW_TEST_VAR}", "b": "%(a)s %(a)s", "c": "50%%"}}
    ):
        config = get_config()

        assert config.get("t", "b") == "1 1"
        assert config.getint("t", "a") == 1
        assert config.getboolean("t", "a") is True
        assert config.get("t", "c") == "50%"
        assert _config.current_settings().get("t", "b") == "1 1"


def test_configuration_missing_variable_fails_when_that_value_is_read() -> None:
    with overridden({"t": {"ok": "fine", "bad": "${NBFLOW_SURELY_UNSET}"}}):
        settings = _config.current_settings()

        assert settings.get("t", "ok") == "fine"
        with pytest.raises(InterpolationMissingEnvvarError) as caught:
            settings.get("t", "bad")
        with pytest.raises(configparser.InterpolationError):
            get_config().get("t", "bad")

    message = str(caught.value)
    assert "[t] bad" in message
    assert "NBFLOW_SURELY_UNSET is not set" in message
    assert "Fix: set NBFLOW_SURELY_UNSET" in message
    assert str(pickle.loads(pickle.dumps(caught.value))) == message


def test_configuration_dash_and_underscore_name_one_option() -> None:
    with overridden(
        {"t": {"foo-bar": "dash", "foo_bar": "underscore", "baz-qux": "b"}}
    ):
        config = get_config()

        assert config.get("t", "foo-bar") == "underscore"
        assert config.get("t", "foo_bar") == "underscore"
        assert config.get("t", "baz_qux") == "b"
        assert config.has_option("t", "baz_qux")
        assert _config.current_settings().get("t", "foo-bar") == "underscore"


def test_configuration_get_default_only_when_absent() -> None:
    config = get_config()

    assert config.get("nowhere", "x", "fallback") == "fallback"
    assert config.getint("nowhere", "x", 7) == 7
    with pytest.raises(configparser.NoSectionError):
        config.get("nowhere", "x")


def test_configuration_reads_the_files_nbflow_reads(tmp_path) -> None:
    (tmp_path / "luigi.cfg").write_text("[ConfiguredGreeting]\nword = from-cfg\n")
    (tmp_path / "nbflow.toml").write_text('[resources]\ndb = 2\n[x]\npct = "100%"\n')

    config = get_config()

    assert config.get("ConfiguredGreeting", "word") == "from-cfg"
    assert config.getintdict("resources") == {"db": 2}
    assert config.get("x", "pct") == "100%"
    assert _config.current_settings().origins["x", "pct"].endswith("nbflow.toml")


def test_configuration_add_config_path_reads_it_last(tmp_path) -> None:
    (tmp_path / "luigi.cfg").write_text("[s]\na = base\nb = base\n")
    extra = tmp_path / "extra.cfg"
    extra.write_text("[s]\nb = extra\n")

    assert add_config_path(str(extra)) is True

    assert get_config().get("s", "a") == "base"
    assert get_config().get("s", "b") == "extra"


def test_configuration_add_missing_path_warns_and_returns_false(tmp_path) -> None:
    with pytest.warns(ConfigParserWarning, match="does not exist"):
        assert add_config_path(str(tmp_path / "nope.cfg")) is False


def test_configuration_toml_parser_keeps_native_values(tmp_path, monkeypatch) -> None:
    (tmp_path / "luigi.toml").write_text('[hdfs]\nclient = "hadoopcli"\nport = 50030\n')
    monkeypatch.setenv("LUIGI_CONFIG_PARSER", "toml")

    config = get_config()

    assert isinstance(config, LuigiTomlParser)
    assert config.get("hdfs", "port") == 50030
    assert config.get("hdfs", "nope", "dflt") == "dflt"
    with pytest.raises(KeyError):
        config.get("hdfs", "nope")
    config.set("hdfs", "client", "other")
    assert config["hdfs"]["client"] == "other"
    assert _config.current_settings().get("hdfs", "port") == "50030"


def test_configuration_disabled_parser_is_an_import_error(monkeypatch) -> None:
    monkeypatch.setattr(LuigiTomlParser, "enabled", False)

    with pytest.raises(ImportError) as caught:
        get_config("toml")

    assert isinstance(caught.value, ParserUnavailableError)
    assert "Fix:" in str(caught.value)


def test_configuration_unknown_parser_name_warns_and_uses_cfg(monkeypatch) -> None:
    monkeypatch.setenv("LUIGI_CONFIG_PARSER", "yaml")

    with pytest.warns(ConfigParserWarning, match="names no config parser"):
        config = get_config()

    assert isinstance(config, LuigiConfigParser)


def test_configuration_reset_reads_the_files_again(tmp_path) -> None:
    get_config().set("s", "a", "set in code")
    (tmp_path / "luigi.cfg").write_text("[s]\nb = file\n")

    _config.reset_settings_cache()

    assert not get_config().has_option("s", "a")
    assert get_config().get("s", "b") == "file"
