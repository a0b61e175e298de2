"""Learner values as plain data: encoded in the learner's process, rebuilt in the trusted tester.

Test cells run in a process that never executes learner code (see `tester`). The values they
check cross over as JSON trees built here, and the tester rebuilds them only through public
constructors of plain types: Python scalars and containers, datetime, Decimal, Fraction, NumPy
arrays and scalars, pandas Timestamp/Timedelta/Period/NaT/NA, Index (also Range, Datetime,
Period, Categorical and Multi), Series, DataFrame and Categorical, the data classes of the course
package (e.g. `PDSALog`), and matplotlib Figure/Axes as a snapshot of what tests read (titles,
labels, limits, lines, texts, legend labels) rebuilt as a real matplotlib figure.

Why not pickle with an allow-list of classes: a pickle stream may follow any allowed object with a
BUILD of arbitrary attributes (`df.__dict__["equals"] = bool`) or pass an allowed class where a
value is expected, so an allow-list of globals alone still lets crafted bytes change what trusted
methods return. Here nothing but data crosses: a learner-defined class, a subclass of an allowed
type, or an object with its own `__eq__` is refused with a message naming its type; functions
become handles the tester calls back through (`tester.LearnerFunction`).
"""

from __future__ import annotations

import base64
import dataclasses
import datetime
import decimal
import fractions
import math
import sys

#: deepest nesting accepted (JSON parsing and rebuilding recurse)
MAX_DEPTH = 60
#: elements in one encoded value (a DataFrame column counts as one, its bytes are one string)
MAX_NODES = 2_000_000


class Refused(Exception):
    """A learner value that is not plain data (its type is named in the message)."""


def refusal(type_name: str) -> str:
    return (f"your answer is an object of type {type_name}; use plain Python, NumPy or pandas types "
            "(numbers, text, lists, dicts, arrays, Series, DataFrames)")


def _course_dataclass(cls) -> bool:
    mod = getattr(cls, "__module__", "") or ""
    return dataclasses.is_dataclass(cls) and mod.startswith("qicourse.") and not mod.startswith("qicourse.grading")


# ---- encoding (in the learner's process: whatever it sends is only data to the tester) ----------

def encode(value, handle_for=None, _depth: int = 0):
    """A JSON-able tree for `value`; callables become {"t": "fn", "h": handle_for(value)}."""
    if _depth > MAX_DEPTH:
        raise Refused("the value is nested too deeply")
    d = _depth + 1
    t = type(value)
    if value is None or t in (bool, str, int):
        return value
    if t is float:
        return value if math.isfinite(value) else {"t": "float", "v": repr(value)}
    if t is complex:
        return {"t": "complex", "re": encode(value.real), "im": encode(value.imag)}
    if t is bytes:
        return {"t": "bytes", "b": base64.b64encode(value).decode()}
    if t in (list, tuple, set, frozenset):
        return {"t": t.__name__, "v": [encode(v, handle_for, d) for v in value]}
    if t is dict:
        return {"t": "dict", "v": [[encode(k, handle_for, d), encode(v, handle_for, d)] for k, v in value.items()]}
    if t is decimal.Decimal:
        return {"t": "decimal", "v": str(value)}
    if t is fractions.Fraction:
        return {"t": "fraction", "n": value.numerator, "d": value.denominator}
    np = sys.modules.get("numpy")
    pd = sys.modules.get("pandas")
    if pd is not None:
        enc = _encode_pandas(value, t, pd, np, handle_for, d)
        if enc is not None:
            return enc
    if t in (datetime.datetime, datetime.date, datetime.time, datetime.timedelta):
        if t is datetime.timedelta:
            return {"t": "timedelta", "v": [value.days, value.seconds, value.microseconds]}
        if getattr(value, "tzinfo", None) is not None:
            raise Refused(refusal(f"{t.__name__} with a time zone"))
        return {"t": t.__name__, "v": value.isoformat()}
    if np is not None:
        if t is np.ndarray:
            return _encode_array(value, np, handle_for, d)
        if isinstance(value, np.generic) and t.__module__ == "numpy":
            if t is np.str_:
                return str(value)
            if value.dtype.kind not in "biufcMm?":
                raise Refused(refusal(f"numpy.{t.__name__}"))
            return {"t": "npscalar", "dtype": value.dtype.str, "b": base64.b64encode(value.tobytes()).decode()}
    mpl = sys.modules.get("matplotlib.figure")
    if mpl is not None:
        from matplotlib.axes import Axes
        from matplotlib.figure import Figure

        if isinstance(value, Axes):
            return _axes_snapshot(value, handle_for, d)
        if isinstance(value, Figure):
            return {"t": "figure", "suptitle": value.get_suptitle(),
                    "axes": [_axes_snapshot(ax, handle_for, d) for ax in value.axes]}
    if t is type(sys):  # a module: the tester uses its own copy, if it has one
        return {"t": "module", "name": str(value.__name__)}
    if _course_dataclass(t):
        return {"t": "dataclass", "cls": f"{t.__module__}:{t.__qualname__}",
                "v": {f.name: encode(getattr(value, f.name), handle_for, d) for f in dataclasses.fields(value)}}
    if callable(value) and handle_for is not None and not isinstance(value, type):
        return {"t": "fn", "h": handle_for(value), "name": str(getattr(value, "__name__", "function"))[:100]}
    raise Refused(refusal(f"{t.__module__}.{t.__qualname__}" if t.__module__ != "builtins" else t.__qualname__))


def _encode_array(arr, np, handle_for, depth):
    kind = arr.dtype.kind
    if kind == "O":
        values = arr.ravel().tolist()
        if all(type(v) is str for v in values):  # text columns: as they are (fast for big columns)
            return {"t": "ndstr", "shape": list(arr.shape), "v": values}
        return {"t": "ndobj", "shape": list(arr.shape), "v": [encode(v, handle_for, depth) for v in values]}
    if kind not in "biufcMmSU" or arr.dtype.fields is not None:
        raise Refused(refusal(f"numpy array of {arr.dtype}"))
    data = np.ascontiguousarray(arr)
    return {"t": "ndarray", "dtype": arr.dtype.str, "shape": list(arr.shape), "b": base64.b64encode(data.tobytes()).decode()}


def _encode_pandas(value, t, pd, np, handle_for, d):
    if t is pd.Timestamp:
        return {"t": "timestamp", "v": int(value.value), "unit": value.unit, "tz": str(value.tz) if value.tz else None}
    if t is pd.Timedelta:
        return {"t": "pdtimedelta", "v": int(value.value), "unit": value.unit}
    if t is pd.Period:
        return {"t": "period", "v": str(value), "freq": value.freqstr}
    if value is pd.NaT:
        return {"t": "nat"}
    if value is pd.NA:
        return {"t": "na"}
    if t is pd.Categorical:
        return {"t": "categorical", "codes": _encode_array(value.codes, np, handle_for, d),
                "categories": encode(value.categories, handle_for, d), "ordered": bool(value.ordered)}
    if t is pd.Series:
        return {"t": "series", "values": _encode_values(value.array, value.dtype, pd, np, handle_for, d),
                "index": encode(value.index, handle_for, d), "name": encode(value.name, handle_for, d)}
    if t is pd.DataFrame:
        return {"t": "dataframe", "index": encode(value.index, handle_for, d), "columns": encode(value.columns, handle_for, d),
                "data": [_encode_values(value.iloc[:, i].array, value.dtypes.iloc[i], pd, np, handle_for, d)
                         for i in range(value.shape[1])]}
    if t is pd.RangeIndex:
        return {"t": "rangeindex", "v": [value.start, value.stop, value.step], "name": encode(value.name, handle_for, d)}
    if t is pd.MultiIndex:
        return {"t": "multiindex", "levels": [encode(lv, handle_for, d) for lv in value.levels],
                "codes": [_encode_array(np.asarray(c), np, handle_for, d) for c in value.codes],
                "names": [encode(n, handle_for, d) for n in value.names]}
    if t in (pd.Index, pd.DatetimeIndex, pd.PeriodIndex, pd.CategoricalIndex, pd.TimedeltaIndex):
        freq = getattr(value, "freqstr", None) if t is pd.DatetimeIndex else None
        return {"t": "index", "values": _encode_values(value.array, value.dtype, pd, np, handle_for, d),
                "name": encode(value.name, handle_for, d), "freq": freq}
    return None


def _encode_values(array, dtype, pd, np, handle_for, d):
    """The values of a Series, column or Index, keeping their dtype."""
    if isinstance(dtype, np.dtype):
        return {"t": "np", "v": _encode_array(np.asarray(array), np, handle_for, d)}
    if isinstance(dtype, pd.CategoricalDtype):
        return {"t": "cat", "v": encode(pd.Categorical(array), handle_for, d)}
    if isinstance(dtype, pd.DatetimeTZDtype):
        return {"t": "dttz", "i8": _encode_array(np.asarray(array.asi8), np, handle_for, d), "unit": dtype.unit, "tz": str(dtype.tz)}
    if isinstance(dtype, pd.PeriodDtype):
        return {"t": "period", "i8": _encode_array(np.asarray(array.asi8), np, handle_for, d), "dtype": str(dtype)}
    name = str(dtype)
    values = array.to_numpy(dtype=object, na_value=None).tolist()
    if all(v is None or type(v) in _PLAIN for v in values):  # text, numbers: as they are (fast for big columns)
        return {"t": "extplain", "dtype": name, "v": values}
    return {"t": "ext", "dtype": name, "v": [encode(v, handle_for, d) for v in values]}


_PLAIN = (str, int, float, bool)


def _axes_snapshot(ax, handle_for, d) -> dict:
    """What tests read from a chart: text, limits, lines' data, legend labels (never pixels)."""
    def label(artist):
        return str(artist.get_label() or "")

    lines = [{"x": encode(_plainish(ln.get_xdata()), handle_for, d), "y": encode(_plainish(ln.get_ydata()), handle_for, d),
              "label": label(ln), "color": str(ln.get_color()), "linestyle": str(ln.get_linestyle())} for ln in ax.get_lines()]
    texts = [{"s": str(t.get_text()), "xy": [_num(v) for v in t.get_position()]} for t in ax.texts]
    collections = [_collection_snapshot(c, label(c), handle_for, d) for c in ax.collections]
    patches = []
    for p in ax.patches:
        box = [_num(f()) for f in (getattr(p, "get_x", None), getattr(p, "get_y", None), getattr(p, "get_width", None),
                                   getattr(p, "get_height", None)) if f is not None]
        patches.append({"label": label(p), "box": box if len(box) == 4 else [0.0, 0.0, 0.0, 0.0]})
    legend = ax.get_legend()
    return {"t": "axes", "title": [ax.get_title(loc) for loc in ("center", "left", "right")],
            "xlabel": ax.get_xlabel(), "ylabel": ax.get_ylabel(),
            "xlim": [_num(v) for v in ax.get_xlim()], "ylim": [_num(v) for v in ax.get_ylim()],
            "xscale": ax.get_xscale(), "yscale": ax.get_yscale(), "lines": lines, "texts": texts,
            "collections": collections, "patches": patches, "period_freq": _period_freq(ax),
            "legend": [str(t.get_text()) for t in legend.get_texts()] if legend is not None else None}


def _period_freq(ax):
    """pandas' time-series axis (Series.plot on dates) counts in periods: the tester's copy must convert alike."""
    freq = getattr(ax.xaxis, "freq", None)
    if freq is None or type(ax.xaxis.get_converter()).__name__ != "PeriodConverter":
        return None
    return str(getattr(freq, "freqstr", freq))


def _collection_snapshot(coll, label: str, handle_for, d) -> dict:
    """A collection as tests read it: scatter offsets, `hlines`/`vlines` segments, `fill_between` polygons."""
    from matplotlib.collections import LineCollection, PolyCollection

    np = sys.modules["numpy"]
    kind = "lines" if isinstance(coll, LineCollection) else "polys" if isinstance(coll, PolyCollection) else "points"
    paths = []
    if kind != "points":
        paths = [encode(np.asarray(np.ma.getdata(p.vertices), dtype=float), handle_for, d) for p in coll.get_paths()[:10_000]]
    offsets = np.asarray(np.ma.getdata(coll.get_offsets()), dtype=float) if kind == "points" else np.zeros((0, 2))
    return {"label": label, "kind": kind, "paths": paths, "offsets": encode(offsets, handle_for, d)}


def _plainish(data):
    """Line data as drawn: a NumPy array or a list (masked arrays lose their mask, as tests never read it)."""
    np = sys.modules["numpy"]
    if isinstance(data, np.ma.MaskedArray):
        return np.ma.getdata(data)
    if type(data) not in (list, tuple) and not isinstance(data, np.ndarray):
        return list(data)
    return data


def _num(v) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return 0.0


# ---- decoding (in the trusted tester: builds only plain objects) ---------------------------------

class BadValue(Exception):
    """An encoded value that does not follow the format (a broken or forged message)."""


def decode(node, make_function=None, _depth: int = 0, _count: list | None = None):
    """Rebuild an encoded value with trusted constructors; raises BadValue or Refused."""
    if _depth > MAX_DEPTH:
        raise BadValue("nested too deeply")
    count = _count if _count is not None else [0]
    count[0] += 1
    if count[0] > MAX_NODES:
        raise BadValue("too many elements")
    if node is None or type(node) in (bool, str, int, float):
        return node
    if type(node) is not dict or type(node.get("t")) is not str:
        raise BadValue(f"unexpected {type(node).__name__}")
    dec = lambda n: decode(n, make_function, _depth + 1, count)  # noqa: E731
    tag = node["t"]
    try:
        if tag in ("list", "tuple", "set", "frozenset"):
            items = [dec(v) for v in _list(node["v"])]
            return {"list": list, "tuple": tuple, "set": set, "frozenset": frozenset}[tag](items)
        if tag == "dict":
            return {dec(k): dec(v) for k, v in (_pair(p) for p in _list(node["v"]))}
        if tag == "float":
            return float({"nan": "nan", "inf": "inf", "-inf": "-inf"}[node["v"]])
        if tag == "complex":
            return complex(_real(dec(node["re"])), _real(dec(node["im"])))
        if tag == "bytes":
            return base64.b64decode(_str(node["b"]), validate=True)
        if tag == "decimal":
            return decimal.Decimal(_str(node["v"]))
        if tag == "fraction":
            return fractions.Fraction(_int(node["n"]), _int(node["d"]))
        if tag == "timedelta":
            days, secs, micro = (_int(x) for x in _list(node["v"]))
            return datetime.timedelta(days=days, seconds=secs, microseconds=micro)
        if tag in ("datetime", "date", "time"):
            return getattr(datetime, tag).fromisoformat(_str(node["v"]))
        if tag == "fn":
            if make_function is None:
                raise BadValue("a function where data was expected")
            return make_function(_int(node["h"]), _str(node.get("name", "function")))
        if tag == "module":
            mod = sys.modules.get(_str(node["name"]))
            if mod is None:
                raise Refused(refusal(f"module {node['name']}"))
            return mod
        if tag == "dataclass":
            return _decode_dataclass(node, dec)
        if tag in ("axes", "figure"):
            return _rebuild_figure(node, dec)
        import numpy as np

        if tag == "ndarray":
            return _decode_array(node, np)
        if tag == "ndstr":
            values = _list(node["v"])
            if not all(type(v) is str for v in values):
                raise BadValue("text array")
            count[0] += len(values)
            shape = tuple(_int(x) for x in _list(node["shape"]))
            arr = np.empty(len(values), dtype=object)
            arr[:] = values
            return arr.reshape(shape)
        if tag == "ndobj":
            shape = tuple(_int(s) for s in _list(node["shape"]))
            values = [dec(v) for v in _list(node["v"])]
            arr = np.empty(len(values), dtype=object)
            arr[:] = values
            return arr.reshape(shape)
        if tag == "npscalar":
            dtype = _dtype(node["dtype"], np)
            raw = base64.b64decode(_str(node["b"]), validate=True)
            if len(raw) != dtype.itemsize:
                raise BadValue("scalar size")
            return np.frombuffer(raw, dtype=dtype)[0]
        import pandas as pd

        return _decode_pandas(node, tag, dec, np, pd)
    except (BadValue, Refused):
        raise
    except (KeyError, TypeError, ValueError, IndexError, OverflowError, decimal.InvalidOperation, ZeroDivisionError,
            AttributeError) as exc:
        raise BadValue(f"{tag}: {type(exc).__name__}") from None


def _decode_pandas(node, tag, dec, np, pd):
    if tag == "timestamp":
        ts = pd.Timestamp(_int(node["v"]), unit="ns").as_unit(_str(node["unit"]))
        return ts.tz_localize("UTC").tz_convert(_str(node["tz"])) if node.get("tz") else ts
    if tag == "pdtimedelta":
        return pd.Timedelta(_int(node["v"]), unit="ns").as_unit(_str(node["unit"]))
    if tag == "period":
        return pd.Period(_str(node["v"]), freq=_str(node["freq"]))
    if tag == "nat":
        return pd.NaT
    if tag == "na":
        return pd.NA
    if tag == "categorical":
        codes = _decode_array(node["codes"], np)
        return pd.Categorical.from_codes(codes, categories=dec(node["categories"]), ordered=bool(node["ordered"]))
    if tag == "series":
        index = _index(dec(node["index"]), pd)
        return pd.Series(_decode_values(node["values"], dec, np, pd), index=index, name=_hashable(dec(node["name"])), copy=False)
    if tag == "dataframe":
        index, columns = _index(dec(node["index"]), pd), _index(dec(node["columns"]), pd)
        data = [_decode_values(v, dec, np, pd) for v in _list(node["data"])]
        if len(data) != len(columns):
            raise BadValue("dataframe columns")
        frame = pd.DataFrame({i: pd.Series(v, index=index, copy=False) for i, v in enumerate(data)}, index=index)
        frame.columns = columns
        return frame
    if tag == "rangeindex":
        start, stop, step = (_int(x) for x in _list(node["v"]))
        return pd.RangeIndex(start, stop, step, name=_hashable(dec(node["name"])))
    if tag == "multiindex":
        levels = [_index(dec(lv), pd) for lv in _list(node["levels"])]
        codes = [_decode_array(c, np) for c in _list(node["codes"])]
        return pd.MultiIndex(levels=levels, codes=codes, names=[_hashable(dec(n)) for n in _list(node["names"])])
    if tag == "index":
        values = _decode_values(node["values"], dec, np, pd)
        index = pd.Index(values, name=_hashable(dec(node["name"])), copy=False, tupleize_cols=False)
        freq = node.get("freq")
        if freq and isinstance(index, pd.DatetimeIndex):
            try:
                index = pd.DatetimeIndex(index, freq=_str(freq))
            except (TypeError, ValueError):  # a frequency the values do not follow: keep them without it
                pass
        return index
    raise BadValue(f"unknown tag {tag[:40]!r}")


def _decode_values(node, dec, np, pd):
    tag = node["t"] if type(node) is dict else None
    if tag == "np":
        return _decode_array(node["v"], np) if node["v"].get("t") == "ndarray" else dec(node["v"])
    if tag == "cat":
        value = dec(node["v"])
        if type(value) is not pd.Categorical:
            raise BadValue("categorical values")
        return value
    if tag == "dttz":
        i8 = _decode_array(node["i8"], np)
        if i8.dtype != np.int64:
            raise BadValue("datetime values")
        unit = _str(node["unit"])
        return pd.DatetimeIndex(i8.view(f"M8[{unit}]")).tz_localize("UTC").tz_convert(_str(node["tz"])).array
    if tag == "period":
        i8 = _decode_array(node["i8"], np)
        if i8.dtype != np.int64:
            raise BadValue("period values")
        dtype = pd.api.types.pandas_dtype(_str(node["dtype"]))
        if not isinstance(dtype, pd.PeriodDtype):
            raise BadValue("period dtype")
        return pd.arrays.PeriodArray(i8, dtype=dtype)
    if tag == "ext":
        return pd.array([dec(v) for v in _list(node["v"])], dtype=_str(node["dtype"]))
    if tag == "extplain":
        values = _list(node["v"])
        if not all(v is None or type(v) in _PLAIN for v in values):
            raise BadValue("column values")
        return pd.array(values, dtype=_str(node["dtype"]))
    raise BadValue("column values")


def _decode_array(node, np):
    if type(node) is not dict or node.get("t") != "ndarray":
        raise BadValue("array expected")
    dtype = _dtype(node["dtype"], np)
    shape = tuple(_int(s) for s in _list(node["shape"]))
    raw = base64.b64decode(_str(node["b"]), validate=True)
    if any(s < 0 for s in shape) or math.prod(shape) * dtype.itemsize != len(raw):
        raise BadValue("array size")
    return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()


def _dtype(text, np):
    dtype = np.dtype(_str(text))
    if dtype.kind not in "biufcMmSU?" or dtype.fields is not None or dtype.hasobject:
        raise BadValue("dtype")
    return dtype


def _decode_dataclass(node, dec):
    module, _, qualname = _str(node["cls"]).partition(":")
    mod = sys.modules.get(module)
    cls = getattr(mod, qualname, None) if mod is not None and "." not in qualname else None
    if cls is None or not isinstance(cls, type) or not _course_dataclass(cls) or cls.__module__ != module:
        raise Refused(refusal(f"{module}.{qualname}"))
    fields = [f.name for f in dataclasses.fields(cls)]
    values = node["v"]
    if type(values) is not dict or sorted(values) != sorted(fields):
        raise BadValue("dataclass fields")
    obj = object.__new__(cls)  # fields set directly: the values are checked data, and no learner code runs
    for name in fields:
        object.__setattr__(obj, name, dec(values[name]))
    return obj


def _rebuild_figure(node, dec):
    """A real matplotlib Figure (or Axes) carrying the snapshot, so chart tests run unchanged."""
    from matplotlib.figure import Figure

    fig = Figure()
    if node["t"] == "axes":
        return _rebuild_axes(fig, node, dec)
    for ax_node in _list(node["axes"]):
        _rebuild_axes(fig, ax_node, dec)
    if node.get("suptitle"):
        fig.suptitle(_str(node["suptitle"]))
    return fig


def _rebuild_axes(fig, node, dec):
    from matplotlib.collections import LineCollection, PathCollection, PolyCollection
    from matplotlib.lines import Line2D
    from matplotlib.patches import Rectangle

    if type(node) is not dict or node.get("t") != "axes":
        raise BadValue("axes expected")
    ax = fig.add_subplot()
    if node.get("period_freq") is not None:
        from pandas.plotting._matplotlib.converter import PeriodConverter
        from pandas.tseries.frequencies import to_offset

        ax.xaxis.set_converter(PeriodConverter())
        ax.xaxis.freq = ax.freq = to_offset(_str(node["period_freq"]))
    for loc, text in zip(("center", "left", "right"), _list(node["title"])):
        if text:
            ax.set_title(_str(text), loc=loc)
    ax.set_xlabel(_str(node["xlabel"]))
    ax.set_ylabel(_str(node["ylabel"]))
    for axis in ("x", "y"):
        scale = _str(node[f"{axis}scale"])
        if scale in ("linear", "log", "symlog", "logit"):
            getattr(ax, f"set_{axis}scale")(scale)
    for line in _list(node["lines"]):  # add_artist: the data are kept exactly as sent (no unit conversion)
        ax.add_artist(Line2D(dec(line["x"]), dec(line["y"]), label=_str(line["label"]), color=_color(line.get("color")),
                             linestyle=_str(line.get("linestyle", "-")) if line.get("linestyle") in ("-", "--", "-.", ":", "None", "") else "-"))
    for coll in _list(node["collections"]):
        kind = coll.get("kind", "points")
        if kind in ("lines", "polys"):
            shapes = [_offsets(dec(v)) for v in _list(coll.get("paths", []))]
            made = (LineCollection if kind == "lines" else PolyCollection)(shapes, label=_str(coll["label"]))
        else:
            made = PathCollection([], label=_str(coll["label"]), offsets=_offsets(dec(coll["offsets"])))
        ax.add_collection(made, autolim=False)
    for patch in _list(node["patches"]):
        x, y, w, h = (float(v) for v in _list(patch["box"]))
        ax.add_artist(Rectangle((x, y), w, h, label=_str(patch["label"])))
    for text in _list(node["texts"]):
        x, y = (float(v) for v in _list(text["xy"]))
        ax.text(x, y, _str(text["s"]))
    xlim, ylim = [float(v) for v in _list(node["xlim"])], [float(v) for v in _list(node["ylim"])]
    if len(xlim) == 2 and all(map(math.isfinite, xlim)):
        ax.set_xlim(*xlim)
    if len(ylim) == 2 and all(map(math.isfinite, ylim)):
        ax.set_ylim(*ylim)
    if node.get("legend") is not None:
        handles, labels = ax.get_legend_handles_labels()
        if handles:
            ax.legend(handles, labels)
    return ax


def _offsets(value):
    import numpy as np

    arr = np.asarray(value, dtype=float)
    return arr.reshape(-1, 2) if arr.size % 2 == 0 else np.zeros((0, 2))


def _color(value):
    from matplotlib.colors import is_color_like

    return value if isinstance(value, str) and is_color_like(value) else None


def _index(value, pd):
    if not isinstance(value, pd.Index):
        raise BadValue("index expected")
    return value


def _hashable(value):
    try:
        hash(value)
    except TypeError:
        raise BadValue("unhashable name") from None
    return value


def _real(v):
    if type(v) not in (int, float):
        raise BadValue("number expected")
    return v


def _list(v) -> list:
    if type(v) is not list:
        raise BadValue("list expected")
    return v


def _pair(v) -> list:
    if type(v) is not list or len(v) != 2:
        raise BadValue("pair expected")
    return v


def _str(v) -> str:
    if type(v) is not str:
        raise BadValue("text expected")
    return v


def _int(v) -> int:
    if type(v) is not int:
        raise BadValue("integer expected")
    return v
