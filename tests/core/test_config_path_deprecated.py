"""A value found only under a parameter's ``config_path`` warns (deprecated, as in Luigi)."""

from __future__ import annotations

import warnings

import pytest

import nbflow
from nbflow.core.config import Settings, use_settings
from nbflow.core.configuration import overridden
from nbflow.core.errors import ParameterDeprecationWarning


class ConfigPathDeprecatedA(nbflow.Config):
    port = nbflow.IntParameter(
        default=1, config_path={"section": "core", "name": "old-port-name"}
    )


def test_the_old_spelling_is_read_and_warns() -> None:
    old = {"core": {"old-port-name": "6543"}}
    deprecated = pytest.warns(DeprecationWarning, match="old-port-name is deprecated")
    with overridden(old), deprecated:
        port = ConfigPathDeprecatedA().port
    assert port == 6543


def test_the_warning_names_the_option_to_use_instead() -> None:
    old = {"core": {"old_port_name": "7"}}
    with overridden(old), pytest.warns(ParameterDeprecationWarning) as caught:
        ConfigPathDeprecatedA()
    assert "use [ConfigPathDeprecatedA] port instead" in str(caught[0].message)


def test_the_new_spelling_does_not_warn() -> None:
    new = {"ConfigPathDeprecatedA": {"port": "8"}}
    with overridden(new), warnings.catch_warnings():
        warnings.simplefilter("error")
        assert ConfigPathDeprecatedA().port == 8


class ConfigDashesDeprecatedB(nbflow.Config):
    retry_limit = nbflow.IntParameter(default=1)


def test_an_option_written_with_dashes_is_read_and_warns() -> None:
    dashed = {"ConfigDashesDeprecatedB": {"retry-limit": "4"}}
    avoid = pytest.warns(DeprecationWarning, match=r"retry-limit \(with dashes\)")
    with overridden(dashed), avoid:
        assert ConfigDashesDeprecatedB().retry_limit == 4


def test_the_underscore_spelling_wins_and_does_not_warn() -> None:
    both = {"ConfigDashesDeprecatedB": {"retry-limit": "4", "retry_limit": "5"}}
    with overridden(both), warnings.catch_warnings():
        warnings.simplefilter("error")
        assert ConfigDashesDeprecatedB().retry_limit == 5


def test_a_file_written_with_dashes_warns(tmp_path, monkeypatch) -> None:
    (tmp_path / "nbflow.toml").write_text(
        '[ConfigDashesDeprecatedB]\nretry-limit = "6"\n'
    )
    monkeypatch.chdir(tmp_path)
    settings = Settings.load()
    assert settings.spelled_with_dashes("ConfigDashesDeprecatedB", "retry_limit")
    later = settings.merged(Settings({"ConfigDashesDeprecatedB": {"retry_limit": "7"}}))
    assert not later.spelled_with_dashes("ConfigDashesDeprecatedB", "retry_limit")
    avoid = pytest.warns(DeprecationWarning, match=r"retry-limit \(with dashes\)")
    with use_settings(settings), avoid:
        assert ConfigDashesDeprecatedB().retry_limit == 6
