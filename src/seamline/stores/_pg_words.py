"""Words for PostgreSQL full-text search, cut the way the SQLite store's FTS5 cuts them.

PostgreSQL's own parser reads ``ORD-1001`` as ``ord`` and ``-1001`` and ``example.com`` as
one host name, and what it counts as a letter depends on the database's locale, so the same
artifact would be found by different words on the two stores. The text is cut here instead,
as FTS5's ``unicode61`` tokenizer with ``remove_diacritics`` does: runs of letters and
digits, lower-cased, accents removed. PostgreSQL gets the result as a ready ``tsvector``
(with positions, so phrases and ``ts_rank`` work) and ``tsquery``, and only matches and
ranks them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from seamline.stores.base import TermMatch

__all__ = ["lexemes", "tsquery", "tsvector"]

_TOKEN = re.compile(r"[^\W_]+")
_MAX_LEXEME_BYTES = 2047
"""PostgreSQL refuses longer lexemes; nobody searches for a 2 KB word, so they are left out."""


def lexemes(text: str) -> list[str]:
    """The words of ``text`` in order, folded for matching."""
    folded = text.lower()
    if not folded.isascii():
        folded = "".join(
            char
            for char in unicodedata.normalize("NFKD", folded)
            if not unicodedata.combining(char)
        )
    return [word for word in _TOKEN.findall(folded) if len(word.encode()) <= _MAX_LEXEME_BYTES]


def tsvector(text: str) -> str:
    """``text`` as a tsvector literal: each word with the positions it stands at.

    Words are letters and digits only, so quoting them needs no escapes. PostgreSQL clamps
    positions past its limit (16383) and keeps the first 256 of a word, as ``to_tsvector``.
    """
    positions: dict[str, list[str]] = {}
    for position, word in enumerate(lexemes(text), start=1):
        positions.setdefault(word, []).append(str(position))
    return " ".join(f"'{word}':{','.join(at)}" for word, at in positions.items())


def tsquery(terms: Sequence[str], match: TermMatch) -> str | None:
    """A tsquery holding every term (``"all"``) or any of them, or None if no term has words.

    A term that folds into several words (``foo_bar``) must match them as a phrase, as a
    quoted FTS5 string does.
    """
    phrases = []
    for term in terms:
        words = lexemes(term)
        if len(words) == 1:
            phrases.append(f"'{words[0]}'")
        elif words:
            phrases.append("(" + " <-> ".join(f"'{word}'" for word in words) + ")")
    if not phrases:
        return None
    return (" & " if match == "all" else " | ").join(phrases)
