"""Parameters behave as Luigi's do: defaults, exceptions, warnings and parsing."""

from __future__ import annotations

import datetime as dt
import enum
import pickle
import warnings
from typing import Any

import jsonschema
import pytest

import nbflow
from nbflow import parameter as luigi_parameter
from nbflow.core import parameter as p
from nbflow.core.date_interval import Month, Year
from nbflow.core.errors import (
    ChoiceTypeError,
    DuplicateParameterError,
    MissingParameterError,
    OptionalParameterTypeWarning,
    ParameterDeprecationWarning,
    ParameterError,
    ParameterOptionError,
    ParameterOptionWarning,
    ParameterTypeWarning,
    ParameterValueError,
    PathNotFoundError,
    PositionalParameterError,
    UnknownParameterError,
)


class Shade(enum.Enum):
    light = 1
    dark = 2


def test_bool_parameter_without_default_is_false() -> None:
    class LuigiBoolDefaultTask(nbflow.Task):
        flag = p.BoolParameter()

    assert p.BoolParameter().default is False
    assert LuigiBoolDefaultTask().flag is False
    assert LuigiBoolDefaultTask(flag="true").flag is True


def test_bool_parameter_parsing_switch_applies_to_later_declarations() -> None:
    before = p.BoolParameter()
    p.BoolParameter.parsing = p.BoolParameter.EXPLICIT_PARSING
    try:
        explicit = p.BoolParameter()
    finally:
        p.BoolParameter.parsing = p.BoolParameter.IMPLICIT_PARSING

    assert before.is_flag
    assert not explicit.is_flag
    assert explicit.parsing == "explicit"
    assert p.BoolParameter().parsing == "implicit"


def test_bool_parameter_rejects_unknown_parsing_mode() -> None:
    with pytest.raises(ParameterOptionError, match="must be 'implicit' or 'explicit'"):
        p.BoolParameter(parsing="sometimes")


@pytest.mark.parametrize(
    "kind",
    [
        p.OptionalParameter,
        p.OptionalStrParameter,
        p.OptionalIntParameter,
        p.OptionalFloatParameter,
        p.OptionalBoolParameter,
        p.OptionalListParameter,
        p.OptionalTupleParameter,
        p.OptionalDictParameter,
        p.OptionalPathParameter,
    ],
)
def test_optional_parameters_without_default_are_none(kind: type[Any]) -> None:
    class LuigiOptionalDefaultTask(nbflow.Task):
        value = kind()

    assert kind().default is None
    assert LuigiOptionalDefaultTask().value is None


def test_optional_choice_and_numerical_parameters_default_to_none() -> None:
    choice = p.OptionalChoiceParameter(choices=["a"])
    number = p.OptionalNumericalParameter(var_type=int, min_value=0, max_value=3)

    assert choice.default is None
    assert number.default is None
    assert number.expected_type is int


def test_parameter_exception_is_the_base_of_luigis_parameter_errors() -> None:
    base = luigi_parameter.ParameterException

    assert base is ParameterError
    assert issubclass(luigi_parameter.MissingParameterException, base)
    assert issubclass(luigi_parameter.UnknownParameterException, base)
    assert issubclass(luigi_parameter.DuplicateParameterException, base)
    assert issubclass(ParameterValueError, base)
    assert issubclass(ParameterValueError, ValueError)


def test_task_constructor_errors_are_luigis_types() -> None:
    class LuigiErrorsTask(nbflow.Task):
        n = p.IntParameter()
        flag = p.Parameter(default="x", positional=False)

    with pytest.raises(MissingParameterError):
        LuigiErrorsTask()
    with pytest.raises(UnknownParameterError):
        LuigiErrorsTask(n=1, m=2)
    with pytest.raises(DuplicateParameterError, match="'n' given twice") as twice:
        LuigiErrorsTask(5, n=7)
    with pytest.raises(PositionalParameterError) as many:
        LuigiErrorsTask(1, 2)

    message = str(many.value)
    assert "LuigiErrorsTask: too many positional arguments (got 2)" in message
    assert "Expected at most 1 positional arguments" in message
    assert "Fix: pass the others by name, e.g. LuigiErrorsTask(n=...)" in message
    assert isinstance(many.value, UnknownParameterError)
    assert "Fix: pass it either positionally or as n=..." in str(twice.value)


def test_new_parameter_errors_pickle() -> None:
    errors = [
        PositionalParameterError("A", 3, ("p",)),
        DuplicateParameterError("A", "p"),
        ParameterOptionError("ChoiceParameter", "choices", "must be specified", "x"),
        ChoiceTypeError("ChoiceParameter", "choices", "holds 'a'", "x"),
        PathNotFoundError("A", "p", "/nowhere", "an existing path"),
    ]

    for error in errors:
        copy = pickle.loads(pickle.dumps(error))

        assert type(copy) is type(error)
        assert str(copy) == str(error)


@pytest.mark.parametrize(
    ("make", "option"),
    [
        (lambda: p.ChoiceParameter(var_type=int), "choices"),
        (p.ChoiceListParameter, "choices"),
        (lambda: p.NumericalParameter(min_value=-3, max_value=7), "var_type"),
        (lambda: p.NumericalParameter(var_type=int, max_value=7), "min_value"),
        (lambda: p.NumericalParameter(var_type=int, min_value=-3), "max_value"),
        (p.EnumParameter, "enum"),
        (p.EnumListParameter, "enum"),
        (lambda: p.Parameter(config_path={"section": "s"}), "config_path"),
    ],
)
def test_parameter_without_required_option_is_a_parameter_exception(
    make: Any, option: str
) -> None:
    with pytest.raises(ParameterOptionError) as caught:
        make()

    message = str(caught.value)
    assert isinstance(caught.value, luigi_parameter.ParameterException)
    assert caught.value.option == option
    assert "Expected the declaration to give it" in message
    assert "Fix: declare it like" in message


def test_choices_of_the_wrong_type_are_an_assertion_error() -> None:
    with pytest.raises(AssertionError) as caught:
        p.ChoiceParameter(var_type=int, choices=[1, 2, "3"])

    assert isinstance(caught.value, ChoiceTypeError)
    assert "not of var_type int (got ['3'])" in str(caught.value)
    with pytest.raises(ChoiceTypeError):
        p.ChoiceListParameter(var_type=int, choices=[1, "2"])
    assert p.ChoiceParameter(var_type=lambda text: text, choices=[1, "a"])


def test_choice_list_parameter_parses_serializes_and_checks() -> None:
    letters = p.ChoiceListParameter(choices=["1", "2", "3"])
    numbers = p.ChoiceListParameter(choices=[1, 2, 3], var_type=int)

    assert letters.parse("") == ()
    assert letters.parse("1,3") == ("1", "3")
    assert numbers.normalize([3, 1, 3]) == (3, 1, 3)
    assert numbers.serialize((3, 1)) == "3,1"
    assert numbers.parse(numbers.serialize((2,))) == (2,)
    with pytest.raises(ParameterValueError, match="one of '1', '2', '3'"):
        letters.parse("1,4")


def test_choice_list_parameter_in_a_task_names_the_parameter() -> None:
    class LuigiChoiceListTask(nbflow.Task):
        picks = p.ChoiceListParameter(choices=["a", "b"])

    assert LuigiChoiceListTask(picks="b,a").picks == ("b", "a")
    assert str(LuigiChoiceListTask(picks=("a",))) == "LuigiChoiceListTask(picks=a)"
    with pytest.raises(ParameterValueError, match=r"LuigiChoiceListTask\.picks"):
        LuigiChoiceListTask(picks=("c",))


def test_str_parameter_holds_text() -> None:
    class LuigiStrTask(nbflow.Task):
        name = p.StrParameter()

    assert p.StrParameter().parse("x") == "x"
    assert LuigiStrTask(name=3).name == "3"
    assert nbflow.StrParameter is p.StrParameter


def test_plain_parameter_warns_on_non_text_values_but_not_none() -> None:
    class LuigiTypeWarnTask(nbflow.Task):
        param = p.Parameter(default=None)

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        LuigiTypeWarnTask()
        LuigiTypeWarnTask(param="text")
    with pytest.warns(ParameterTypeWarning) as record:
        LuigiTypeWarnTask(param=42)

    assert str(record[0].message).startswith(
        'Parameter "param" with value "42" is not of type string.'
    )


def test_optional_parameter_warns_on_values_of_another_type() -> None:
    class LuigiOptionalWarnTask(nbflow.Task):
        param = p.OptionalParameter()

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        LuigiOptionalWarnTask(param=None)
        LuigiOptionalWarnTask(param="")
        LuigiOptionalWarnTask(param="value")
    with pytest.warns(OptionalParameterTypeWarning) as record:
        LuigiOptionalWarnTask(param=1)

    assert str(record[0].message) == (
        'OptionalParameter "param" with value "1" is not of type "str" or None.'
    )


def test_optional_mixin_names_every_expected_type() -> None:
    class NumberText(p.OptionalParameter):
        expected_type = (int, float)

    class FloatOrNone(p.OptionalParameter, p.FloatParameter):
        expected_type = float

    class LuigiMultiTypeTask(nbflow.Config):
        value = NumberText()
        number = FloatOrNone()

    with pytest.warns(OptionalParameterTypeWarning) as record:
        task = LuigiMultiTypeTask(value="1", number="2.5")

    expected = (
        'NumberText "value" with value "1" is not of any type in ["int", "float"] '
        "or None."
    )
    assert [str(warning.message) for warning in record] == [expected]
    assert task.number == 2.5  # text given in code is parsed, so it warns not
    assert FloatOrNone().parse("") is None
    assert luigi_parameter.OptionalParameterTypeWarning is OptionalParameterTypeWarning


def test_is_global_warns_and_makes_the_parameter_keyword_only() -> None:
    with pytest.warns(
        ParameterDeprecationWarning, match="is_global support is removed"
    ):

        class LuigiGlobalTask(nbflow.Task):
            x = p.Parameter(default="y", is_global=True)

    assert issubclass(ParameterDeprecationWarning, DeprecationWarning)
    assert LuigiGlobalTask(x="z").x == "z"
    with pytest.raises(UnknownParameterError):
        LuigiGlobalTask("arg")


def test_unknown_visibility_warns_and_is_public() -> None:
    with pytest.warns(ParameterOptionWarning, match="not a visibility \\(got 5\\)"):
        parameter = p.Parameter(default="v", visibility=5)  # type: ignore[arg-type]

    assert parameter.visibility is p.ParameterVisibility.PUBLIC


def test_task_reports_param_visibilities_and_param_args() -> None:
    class LuigiVisibilityTask(nbflow.Task):
        shown = p.Parameter(default="a")
        hidden = p.Parameter(default="b", visibility=p.ParameterVisibility.HIDDEN)
        secret = p.Parameter(default="c", visibility=p.ParameterVisibility.PRIVATE)

    task = LuigiVisibilityTask()

    assert task._get_param_visibilities() == {"shown": 0, "hidden": 1}
    with pytest.warns(ParameterDeprecationWarning, match="param_args"):
        assert task.param_args == ("a", "b", "c")


def test_list_and_dict_parse_return_what_luigi_returns() -> None:
    lists, dicts = p.ListParameter(), p.DictParameter()

    assert lists.parse('[1, "one", true]') == [1, "one", True]
    assert lists.parse("null") is None
    assert dicts.parse('{"b": [1], "a": {}}') == {"b": [1], "a": {}}
    assert list(dicts.parse('{"b": 1, "a": 2}')) == ["b", "a"]
    assert hash(dicts.parse('{"foo": 1, "bar": "x"}')) == hash(
        dicts.normalize({"foo": 1, "bar": "x"})
    )
    with pytest.raises(TypeError):
        hash(dicts.parse('{"a": {"b": []}}'))
    assert hash(dicts.normalize({"a": [{"b": []}]})) == hash(
        dicts.normalize({"a": [{"b": []}]})
    )
    with pytest.raises(ParameterValueError, match="a JSON list"):
        lists.parse('"NOT A LIST"')


def test_list_parameter_default_none_round_trips_through_text() -> None:
    class LuigiNoneListTask(nbflow.Task):
        args = p.ListParameter(default=None)
        table = p.DictParameter(default=None)
        pairs = p.TupleParameter(default=None)

    task = LuigiNoneListTask()
    text = task.to_str_params()

    assert text == {"args": "null", "table": "null", "pairs": "null"}
    assert LuigiNoneListTask.from_str_params(text) is task


def test_json_schema_violation_is_a_jsonschema_validation_error() -> None:
    class LuigiSchemaTask(nbflow.Task):
        numbers = p.ListParameter(
            schema={"type": "array", "items": {"type": "number"}, "minItems": 1}
        )

    with pytest.raises(
        jsonschema.ValidationError, match="is not of type 'number'"
    ) as e:
        LuigiSchemaTask(numbers=["a"])

    assert any("LuigiSchemaTask.numbers" in note for note in e.value.__notes__)
    with pytest.raises(jsonschema.ValidationError):
        LuigiSchemaTask(numbers=[])
    assert LuigiSchemaTask(numbers="[1, 2]").numbers == (1, 2)


def test_json_schema_may_be_a_validator_object() -> None:
    validator = jsonschema.Draft4Validator(
        {"type": "object", "patternProperties": {".*": {"enum": ["web", "staging"]}}}
    )
    roles = p.DictParameter(schema=validator)

    assert roles.normalize({"role": "web"}) == {"role": "web"}
    with pytest.raises(jsonschema.ValidationError, match="'UNKNOWN' is not one of"):
        roles.normalize({"role": "UNKNOWN"})


def test_time_delta_parameter_reads_bare_seconds() -> None:
    delta = p.TimeDeltaParameter()

    assert delta.parse("12.34") == dt.timedelta(seconds=12.34)
    assert delta.parse("56789") == dt.timedelta(seconds=56789)
    assert delta.parse("-5") == dt.timedelta(seconds=-5)
    assert delta.parse("3w 4h 5m") == dt.timedelta(weeks=3, hours=4, minutes=5)
    with pytest.raises(ParameterValueError, match="'12.5' \\(seconds\\)"):
        delta.parse("1e999")
    with pytest.raises(luigi_parameter.ParameterException):
        delta.parse("P6M")


def test_month_and_year_parameters_take_date_intervals() -> None:
    class LuigiIntervalTask(nbflow.Task):
        month = p.MonthParameter(default=Month(2015, 4))
        year = p.YearParameter(default=Year(2015))

    assert LuigiIntervalTask().month == dt.date(2015, 4, 1)
    assert LuigiIntervalTask().year == dt.date(2015, 1, 1)
    assert LuigiIntervalTask(month=Month(2016, 2)).month == dt.date(2016, 2, 1)
    with pytest.raises(ParameterValueError, match="a year"):
        LuigiIntervalTask(year=Month(2015, 4))


def test_path_parameter_names_a_missing_path_as_luigi_does(tmp_path: Any) -> None:
    class LuigiPathTask(nbflow.Task):
        where = p.PathParameter(exists=True)

    missing = tmp_path / "missing"

    with pytest.raises(ValueError, match="The path .* does not exist") as caught:
        LuigiPathTask(where=str(missing))

    assert isinstance(caught.value, PathNotFoundError)
    assert str(caught.value).startswith("LuigiPathTask.where: The path ")
    assert "Fix: create it" in str(caught.value)


def test_no_value_is_importable_under_luigis_private_name() -> None:
    assert luigi_parameter._no_value is p.NO_VALUE
    assert repr(luigi_parameter._no_value) == "<no_value>"


def test_enum_parameters_still_parse_with_their_enum() -> None:
    assert p.EnumParameter(enum=Shade).parse("dark") is Shade.dark
    assert p.EnumListParameter(enum=Shade).parse("dark,light") == (
        Shade.dark,
        Shade.light,
    )


def test_list_parameter_default_none_in_a_task_yielded_from_run() -> None:
    class LuigiNoneListLeaf(nbflow.Task):
        args = p.ListParameter(default=None)

        def output(self) -> nbflow.MemoryTarget:
            return nbflow.MemoryTarget(f"none-list-leaf-{id(LuigiNoneListLeaf)}")

        def run(self) -> None:
            with self.output().open("w") as out:
                out.write(repr(self.args))

    class LuigiNoneListRoot(nbflow.Task):
        def output(self) -> nbflow.MemoryTarget:
            return nbflow.MemoryTarget(f"none-list-root-{id(LuigiNoneListRoot)}")

        def run(self) -> Any:
            leaf = yield LuigiNoneListLeaf()
            with self.output().open("w") as out:
                out.write(leaf.open("r").read())

    result = nbflow.build([LuigiNoneListRoot()], local_scheduler=True)

    assert result
    assert LuigiNoneListRoot().output().open("r").read() == "None"
