"""Word error rate with one text normalisation, shared by the tests and benchmarks."""

from __future__ import annotations

import re
import unicodedata


def normalise_text(text: str) -> str:
    """Lower case, no punctuation, one space: applied alike to hypothesis and reference."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = "".join(" " if unicodedata.category(ch).startswith("P") else ch for ch in text)
    return re.sub(r"\s+", " ", text).strip()


def word_error_rate(reference: str, hypothesis: str) -> float:
    """WER of ``hypothesis`` against ``reference`` after :func:`normalise_text`.

    Needs jiwer (the ``dev`` extra).  An empty hypothesis counts every word deleted.
    """
    import jiwer

    return float(jiwer.wer(normalise_text(reference), normalise_text(hypothesis) or "∅"))


def percentile(values: list[float], q: float) -> float:
    """The nearest-rank ``q`` quantile (0 to 1) of ``values``; 0.0 for none."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else 0.0
