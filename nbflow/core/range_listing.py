"""Which moments of a range already have their files: one listing per output folder.

A daily task usually writes ``.../2024-01-31...``: the moment is spelled in its output
paths. Building the task for a handful of sample moments and finding where their date
digits sit in each output path turns every output into a glob (the digits replaced by
``[0-9]``, the last path component dropped). The glob is narrowed to the digits the
wanted paths really have (``_constrain_glob``), and the folder in front of its first
wildcard is listed once; a moment is complete when every one of its output paths is
in the listings. Three years of a daily task thus cost one ``exists`` and one
``listdir`` per output location instead of 1,096 ``exists`` calls.

The helpers keep the names of Luigi's ``luigi.tools.range`` so code and tests written
against Luigi find them.

Imports: nbflow.core.{errors, file_system, output_walk}.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import logging
import posixpath
import re
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from typing import Any, NamedTuple, TypeVar

from nbflow.core.errors import DefinitionError
from nbflow.core.file_system import FileSystem, FileSystemTarget
from nbflow.core.output_walk import flatten_output

__all__ = [
    "ListingInferenceError",
    "_constrain_glob",
    "_get_filesystems_and_globs",
    "_get_per_location_glob",
    "_list_existing",
    "find_missing_by_listing",
    "infer_bulk_complete_from_fs",
    "most_common",
]

logger = logging.getLogger("nbflow.range")

_H = TypeVar("_H", bound=Hashable)
_DIGIT = "[0-9]"
_MAGIC = re.compile(r"[*?\[]")
#: strftime codes as str.format patterns (strftime is several times slower).
_FIELD_FORMATS = {
    "%Y": "{0.year:04d}",
    "%m": "{0.month:02d}",
    "%d": "{0.day:02d}",
    "%H": "{0.hour:02d}",
    "%M": "{0.minute:02d}",
}
#: Moments to build sample tasks for: digits that differ in every field, so the most
#: common place of each field over the samples is where the task really writes it.
_SAMPLE_MOMENTS = tuple(
    dt.datetime(year, month, day, hour, minute)  # noqa: DTZ001  (naive, as the tasks')
    for year in (2003, 2016, 2029, 2042)
    for month, day in ((3, 14), (8, 22), (11, 27))
    for hour, minute in ((6, 5), (17, 40), (19, 50))
)


class ListingInferenceError(DefinitionError, NotImplementedError):
    """A task's outputs do not show its moment in a way a listing can find."""

    def __init__(self, task: str, what: str) -> None:
        super().__init__(task, what)
        self.task, self.what = task, what

    def __str__(self) -> str:
        return (
            f"{self.task}: cannot find missing moments by listing folders ({self.what}). "
            "Expected output() to return file-system targets whose paths spell the "
            "moment with strftime codes (%Y, %m, %d, %H, %M), the same number for every "
            "moment. Fix: give the task such outputs, or define a classmethod "
            "bulk_complete(parameter_tuples) that returns the complete ones."
        )


def most_common(items: Iterable[_H]) -> tuple[_H, int]:
    """Return the most frequent item and its count; the earliest wins a tie.

    Examples
    --------
    >>> most_common([3, 1, 1, 3, 2])
    (3, 2)
    """
    counts = Counter(items)
    best = max(counts.values())
    return next((item, n) for item, n in counts.items() if n == best)


def _digit_class(digits: Sequence[str]) -> str:
    """Return a glob class for ``digits`` (sorted): ``[3-6]`` when contiguous."""
    contiguous = ord(digits[-1]) - ord(digits[0]) == len(digits) - 1
    if len(digits) > 1 and contiguous:
        return f"[{digits[0]}-{digits[-1]}]"
    return f"[{''.join(digits)}]"


def _constrain_glob(glob: str, paths: Iterable[str], limit: int = 5) -> list[str]:
    """Split ``glob`` into narrower globs that still match every one of ``paths``.

    Wildcards are settled left to right: while the distinct digits at the next
    ``[0-9]`` (summed over the globs so far) stay within ``limit``, each glob forks
    into one glob per digit; past it, each glob's wildcard becomes a class of its
    digits.

    Examples
    --------
    >>> _constrain_glob("/[0-9][0-9]/x", ["/17/x", "/18/x", "/27/x"], limit=2)
    ['/1[7-8]/x', '/2[7]/x']
    """
    groups: dict[str, list[str]] = {glob: list(paths)}
    while groups:
        position = next(iter(groups)).find(_DIGIT)
        if position < 0:
            return list(groups)
        digits = {g: sorted({p[position] for p in ps}) for g, ps in groups.items()}
        if sum(len(found) for found in digits.values()) > limit:
            return [g.replace(_DIGIT, _digit_class(digits[g]), 1) for g in groups]
        groups = {
            g.replace(_DIGIT, digit, 1): [p for p in ps if p[position] == digit]
            for g, ps in groups.items()
            for digit in digits[g]
        }
    return []


class _Location(NamedTuple):
    """One output location of a task family: where its files are and how named."""

    filesystem: FileSystem
    #: The folders that hold the location's files (date digits as ``[0-9]``).
    glob: str
    #: A sample output path, and the span of each date field in it.
    sample: str
    spans: tuple[tuple[int, int], ...]

    def render(self, fields: Sequence[str]) -> str:
        """Return the sample path with its date fields replaced by ``fields``."""
        parts, last = [], 0
        for (start, end), field in sorted(zip(self.spans, fields, strict=True)):
            parts += [self.sample[last:start], field]
            last = end
        return "".join([*parts, self.sample[last:]])


def _date_spans(
    tasks: Sequence[Any], paths: Sequence[str], regexes: Sequence[re.Pattern[str]]
) -> tuple[tuple[int, int], ...]:
    """Return where each date field sits in most of ``paths`` (one per regex group).

    Raises
    ------
    ListingInferenceError
        A path does not contain its task's moment.
    """
    matches = []
    for regex, path, task in zip(regexes, paths, tasks, strict=True):
        match = regex.search(path)
        if match is None:
            raise ListingInferenceError(
                repr(task), f"its output path {path!r} does not contain its moment"
            )
        matches.append(match)
    groups = range(1, len(matches[0].groups()) + 1)
    return tuple(most_common(m.span(group) for m in matches)[0] for group in groups)


def _get_per_location_glob(
    tasks: Sequence[Any], outputs: Sequence[Any], regexes: Sequence[re.Pattern[str]]
) -> str:
    """Return the glob of the folders that hold one output location's files.

    ``outputs[i]`` is the output of ``tasks[i]``, whose moment ``regexes[i]`` finds
    (one group per date field). Each field is put where it sits in most paths.

    Raises
    ------
    ListingInferenceError
        An output path does not contain its task's moment.
    """
    return _locate(tasks, outputs, regexes).glob


def _locate(
    tasks: Sequence[Any], outputs: Sequence[Any], regexes: Sequence[re.Pattern[str]]
) -> _Location:
    paths = [posixpath.normpath(output.path) for output in outputs]
    spans = _date_spans(tasks, paths, regexes)
    characters = list(paths[0])
    for start, end in spans:
        characters[start:end] = [_DIGIT] * (end - start)
    glob = "".join(characters).rsplit("/", 1)[0]
    return _Location(outputs[0].fs, glob, paths[0], spans)


def _sample_outputs(
    datetime_to_task: Callable[[dt.datetime], Any],
) -> tuple[list[Any], list[list[Any]]]:
    """Return the sample tasks and their outputs, checked to be listable.

    Raises
    ------
    ListingInferenceError
        The outputs are missing, not file-system targets, or differ in number.
    """
    tasks = [datetime_to_task(moment) for moment in _SAMPLE_MOMENTS]
    outputs = [flatten_output(task) for task in tasks]
    if not outputs[0]:
        raise ListingInferenceError(repr(tasks[0]), "it has no outputs")
    for task, found in zip(tasks, outputs, strict=True):
        if len(found) != len(outputs[0]):
            what = (
                f"{len(found)} outputs for {task!r} but {len(outputs[0])} for "
                f"{tasks[0]!r}"
            )
            raise ListingInferenceError(type(task).__name__, what)
        for target in found:
            if not isinstance(target, FileSystemTarget):
                what = f"output {target!r} of {task!r} is not a file-system target"
                raise ListingInferenceError(type(task).__name__, what)
    return tasks, outputs


def _locations(
    datetime_to_task: Callable[[dt.datetime], Any],
    datetime_to_re: Callable[[dt.datetime], str],
) -> list[_Location]:
    regexes = [re.compile(datetime_to_re(moment)) for moment in _SAMPLE_MOMENTS]
    tasks, outputs = _sample_outputs(datetime_to_task)
    return [
        _locate(tasks, location, regexes) for location in zip(*outputs, strict=True)
    ]


def _get_filesystems_and_globs(
    datetime_to_task: Callable[[dt.datetime], Any],
    datetime_to_re: Callable[[dt.datetime], str],
) -> Iterator[tuple[FileSystem, str]]:
    """Yield ``(file system, glob)`` for each output location of the task.

    A task without outputs of its own (a ``WrapperTask``) stands for the outputs of
    its requirements.

    Raises
    ------
    ListingInferenceError
        The outputs are not file-system targets, differ in number between moments,
        or do not contain the moment.
    """
    for location in _locations(datetime_to_task, datetime_to_re):
        yield location.filesystem, location.glob


def _literal_folder(glob: str) -> str:
    """Return the folder in front of the first wildcard of ``glob`` (all of it if none).

    Examples
    --------
    >>> _literal_folder("/data/2014/p/201[45]_/x")
    '/data/2014/p'
    """
    magic = _MAGIC.search(glob)
    if magic is None:
        return glob
    return glob[: magic.start()].rsplit("/", 1)[0]


def _list_existing(filesystem: FileSystem, glob: str, paths: Sequence[str]) -> set[str]:
    """Return the files under the folders of ``glob`` that could be one of ``paths``.

    Each distinct folder in front of a narrowed glob's first wildcard is listed once
    (recursively, as every nbflow and Luigi file system lists).
    """
    listing: set[str] = set()
    by_folder: dict[str, list[str]] = {}
    for pattern in sorted(_constrain_glob(glob, paths)):
        by_folder.setdefault(_literal_folder(pattern), []).append(pattern + "*")
    for folder, wanted in by_folder.items():
        if not filesystem.exists(folder):
            continue
        matches = re.compile("|".join(map(fnmatch.translate, wanted))).match
        found = map(posixpath.normpath, filesystem.listdir(folder))
        listing.update(path for path in found if matches(path))
    logger.debug(
        "listed %d folders of %s for %d paths: %d files",
        len(by_folder),
        glob,
        len(paths),
        len(listing),
    )
    return listing


def _missing(
    moments: Sequence[dt.datetime],
    paths: Sequence[Sequence[str]],
    locations: Sequence[_Location],
) -> list[dt.datetime]:
    """Return the moments whose paths (one per location) are not all listed."""
    existing: set[str] = set()
    for location, wanted in zip(locations, zip(*paths), strict=True):
        existing |= _list_existing(location.filesystem, location.glob, wanted)
    return [
        moment
        for moment, needed in zip(moments, paths, strict=True)
        if not existing.issuperset(needed)
    ]


def _built_paths(
    moments: Sequence[dt.datetime],
    datetime_to_task: Callable[[dt.datetime], Any],
    locations: Sequence[_Location],
) -> list[list[str]]:
    """Return each moment's output paths from its task (one task built per moment)."""
    paths = []
    for moment in moments:
        task = datetime_to_task(moment)
        found = [posixpath.normpath(target.path) for target in flatten_output(task)]
        if len(found) != len(locations):
            what = f"{len(found)} outputs at {moment} but {len(locations)} usually"
            raise ListingInferenceError(repr(task), what)
        paths.append(found)
    return paths


def infer_bulk_complete_from_fs(
    datetimes: Sequence[dt.datetime],
    datetime_to_task: Callable[[dt.datetime], Any],
    datetime_to_re: Callable[[dt.datetime], str],
) -> list[dt.datetime]:
    """Return the moments of ``datetimes`` whose task lacks an output file.

    Works for tasks whose outputs are file-system targets with the moment in their
    path (strftime codes) and no ``complete()`` or ``exists()`` of their own.

    Raises
    ------
    ListingInferenceError
        The outputs cannot be listed this way (see :func:`_get_filesystems_and_globs`).
    """
    locations = _locations(datetime_to_task, datetime_to_re)
    paths = _built_paths(datetimes, datetime_to_task, locations)
    return _missing(datetimes, paths, locations)


def find_missing_by_listing(
    moments: Sequence[dt.datetime],
    moment_to_task: Callable[[dt.datetime], Any],
    codes: Sequence[str],
) -> list[dt.datetime]:
    """Return the moments whose task lacks an output file, building few tasks.

    As :func:`infer_bulk_complete_from_fs`, for paths that spell the moment with the
    strftime ``codes`` (``("%Y", "%m", "%d")``). When the sample tasks' paths are
    their first sample's path with the fields swapped, every moment's paths are made
    that way instead of building its task (building 1,096 tasks costs more than
    listing their folders); otherwise each task is built.

    Raises
    ------
    ListingInferenceError
        The outputs cannot be listed this way (see :func:`_get_filesystems_and_globs`).
    """
    formats = [_FIELD_FORMATS.get(code) for code in codes]

    def fields(moment: dt.datetime) -> list[str]:
        return [
            code_format.format(moment) if code_format else moment.strftime(code)
            for code, code_format in zip(codes, formats, strict=True)
        ]

    def pattern(moment: dt.datetime) -> str:
        return ".*".join(f"({field})" for field in fields(moment))

    locations = _locations(moment_to_task, pattern)
    _, outputs = _sample_outputs(moment_to_task)
    renders = all(
        location.render(fields(moment)) == posixpath.normpath(target.path)
        for moment, targets in zip(_SAMPLE_MOMENTS, outputs, strict=True)
        for location, target in zip(locations, targets, strict=True)
    )
    if not renders:
        paths = _built_paths(moments, moment_to_task, locations)
    else:
        paths = []
        for moment in moments:
            moment_fields = fields(moment)
            paths.append([location.render(moment_fields) for location in locations])
    return _missing(moments, paths, locations)
