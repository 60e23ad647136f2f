"""The model registry, both sides: its layout, reading a version safely, saving and promoting versions.

Layout::

    MODEL_DIR/<version>/model.joblib   the ModerationModel as a plain pickle (protocol 5;
                                       joblib.load reads it too, pickle.loads is ~10x faster)
    MODEL_DIR/<version>/card.json      version, sha256 of model.joblib, metrics, thresholds, ...
    MODEL_DIR/ACTIVE                   the active version's name

A pickle runs code when loaded, so :func:`load_model` checks the SHA-256
recorded in the card before unpickling, and unpickles exactly the bytes it
hashed; classes pickled under module paths from before the package move are
read from where they live now (``MOVED_MODULES``). Writes go to a temporary
folder inside MODEL_DIR and are renamed into place, and ACTIVE is replaced
with os.replace, so a worker never sees half a model. Nothing here loads a
model at import time.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import pickle
import re
import secrets
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import joblib

from moderation.model.card import ModelCard
from moderation.model.estimator import ModerationModel

__all__ = ["ACTIVE_FILE", "CARD_FILE", "MODEL_FILE", "ModelIntegrityError", "ModelNotFound", "active_version",
           "list_models", "load_model", "new_version", "promote", "read_card", "save_model", "set_active",
           "sha256_bytes", "valid_version"]

ACTIVE_FILE = "ACTIVE"
MODEL_FILE = "model.joblib"
CARD_FILE = "card.json"
# Versions become path components: refuse anything that could leave MODEL_DIR.
_VERSION_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


class ModelNotFound(LookupError):
    """No active model, or the requested version does not exist."""


class ModelIntegrityError(RuntimeError):
    """model.joblib does not match the SHA-256 recorded in its card."""

MOVED_MODULES = {
    "moderation.model": "moderation.model.estimator",
    "moderation.features": "moderation.reading.features",
    "moderation.vectorizers": "moderation.reading.vectorizers",
    "moderation.charindex": "moderation.reading.charindex",
    "moderation.text": "moderation.reading.text",
    "moderation.letters": "moderation.reading.letters",
    "moderation.lexicon": "moderation.reading.lexicon",
    "moderation.signals": "moderation.reading.signals",
    "moderation.scoring": "moderation.model.scoring",
    "moderation.reasons": "moderation.model.reasons",
}
"""Where classes that models pickled before the package move now live (a pickle names its classes' modules)."""


class _MovedPathsUnpickler(pickle.Unpickler):
    """The C unpickler, reading a class under its old module path from where it lives now."""

    def find_class(self, module: str, name: str) -> Any:
        """Resolve ``module.name``, mapped through MOVED_MODULES."""
        return super().find_class(MOVED_MODULES.get(module, module), name)



def valid_version(version: str) -> bool:
    """Tell whether a version name is safe to use as a folder name."""
    return bool(_VERSION_RE.match(version)) and version not in {".", ".."}


def sha256_bytes(data: bytes) -> str:
    """Return the lower-case hex SHA-256 of some bytes."""
    return hashlib.sha256(data).hexdigest()


def active_version(model_dir: str | os.PathLike[str]) -> str | None:
    """Return the version named in MODEL_DIR/ACTIVE, or None when there is none."""
    try:
        version = (Path(model_dir) / ACTIVE_FILE).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return version if version and valid_version(version) else None


def read_card(model_dir: str | os.PathLike[str], version: str) -> dict[str, Any]:
    """Read MODEL_DIR/<version>/card.json; ModelNotFound when the version is absent."""
    if not valid_version(version):
        raise ModelNotFound(f"invalid model version {version!r}")
    path = Path(model_dir) / version / CARD_FILE
    try:
        card: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelNotFound(f"model {version!r} not found in {model_dir}") from None
    return card


def load_model(model_dir: str | os.PathLike[str], version: str | None = None) -> tuple[ModerationModel, ModelCard]:
    """A version (default: the active one) and its card, unpickled only after its SHA-256 matched the card."""
    version = version or active_version(model_dir)
    if version is None:
        raise ModelNotFound(f"no active model in {model_dir}")
    card = ModelCard.from_dict(read_card(model_dir, version), version)
    try:
        data = (Path(model_dir) / version / MODEL_FILE).read_bytes()
    except FileNotFoundError:
        raise ModelNotFound(f"model {version!r} has no {MODEL_FILE}") from None
    actual = sha256_bytes(data)
    if not card.sha256 or actual != card.sha256:
        raise ModelIntegrityError(f"model {version!r}: sha256 {actual} does not match card {card.sha256 or '-'}")
    # Unpickle the very bytes that were hashed: no window to swap the file.
    # joblib's pure-Python unpickler needs ~1 s for a large vocabulary dict;
    # the C unpickler needs ~0.1 s, so plain pickles are the default format.
    if card.format == "joblib":
        # The registry has only ever written plain pickles; a joblib file (a card saying so) is read by
        # joblib itself, which handles its compression and byte order, without the moved-path mapping.
        model = joblib.load(io.BytesIO(data))
    else:
        model = _MovedPathsUnpickler(io.BytesIO(data)).load()  # noqa: S301 - bytes verified above
    if not isinstance(model, ModerationModel):
        raise ModelIntegrityError(f"model {version!r} is a {type(model).__name__}, not a ModerationModel")
    return model, card


def active_stamp(model_dir: Path) -> tuple[int, int, int] | None:
    """Return (inode, mtime_ns, size) of ACTIVE; changes whenever it is replaced."""
    try:
        st = (model_dir / ACTIVE_FILE).stat()
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)




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
