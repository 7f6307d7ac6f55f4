"""The languages campaign emails are written in, and identification of the language of a text.

``email_language`` maps a customer's BCP-47 tag to the language we write in; anything we do not
write in falls back to English and is flagged, so the caller can record that the customer did
not get their own language.

Language identification uses lingua (lingua-language-detector), restricted to the languages we
write in: a closed set makes it faster and avoids confusions with languages we never produce
(Galician for Portuguese, Afrikaans for Dutch...). lingua is imported lazily and the detector
is built once per process behind a lock; one detector is safe to share between threads (its
models are loaded once and shared). It runs in lingua's high-accuracy mode with lazy model
loading: only the models the rule engine needs are loaded (the Latin-script ones for a European
text, none for a text with kana): the first Latin-script text takes 0.1-1.2 s (machine load) and
about 200 MB; later calls take well under a millisecond. (lingua's low-accuracy mode would need about
20 MB and gave the same decisions on 600 generated emails, but is weaker on short texts.)
"""

from __future__ import annotations

import re
import threading
from typing import Any

SUPPORTED_LANGUAGES: tuple[str, ...] = ("en", "de", "fr", "es", "it", "pt", "nl", "ja")
DEFAULT_LANGUAGE = "en"

# ISO 639-2/3 codes that appear in customer masters instead of the two-letter ones.
_THREE_LETTER = {
    "eng": "en", "deu": "de", "ger": "de", "fra": "fr", "fre": "fr", "spa": "es", "ita": "it",
    "por": "pt", "nld": "nl", "dut": "nl", "jpn": "ja",
}
# language[-extlang][-Script][-REGION][-variant...]: only the primary subtag decides; the rest
# must look like BCP-47 subtags (alphanumeric, 1-8 characters), or the tag is not understood.
_TAG = re.compile(r"^(?P<primary>[A-Za-z]{2,3})(?:-[A-Za-z0-9]{1,8})*$")


def email_language(tag: str | None) -> tuple[str, bool]:
    """BCP-47 tag (e.g. "pt-BR", "de-AT", "EN", "", None, "xx") -> (language to write in, known).

    Unknown or unsupported -> ("en", False): the caller writes English and flags it. Case and
    "_" instead of "-" are tolerated ("PT_br"); region, script and variants are ignored
    ("pt-BR" and "pt-PT" are both written in "pt").
    """
    if not isinstance(tag, str):
        return DEFAULT_LANGUAGE, False
    match = _TAG.match(tag.strip().replace("_", "-"))
    if match is None:
        return DEFAULT_LANGUAGE, False
    primary = match.group("primary").lower()
    primary = _THREE_LETTER.get(primary, primary)
    if primary in SUPPORTED_LANGUAGES:
        return primary, True
    return DEFAULT_LANGUAGE, False


_detector: Any = None
_detector_lock = threading.Lock()


def detector() -> Any:
    """The process-wide lingua ``LanguageDetector`` for SUPPORTED_LANGUAGES (built on first use)."""
    global _detector
    if _detector is None:
        with _detector_lock:
            if _detector is None:
                from lingua import IsoCode639_1, LanguageDetectorBuilder

                codes = [getattr(IsoCode639_1, code.upper()) for code in SUPPORTED_LANGUAGES]
                _detector = LanguageDetectorBuilder.from_iso_codes_639_1(*codes).build()
    return _detector


def language_confidences(text: str) -> tuple[tuple[str, float], ...]:
    """(language code, confidence) for every supported language, most likely first.

    Confidences are lingua's: probabilities summing to 1, or all 0.0 when the text holds nothing
    lingua can use (no letters). Ties keep lingua's order.
    """
    values = detector().compute_language_confidence_values(text)
    return tuple((value.language.iso_code_639_1.name.lower(), value.value) for value in values)
