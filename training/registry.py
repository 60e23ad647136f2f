"""Model registry writer: save versions atomically, list them, promote one.

The reader side (and the layout) lives in ``moderation.scoring``.  Writes go
to a temporary folder inside MODEL_DIR and are renamed into place, and ACTIVE
is replaced with os.replace, so a worker never sees half a model.
"""

from __future__ import annotations

import json
import os
import pickle
import secrets
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from moderation.model import ModerationModel
from moderation.scoring import (
    ACTIVE_FILE,
    CARD_FILE,
    MODEL_FILE,
    ModelIntegrityError,
    active_version,
    read_card,
    sha256_bytes,
    valid_version,
)

__all__ = ["list_models", "new_version", "promote", "save_model", "set_active"]


def new_version(now: datetime | None = None) -> str:
    """Return a sortable version name such as 2026-11-27T10-00-00Z-3f2a."""
    stamp = (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H-%M-%SZ")
    return f"{stamp}-{secrets.token_hex(2)}"


def _fsync_dir(path: Path) -> None:
    """Flush a directory entry so a rename survives a crash."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_json(path: Path, data: dict[str, Any]) -> None:
    """Write JSON and fsync it."""
    with path.open("w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=2, ensure_ascii=False, sort_keys=True)
        fh.write("\n")
        fh.flush()
        os.fsync(fh.fileno())


def save_model(model: ModerationModel, card: dict[str, Any], model_dir: str | os.PathLike[str], activate: bool) -> str:
    """Write model.joblib + card.json as a new version (atomically); return the version."""
    root = Path(model_dir)
    root.mkdir(parents=True, exist_ok=True)
    version = new_version()
    while (root / version).exists():
        version = new_version()
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=root))
    try:
        model_path = tmp / MODEL_FILE
        data = pickle.dumps(model, protocol=5)
        with model_path.open("wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        full_card = {
            **card,
            "version": version,
            "format": "pickle",
            "sha256": sha256_bytes(data),
            "model_bytes": len(data),
        }
        _write_json(tmp / CARD_FILE, full_card)
        os.chmod(tmp, 0o755)  # mkdtemp makes 0700; other service users must read it
        os.rename(tmp, root / version)
    except BaseException:
        for leftover in tmp.glob("*"):
            leftover.unlink()
        tmp.rmdir()
        raise
    _fsync_dir(root)
    if activate:
        set_active(root, version)
    return version


def set_active(model_dir: str | os.PathLike[str], version: str) -> None:
    """Point ACTIVE at a version by atomically replacing the file."""
    root = Path(model_dir)
    fd, tmp_name = tempfile.mkstemp(prefix=".ACTIVE-", dir=root)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(version + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp_name, 0o644)
        os.replace(tmp_name, root / ACTIVE_FILE)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    _fsync_dir(root)


def list_models(model_dir: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Return the cards of all saved versions, oldest first, each with an ``active`` flag."""
    root = Path(model_dir)
    if not root.is_dir():
        return []
    active = active_version(root)
    cards = []
    for entry in sorted(root.iterdir()):
        if entry.is_dir() and valid_version(entry.name) and (entry / CARD_FILE).is_file():
            card = read_card(root, entry.name)
            cards.append({**card, "version": entry.name, "active": entry.name == active})
    return cards


def promote(model_dir: str | os.PathLike[str], version: str) -> dict[str, Any]:
    """Make a saved version active after checking its file against the card; return the card."""
    card = read_card(model_dir, version)
    data = (Path(model_dir) / version / MODEL_FILE).read_bytes()
    if sha256_bytes(data) != card.get("sha256"):
        raise ModelIntegrityError(f"model {version!r}: model.joblib does not match its card; not promoted")
    set_active(model_dir, version)
    return card
