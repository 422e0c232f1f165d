#!/usr/bin/env python3
"""Build small, real Argos Translate packages for a deterministic task.

No Argos package can be downloaded on an offline machine, so the argos path of
interp is tested on packages this script constructs. Each is a genuine
``.argosmodel``: a zip of ``metadata.json``, a SentencePiece model and a
CTranslate2 Transformer, which argostranslate installs, loads and runs with
beam search like any package from its index.

The task is a character cipher, so the expected output is exact:

* ``qaa`` is English written in ROT13 and ``qab`` is English in capitals
  (``qaa`` to ``qtz`` are ISO 639 codes reserved for local use);
* ``qaa -> en`` undoes ROT13 and ``en -> qab`` capitalises, so argostranslate
  can pivot ``qaa -> qab`` through English.

The Transformer's weights are written, not trained. The encoder passes each
character and its position through; in the decoder, cross-attention at step t
looks at source position t (one-hot learned positions make that dot product
peak sharply), the value copies the source character into a separate subspace,
and the output projection maps it through the cipher. The source ends with
``</s>``, which maps to itself and stops decoding.

Usage: build_toy_argos.py OUT_DIR  (writes one .argosmodel per pair)
"""

from __future__ import annotations

import argparse
import codecs
import json
import string
import sys
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

MAX_POSITIONS = 512
SPECIALS = ("<unk>", "<s>", "</s>")
ALPHABET = string.ascii_letters + string.digits + " .,;:!?'\"-()"

PAIRS: dict[tuple[str, str], tuple[str, str, Callable[[str], str]]] = {
    ("qaa", "en"): ("Toy ROT13", "English", lambda c: codecs.encode(c, "rot13")),
    ("en", "qab"): ("English", "Toy capitals", str.upper),
}


def train_sentencepiece(work: Path) -> Path:
    """A character-level SentencePiece model covering ALPHABET, deterministic."""
    import sentencepiece as spm

    corpus = work / "corpus.txt"
    # Every character appears, in a fixed order, so the model is the same on every run.
    lines = [ALPHABET[i:] + ALPHABET[:i] for i in range(len(ALPHABET))]
    corpus.write_text("\n".join(lines) + "\n", encoding="utf-8")
    prefix = work / "sentencepiece"
    spm.SentencePieceTrainer.train(
        input=str(corpus),
        model_prefix=str(prefix),
        model_type="char",
        vocab_size=len(ALPHABET) + len(SPECIALS) + 1,
        hard_vocab_limit=False,
        character_coverage=1.0,
        normalization_rule_name="identity",
        num_threads=1,
        minloglevel=2,
    )
    return prefix.with_suffix(".model")


def vocabulary(model_file: Path) -> list[str]:
    import sentencepiece as spm

    processor = spm.SentencePieceProcessor(model_file=str(model_file))
    pieces = [processor.id_to_piece(i) for i in range(processor.get_piece_size())]
    if tuple(pieces[:3]) != SPECIALS:
        raise RuntimeError(f"unexpected SentencePiece specials: {pieces[:3]}")
    return pieces


def cipher_model_spec(pieces: list[str], cipher: Callable[[str], str]) -> object:
    """A one-layer CTranslate2 Transformer that maps each character through ``cipher``."""
    from ctranslate2.specs import transformer_spec

    size = len(pieces)
    tok, pos, copy = 0, size, size + MAX_POSITIONS  # offsets of the three subspaces
    d_model = 2 * size + MAX_POSITIONS
    ffn = 4
    index = {piece: i for i, piece in enumerate(pieces)}

    def zeros(*shape: int) -> np.ndarray:
        return np.zeros(shape, dtype=np.float32)

    def layer_norm(spec: object) -> None:
        spec.gamma = np.ones(d_model, dtype=np.float32)  # type: ignore[attr-defined]
        spec.beta = zeros(d_model)  # type: ignore[attr-defined]

    def silent_ffn(spec: object) -> None:
        layer_norm(spec.layer_norm)  # type: ignore[attr-defined]
        spec.linear_0.weight = zeros(ffn, d_model)  # type: ignore[attr-defined]
        spec.linear_0.bias = zeros(ffn)  # type: ignore[attr-defined]
        spec.linear_1.weight = zeros(d_model, ffn)  # type: ignore[attr-defined]
        spec.linear_1.bias = zeros(d_model)  # type: ignore[attr-defined]

    def silent_self_attention(spec: object) -> None:
        layer_norm(spec.layer_norm)  # type: ignore[attr-defined]
        spec.linear[0].weight = zeros(3 * d_model, d_model)  # type: ignore[attr-defined]
        spec.linear[0].bias = zeros(3 * d_model)  # type: ignore[attr-defined]
        spec.linear[1].weight = zeros(d_model, d_model)  # type: ignore[attr-defined]
        spec.linear[1].bias = zeros(d_model)  # type: ignore[attr-defined]

    embeddings = zeros(size, d_model)
    embeddings[np.arange(size), tok + np.arange(size)] = 1.0
    positions = zeros(MAX_POSITIONS, d_model)
    positions[np.arange(MAX_POSITIONS), pos + np.arange(MAX_POSITIONS)] = 1.0

    spec = transformer_spec.TransformerSpec.from_config(1, 1, pre_norm=True)
    encoder, decoder = spec.encoder, spec.decoder
    for part in (encoder, decoder):
        part.scale_embeddings = False
        part.position_encodings.encodings = positions
        layer_norm(part.layer_norm)
    encoder.embeddings[0].weight = embeddings
    decoder.embeddings.weight = embeddings

    encoder_layer = encoder.layer[0]
    silent_self_attention(encoder_layer.self_attention)
    silent_ffn(encoder_layer.ffn)

    decoder_layer = decoder.layer[0]
    silent_self_attention(decoder_layer.self_attention)
    silent_ffn(decoder_layer.ffn)
    attention = decoder_layer.attention
    layer_norm(attention.layer_norm)
    positions_block = slice(pos, pos + MAX_POSITIONS)
    query = zeros(d_model, d_model)
    query[positions_block, positions_block] = 10.0 * np.eye(MAX_POSITIONS)  # sharpness
    key_value = zeros(2 * d_model, d_model)
    key_value[positions_block, positions_block] = np.eye(MAX_POSITIONS)  # keys: positions
    for i in range(size):  # values: the source character, moved to the copy subspace
        key_value[d_model + copy + i, tok + i] = 1.0
    output = zeros(d_model, d_model)
    output[copy : copy + size, copy : copy + size] = np.eye(size)
    attention.linear[0].weight, attention.linear[0].bias = query, zeros(d_model)
    attention.linear[1].weight, attention.linear[1].bias = key_value, zeros(2 * d_model)
    attention.linear[2].weight, attention.linear[2].bias = output, zeros(d_model)

    projection = zeros(size, d_model)
    for piece, i in index.items():
        mapped = piece if piece in SPECIALS else cipher(piece)
        projection[index.get(mapped, i), copy + i] = 10.0
    decoder.projection.weight = projection
    decoder.projection.bias = zeros(size)

    spec.config.add_source_eos = True
    spec.register_source_vocabulary(pieces)
    spec.register_target_vocabulary(pieces)
    return spec


def build_package(out_dir: Path, source: str, target: str, work: Path, sp_model: Path) -> Path:
    from_name, to_name, cipher = PAIRS[(source, target)]
    code = f"translate-{source}_{target}"
    root = work / code
    (root / "model").mkdir(parents=True)
    spec = cipher_model_spec(vocabulary(sp_model), cipher)
    spec.validate()  # type: ignore[attr-defined]
    spec.save(str(root / "model"))  # type: ignore[attr-defined]
    (root / "sentencepiece.model").write_bytes(sp_model.read_bytes())
    metadata = {
        "package_version": "1.0",
        "argos_version": "1.11.0",
        "from_code": source,
        "from_name": from_name,
        "to_code": target,
        "to_name": to_name,
        "type": "translate",
        "code": code,
        "description": "interp's deterministic toy package for offline tests",
    }
    (root / "metadata.json").write_text(json.dumps(metadata, indent=2) + "\n", encoding="utf-8")
    (root / "README.md").write_text(__doc__ or "", encoding="utf-8")

    archive = out_dir / f"{code}.argosmodel"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(root.rglob("*")):
            # An .argosmodel is a zip of one top-level folder: the package.
            zf.write(path, Path(code) / path.relative_to(root))
    return archive


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("out_dir", type=Path)
    args = parser.parse_args(argv)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        sp_model = train_sentencepiece(work)
        for source, target in PAIRS:
            print(build_package(args.out_dir, source, target, work, sp_model))
    return 0


if __name__ == "__main__":
    sys.exit(main())
