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
from typing import Any, TypeVar

from nbflow.core.errors import DefinitionError
from nbflow.core.file_system import FileSystem, FileSystemTarget
from nbflow.core.output_walk import flatten_output

__all__ = [
    "ListingInferenceError",
    "_constrain_glob",
    "_get_filesystems_and_globs",
    "_get_per_location_glob",
    "_list_existing",
    "infer_bulk_complete_from_fs",
    "most_common",
]

logger = logging.getLogger("nbflow.range")

_H = TypeVar("_H", bound=Hashable)
_DIGIT = "[0-9]"
_MAGIC = re.compile(r"[*?\[]")
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
    paths = [posixpath.normpath(output.path) for output in outputs]
    matches = []
    for regex, path, task in zip(regexes, paths, tasks, strict=True):
        match = regex.search(path)
        if match is None:
            raise ListingInferenceError(
                repr(task), f"its output path {path!r} does not contain its moment"
            )
        matches.append(match)
    characters = list(paths[0])
    for group in range(1, len(matches[0].groups()) + 1):
        (start, end), _ = most_common(m.span(group) for m in matches)
        characters[start:end] = [_DIGIT] * (end - start)
    return "".join(characters).rsplit("/", 1)[0]


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
    regexes = [re.compile(datetime_to_re(moment)) for moment in _SAMPLE_MOMENTS]
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
    for location in zip(*outputs, strict=True):
        yield location[0].fs, _get_per_location_glob(tasks, location, regexes)


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


def _list_existing(
    filesystem: FileSystem, glob: str, paths: Sequence[str]
) -> set[str]:
    """Return the files under the folders of ``glob`` that could be one of ``paths``.

    Each distinct folder in front of a narrowed glob's first wildcard is listed once
    (recursively, as every nbflow and Luigi file system lists).
    """
    listing: set[str] = set()
    patterns = sorted(_constrain_glob(glob, paths))
    by_folder: dict[str, list[str]] = {}
    for pattern in patterns:
        by_folder.setdefault(_literal_folder(pattern), []).append(pattern + "*")
    for folder, wanted in by_folder.items():
        if not filesystem.exists(folder):
            continue
        found = map(posixpath.normpath, filesystem.listdir(folder))
        listing.update(
            path
            for path in found
            if any(fnmatch.fnmatchcase(path, pattern) for pattern in wanted)
        )
    logger.debug(
        "listed %d folders of %s for %d paths: %d files",
        len(by_folder),
        glob,
        len(paths),
        len(listing),
    )
    return listing


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
    locations = list(_get_filesystems_and_globs(datetime_to_task, datetime_to_re))
    paths = [
        [posixpath.normpath(target.path) for target in flatten_output(task)]
        for task in map(datetime_to_task, datetimes)
    ]
    for task_paths, moment in zip(paths, datetimes, strict=True):
        if len(task_paths) != len(locations):
            what = f"{len(task_paths)} outputs at {moment} but {len(locations)} usually"
            raise ListingInferenceError(repr(datetime_to_task(moment)), what)
    existing: set[str] = set()
    for (filesystem, glob), wanted in zip(locations, zip(*paths), strict=True):
        existing |= _list_existing(filesystem, glob, wanted)
    return [
        moment
        for moment, needed in zip(datetimes, paths, strict=True)
        if not existing.issuperset(needed)
    ]
