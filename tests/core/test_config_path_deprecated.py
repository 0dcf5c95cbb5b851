"""A value found only under a parameter's ``config_path`` warns (deprecated, as in Luigi)."""

from __future__ import annotations

import warnings

import pytest

import nbflow
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
