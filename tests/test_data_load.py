"""Does `load` give tidy frames with proper dtypes, and clear errors for unknown names and bad files?"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from qicourse.data import describe, list_datasets, load, truth
from qicourse.data.schema import DATASETS as SPECS

DATASETS = Path(__file__).resolve().parent.parent / "datasets"


def test_list_datasets_names_the_contract_sets():
    assert list_datasets() == ["falls", "sepsis", "vte", "discharges", "incidents", "news2", "feedback", "patients"]


@pytest.mark.parametrize("name", list(SPECS))
def test_load_gives_schema_dtypes(name):
    """Dates are datetime64, counts int64, flags bool, categories categorical (ordered where order matters)."""
    df = load(name)
    spec = SPECS[name]
    assert list(df.columns) == [c.name for c in spec.columns]
    assert len(df) > 0
    for c in spec.columns:
        s = df[c.name]
        if c.kind in ("date", "datetime"):
            assert pd.api.types.is_datetime64_any_dtype(s), c.name
            assert s.notna().all()
        elif c.kind == "int":
            assert s.dtype == "int64", c.name
        elif c.kind == "bool":
            assert s.dtype == bool, c.name
        elif c.kind == "str":
            assert pd.api.types.is_string_dtype(s) and s.notna().all(), c.name
        else:
            assert isinstance(s.dtype, pd.CategoricalDtype), c.name
            assert s.cat.ordered == (c.kind == "ordered"), c.name
            if c.categories:
                assert list(s.cat.categories) == list(c.categories), c.name


def test_ordered_categories_compare_in_clinical_order():
    """harm, imd_quintile and age_band sort and compare in their natural order."""
    inc = load("incidents")
    assert (inc["harm"] >= "Moderate").sum() == inc["harm"].isin(["Moderate", "Severe", "Death"]).sum()
    p = load("patients")
    assert list(p["imd_quintile"].cat.categories) == [1, 2, 3, 4, 5]
    assert (p["imd_quintile"] <= 2).sum() == p["imd_quintile"].isin([1, 2]).sum()
    assert p.sort_values("age_band")["age_band"].iloc[-1] == "80+"


def test_load_returns_an_independent_copy():
    """Editing a loaded frame (copy-on-write or not) does not change the next load."""
    a = load("vte")
    a.loc[0, "assessed"] = -1
    assert load("vte").loc[0, "assessed"] >= 0


def test_unknown_name_lists_the_available_datasets():
    with pytest.raises(ValueError, match="available: falls, sepsis"):
        load("fals")
    with pytest.raises(ValueError, match="available"):
        truth("nope")
    with pytest.raises(ValueError, match="available"):
        describe(None)


@pytest.fixture
def copy(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "datasets"
    shutil.copytree(DATASETS, folder)
    monkeypatch.setenv("QICOURSE_DATA", str(folder))
    return folder


def test_missing_file_says_how_to_rebuild(copy):
    (copy / "news2.csv").unlink()
    with pytest.raises(FileNotFoundError, match=r"news2\.csv.*qicourse datasets build.*falls\.csv"):
        load("news2")


@pytest.mark.parametrize(
    "mangle, message",
    [
        (lambda t: t.replace("2023-04-02", "2023-04-32", 1), r"falls\.csv: column 'date' line 3: '2023-04-32'"),
        (lambda t: t.replace(",Rowan,", ",Rowen,", 1), r"column 'ward'.*'Rowen'"),
        (lambda t: t.replace("Rowan,28,", "Rowan,twenty-eight,", 1), r"column 'beds'.*whole number"),
        (lambda t: t.replace("occupied_bed_days,", "obd,", 1), r"missing column.*occupied_bed_days"),
        (lambda t: "", r"not a readable CSV"),
        (lambda t: t[: len(t) // 2] + '"unterminated\n' + t[len(t) // 2:], r"falls\.csv"),
    ],
    ids=["bad-date", "unknown-ward", "bad-int", "renamed-column", "empty", "broken-quote"],
)
def test_corrupt_csv_gives_a_clear_error(copy, mangle, message):
    path = copy / "falls.csv"
    path.write_text(mangle(path.read_text()))
    with pytest.raises(ValueError, match=message):
        load("falls")


def test_binary_garbage_and_bad_json_are_clear_errors(copy):
    (copy / "vte.csv").write_bytes(b"\x89PNG\r\n\x1a\n\x00\xff\xfe" * 20)
    with pytest.raises(ValueError, match="vte"):
        load("vte")
    (copy / "vte.truth.json").write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        truth("vte")


def test_describe_is_a_data_card():
    card = describe("falls")
    assert "Rows: 731" in card and "Period: 2023-04-01 to 2025-03-31" in card
    for c in SPECS["falls"].columns:
        assert c.name in card
    assert "bed days" in card


def test_truth_holds_change_dates_effects_and_inequity():
    assert truth("falls")["rate_per_1000_obd"] == {"before": 8.0, "after": 5.0}
    s = truth("sepsis")
    assert len(s["pdsa_cycles"]) >= 3 and all("date" in c and "factor" in c for c in s["pdsa_cycles"])
    assert s["planted_inequity"]["interpreter"]["factor"] > 1
    fb = truth("feedback")
    assert "comments" in fb and "themes" in fb
    assert "comment" not in load("feedback").columns.drop("comment").tolist()  # themes stay hidden
    assert not {"themes", "theme", "sentiment"} & set(load("feedback").columns)
