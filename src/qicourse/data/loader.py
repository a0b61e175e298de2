"""Read the committed datasets with proper dtypes, and their data cards and ground truth.

Files are read as text and converted column by column against the schema, so a corrupt or
hand-edited CSV gives an error naming the file, column and first bad value rather than a
silently wrong dtype.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from ..paths import datasets_dir
from .schema import DATASETS, Column

_FORMATS = {"date": "%Y-%m-%d", "datetime": "%Y-%m-%d %H:%M"}
_REBUILD = "rebuild it with `qicourse datasets build`"


def list_datasets() -> list[str]:
    """Names of the datasets, in teaching order."""
    return list(DATASETS)


def _spec(name: str):
    if not isinstance(name, str) or name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; available: {', '.join(DATASETS)}")
    return DATASETS[name]


def _file(name: str, suffix: str) -> Path:
    folder = datasets_dir()
    path = folder / f"{name}{suffix}"
    if not path.is_file():
        present = sorted(p.name for p in folder.glob("*.csv")) if folder.is_dir() else []
        raise FileNotFoundError(
            f"{path} not found ({_REBUILD}); datasets folder {folder} holds: {', '.join(present) or 'nothing'}"
        )
    return path


def _bad(path: Path, column: str, values: pd.Series, ok: pd.Series, expected: str) -> None:
    bad = values[~ok]
    if len(bad):
        row = int(bad.index[0]) + 2  # header is line 1
        raise ValueError(f"{path.name}: column {column!r} line {row}: {bad.iloc[0]!r} is not {expected}; {_REBUILD}")


def _convert(path: Path, col: Column, raw: pd.Series) -> pd.Series:
    present = raw.notna()
    if col.kind in _FORMATS:
        out = pd.to_datetime(raw, format=_FORMATS[col.kind], errors="coerce")
        _bad(path, col.name, raw, out.notna(), f"a {col.kind} ({_FORMATS[col.kind]})")
        return out
    if col.kind == "int":
        out = pd.to_numeric(raw, errors="coerce")
        _bad(path, col.name, raw, out.notna() & (out % 1 == 0), "a whole number")
        return out.astype("int64")
    if col.kind == "bool":
        _bad(path, col.name, raw, raw.isin(["True", "False"]), "True or False")
        return raw.eq("True").astype(bool)
    if col.kind == "str":
        _bad(path, col.name, raw, present, "a non-empty text")
        return raw
    values = raw
    if col.categories and isinstance(col.categories[0], int):
        values = pd.to_numeric(raw, errors="coerce").astype("Int64")
    if col.allowed:
        _bad(path, col.name, raw, raw.isin(col.allowed) | ~present, f"one of {list(col.allowed)}")
    cats = list(col.categories) if col.categories else sorted(raw.dropna().unique())
    out = pd.Series(pd.Categorical(values, categories=cats, ordered=col.kind == "ordered"),
                    index=raw.index, name=col.name)
    _bad(path, col.name, raw, out.notna() | ~present, f"one of {cats}")
    return out


def load(name: str) -> pd.DataFrame:
    """One dataset as a tidy DataFrame: dates as datetime64, categories as (ordered) categoricals."""
    spec = _spec(name)
    path = _file(name, ".csv")
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path} is not a readable CSV ({exc}); {_REBUILD}") from None
    missing = [c.name for c in spec.columns if c.name not in raw.columns]
    if missing:
        raise ValueError(f"{path.name}: missing column(s) {missing}; expected {[c.name for c in spec.columns]}; {_REBUILD}")
    data = {c.name: _convert(path, c, raw[c.name]) for c in spec.columns}
    extra = [c for c in raw.columns if c not in data]
    return pd.DataFrame({**data, **{c: raw[c] for c in extra}})


def truth(name: str) -> dict:
    """The planted ground truth: change dates, effect sizes, inequities (and feedback themes)."""
    _spec(name)
    path = _file(name, ".truth.json")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path} is not valid JSON ({exc}); {_REBUILD}") from None


def describe(name: str) -> str:
    """A data card: what a row is, size, period, and every column with type, unit and meaning."""
    spec = _spec(name)
    df = load(name)
    lines = [f"{spec.title} (`{name}`)", "", spec.about, "",
             f"One row = {spec.row}.", f"Rows: {len(df):,}"]
    if spec.date_column:
        col = df[spec.date_column]
        lines.append(f"Period: {col.min():%Y-%m-%d} to {col.max():%Y-%m-%d}")
    lines += ["", "Columns:"]
    width = max(len(c.name) for c in spec.columns)
    for c in spec.columns:
        kind = c.kind
        if c.kind == "ordered":
            kind += " " + " < ".join(map(str, c.categories))
        unit = f" [{c.unit}]" if c.unit else ""
        lines.append(f"  {c.name:<{width}}  {c.meaning}{unit} ({kind})")
    lines += ["", "Synthetic data generated from datasets/recipes/" + name + ".yaml; "
              "column details and context in datasets/README.md."]
    return "\n".join(lines)
