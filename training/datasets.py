"""Labelled training data: the manifest (licences, label maps) and the loaders.

A source is a CSV, JSONL or WordPress WXR (.xml) file with at least a text and
a label per comment (``training.loaders`` reads the rows; author name, URL and
e-mail are kept when present).  A folder laid out like
``shared/data`` holds one source per sub-folder (``<name>/data.csv``); the
manifest in ``config/datasets.toml`` decides which sub-folders may be used
(licence) and how their labels map onto the two heads.  Files are read in
place, never copied.
"""

from __future__ import annotations

import logging
import os
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from moderation.reading.features import CommentDoc
from training.loaders import read_rows

__all__ = [
    "KIND_OF",
    "LabeledSource",
    "SourceInfo",
    "WordMapInfo",
    "find_word_map",
    "load_csv",
    "load_eval_sources",
    "load_manifest",
    "load_sources",
    "manifest_path",
    "plan_folder",
    "seed_path",
]

log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# Canonical labels and the head each belongs to; 1 marks the positive class.
KIND_OF = {"spam": "spam", "ham": "spam", "abusive": "abuse", "clean": "abuse"}
POSITIVE = {"spam", "abusive"}
DEFAULT_LABELS = {"spam": "spam", "ham": "ham", "abusive": "abusive", "hate": "abusive", "clean": "clean"}


@dataclass(frozen=True)
class SourceInfo:
    """One manifest entry: where a source may be used and how to read its labels."""

    name: str
    licence: str
    commercial: bool
    kind: str  # "spam", "abuse" or "mixed"
    labels: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_LABELS))
    citation: str = ""
    path: str = ""  # only for sources shipped with the project (the seed set)
    eval_only: bool = False  # a held-out source for cross-source evaluation: never trained on
    language: str = ""  # the language its comments are mostly in (id, en; "" unknown)


@dataclass
class LabeledSource:
    """Rows of one source for one head: texts with 0/1 labels (1 = spam / abusive)."""

    name: str
    path: str
    licence: str
    commercial: bool
    kind: str  # "spam" or "abuse"
    texts: list[str] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)
    # (author_name, author_url, author_email) per row; rows past its end have no author fields.
    authors: list[tuple[str, str, str]] = field(default_factory=list)
    weight: float = 1.0  # how much each row counts in training (a site's moderators count more than public data)
    language: str = ""  # the manifest's language of the source ("" unknown)

    def docs(self) -> list[CommentDoc]:
        """Every row as the features see it: text plus author fields ('' where unknown)."""
        authors = self.authors + [("", "", "")] * (len(self.texts) - len(self.authors))
        return [CommentDoc(t, *a) for t, a in zip(self.texts, authors, strict=False)]

    def describe(self) -> dict[str, object]:
        """Summarise the source for the model card."""
        return {
            "name": self.name,
            "path": self.path,
            "licence": self.licence,
            "commercial": self.commercial,
            "kind": self.kind,
            "rows": len(self.texts),
            "positives": int(sum(self.labels)),
        }


def manifest_path() -> Path:
    """Return the manifest shipped in the project's config/ folder."""
    return PROJECT_ROOT / "config" / "datasets.toml"


def seed_path() -> Path:
    """Return the hand-written seed set shipped with the training package."""
    return Path(__file__).resolve().parent / "seed" / "comments.csv"


def _read_manifest(path: str | os.PathLike[str] | None) -> dict[str, Any]:
    """The manifest file as TOML (default: config/datasets.toml)."""
    with Path(path or manifest_path()).open("rb") as fh:
        return tomllib.load(fh)


def load_manifest(path: str | os.PathLike[str] | None = None) -> dict[str, SourceInfo]:
    """Read the dataset manifest into SourceInfo entries keyed by source name."""
    raw = _read_manifest(path)
    out: dict[str, SourceInfo] = {}
    for name, entry in raw.get("sources", {}).items():
        kind = entry.get("kind", "mixed")
        if kind not in {"spam", "abuse", "mixed"}:
            raise ValueError(f"manifest source {name!r}: unknown kind {kind!r}")
        out[name] = SourceInfo(
            name=name,
            licence=str(entry.get("licence", "unknown")),
            commercial=bool(entry.get("commercial", False)),
            kind=kind,
            labels={str(k): str(v) for k, v in entry.get("labels", DEFAULT_LABELS).items()},
            citation=str(entry.get("citation", "")),
            path=str(entry.get("path", "")),
            eval_only=bool(entry.get("eval_only", False)),
            language=str(entry.get("language", "")),
        )
    return out


@dataclass(frozen=True)
class WordMapInfo:
    """One ``[word_maps.NAME]`` manifest entry: a slang/typo -> formal word CSV inside a data folder."""

    name: str
    path: str  # relative to the data folder
    licence: str
    commercial: bool
    citation: str = ""


def load_word_maps(path: str | os.PathLike[str] | None = None) -> list[WordMapInfo]:
    """The word maps the manifest lists, in file order."""
    raw = _read_manifest(path)
    return [WordMapInfo(name, str(e["path"]), str(e.get("licence", "unknown")), bool(e.get("commercial", False)),
                        str(e.get("citation", ""))) for name, e in raw.get("word_maps", {}).items()]  # fmt: skip


def find_word_map(paths: Sequence[str | os.PathLike[str]], allow_noncommercial: bool = False) -> str | None:
    """The first manifest word map found in one of the data folders trained on (licence permitting), as
    FeatureParams.word_map keeps it."""
    folders = [Path(p) for p in paths if Path(p).is_dir()]
    for info in load_word_maps():
        if not info.commercial and not allow_noncommercial:
            continue
        for folder in folders:
            if (folder / info.path).is_file():
                return str(folder / info.path)
    return None


def _user_info(path: Path) -> SourceInfo:
    """Describe a CSV that is not in the manifest: the operator vouches for it."""
    return SourceInfo(name=path.stem, licence="user-supplied (not in manifest)", commercial=True, kind="mixed")


def load_csv(path: str | os.PathLike[str], info: SourceInfo | None = None) -> list[LabeledSource]:
    """Load one labelled file (.csv, .jsonl or WXR .xml) into one LabeledSource per head it has rows for."""
    path = Path(path)
    info = info or _user_info(path)
    by_kind: dict[str, LabeledSource] = {}
    unknown: set[str] = set()
    for row in read_rows(path):
        text = (row.get("text") or "").strip()
        raw_label = (row.get("label") or "").strip().lower()
        label = info.labels.get(raw_label)
        if not text:
            continue
        if label not in KIND_OF:
            unknown.add(raw_label)
            continue
        kind = KIND_OF[label]
        if info.kind != "mixed" and kind != info.kind:
            raise ValueError(f"{path}: label {raw_label!r} maps to {kind}, but {info.name} is {info.kind}")
        src = by_kind.setdefault(
            kind,
            LabeledSource(info.name if info.kind != "mixed" else f"{info.name}:{kind}",
                          str(path), info.licence, info.commercial, kind, language=info.language),
        )  # fmt: skip
        src.texts.append(text)
        src.labels.append(int(label in POSITIVE))
        src.authors.append((row.get("author_name", ""), row.get("author_url", ""), row.get("author_email", "")))
    if unknown:
        raise ValueError(f"{path}: unknown labels {sorted(unknown)[:5]} (expected {sorted(info.labels)})")
    return [by_kind[k] for k in sorted(by_kind)]


def plan_folder(
    folder: str | os.PathLike[str],
    manifest: dict[str, SourceInfo],
    allow_noncommercial: bool = False,
    evaluation: bool = False,
) -> tuple[list[tuple[SourceInfo, Path]], list[tuple[str, str]]]:
    """Decide which sub-folders of a data folder are used: (used, [(skipped, why)]).

    ``evaluation``: the rows are only scored (a promotion gate), so evaluation-only sources are used too.
    """
    folder = Path(folder)
    candidates = [folder] if (folder / "data.csv").is_file() else sorted(p for p in folder.iterdir() if p.is_dir())
    used: list[tuple[SourceInfo, Path]] = []
    skipped: list[tuple[str, str]] = []
    for sub in candidates:
        csv_path = sub / "data.csv"
        if not csv_path.is_file():
            continue
        info = manifest.get(sub.name)
        if info is None:
            skipped.append((sub.name, "not in the dataset manifest (licence unknown)"))
        elif info.eval_only:
            (used.append((info, csv_path)) if evaluation
             else skipped.append((sub.name, "evaluation only: never trained on")))  # fmt: skip
        elif not info.commercial and not allow_noncommercial:
            skipped.append((sub.name, f"non-commercial licence: {info.licence}"))
        else:
            used.append((info, csv_path))
    return used, skipped


def _resolve_manifest_path(info: SourceInfo) -> Path:
    """Return the file of a manifest source shipped with the project."""
    if info.name == "seed":
        return seed_path()
    return PROJECT_ROOT / info.path


def load_sources(
    paths: Sequence[str | os.PathLike[str]],
    *,
    allow_noncommercial: bool = False,
    manifest: dict[str, SourceInfo] | None = None,
    evaluation: bool = False,
) -> list[LabeledSource]:
    """Load CSV files and data folders; an empty list means the shipped seed set.

    ``evaluation``: for scoring only (never training), so evaluation-only sources load too.
    """
    manifest = manifest if manifest is not None else load_manifest()
    if not paths:
        seed = manifest.get("seed") or SourceInfo("seed", "project's own", True, "mixed")
        return load_csv(_resolve_manifest_path(seed), seed)
    loaded: list[LabeledSource] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            used, skipped = plan_folder(path, manifest, allow_noncommercial, evaluation)
            for name, why in skipped:
                log.warning("skipping %s/%s: %s", path, name, why)
            for info, csv_path in used:
                loaded += load_csv(csv_path, info)
        elif path.is_file():
            loaded += _load_file(path, manifest, allow_noncommercial, evaluation)
        else:
            raise FileNotFoundError(f"training data not found: {path}")
    return loaded


def load_eval_sources(folder: str | os.PathLike[str], manifest: dict[str, SourceInfo] | None = None
                      ) -> list[LabeledSource]:
    """The evaluation-only sources (``eval_only = true`` in the manifest) found in a data folder."""
    manifest = manifest if manifest is not None else load_manifest()
    root = Path(folder)
    found = []
    for name, info in sorted(manifest.items()):
        path = root / name / "data.csv"
        if info.eval_only and path.is_file():
            found += load_csv(path, info)
    return found


def _load_file(path: Path, manifest: dict[str, SourceInfo], allow_noncommercial: bool,
               evaluation: bool = False) -> list[LabeledSource]:
    """Load a single CSV/JSONL/WXR file, applying the manifest when it is a known source's data.csv."""
    info = manifest.get(path.parent.name) if path.name == "data.csv" else None
    if path.resolve() == seed_path():
        info = manifest.get("seed", info)
    if info is not None and info.eval_only:
        if not evaluation:
            raise PermissionError(f"{path}: {info.name} is for evaluation only and is never trained on")
    elif info is not None and not info.commercial and not allow_noncommercial:
        raise PermissionError(f"{path}: {info.name} is non-commercial ({info.licence}); use --allow-noncommercial")
    return load_csv(path, info)
