"""Read and write pandas DataFrames through targets, atomically.

The file format comes from the target's path (``.parquet``/``.pq`` for Parquet via
pyarrow, ``.csv`` and ``.csv.gz`` for CSV) or from an explicit ``file_format``. Both
functions work on the target's raw bytes (:meth:`FileSystemTarget.open_raw`), so a
target's text ``format`` does not get in the way; compression comes from the suffix.
Writes go through the target's atomic writer: a ``to_parquet`` or ``to_csv`` that
raises leaves nothing at the final path.

pandas (and pyarrow, for Parquet) are imported only when a function is called.

Imports: the standard library and :mod:`nbflow.core.errors`; pandas lazily.

Examples
--------
>>> from nbflow.core.target import MemoryFileSystem, MemoryTarget
>>> import pandas as pd
>>> target = MemoryTarget("sales.csv", MemoryFileSystem())
>>> write_dataframe(target, pd.DataFrame({"day": [1, 2], "amount": [3.5, 4.0]}))
>>> read_dataframe(target)
   day  amount
0    1     3.5
1    2     4.0
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from nbflow.core.errors import DefinitionError

if TYPE_CHECKING:
    from nbflow.core.target import FileSystemTarget

__all__ = [
    "SUPPORTED_SUFFIXES",
    "DataFrameFormatError",
    "infer_file_format",
    "read_dataframe",
    "write_dataframe",
]

#: Path suffixes nbflow recognises, longest first, and the file format of each.
SUPPORTED_SUFFIXES: tuple[tuple[str, str], ...] = (
    (".parquet", "parquet"),
    (".csv.gz", "csv"),
    (".pq", "parquet"),
    (".csv", "csv"),
)
_FILE_FORMATS = ("csv", "parquet")


class DataFrameFormatError(DefinitionError, ValueError):
    """The file format of a DataFrame target is unknown or cannot be inferred."""

    def __init__(self, path: str, file_format: str | None) -> None:
        super().__init__(path, file_format)
        self.path, self.file_format = path, file_format

    def __str__(self) -> str:
        suffixes = ", ".join(suffix for suffix, _ in SUPPORTED_SUFFIXES)
        if self.file_format is None:
            return (
                f"{self.path}: cannot tell the DataFrame file format from the path "
                f"(got suffix {PurePosixPath(self.path).suffix!r}). "
                f"Expected a path ending in one of {suffixes}. "
                "Fix: rename the target, or pass file_format='parquet' or 'csv'."
            )
        return (
            f"{self.path}: unknown DataFrame file format (got {self.file_format!r}). "
            f"Expected one of {', '.join(map(repr, _FILE_FORMATS))}. "
            "Fix: pass file_format='parquet' or file_format='csv'."
        )


def infer_file_format(path: str, file_format: str | None = None) -> str:
    """Return ``file_format`` if given and known, else the format of ``path``.

    Raises
    ------
    DataFrameFormatError
        For an unknown ``file_format``, or a path with no recognised suffix.

    Examples
    --------
    >>> infer_file_format("out/sales.CSV.gz"), infer_file_format("a.pq")
    ('csv', 'parquet')
    >>> infer_file_format("a.data", "parquet")
    'parquet'
    """
    if file_format is not None:
        if file_format not in _FILE_FORMATS:
            raise DataFrameFormatError(path, file_format)
        return file_format
    lowered = path.lower()
    for suffix, kind in SUPPORTED_SUFFIXES:
        if lowered.endswith(suffix):
            return kind
    raise DataFrameFormatError(path, None)


def _compression(path: str) -> str | None:
    return "gzip" if path.lower().endswith(".gz") else None


def read_dataframe(
    target: FileSystemTarget, *, file_format: str | None = None, **kwargs: Any
) -> Any:
    """Read ``target`` into a pandas DataFrame.

    Parameters
    ----------
    target
        Any :class:`~nbflow.core.target.FileSystemTarget`.
    file_format
        ``"parquet"`` or ``"csv"``; ``None`` infers it from the path.
    **kwargs
        Passed to :func:`pandas.read_parquet` or :func:`pandas.read_csv`.

    Returns
    -------
    pandas.DataFrame
    """
    import pandas as pd  # noqa: PLC0415 - pandas is optional and heavy

    kind = infer_file_format(target.path, file_format)
    with target.open_raw("rb") as stream:
        if kind == "parquet":
            return pd.read_parquet(stream, **kwargs)
        kwargs.setdefault("compression", _compression(target.path))
        return pd.read_csv(stream, **kwargs)


def write_dataframe(
    target: FileSystemTarget,
    frame: Any,
    *,
    file_format: str | None = None,
    **kwargs: Any,
) -> None:
    """Write ``frame`` to ``target`` atomically.

    Parameters
    ----------
    target
        Any :class:`~nbflow.core.target.FileSystemTarget`.
    frame
        The pandas DataFrame.
    file_format
        ``"parquet"`` or ``"csv"``; ``None`` infers it from the path.
    **kwargs
        Passed to ``frame.to_parquet`` or ``frame.to_csv``. For CSV, ``index``
        defaults to ``False`` so that :func:`read_dataframe` gives back the frame.
    """
    kind = infer_file_format(target.path, file_format)
    with target.open_raw("wb") as stream:
        if kind == "parquet":
            frame.to_parquet(stream, **kwargs)
            return
        kwargs.setdefault("index", False)
        kwargs.setdefault("compression", _compression(target.path))
        frame.to_csv(stream, mode="wb", **kwargs)
