"""Tests for the ops CLI: model evaluate, score (formula-safe CSV), the promotion gate, audit and rollback."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from moderation.model.estimator import ModerationModel
from moderation.model.registry import active_version, save_model
from moderation.reading.features import CommentDoc
from training.cli import model
from training.csv_scoring import safe_cell
from training.datasets import seed_path
from training.promotion import audit_log, compare
from training.train import train_model

SPAM = "𝐆𝐀𝐑𝐔𝐃𝐀𝟏𝟑𝟖 gacor parah, depo 50rb langsung maxwin"
HAM = "Semoga pembangunan jembatan di Kabupaten Sigi cepat selesai."


def _seed_rows(kind: str) -> list[dict[str, str]]:
    """Rows of the seed set whose label belongs to one head."""
    labels = {"spam": ("spam", "ham"), "abuse": ("abusive", "clean")}[kind]
    with seed_path().open(encoding="utf-8", newline="") as fh:
        return [r for r in csv.DictReader(fh) if r["label"] in labels]


def _write(path: Path, rows: list[dict[str, str]], columns: list[str]) -> Path:
    """Write rows as a CSV with the given header."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A good model (seed set) and a bad one (seed set with spam/ham swapped), both unsaved."""
    tmp = tmp_path_factory.mktemp("ops")
    flip = {"spam": "ham", "ham": "spam"}
    swapped = [{**r, "label": flip.get(r["label"], r["label"])} for r in _seed_rows("spam") + _seed_rows("abuse")]
    bad_csv = _write(tmp / "swapped.csv", swapped, ["text", "label"])
    return {"good": train_model([]), "bad": train_model([bad_csv], include_seed=False)}


@pytest.fixture()
def env(tmp_path: Path, models: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """A model directory with the good model active and the bad one saved beside it."""
    model_dir = tmp_path / "models"
    monkeypatch.setenv("MODERATION_MODEL_DIR", str(model_dir))
    monkeypatch.setenv("MODERATION_DATA_DIR", str(tmp_path / "var"))
    good = save_model(*models["good"], model_dir, activate=True)
    bad = save_model(*models["bad"], model_dir, activate=False)
    eval_csv = _write(tmp_path / "eval.csv", _seed_rows("spam"), ["text", "label"])
    return {"dir": model_dir, "good": good, "bad": bad, "eval": eval_csv, "tmp": tmp_path}


def test_evaluate_json_has_the_contract_fields(env: dict[str, Any]) -> None:
    """evaluate --json prints one object with n, precision, recall, f1, fpr, roc_auc, pr_auc, seconds."""
    result = CliRunner().invoke(model, ["evaluate", "--data", str(env["eval"]), "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["n"] == len(_seed_rows("spam")) and out["model_version"] == env["good"]
    for key in ("precision", "recall", "f1", "fpr", "roc_auc", "pr_auc"):
        assert 0.0 <= out[key] <= 1.0, key
    assert out["roc_auc"] > 0.95 and out["seconds"] >= 0
    tp, fp, fn, tn = (out[k] for k in ("tp", "fp", "fn", "tn"))
    assert tp + fp + fn + tn == out["n"] and out["fpr"] == round(fp / (fp + tn), 4)


def test_evaluate_of_a_named_version_and_bad_labels(env: dict[str, Any]) -> None:
    """--model picks a version; a CSV with an unknown label is refused with a clear error."""
    result = CliRunner().invoke(model, ["evaluate", "--data", str(env["eval"]), "--model", env["bad"], "--json"])
    assert json.loads(result.stdout)["roc_auc"] < 0.5  # the swapped model ranks spam lowest
    broken = _write(env["tmp"] / "broken.csv", [{"text": "x", "label": "maybe"}], ["text", "label"])
    result = CliRunner().invoke(model, ["evaluate", "--data", str(broken), "--json"])
    assert result.exit_code != 0 and "spam' or 'ham" in result.output


def test_score_adds_columns_and_defuses_formulas(env: dict[str, Any]) -> None:
    """score writes input rows plus spam/abusive/decision; cells starting with = + - @ are neutralised."""
    rows = [
        {"text": SPAM, "author": "=HYPERLINK(\"http://evil\",\"x\")"},
        {"text": HAM, "author": "Andi"},
        {"text": "=1+2 @SUM(A1) kasih komentar", "author": "-2+3"},
    ]
    src = _write(env["tmp"] / "in.csv", rows, ["text", "author"])
    out = env["tmp"] / "out.csv"
    result = CliRunner().invoke(model, ["score", "--data", str(src), "--out", str(out)])
    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8", newline="") as fh:
        scored = list(csv.DictReader(fh))
    assert [r["text"] for r in scored[:2]] == [SPAM, HAM]
    assert scored[0]["author"].startswith("'=") and scored[2]["text"].startswith("'=")
    assert scored[2]["author"] == "'-2+3"
    assert scored[0]["decision"] in ("spam", "held") and scored[1]["decision"] == "approved"
    assert float(scored[0]["spam"]) > float(scored[1]["spam"])
    assert all(0 <= float(r["abusive"]) <= 1 for r in scored)


def test_score_to_stdout_and_without_text_column(env: dict[str, Any]) -> None:
    """Without --out the CSV goes to stdout; a file without a text column is refused and writes nothing."""
    src = _write(env["tmp"] / "in.csv", [{"text": HAM}], ["text"])
    result = CliRunner().invoke(model, ["score", "--data", str(src)])
    assert list(csv.DictReader(io.StringIO(result.stdout)))[0]["decision"] == "approved"
    bad = _write(env["tmp"] / "bad.csv", [{"body": HAM}], ["body"])
    out = env["tmp"] / "never.csv"
    result = CliRunner().invoke(model, ["score", "--data", str(bad), "--out", str(out)])
    assert result.exit_code != 0 and "text" in result.output and not out.exists()


def test_safe_cell_leaves_ordinary_text_alone() -> None:
    """Only cells a spreadsheet would evaluate get the quote prefix."""
    assert safe_cell("Mantap beritanya") == "Mantap beritanya"
    assert safe_cell("email a@b.c") == "email a@b.c"
    assert safe_cell("+62812") == "'+62812"
    assert safe_cell("\t=cmd") == "'\t=cmd"


def test_gate_refuses_a_worse_model_then_force_and_rollback(env: dict[str, Any]) -> None:
    """promote refuses a worse model on the evaluation set, --force overrides, rollback restores; all audited."""
    runner = CliRunner()
    refused = runner.invoke(model, ["promote", env["bad"], "--data", str(env["eval"])])
    assert refused.exit_code != 0 and "--force" in refused.output
    assert active_version(env["dir"]) == env["good"]
    forced = runner.invoke(model, ["promote", env["bad"], "--data", str(env["eval"]), "--force"])
    assert forced.exit_code == 0, forced.output
    assert active_version(env["dir"]) == env["bad"]
    back = runner.invoke(model, ["rollback"])
    assert back.exit_code == 0, back.output
    assert active_version(env["dir"]) == env["good"]
    actions = [(e["action"], e["version"], e["forced"]) for e in audit_log(env["dir"])]
    assert actions == [("refused", env["bad"], False), ("promoted", env["bad"], True), ("rollback", env["good"], False)]
    gate = audit_log(env["dir"])[0]["gate"]
    assert gate["candidate_recall"] < gate["active_recall"] and gate["n"] == len(_seed_rows("spam"))


def _recording(method: Callable[..., Any], seen: list[Any]) -> Callable[..., Any]:
    """Wrap a model method so every batch it is given is kept in ``seen``."""

    def wrapper(self: ModerationModel, texts: Any) -> Any:
        seen.extend(texts)
        return method(self, texts)

    return wrapper


def test_evaluate_and_gate_score_rows_with_their_author_columns(env: dict[str, Any],
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """evaluate and the promotion gate hand the model each CSV row's author fields, not its text alone."""
    seen: list[Any] = []
    for name in ("rows", "features"):
        monkeypatch.setattr(ModerationModel, name, _recording(getattr(ModerationModel, name), seen))
    rows = [{"text": SPAM, "label": "spam", "author_name": "Andi", "author_url": "https://garuda138.vip",
             "author_email": "cs@garuda138.vip"}, {"text": HAM, "label": "ham", "author_name": "Budi"}]
    path = _write(env["tmp"] / "authors.csv", rows, ["text", "label", "author_name", "author_url", "author_email"])
    expected = [CommentDoc(SPAM, "Andi", "https://garuda138.vip", "cs@garuda138.vip"), CommentDoc(HAM, "Budi")]
    result = CliRunner().invoke(model, ["evaluate", "--data", str(path), "--json"])
    assert result.exit_code == 0, result.output
    assert seen == expected
    seen.clear()
    assert compare(env["dir"], env["bad"], [path], 0.01).n == 2
    assert seen == expected * 2  # the candidate and the active model


def test_list_shows_fingerprint_metrics_and_active_flag(env: dict[str, Any]) -> None:
    """list --json names every version with its data fingerprint, key metrics and the active flag."""
    result = CliRunner().invoke(model, ["list", "--json"])
    listed = {row["version"]: row for row in json.loads(result.stdout)}
    assert set(listed) == {env["good"], env["bad"]}
    assert listed[env["good"]]["active"] and not listed[env["bad"]]["active"]
    assert len(listed[env["good"]]["data_fingerprint"]) == 12
    assert listed[env["good"]]["data_fingerprint"] != listed[env["bad"]]["data_fingerprint"]
    assert listed[env["good"]]["spam_roc_auc"] > 0.9


def test_train_writes_a_report_with_plots(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """train saves report.md and the PR/ROC, confusion and calibration PNGs in the version folder."""
    monkeypatch.setenv("MODERATION_MODEL_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("MODERATION_DATA_DIR", str(tmp_path / "var"))
    result = CliRunner().invoke(model, ["train", "--json"])
    assert result.exit_code == 0, result.output
    version = json.loads(result.stdout)["version"]
    folder = tmp_path / "models" / version
    report = (folder / "report.md").read_text(encoding="utf-8")
    for head in ("spam", "abusive"):
        for kind in ("curves", "confusion", "calibration"):
            png = folder / f"{head}_{kind}.png"
            assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.name in report


def test_train_activate_is_audited_like_a_promotion(env: dict[str, Any]) -> None:
    """train --activate appends the 'promoted' audit line a promote writes; rollback then returns to the old model."""
    result = CliRunner().invoke(model, ["train", "--json", "--activate"])
    assert result.exit_code == 0, result.output
    version = json.loads(result.stdout)["version"]
    assert active_version(env["dir"]) == version
    (entry,) = audit_log(env["dir"])
    assert (entry["action"], entry["version"], entry["previous"], entry["forced"]) == (
        "promoted", version, env["good"], False
    )  # fmt: skip
    assert set(entry) == {"at", "action", "version", "previous", "forced", "actor", "gate"}
    not_activated = CliRunner().invoke(model, ["train", "--json", "--no-activate"])
    assert not_activated.exit_code == 0 and len(audit_log(env["dir"])) == 1
    assert CliRunner().invoke(model, ["rollback"]).exit_code == 0
    assert active_version(env["dir"]) == env["good"]
