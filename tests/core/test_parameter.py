from __future__ import annotations

import copy
import datetime as dt
import enum
import json
import operator
import pickle
import warnings
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nbflow.core import parameter as p
from nbflow.core.date_interval import Custom, Date, Month, Week, Year
from nbflow.core.errors import (
    NoBatchMethodError,
    ParameterDeprecationWarning,
    ParameterValueError,
)

with warnings.catch_warnings():  # luigi warns about range autoloading on import
    warnings.simplefilter("ignore", DeprecationWarning)
    import luigi
    from luigi import date_interval as luigi_di


class Color(enum.Enum):
    red = 1
    green = 2


D = dt.date
DT = dt.datetime


def both(name: str, **kwargs: Any) -> tuple[p.Parameter[Any], Any]:
    """Return our parameter and Luigi's of the same name and options."""
    return getattr(p, name)(**kwargs), getattr(luigi, name)(**kwargs)


# (parameter name, options, a value, another value for Luigi if it differs)
LUIGI_CASES: list[tuple[str, dict[str, Any], Any]] = [
    ("Parameter", {}, "sales"),
    ("OptionalParameter", {}, "sales"),
    ("OptionalParameter", {}, None),
    ("OptionalStrParameter", {}, None),
    ("IntParameter", {}, -42),
    ("OptionalIntParameter", {}, None),
    ("OptionalIntParameter", {}, 7),
    ("FloatParameter", {}, 0.1),
    ("FloatParameter", {}, 1e300),
    ("OptionalFloatParameter", {}, None),
    ("NumericalParameter", {"var_type": int, "min_value": 0, "max_value": 9}, 3),
    ("BoolParameter", {}, True),
    ("BoolParameter", {}, False),
    ("OptionalBoolParameter", {}, None),
    ("OptionalBoolParameter", {}, True),
    ("DateParameter", {}, D(2024, 1, 31)),
    ("MonthParameter", {}, D(2024, 6, 1)),
    ("YearParameter", {}, D(2024, 1, 1)),
    ("DateHourParameter", {}, DT(2024, 1, 31, 5)),
    ("DateMinuteParameter", {}, DT(2024, 1, 31, 5, 33)),
    ("DateSecondParameter", {}, DT(2024, 1, 31, 5, 33, 12)),
    ("TimeDeltaParameter", {}, dt.timedelta(days=9, seconds=11045)),
    ("TimeDeltaParameter", {}, dt.timedelta(days=-1)),
    ("EnumParameter", {"enum": Color}, Color.green),
    ("EnumListParameter", {"enum": Color}, (Color.red, Color.green)),
    ("EnumListParameter", {"enum": Color}, ()),
    ("ChoiceParameter", {"choices": ["a", "b"]}, "b"),
    ("ChoiceParameter", {"choices": [1, 2], "var_type": int}, 2),
    ("OptionalChoiceParameter", {"choices": ["a"]}, None),
    ("ListParameter", {}, (1, "é", None, True, 1.5, (2, 3))),
    ("OptionalListParameter", {}, None),
    ("TupleParameter", {}, ((1, 2), (3, "x"))),
    ("OptionalTupleParameter", {}, None),
    ("DictParameter", {}, {"b": [1, 2], "a": {"c": None}}),
    ("OptionalDictParameter", {}, None),
    ("PathParameter", {}, Path("data/raw.csv")),
    ("OptionalPathParameter", {}, None),
]


def case_id(case: tuple[str, dict[str, Any], Any]) -> str:
    return f"{case[0]}-{case[2]!r}"


@pytest.mark.parametrize("case", LUIGI_CASES, ids=case_id)
def test_parameter_serialize_matches_luigi(
    case: tuple[str, dict[str, Any], Any],
) -> None:
    name, options, value = case
    ours, theirs = both(name, **options)

    normalized = ours.normalize(value)

    assert ours.serialize(normalized) == theirs.serialize(theirs.normalize(value))


@pytest.mark.parametrize("case", LUIGI_CASES, ids=case_id)
def test_parameter_round_trips_through_text(
    case: tuple[str, dict[str, Any], Any],
) -> None:
    name, options, value = case
    ours = getattr(p, name)(**options)
    normalized = ours.normalize(value)

    parsed = ours.normalize(ours.parse(ours.serialize(normalized)))

    assert parsed == normalized


@pytest.mark.parametrize(
    ("name", "options", "text"),
    [
        ("IntParameter", {}, "0042"),
        ("FloatParameter", {}, "1e3"),
        ("BoolParameter", {}, "TRUE"),
        ("BoolParameter", {}, "False"),
        ("DateParameter", {}, "2024-1-5"),
        ("MonthParameter", {}, "2024-6"),
        ("DateMinuteParameter", {}, "2024-01-31T0533"),
        ("TimeDeltaParameter", {}, "1 day"),
        ("TimeDeltaParameter", {}, "2 days"),
        ("TimeDeltaParameter", {}, "1 w 2 d"),
        ("TimeDeltaParameter", {}, "3 hours"),
        ("TimeDeltaParameter", {}, "1 week 2 days 3 hours 4 minutes 5 seconds"),
        ("TimeDeltaParameter", {}, "P2D"),
        ("TimeDeltaParameter", {}, "PT3H"),
        ("TimeDeltaParameter", {}, "P1W"),
        ("TimeDeltaParameter", {}, "P1DT2H3M4S"),
        ("ListParameter", {}, '[1, {"a": [2]}]'),
        ("TupleParameter", {}, "[[1, 2], [3]]"),
        ("TupleParameter", {}, "((1, 2), (3,))"),
        ("TupleParameter", {}, "[1, 2]"),
        ("DictParameter", {}, '{"b": [1, 2], "a": {}}'),
        ("DateIntervalParameter", {}, "2024-06-01"),
        ("DateIntervalParameter", {}, "2024-W03"),
        ("DateIntervalParameter", {}, "2024-06"),
        ("DateIntervalParameter", {}, "2024"),
        ("DateIntervalParameter", {}, "2024-01-01-2024-01-31"),
        ("OptionalIntParameter", {}, ""),
        ("OptionalParameter", {}, ""),
    ],
)
def test_parameter_parse_matches_luigi(
    name: str, options: dict[str, Any], text: str
) -> None:
    ours, theirs = both(name, **options)

    value = ours.normalize(ours.parse(text))

    expected = theirs.normalize(theirs.parse(text))
    assert ours.serialize(value) == theirs.serialize(expected)
    if name != "DateIntervalParameter":  # Luigi's interval classes are not ours
        assert value == expected


@pytest.mark.parametrize(
    ("kind", "theirs"),
    [
        (Date(2024, 6, 1), luigi_di.Date(2024, 6, 1)),
        (Week(2024, 3), luigi_di.Week(2024, 3)),
        (Month(2024, 6), luigi_di.Month(2024, 6)),
        (Year(2024), luigi_di.Year(2024)),
        (
            Custom(D(2024, 1, 1), D(2024, 1, 31)),
            luigi_di.Custom(D(2024, 1, 1), D(2024, 1, 31)),
        ),
    ],
    ids=str,
)
def test_date_interval_parameter_serialize_matches_luigi(
    kind: Any, theirs: Any
) -> None:
    ours = p.DateIntervalParameter()

    assert ours.serialize(kind) == luigi.DateIntervalParameter().serialize(theirs)
    assert ours.parse(ours.serialize(kind)) == kind


@pytest.mark.parametrize(
    ("name", "options", "value"),
    [
        ("DateParameter", {"interval": 2}, D(2024, 1, 5)),
        ("DateParameter", {"interval": 7, "start": D(2024, 1, 3)}, D(2024, 1, 20)),
        ("DateParameter", {}, DT(2024, 1, 5, 13)),
        ("MonthParameter", {"interval": 5}, D(2024, 1, 4)),
        ("MonthParameter", {}, D(2024, 6, 15)),
        ("YearParameter", {"interval": 3}, D(2025, 6, 15)),
        ("DateHourParameter", {"interval": 5}, DT(2024, 1, 1, 3, 59)),
        ("DateHourParameter", {}, D(2024, 1, 1)),
        ("DateMinuteParameter", {"interval": 7}, DT(2024, 1, 1, 3, 10, 59)),
        ("DateSecondParameter", {}, DT(2024, 1, 1, 3, 3, 3, 999999)),
    ],
)
def test_date_parameters_normalize_and_step_like_luigi(
    name: str, options: dict[str, Any], value: Any
) -> None:
    ours, theirs = both(name, **options)

    normalized = ours.normalize(value)

    assert normalized == theirs.normalize(value)
    assert ours.next_in_enumeration(normalized) == theirs.next_in_enumeration(
        normalized
    )


def test_date_parameter_rounds_aware_datetimes_in_their_zone() -> None:
    hour = p.DateHourParameter()
    aware = DT(2024, 1, 1, 3, 30, tzinfo=dt.timezone.utc)

    assert hour.normalize(aware) == DT(2024, 1, 1, 3, tzinfo=dt.timezone.utc)


def test_date_parameter_serializes_four_digit_years() -> None:
    assert p.DateParameter().serialize(D(999, 6, 1)) == "0999-06-01"
    assert p.DateParameter().parse("0999-06-01") == D(999, 6, 1)


def test_date_minute_parameter_reads_older_spellings_with_a_warning() -> None:
    minute = p.DateMinuteParameter()

    with pytest.warns(ParameterDeprecationWarning, match='Using "H" between hours'):
        assert minute.parse("2024-01-31T05H33") == DT(2024, 1, 31, 5, 33)
    with pytest.warns(
        ParameterDeprecationWarning, match="Fix: write '2024-01-31T0533'"
    ):
        assert minute.parse("2024-01-31T05-33") == DT(2024, 1, 31, 5, 33)


def test_date_parameters_accept_their_text_in_normalize() -> None:
    assert p.DateParameter().normalize("2024-01-31") == D(2024, 1, 31)
    assert p.DateHourParameter().normalize("2024-01-31T05") == DT(2024, 1, 31, 5)
    assert p.TimeDeltaParameter().normalize("1 d") == dt.timedelta(days=1)
    assert p.DateIntervalParameter().normalize("2024") == Year(2024)


def test_year_and_month_step_by_interval() -> None:
    assert p.MonthParameter(interval=2).next_in_enumeration(D(2024, 12, 1)) == D(
        2025, 2, 1
    )
    assert p.YearParameter().next_in_enumeration(D(2024, 1, 1)) == D(2025, 1, 1)


def test_time_delta_parameter_round_trips_negative_values() -> None:
    delta = p.TimeDeltaParameter()

    text = delta.serialize(dt.timedelta(days=-1, hours=2))

    assert text == "-1 w 6 d 2 h 0 m 0 s"
    assert delta.parse(text) == dt.timedelta(days=-1, hours=2)


@pytest.mark.parametrize(
    ("name", "options", "text", "expected"),
    [
        ("IntParameter", {}, "1.5", "an integer such as '42'"),
        ("FloatParameter", {}, "abc", "a number such as '0.5'"),
        ("BoolParameter", {}, "1", "'true' or 'false'"),
        ("BoolParameter", {}, "yes", "'true' or 'false'"),
        ("DateParameter", {}, "31/01/2024", "an ISO date such as '2024-01-31'"),
        ("MonthParameter", {}, "2024-01-31", "a month such as '2024-01'"),
        ("YearParameter", {}, "24", "a year such as '2024'"),
        ("DateHourParameter", {}, "2024-01-31", "'2024-01-31T13'"),
        ("DateMinuteParameter", {}, "2024-01-31", "'2024-01-31T1305'"),
        ("DateSecondParameter", {}, "2024-01-31", "'2024-01-31T130559'"),
        ("DateIntervalParameter", {}, "soon", "'2024-W05'"),
        ("DateIntervalParameter", {}, "2024-02-30", "a date interval"),
        ("TimeDeltaParameter", {}, "1.5 days", "'1 w 2 d 3 h'"),
        ("TimeDeltaParameter", {}, "3 fortnights", "'90 seconds'"),
        ("TimeDeltaParameter", {}, "P", "'P1DT2H'"),
        ("EnumParameter", {"enum": Color}, "blue", "one of the names red, green"),
        ("EnumListParameter", {"enum": Color}, "blue", "red, green"),
        ("ChoiceParameter", {"choices": ["a", "b"]}, "c", "one of 'a', 'b'"),
        (
            "ChoiceParameter",
            {"choices": [1, 2], "var_type": int},
            "x",
            "one of 1, 2",
        ),
        (
            "NumericalParameter",
            {"var_type": int, "min_value": 0, "max_value": 10},
            "10",
            "a int in [0, 10), such as 0",
        ),
        (
            "NumericalParameter",
            {"var_type": float, "min_value": 0.0, "max_value": 1.0},
            "x",
            "a float in [0.0, 1.0)",
        ),
        ("ListParameter", {}, "[1,", "a JSON list such as"),
        ("ListParameter", {}, '{"a": 1}', "a JSON list such as"),
        ("TupleParameter", {}, "(1,", "a JSON list or Python tuple"),
        ("DictParameter", {}, "[1]", "a JSON object such as"),
        ("DictParameter", {}, "{", "a JSON object such as"),
        ("OptionalIntParameter", {}, "x", "an integer such as '42'"),
    ],
)
def test_parameter_parse_error_says_where_expected_and_fix(
    name: str, options: dict[str, Any], text: str, expected: str
) -> None:
    class Owner:
        value = getattr(p, name)(**options)

    with pytest.raises(ParameterValueError) as info:
        Owner.value.parse(text)

    error = info.value
    assert (error.task, error.param, error.got) == (
        "test_parameter_parse_error_says_where_expected_and_fix.<locals>.Owner",
        "value",
        text,
    )
    assert expected in error.expected
    message = str(error)
    assert f"(got {text!r})" in message
    assert "Fix: pass" in message
    assert "--value" in message


def test_parameter_error_names_unbound_parameter_by_type() -> None:
    with pytest.raises(ParameterValueError) as info:
        p.IntParameter().parse("x")

    assert (info.value.task, info.value.param) == ("IntParameter", "value")


def test_parameter_error_pickles() -> None:
    with pytest.raises(ParameterValueError) as info:
        p.DateParameter().parse("x")

    copy_ = pickle.loads(pickle.dumps(info.value))

    assert str(copy_) == str(info.value)


@pytest.mark.parametrize(
    ("parameter", "value", "expected"),
    [
        (p.NumericalParameter(var_type=int, min_value=0, max_value=1), 5, "[0, 1)"),
        (
            p.NumericalParameter(
                var_type=float,
                min_value=0.0,
                max_value=1.0,
                left_op=operator.lt,
                right_op=operator.le,
            ),
            0.0,
            "(0.0, 1.0]",
        ),
        (
            p.NumericalParameter(
                var_type=int, min_value=0, max_value=1, left_op=operator.ge
            ),
            5,
            "the range 0..1",
        ),
        (p.ChoiceParameter(choices=["a", "b"]), "c", "one of 'a', 'b'"),
        (p.IntParameter(), 1.5, "an integer such as 42"),
        (p.IntParameter(), [1], "an integer"),
        (p.FloatParameter(), [1], "a number such as 0.5"),
        (p.BoolParameter(), 2, "True or False"),
        (p.EnumParameter(enum=Color), 1, "one of the names red, green"),
        (p.DateParameter(), 20240131, "an ISO date such as 2024-01-31"),
        (p.DateHourParameter(), 5, "a date and hour"),
        (p.DateIntervalParameter(), 5, "a date interval"),
        (p.TimeDeltaParameter(), 5, "a duration"),
        (p.PathParameter(), 5, "a path such as"),
        (p.ListParameter(), 5, "a JSON list"),
        (p.ListParameter(), {"a": 1}, "a JSON list"),
        (p.DictParameter(), [1], "a JSON object"),
        (p.ListParameter(), [dt.date(2024, 1, 1)], None),
    ],
)
def test_parameter_normalize_rejects_wrong_values(
    parameter: p.Parameter[Any], value: Any, expected: str | None
) -> None:
    with pytest.raises(ParameterValueError) as info:
        parameter.serialize(parameter.normalize(value))

    assert info.value.got == value or expected is None
    if expected is not None:
        assert expected in info.value.expected
    else:
        assert "values JSON can hold" in info.value.expected


@pytest.mark.parametrize(
    ("parameter", "value", "expected"),
    [
        (p.FloatParameter(), 3, 3),
        (p.FloatParameter(), "2.5", 2.5),
        (p.IntParameter(), 3.0, 3),
        (p.IntParameter(), "7", 7),
        (p.IntParameter(), True, 1),
        (p.BoolParameter(), "true", True),
        (p.BoolParameter(), 0, False),
        (p.DateParameter(), DT(2024, 1, 31, 5), D(2024, 1, 31)),
        (p.ListParameter(), [1, [2, {"a": [3]}]], (1, (2, {"a": (3,)}))),
        (p.ListParameter(), range(3), (0, 1, 2)),
        (p.ListParameter(), "[1, 2]", (1, 2)),
        (p.TupleParameter(), [[1, 2], [3]], ((1, 2), (3,))),
        (p.DictParameter(), {"a": [1]}, {"a": (1,)}),
        (p.DictParameter(), '{"a": 1}', {"a": 1}),
        (p.EnumParameter(enum=Color), "red", Color.red),
        (
            p.EnumListParameter(enum=Color),
            ["red", Color.green],
            (Color.red, Color.green),
        ),
        (p.EnumListParameter(enum=Color), "green", (Color.green,)),
        (p.PathParameter(), "a/b", Path("a/b")),
        (p.OptionalPathParameter(), "a/b", Path("a/b")),
        (p.Parameter(), 5, 5),
        (p.NumericalParameter(var_type=int, min_value=0, max_value=5), "3", 3),
        (p.OptionalParameter(), "x", "x"),
    ],
)
def test_parameter_normalize_converts_to_canonical_form(
    parameter: p.Parameter[Any], value: Any, expected: Any
) -> None:
    normalized = parameter.normalize(value)

    assert normalized == expected
    assert type(normalized) is type(expected) or isinstance(expected, dict)


@pytest.mark.parametrize("name", p.__all__)
def test_parameter_normalize_passes_none_through(name: str) -> None:
    kind = getattr(p, name)
    if not isinstance(kind, type) or not issubclass(kind, p.Parameter):
        return
    options: dict[str, Any] = {
        "EnumParameter": {"enum": Color},
        "EnumListParameter": {"enum": Color},
        "ChoiceParameter": {"choices": ["a"]},
        "ChoiceListParameter": {"choices": ["a"]},
        "OptionalChoiceParameter": {"choices": ["a"]},
        "NumericalParameter": {"var_type": int, "min_value": 0, "max_value": 1},
        "OptionalNumericalParameter": {"var_type": int, "min_value": 0, "max_value": 1},
    }.get(name, {})

    parameter = kind(**options)

    assert parameter.normalize(None) is None
    expected = "" if name.startswith("Optional") else "None"
    if name in {"ListParameter", "TupleParameter", "DictParameter"}:
        expected = "null"
    assert parameter.serialize(None) == expected


def test_json_parameters_serialize_none_like_luigi() -> None:
    for name in ("ListParameter", "TupleParameter", "DictParameter", "IntParameter"):
        ours, theirs = both(name)

        assert ours.serialize(None) == theirs.serialize(None)


def test_optional_parameters_parse_empty_text_as_none() -> None:
    for name in p.__all__:
        if name.startswith("Optional") and name not in {
            "OptionalChoiceParameter",
            "OptionalNumericalParameter",
        }:
            assert getattr(p, name)().parse("") is None


def test_optional_numerical_parameter_checks_range() -> None:
    value = p.OptionalNumericalParameter(var_type=int, min_value=0, max_value=3)

    assert value.parse("") is None
    assert value.parse("2") == 2
    with pytest.raises(ParameterValueError):
        value.normalize(3)


def test_optional_choice_parameter_checks_choices() -> None:
    value = p.OptionalChoiceParameter(choices=["a"])

    assert value.parse("") is None
    assert value.parse("a") == "a"
    with pytest.raises(ParameterValueError):
        value.parse("b")


def test_optional_parameter_labels_errors_with_its_name() -> None:
    class Owner:
        limit = p.OptionalIntParameter()

    with pytest.raises(ParameterValueError) as info:
        Owner.limit.parse("x")

    assert info.value.param == "limit"
    assert info.value.task.endswith("Owner")


def test_optional_parameter_has_no_enumeration_like_luigi() -> None:
    assert p.OptionalIntParameter().next_in_enumeration(1) is None
    assert p.OptionalIntParameter().next_in_enumeration(None) is None


def test_bool_parameter_is_flag_unless_explicit() -> None:
    assert p.BoolParameter().is_flag
    assert p.OptionalBoolParameter().is_flag
    assert not p.BoolParameter(parsing=p.BoolParameter.EXPLICIT_PARSING).is_flag
    assert not p.IntParameter().is_flag
    assert not p.OptionalIntParameter().is_flag


def test_path_parameter_absolute_and_exists(tmp_path: Path) -> None:
    existing = tmp_path / "here.txt"
    existing.write_text("x")

    assert p.PathParameter(absolute=True).normalize("a/b").is_absolute()
    assert p.PathParameter(exists=True).parse(str(existing)) == existing
    with pytest.raises(ParameterValueError) as info:
        p.OptionalPathParameter(exists=True).parse(str(tmp_path / "missing"))
    assert info.value.expected == "an existing path"


def test_list_parameter_checks_json_schema() -> None:
    schema = {"type": "array", "items": {"type": "integer"}}
    numbers = p.ListParameter(schema=schema)

    assert numbers.normalize([1, 2]) == (1, 2)
    with pytest.raises(jsonschema.ValidationError) as info:
        numbers.normalize(numbers.parse('["a"]'))
    assert "'a' is not of type 'integer'" in str(info.value)
    assert any("JSON schema" in note for note in info.value.__notes__)
    assert p.OptionalDictParameter(schema={"type": "object"}).parse("{}") == {}
    assert p.OptionalTupleParameter(schema={"type": "array"}).parse("[1]") == (1,)
    assert p.OptionalListParameter(schema={"type": "array"}).parse("[1]") == [1]


def test_frozen_ordered_dict_is_hashable_and_immutable() -> None:
    frozen = p.DictParameter().normalize({"b": [1], "a": {"c": [2]}})

    assert isinstance(frozen, p.FrozenOrderedDict)
    assert hash(frozen) == hash(
        p.DictParameter().normalize({"a": {"c": [2]}, "b": [1]})
    )
    assert list(frozen) == ["b", "a"]
    assert json.dumps(frozen) == '{"b": [1], "a": {"c": [2]}}'
    assert frozen.get_wrapped() == {"b": (1,), "a": {"c": (2,)}}
    for mutate in (
        lambda: frozen.__setitem__("x", 1),
        lambda: frozen.__delitem__("a"),
        lambda: frozen.__ior__({}),
        frozen.clear,
        lambda: frozen.pop("a"),
        frozen.popitem,
        lambda: frozen.setdefault("x", 1),
        lambda: frozen.update(x=1),
    ):
        with pytest.raises(TypeError, match="immutable"):
            mutate()


def test_frozen_ordered_dict_pickles_and_copies() -> None:
    frozen = p.freeze({"b": [1], "a": {"c": 2}})

    restored = pickle.loads(pickle.dumps(frozen))

    assert restored == frozen
    assert type(restored) is p.FrozenOrderedDict
    assert list(restored) == ["b", "a"]
    assert copy.deepcopy(frozen) == frozen
    assert copy.copy(frozen) == frozen


def test_normalized_list_values_are_hashable() -> None:
    value = p.ListParameter().normalize([1, [2, {"a": [3, {"b": 4}]}]])

    assert hash(value) == hash(
        p.ListParameter().normalize([1, [2, {"a": [3, {"b": 4}]}]])
    )


def test_parameter_records_name_and_owner() -> None:
    class Owner:
        day = p.DateParameter(doc="Calendar day.")

    assert Owner.day.name == "day"
    assert Owner.day.description == "Calendar day."
    assert "Owner.day" in repr(Owner.day)
    assert "unbound" in repr(p.IntParameter())


def test_parameter_instance_value_shadows_descriptor() -> None:
    class Owner:
        size = p.IntParameter(default=3)

    owner = Owner()

    assert owner.size is Owner.__dict__["size"]
    owner.__dict__["size"] = 5
    assert owner.size == 5


def test_parameter_counter_follows_creation_order() -> None:
    first, second = p.IntParameter(), p.Parameter()

    assert first._counter < second._counter


def test_parameter_options_are_stored() -> None:
    parameter = p.Parameter(
        "x",
        significant=False,
        description="help",
        positional=False,
        always_in_help=True,
        visibility=p.ParameterVisibility.HIDDEN,
        config_path={"section": "s", "name": "n"},
    )

    assert parameter.default == "x"
    assert parameter.has_default
    assert not parameter.significant
    assert parameter.description == "help"
    assert not parameter.positional
    assert parameter.always_in_help
    assert parameter.visibility is p.ParameterVisibility.HIDDEN
    assert parameter.config_path == {"section": "s", "name": "n"}
    assert not parameter.is_global
    assert not p.Parameter().has_default
    assert p.Parameter().default is p.NO_VALUE


def test_no_value_is_a_pickleable_singleton_with_luigi_repr() -> None:
    assert repr(p.NO_VALUE) == repr(luigi.parameter._no_value)
    assert pickle.loads(pickle.dumps(p.NO_VALUE)) is p.NO_VALUE


def test_parameter_visibility_matches_luigi() -> None:
    theirs = luigi.parameter.ParameterVisibility

    for member in p.ParameterVisibility:
        assert member.value == theirs[member.name].value
        assert member.serialize() == theirs[member.name].serialize()
    assert p.ParameterVisibility.has_value(2)
    assert not p.ParameterVisibility.has_value(5)


def test_parameter_parse_list_uses_batch_method() -> None:
    batched = p.IntParameter(batch_method=max)

    assert batched.is_batchable
    assert batched._parse_list(["3", "9", "1"]) == 9
    assert not p.IntParameter().is_batchable


def test_parameter_parse_list_without_batch_method_raises() -> None:
    with pytest.raises(NoBatchMethodError, match="has no batch_method") as info:
        p.IntParameter()._parse_list(["1"])

    assert isinstance(info.value, NotImplementedError)
    with pytest.raises(ParameterValueError):
        p.IntParameter(batch_method=max)._parse_list([])


def test_plain_parameter_has_no_enumeration() -> None:
    assert p.Parameter().next_in_enumeration("a") is None
    assert p.FloatParameter().next_in_enumeration(1.0) is None


def test_task_parameter_round_trips_a_registered_task() -> None:
    pytest.importorskip("nbflow.core.registry")
    task_module = pytest.importorskip("nbflow.core.task")

    class ParameterTestTask(task_module.Task):  # type: ignore[misc,name-defined]
        pass

    task = p.TaskParameter()

    assert task.serialize(ParameterTestTask) == "ParameterTestTask"
    assert task.parse("ParameterTestTask") is ParameterTestTask
    assert task.normalize("ParameterTestTask") is ParameterTestTask
    assert task.normalize(ParameterTestTask) is ParameterTestTask
    with pytest.raises(ParameterValueError):
        task.normalize(5)


@given(st.integers())
def test_int_parameter_round_trips(value: int) -> None:
    ints = p.IntParameter()

    assert ints.parse(ints.serialize(value)) == value
    assert ints.serialize(value) == luigi.IntParameter().serialize(value)


@given(st.floats(allow_nan=False))
def test_float_parameter_round_trips(value: float) -> None:
    floats = p.FloatParameter()

    assert floats.parse(floats.serialize(value)) == value


@given(st.dates())
def test_date_parameter_round_trips(value: dt.date) -> None:
    dates = p.DateParameter()

    assert dates.parse(dates.serialize(value)) == value
    if value.year >= 1000:
        assert dates.serialize(value) == luigi.DateParameter().serialize(value)


@given(st.datetimes())
def test_date_second_parameter_round_trips(value: dt.datetime) -> None:
    seconds = p.DateSecondParameter()
    normalized = seconds.normalize(value)

    assert seconds.parse(seconds.serialize(normalized)) == normalized


@given(
    st.timedeltas(
        min_value=dt.timedelta(days=-(10**6)), max_value=dt.timedelta(days=10**6)
    )
)
def test_time_delta_parameter_round_trips(value: dt.timedelta) -> None:
    deltas = p.TimeDeltaParameter()
    whole = value - dt.timedelta(microseconds=value.microseconds)

    assert deltas.parse(deltas.serialize(value)) == whole


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=20,
)


@given(st.lists(JSON))
def test_list_parameter_round_trips_and_matches_luigi(value: list[Any]) -> None:
    lists = p.ListParameter()
    normalized = lists.normalize(value)

    text = lists.serialize(normalized)

    assert lists.normalize(lists.parse(text)) == normalized
    assert lists.parse(text) == luigi.ListParameter().parse(text)
    assert text == luigi.ListParameter().serialize(value)
    hash(normalized)


@given(st.dictionaries(st.text(), JSON))
def test_dict_parameter_round_trips_and_matches_luigi(value: dict[str, Any]) -> None:
    dicts = p.DictParameter()
    normalized = dicts.normalize(value)

    text = dicts.serialize(normalized)

    assert dicts.normalize(dicts.parse(text)) == normalized
    assert dicts.parse(text) == luigi.DictParameter().parse(text)
    assert text == luigi.DictParameter().serialize(value)
    hash(normalized)
