"""Chinese input for the on-screen keyboard: pinyin letters in, words to choose from out.

No dictionary is written here. Words and their frequencies come from the ``pinyinIME``
package (a pure-Python input-method engine over Rime's luna-pinyin dictionary and essay
word frequencies), behind :class:`PinyinDictionary` so the keyboard and the tests see a
small, Kivy-free surface:

- :class:`PinyinComposer` keeps the letters a customer typed (``zhangwei``) and offers
  candidates, longest words first: for ``shacheyixiang`` the words that cover the most
  syllables (刹车 …), then shorter ones. Choosing a word returns it and keeps the rest of
  the letters (``yixiang``) for the next choice, as a phone's input method does.
- The engine takes seconds and a few hundred MB to load, so it loads once per process,
  on a background thread, when a field is first typed into in Chinese (the candidate
  bar says "Loading Chinese input…" meanwhile; letters and digits work at once).

Nothing a customer types is remembered by the engine: on a shared kiosk one customer's
name must never become the next customer's first suggestion.
"""

from __future__ import annotations

import gc
import logging
import threading
import unicodedata
import warnings
from dataclasses import dataclass
from typing import Any, Protocol

log = logging.getLogger(__name__)

# Words offered for one composition, at most (longest matches first, then shorter).
MAX_CANDIDATES = 60
# Letters kept in one composition (a long sentence is chosen word by word anyway).
MAX_LETTERS = 40
# pinyinIME's syllable separator: joining syllables with it makes the engine look up
# exactly those syllables.
SYLLABLE_SEPARATOR = "'"


class PinyinDictionary(Protocol):
    """What the composer needs from an input-method engine."""

    @property
    def ready(self) -> bool: ...

    def syllables(self, letters: str) -> list[str]:
        """``zhangwei`` → ``["zhang", "wei"]`` (the last one may be a partial syllable)."""
        ...

    def words(self, syllables: list[str], limit: int) -> list[str]:
        """Words spelled by exactly ``syllables``, most frequent first."""
        ...


def is_chinese_word(word: str) -> bool:
    """Only Han characters (the engine also knows emoji and symbols; a form wants words)."""
    return bool(word) and all(unicodedata.name(char, "").startswith("CJK") for char in word)


class RimeEssayDictionary:
    """``pinyinIME``'s engine, loaded once on a background thread.

    ``load()`` blocks until loaded; ``start_loading()`` returns at once. Until the
    engine is there, ``ready`` is False and ``words`` gives nothing.
    """

    def __init__(self) -> None:
        self._engine: Any = None
        self._lock = threading.Lock()
        self._loaded = threading.Event()
        self._thread: threading.Thread | None = None
        self.failed = False

    @property
    def ready(self) -> bool:
        return self._loaded.is_set() and self._engine is not None

    def start_loading(self) -> None:
        with self._lock:
            if self._thread is not None or self._loaded.is_set():
                return
            self._thread = threading.Thread(target=self.load, name="pinyin-dictionary", daemon=True)
            self._thread.start()

    def load(self, timeout: float | None = None) -> bool:
        """Load the engine (or wait for the thread loading it); True once it is there."""
        if self._thread is not None and threading.current_thread() is not self._thread:
            return self._loaded.wait(timeout) and self._engine is not None
        if self._loaded.is_set():
            return self._engine is not None
        try:
            from pinyinIME.engine import PinyinEngine

            # The package leaves one of its data files to the garbage collector
            # (a ResourceWarning, nothing more); it is closed right here.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ResourceWarning)
                self._engine = PinyinEngine(load_emoji=False)
                gc.collect()
        except Exception:
            # The keyboard still types Latin letters and digits; say so in the log.
            log.exception("Chinese input is not available: the pinyin engine did not load")
            self.failed = True
        finally:
            self._loaded.set()
        return self._engine is not None

    def syllables(self, letters: str) -> list[str]:
        if not self.ready or not letters:
            return []
        return [part for part in self._engine.segment(letters) if part]

    def words(self, syllables: list[str], limit: int) -> list[str]:
        if not self.ready or not syllables:
            return []
        found = self._engine.lookup(SYLLABLE_SEPARATOR.join(syllables), limit)
        return [word for word, spelling, _score in found if len(spelling.split()) == len(syllables)]


_dictionary: RimeEssayDictionary | None = None
_dictionary_lock = threading.Lock()


def pinyin_dictionary() -> RimeEssayDictionary:
    """The process's one dictionary (it is large: load it once)."""
    global _dictionary
    with _dictionary_lock:
        if _dictionary is None:
            _dictionary = RimeEssayDictionary()
        return _dictionary


@dataclass(frozen=True, slots=True)
class Candidate:
    """A word offered for the first ``syllables`` syllables of what was typed."""

    word: str
    syllables: int


class PinyinComposer:
    """The letters being typed in Chinese mode and the words they may become."""

    def __init__(self, dictionary: PinyinDictionary, limit: int = MAX_CANDIDATES) -> None:
        self.dictionary = dictionary
        self.limit = limit
        self.letters = ""
        self._cache: tuple[str, list[Candidate]] | None = None

    @property
    def composing(self) -> bool:
        return bool(self.letters)

    @property
    def ready(self) -> bool:
        return self.dictionary.ready

    def type(self, letter: str) -> None:
        """A letter key (a–z); anything else is not pinyin and is refused."""
        letter = letter.lower()
        if len(letter) == 1 and "a" <= letter <= "z" and len(self.letters) < MAX_LETTERS:
            self.letters += letter

    def backspace(self) -> bool:
        """Delete the last letter; False when there was none (delete in the field then)."""
        if not self.letters:
            return False
        self.letters = self.letters[:-1]
        return True

    def clear(self) -> str:
        """Forget the letters; returns them (Done types them as they are)."""
        letters, self.letters = self.letters, ""
        return letters

    def spelled(self) -> str:
        """The letters split into syllables for the customer to read: ``zhang wei``."""
        return " ".join(self.dictionary.syllables(self.letters)) or self.letters

    def candidates(self) -> list[Candidate]:
        """Words for the letters: those covering the most syllables first."""
        if not self.letters or not self.dictionary.ready:
            return []
        if self._cache is not None and self._cache[0] == self.letters:
            return self._cache[1]
        syllables = self.dictionary.syllables(self.letters)
        offered: list[Candidate] = []
        seen: set[str] = set()
        for count in range(len(syllables), 0, -1):
            for word in self.dictionary.words(syllables[:count], self.limit):
                if word not in seen and is_chinese_word(word):
                    seen.add(word)
                    offered.append(Candidate(word, count))
                if len(offered) >= self.limit:
                    break
            if len(offered) >= self.limit:
                break
        self._cache = (self.letters, offered)
        return offered

    def choose(self, candidate: Candidate) -> str:
        """The customer touched ``candidate``: its word, and the letters left after it."""
        syllables = self.dictionary.syllables(self.letters)
        self.letters = "".join(syllables[candidate.syllables :])
        return candidate.word
