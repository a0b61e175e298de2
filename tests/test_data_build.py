"""Do the committed datasets match their recipes byte for byte, and do build/check/list/describe work?"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from qicourse.cli import main
from qicourse.data import build_all, list_datasets
from qicourse.data.build import check

DATASETS = Path(__file__).resolve().parent.parent / "datasets"


@pytest.fixture(scope="module")
def fresh(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("fresh")
    build_all(out, recipes=DATASETS / "recipes")
    return out


def test_committed_datasets_match_a_rebuild_byte_for_byte(fresh):
    """Does rebuilding from the recipes reproduce every committed CSV, truth file and the README?"""
    names = sorted(p.name for p in fresh.iterdir())
    expected = sorted([f"{n}.csv" for n in list_datasets()] + [f"{n}.truth.json" for n in list_datasets()] + ["README.md"])
    assert names == expected
    drifted = [n for n in names if (fresh / n).read_bytes() != (DATASETS / n).read_bytes()]
    assert not drifted, f"committed files drift from their recipes: {drifted} (run `qicourse datasets build`)"


def test_output_is_plain_deterministic_text(fresh):
    """Unix line endings, UTF-8, no build timestamps or absolute paths in what we write."""
    for path in fresh.iterdir():
        data = path.read_bytes()
        assert b"\r\n" not in data
        text = data.decode("utf-8")
        assert str(fresh) not in text and "/work/" not in text
        assert data.endswith(b"\n")


def test_the_recipe_drives_the_data(tmp_path):
    """Changing one recipe's seed changes that dataset and only that one."""
    recipes = tmp_path / "recipes"
    shutil.copytree(DATASETS / "recipes", recipes)
    r = yaml.safe_load((recipes / "vte.yaml").read_text())
    r["seed"] += 1
    (recipes / "vte.yaml").write_text(yaml.safe_dump(r))
    build_all(tmp_path / "out", recipes=recipes)
    assert (tmp_path / "out" / "vte.csv").read_bytes() != (DATASETS / "vte.csv").read_bytes()
    assert (tmp_path / "out" / "falls.csv").read_bytes() == (DATASETS / "falls.csv").read_bytes()


def test_bad_recipe_gives_a_clear_error(tmp_path):
    """A missing or mislabelled recipe names the file."""
    recipes = tmp_path / "recipes"
    shutil.copytree(DATASETS / "recipes", recipes)
    (recipes / "falls.yaml").write_text("name: sepsis\nseed: 1\n")
    with pytest.raises(ValueError, match="falls.yaml"):
        build_all(tmp_path / "out", recipes=recipes)
    (recipes / "falls.yaml").unlink()
    with pytest.raises(FileNotFoundError, match="falls"):
        build_all(tmp_path / "out", recipes=recipes)


def test_check_reports_drift_and_the_cli_exits_1(tmp_path, capsys):
    """Does `qicourse datasets check` pass on a clean copy, and exit 1 naming a tampered file?"""
    copy = tmp_path / "datasets"
    shutil.copytree(DATASETS, copy)
    assert main(["datasets", "check", "--datasets", str(copy)]) == 0
    csv = copy / "falls.csv"
    csv.write_text(csv.read_text().replace("Rowan,28,2", "Rowan,28,1", 1))
    (copy / "news2.truth.json").unlink()
    capsys.readouterr()
    assert main(["datasets", "check", "--datasets", str(copy)]) == 1
    out = capsys.readouterr().out
    assert "falls.csv" in out and "news2.truth.json: missing" in out and "sepsis.csv" not in out
    assert check(copy) == ["falls.csv: differs from its recipe", "news2.truth.json: missing"]


def test_cli_build_list_and_describe(tmp_path, capsys):
    """`build --out` writes every file; `list` names every dataset; `describe` prints a data card."""
    assert main(["datasets", "build", "--out", str(tmp_path), "--recipes", str(DATASETS / "recipes")]) == 0
    assert (tmp_path / "patients.csv").is_file() and (tmp_path / "README.md").is_file()
    assert main(["datasets", "list"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in list_datasets())
    assert main(["datasets", "describe", "sepsis"]) == 0
    assert "minutes_to_antibiotics" in capsys.readouterr().out


def test_cli_unknown_dataset_is_a_user_error(capsys):
    """An unknown name exits 2 with the list of datasets, not a traceback."""
    assert main(["datasets", "describe", "strokes"]) == 2
    err = capsys.readouterr().err
    assert "strokes" in err and "falls" in err and "Traceback" not in err


def test_data_dictionary_documents_every_column_and_effect():
    """Does datasets/README.md list every dataset, every column, and the planted change dates?"""
    from qicourse.data import truth
    from qicourse.data.schema import DATASETS as SPECS

    readme = (DATASETS / "README.md").read_text(encoding="utf-8")
    for name, spec in SPECS.items():
        assert f"## `{name}`" in readme
        for col in spec.columns:
            assert f"| `{col.name}` |" in readme, (name, col.name)
    assert truth("falls")["intervention"]["date"] in readme
    for c in truth("sepsis")["pdsa_cycles"]:
        assert c["date"] in readme


def test_other_seeds_give_valid_data_too(tmp_path, monkeypatch):
    """The generators are not tuned to one draw: with every seed changed, all datasets still build,
    load with their schema dtypes and keep their invariants."""
    from qicourse.data import load

    recipes = tmp_path / "datasets" / "recipes"
    shutil.copytree(DATASETS / "recipes", recipes)
    for path in recipes.glob("*.yaml"):
        r = yaml.safe_load(path.read_text())
        r["seed"] += 7919
        path.write_text(yaml.safe_dump(r, sort_keys=False))
    build_all(tmp_path / "datasets", recipes=recipes)
    monkeypatch.setenv("QICOURSE_DATA", str(tmp_path / "datasets"))
    frames = {name: load(name) for name in list_datasets()}
    assert (frames["falls"]["falls"] == frames["falls"].filter(like="_harm").sum(axis=1)).all()
    assert (frames["vte"]["assessed"] <= frames["vte"]["admissions"]).all()
    ids = set(frames["patients"]["patient_id"])
    assert set(frames["sepsis"]["patient_id"]) | set(frames["discharges"]["patient_id"]) == ids
    assert frames["feedback"]["comment"].nunique() / len(frames["feedback"]) >= 0.9
    assert (frames["sepsis"]["minutes_to_antibiotics"] > 0).all()
