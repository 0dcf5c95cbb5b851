from __future__ import annotations

import datetime as dt
import os
import pickle
import subprocess
import sys
import threading
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from nbflow.core import config
from nbflow.core.config import (
    RetCodes,
    Settings,
    current_overrides,
    current_settings,
    reset_settings_cache,
    resources,
    use_overrides,
    use_settings,
)
from nbflow.core.config_keys import KNOWN_KEYS, forget_warnings
from nbflow.core.errors import ConfigError, NbflowError, UnknownConfigKeyWarning

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator


# These tests merge files with made-up keys, some in [core]; the warning about unknown
# keys has its own tests below.
pytestmark = pytest.mark.filterwarnings(
    "ignore::nbflow.core.errors.UnknownConfigKeyWarning"
)


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LUIGI_CONFIG_PATH", raising=False)
    monkeypatch.delenv("NBFLOW_CONFIG_PATH", raising=False)
    reset_settings_cache()
    yield
    reset_settings_cache()


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# -- formats -------------------------------------------------------------------------


def test_load_ini_reads_sections_with_luigi_interpolation(tmp_path: Path) -> None:
    write(
        tmp_path / "luigi.cfg",
        "[DEFAULT]\nroot = /srv\n\n[core]\nlogs = %(root)s/logs\nWorkers = 4\n",
    )

    settings = Settings.load(env={})

    assert settings.get("core", "logs") == "/srv/logs"
    assert settings.get("core", "workers") == "4"  # configparser lower-cases names
    assert settings.sources == (str(tmp_path / "luigi.cfg"),)


def test_load_toml_stores_every_value_as_text(tmp_path: Path) -> None:
    write(
        tmp_path / "luigi.toml",
        """
[Task]
name = "x"
flag = true
off = false
count = 3
ratio = 0.5
day = 2024-06-01
items = [1, "a", 2024-06-02]
mapping = {a = 1}
""",
    )

    section = Settings.load(env={}).section("Task")

    assert dict(section) == {
        "name": "x",
        "flag": "true",
        "off": "false",
        "count": "3",
        "ratio": "0.5",
        "day": "2024-06-01",
        "items": '[1, "a", "2024-06-02"]',
        "mapping": '{"a": 1}',
    }


def test_load_pyproject_reads_only_tool_nbflow(tmp_path: Path) -> None:
    write(
        tmp_path / "pyproject.toml",
        '[project]\nname = "demo"\n\n[tool.nbflow.core]\nworkers = 2\n'
        '[tool.nbflow."pkg.Task"]\nx = "y"\n[tool.other.core]\nworkers = 9\n',
    )

    settings = Settings.load(env={})

    assert settings.get_int("core", "workers") == 2
    assert settings.get("pkg.Task", "x") == "y"
    assert not settings.has_section("project")


def test_load_pyproject_without_tool_nbflow_is_not_a_source(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[project]\nname = "demo"\n')

    assert Settings.load(env={}) == Settings()


def test_load_pyproject_tool_nbflow_must_be_a_table(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[tool]\nnbflow = "yes"\n')

    with pytest.raises(ConfigError, match=r"\[tool.nbflow\] must be a table"):
        Settings.load(env={})


def test_load_toml_top_level_value_is_an_error_with_line(tmp_path: Path) -> None:
    write(tmp_path / "nbflow.toml", "# settings\nworkers = 2\n")

    with pytest.raises(ConfigError) as caught:
        Settings.load(env={})

    assert caught.value.line == 2
    assert "'workers'" in str(caught.value)
    assert "[section]" in str(caught.value)


def test_load_skips_missing_default_files() -> None:
    assert Settings.load(env={}) == Settings()


# -- precedence ------------------------------------------------------------------------


def test_load_later_default_files_win(tmp_path: Path) -> None:
    write(tmp_path / "luigi.cfg", "[core]\na = cfg\nb = cfg\nc = cfg\nd = cfg\n")
    write(tmp_path / "luigi.toml", '[core]\nb = "luigi"\nc = "luigi"\nd = "luigi"\n')
    write(tmp_path / "pyproject.toml", '[tool.nbflow.core]\nc = "py"\nd = "py"\n')
    write(tmp_path / "nbflow.toml", '[core]\nd = "nbflow"\n')

    settings = Settings.load(env={})

    assert dict(settings.section("core")) == {
        "a": "cfg",
        "b": "luigi",
        "c": "py",
        "d": "nbflow",
    }
    assert [Path(s).name for s in settings.sources] == [
        "luigi.cfg",
        "luigi.toml",
        "pyproject.toml",
        "nbflow.toml",
    ]


def test_load_env_paths_override_cwd_files_in_order(tmp_path: Path) -> None:
    write(tmp_path / "nbflow.toml", '[core]\na = "cwd"\nb = "cwd"\nc = "cwd"\n')
    luigi_cfg = write(tmp_path / "etc" / "one.cfg", "[core]\nb = luigi\nc = luigi\n")
    first = write(tmp_path / "etc" / "two.toml", '[core]\nc = "two"\n')
    second = write(tmp_path / "etc" / "three.conf", "[core]\nc = three\n")
    env = {
        "LUIGI_CONFIG_PATH": str(luigi_cfg),
        "NBFLOW_CONFIG_PATH": os.pathsep.join([str(first), "", "etc/three.conf"]),
    }

    settings = Settings.load(env=env)

    assert dict(settings.section("core")) == {"a": "cwd", "b": "luigi", "c": "three"}
    assert settings.sources[-1] == str(second)


def test_load_reads_env_paths_from_os_environ(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path / "conf" / "x.toml", "[core]\nworkers = 3\n")
    monkeypatch.setenv("NBFLOW_CONFIG_PATH", str(path))

    assert Settings.load().get_int("core", "workers") == 3


def test_load_listed_path_that_does_not_exist_is_an_error(tmp_path: Path) -> None:
    env = {"NBFLOW_CONFIG_PATH": "nope.toml"}

    with pytest.raises(ConfigError) as caught:
        Settings.load(env=env)

    assert caught.value.path == str(tmp_path / "nope.toml")
    assert "NBFLOW_CONFIG_PATH" in str(caught.value)


def test_load_explicit_paths_replace_default_files(tmp_path: Path) -> None:
    write(tmp_path / "nbflow.toml", '[core]\na = "cwd"\n')
    other = write(tmp_path / "sub" / "other.cfg", "[core]\nb = 1\n")

    settings = Settings.load([other], cwd=tmp_path, env={})

    assert dict(settings.section("core")) == {"b": "1"}
    with pytest.raises(ConfigError, match="does not exist"):
        Settings.load(["missing.cfg"], env={})


def test_load_uses_given_cwd(tmp_path: Path) -> None:
    write(tmp_path / "elsewhere" / "luigi.cfg", "[core]\nx = 1\n")

    settings = Settings.load(cwd=tmp_path / "elsewhere", env={})

    assert settings.get("core", "x") == "1"


# -- interpolation -------------------------------------------------------------------


def test_load_expands_environment_variables(tmp_path: Path) -> None:
    write(
        tmp_path / "nbflow.toml",
        '[core]\nroot = "${ROOT}/x"\nfallback = "${NOPE:-dflt}"\n'
        'empty = "${EMPTY:-used}"\nbare_empty = "${EMPTY}"\n'
        'literal = "$${ROOT}"\nlisted = ["${ROOT}"]\n',
    )
    write(tmp_path / "luigi.cfg", "[ini]\npath = %(here)s/${ROOT}\nhere = h\n")

    settings = Settings.load(env={"ROOT": "/data", "EMPTY": ""})

    assert dict(settings.section("core")) == {
        "root": "/data/x",
        "fallback": "dflt",
        "empty": "used",
        "bare_empty": "",
        "literal": "${ROOT}",
        "listed": '["/data"]',
    }
    assert settings.get("ini", "path") == "h//data"


def test_load_missing_variable_names_file_section_option_and_variable(
    tmp_path: Path,
) -> None:
    path = write(tmp_path / "luigi.cfg", "[core]\n\nlogs = ${LOG_ROOT}/logs\n")

    with pytest.raises(ConfigError) as caught:
        Settings.load(env={})

    message = str(caught.value)
    assert caught.value.path == str(path)
    assert caught.value.line == 3
    assert "[core] logs" in message
    assert "LOG_ROOT" in message
    assert "${LOG_ROOT:-default}" in message
    assert message.startswith(f"{path}:3: ")


def test_load_malformed_reference_is_an_error(tmp_path: Path) -> None:
    write(tmp_path / "nbflow.toml", '[core]\nx = "${1BAD}"\n')

    with pytest.raises(ConfigError, match="malformed reference") as caught:
        Settings.load(env={})

    assert caught.value.line == 2


def test_load_ini_bad_percent_interpolation_is_an_error(tmp_path: Path) -> None:
    write(tmp_path / "luigi.cfg", "[core]\nformat = 100%\n")

    with pytest.raises(ConfigError, match="'%'"):
        Settings.load(env={})


# -- syntax errors ---------------------------------------------------------------------


def test_load_toml_syntax_error_gives_line(tmp_path: Path) -> None:
    path = write(tmp_path / "nbflow.toml", '[core]\nok = 1\nbad = "unterminated\n')

    with pytest.raises(ConfigError) as caught:
        Settings.load(env={})

    assert caught.value.path == str(path)
    assert caught.value.line == 3
    assert str(caught.value).startswith(f"{path}:3: ")
    assert "(at line" not in caught.value.problem


def test_load_toml_error_at_end_of_document_gives_last_line(tmp_path: Path) -> None:
    write(tmp_path / "luigi.toml", "[core]\na = 1\nb = [\n")

    with pytest.raises(ConfigError) as caught:
        Settings.load(env={})

    assert caught.value.line == 3


def test_load_ini_syntax_error_gives_line(tmp_path: Path) -> None:
    write(tmp_path / "luigi.cfg", "[core]\na = 1\nnot an option\n")

    with pytest.raises(ConfigError) as caught:
        Settings.load(env={})

    assert caught.value.line == 3
    assert "not an option" in caught.value.problem


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        ("a = 1\n[core]\n", 1, "before any [section]"),
        ("[core]\na = 1\na = 2\n", 3, "already exists"),
        ("[core]\n[core]\n", 2, "already exists"),
    ],
)
def test_load_ini_structure_errors_give_line(
    tmp_path: Path, text: str, line: int, problem: str
) -> None:
    write(tmp_path / "luigi.cfg", text)

    with pytest.raises(ConfigError) as caught:
        Settings.load(env={})

    assert caught.value.line == line
    assert problem in caught.value.problem


def test_load_undecodable_file_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "luigi.cfg").write_bytes(b"[core]\nx = \xff\n")

    with pytest.raises(ConfigError, match="cannot read"):
        Settings.load(env={})


# -- Settings ------------------------------------------------------------------------


def test_settings_options_treat_dash_and_underscore_alike() -> None:
    settings = Settings.from_mapping(
        {"worker": {"keep-alive": "1", "max_reschedules": 2}}
    )

    assert settings.get("worker", "keep_alive") == "1"
    assert settings.get("worker", "max-reschedules") == "2"
    assert settings.get("worker", "missing") is None
    assert settings.get("worker", "missing", "d") == "d"
    assert settings.get("nope", "x", "d") == "d"


def test_settings_typed_getters_parse_or_default() -> None:
    settings = Settings.from_mapping(
        {"s": {"i": " 3 ", "f": "1.5", "yes": "Yes", "no": "off", "one": 1}}
    )

    assert settings.get_int("s", "i") == 3
    assert settings.get_float("s", "f") == 1.5
    assert settings.get_bool("s", "yes") is True
    assert settings.get_bool("s", "no") is False
    assert settings.get_bool("s", "one") is True
    assert settings.get_int("s", "absent", 7) == 7
    assert settings.get_int("s", "absent") is None
    assert settings.get_float("s", "absent", 2.0) == 2.0
    assert settings.get_bool("s", "absent", default=True) is True


@pytest.mark.parametrize(
    ("getter", "expected"),
    [
        (Settings.get_int, "an integer"),
        (Settings.get_float, "a number"),
        (Settings.get_bool, "true or false"),
    ],
)
def test_settings_bad_typed_value_names_file_section_option_and_value(
    tmp_path: Path, getter: Callable[..., object], expected: str
) -> None:
    path = write(tmp_path / "luigi.cfg", "[scheduler]\nretry-delay = soon\n")
    settings = Settings.load(env={})

    with pytest.raises(ConfigError) as caught:
        getter(settings, "scheduler", "retry_delay")

    message = str(caught.value)
    assert caught.value.path == str(path)
    assert "[scheduler] retry_delay" in message
    assert "'soon'" in message
    assert expected in message
    assert "Fix:" in message


def test_settings_bad_value_without_file_names_settings() -> None:
    settings = Settings.from_mapping({"resources": {"db": "many"}})

    with pytest.raises(ConfigError, match=r"<settings>: .*'many'"):
        resources(settings)


def test_settings_merged_overrides_option_by_option() -> None:
    base = Settings({"a": {"x": "1", "y": "1"}}, ("one",), {("a", "x"): "one"})
    top = Settings({"a": {"y": "2"}, "b": {"z": "3"}}, ("two",), {("a", "y"): "two"})

    merged = base.merged(top)

    assert merged == Settings(
        {"a": {"x": "1", "y": "2"}, "b": {"z": "3"}}, ("one", "two")
    )
    assert dict(merged.origins) == {("a", "x"): "one", ("a", "y"): "two"}
    assert dict(base.section("a")) == {"x": "1", "y": "1"}


def test_settings_is_read_only_and_picklable() -> None:
    source = {"a": {"x": "1"}}
    settings = Settings(source)
    source["a"]["x"] = "changed"

    assert settings.get("a", "x") == "1"
    with pytest.raises(TypeError):
        settings.section("a")["x"] = "2"  # type: ignore[index]
    with pytest.raises(TypeError):
        settings.sections["b"] = {}  # type: ignore[index]
    assert pickle.loads(pickle.dumps(settings)) == settings
    assert settings.has_section("a")
    assert not settings.has_section("b")
    assert dict(settings.section("b")) == {}


def test_settings_from_mapping_converts_like_toml() -> None:
    settings = Settings.from_mapping(
        {
            "s": {
                "day": dt.date(2024, 1, 2),
                "at": dt.time(1, 2),
                "flags": (True, dt.date(2024, 1, 3)),
                "nested": {"k": ["${NOT_EXPANDED}"]},
            }
        }
    )

    assert dict(settings.section("s")) == {
        "day": "2024-01-02",
        "at": "01:02:00",
        "flags": '[true, "2024-01-03"]',
        "nested": '{"k": ["${NOT_EXPANDED}"]}',
    }


# -- typed sections ------------------------------------------------------------------


def test_resources_reads_integer_limits() -> None:
    settings = Settings.from_mapping({"resources": {"db": 2, "gpu": "1"}})

    assert resources(settings) == {"db": 2, "gpu": 1}
    assert resources(Settings()) == {}


def test_retcodes_defaults_differ_from_luigi_only_for_failures() -> None:
    luigi_retcodes = pytest.importorskip("luigi.retcodes")
    luigi_defaults = luigi_retcodes.retcode()

    codes = RetCodes()

    assert codes.task_failed == 1
    assert codes.scheduling_error == 1
    for name in ("already_running", "missing_data", "not_run", "unhandled_exception"):
        assert getattr(codes, name) == getattr(luigi_defaults, name)


def test_retcodes_from_settings_reads_retcode_section() -> None:
    settings = Settings.from_mapping({"retcode": {"task-failed": 3, "not_run": "5"}})

    codes = RetCodes.from_settings(settings)

    assert codes == RetCodes(task_failed=3, not_run=5)
    assert RetCodes.from_settings(Settings()) == RetCodes()


def test_config_error_is_an_nbflow_error() -> None:
    assert issubclass(ConfigError, NbflowError)


# -- ambient context -----------------------------------------------------------------


def test_current_settings_loads_lazily_once_until_reset(tmp_path: Path) -> None:
    config = write(tmp_path / "nbflow.toml", "[core]\nworkers = 1\n")

    first = current_settings()
    write(config, "[core]\nworkers = 2\n")
    cached = current_settings()
    reset_settings_cache()
    reloaded = current_settings()

    assert first.get_int("core", "workers") == 1
    assert cached is first
    assert reloaded.get_int("core", "workers") == 2


def test_current_settings_retries_after_a_failed_load(tmp_path: Path) -> None:
    config = write(tmp_path / "nbflow.toml", "[core\n")
    with pytest.raises(ConfigError):
        current_settings()

    write(config, "[core]\nworkers = 2\n")

    assert current_settings().get_int("core", "workers") == 2


def test_use_settings_nests_and_restores() -> None:
    outer = Settings.from_mapping({"core": {"x": "outer"}})
    inner = Settings.from_mapping({"core": {"x": "inner"}})

    with use_settings(outer):
        with use_settings(inner) as given:
            assert given is inner
            assert current_settings() is inner
        assert current_settings() is outer
    assert current_settings() == Settings()


def test_use_settings_does_not_leak_into_other_threads() -> None:
    seen: list[Settings] = []
    chosen = Settings.from_mapping({"core": {"x": "1"}})

    with use_settings(chosen):
        thread = threading.Thread(target=lambda: seen.append(current_settings()))
        thread.start()
        thread.join()

    assert seen == [Settings()]


def test_use_overrides_defaults_empty_and_freezes_a_copy() -> None:
    given = {"Task": {"day": "2024-01-01"}}

    assert dict(current_overrides()) == {}
    with use_overrides(given) as active:
        given["Task"]["day"] = "changed"
        assert current_overrides() is active
        assert dict(current_overrides()["Task"]) == {"day": "2024-01-01"}
        with use_overrides({"Other": {}}):
            assert "Task" not in current_overrides()
        with pytest.raises(TypeError):
            active["Task"]["day"] = "x"  # type: ignore[index]
    assert dict(current_overrides()) == {}


def test_import_reads_no_files(tmp_path: Path) -> None:
    write(tmp_path / "nbflow.toml", "this is not toml\n")

    result = subprocess.run(
        [sys.executable, "-c", "import nbflow.core.config"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(Path(config.__file__).parents[2])},
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stderr


def test_load_missing_variable_written_as_escape_has_no_line(tmp_path: Path) -> None:
    path = write(tmp_path / "nbflow.toml", '[core]\nx = "\\u0024{HIDDEN}"\n')

    with pytest.raises(ConfigError) as caught:
        Settings.load(env={})

    assert caught.value.line is None
    assert str(caught.value).startswith(f"{path}: [core] x: ")


# --- unknown keys in nbflow's own sections ---------------------------------------------


@pytest.fixture
def _fresh_warnings() -> Iterator[None]:
    forget_warnings()
    yield
    forget_warnings()


@pytest.mark.usefixtures("_fresh_warnings")
def test_load_unknown_core_key_warns_with_the_closest_known_key(tmp_path: Path) -> None:
    path = write(tmp_path / "luigi.cfg", "[core]\nworkerz = 3\n")

    with pytest.warns(UnknownConfigKeyWarning) as caught:
        settings = Settings.load(env={})

    message = str(caught[0].message)
    assert message.startswith(f"{path}: unknown key in [core], ignored (got 'workerz')")
    assert "Expected a key" in message
    assert "Fix: correct its spelling" in message
    assert message.endswith("Did you mean: workers?")
    assert settings.get("core", "workerz") == "3"


@pytest.mark.usefixtures("_fresh_warnings")
@pytest.mark.parametrize(
    ("section", "key", "close"),
    [
        ("worker", "keep_alvie", "keep_alive"),
        ("scheduler", "retry-dealy", "retry_delay"),
        ("retcode", "task_faild", "task_failed"),
    ],
)
def test_load_unknown_key_in_each_own_section_warns(
    tmp_path: Path, section: str, key: str, close: str
) -> None:
    write(tmp_path / "nbflow.toml", f"[{section}]\n{key} = 1\n")

    with pytest.warns(UnknownConfigKeyWarning, match=f"Did you mean: {close}"):
        Settings.load(env={})


@pytest.mark.usefixtures("_fresh_warnings")
@pytest.mark.filterwarnings("error")
def test_load_known_luigi_keys_defaults_and_other_sections_do_not_warn(
    tmp_path: Path,
) -> None:
    write(
        tmp_path / "luigi.cfg",
        "[DEFAULT]\nroot = /srv\n\n[core]\ndefault-scheduler-host = h\nworkers = 2\n"
        "no_lock = true\n\n[resources]\ngpu = 1\n\n[Report]\nanything = 1\n",
    )
    write(tmp_path / "nbflow.toml", '[worker]\nexecutor = "threads"\n')

    settings = Settings.load(env={})

    assert settings.get_int("core", "workers") == 2


@pytest.mark.usefixtures("_fresh_warnings")
def test_load_warns_once_per_key(tmp_path: Path) -> None:
    write(tmp_path / "luigi.cfg", "[core]\nworkerz = 3\n")

    with pytest.warns(UnknownConfigKeyWarning) as first:
        Settings.load(env={})
    with warnings.catch_warnings(record=True) as again:
        warnings.simplefilter("always")
        Settings.load(env={})

    assert len(first) == 1
    assert again == []


def test_known_keys_cover_every_key_nbflow_reads() -> None:
    read = {
        ("core", "workers"),
        ("core", "completeness"),
        ("core", "log_level"),
        ("core", "parallel_scheduling"),
        ("core", "parallel_scheduling_processes"),
        ("worker", "executor"),
        ("worker", "keep_alive"),
        ("scheduler", "retry_delay"),
        ("scheduler", "retry_count"),
        ("scheduler", "disable_window"),
        ("scheduler", "disable_hard_timeout"),
    }
    read |= {("retcode", name) for name in RetCodes.__dataclass_fields__}

    assert {pair for pair in read if pair[1] not in KNOWN_KEYS[pair[0]]} == set()
