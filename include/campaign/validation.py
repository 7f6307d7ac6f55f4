"""Validation of every generated marketing email before it is stored.

``parse_draft`` turns the model's tool-use input into an ``EmailDraft`` (or raises
``MalformedOutput``); ``validate_email`` runs every check on it against the facts the prompt
was grounded in (``EmailContext``) and returns all failures as stable one-line reasons;
``feedback`` turns those reasons into the instruction for the model's one retry.

Reasons never quote customer data (names, addresses, email text): they name the check, product
ids, amounts and language codes only, so they can be logged and stored next to the email.

The checks, in the order their reasons appear:

1. Language. The subject, preheader and body, with the language-neutral parts removed (the
   recommended product names, the company names, the customer's name, URLs, email addresses,
   digits), go to lingua restricted to SUPPORTED_LANGUAGES. The email passes when the
   expected language is lingua's most likely language, or when its confidence is within
   LANGUAGE_MARGIN of the most likely one (a close call between related languages, e.g. es/pt
   in a short text, is not held against the model). Fewer than MIN_LANGUAGE_LETTERS letters
   left: the language cannot be determined, which fails. ``detected_language`` is lingua's most
   likely language (None when undetermined), even when the email passed within the margin.
2. Products. ``product_ids`` must be non-empty and contain only recommended ids. No product of
   ``other_products`` may be named: a product is named when its key phrase (the first four
   words of the name before the first "," "(" or "|", or that whole part when shorter) or its
   full name appears, compared case-, accent- and punctuation-insensitively on whole words.
   When an other product's key phrase is also part of a recommended product's name (variants
   such as "... (Brown, EU 42)" and "... (Brown, EU 43)"), only its full name counts, and the
   recommended full names are blanked out before searching. Every listed recommended id must be
   named in the email: its key phrase, its full name or three consecutive words of the part of
   its name before the first "," "(" or "|".
3. Prices. Every amount with a currency (symbol or ISO code before or after it, one space at
   most between: "€34.50", "34,50 €", "1.299,00 EUR", "EUR 1,299.00", "¥4,500", "4,500円",
   "34.50 euro", "₹1,099", "Rs. 399") must equal, to the cent and in the same currency, the
   catalog price of a recommended product. Separators: a "." "," "'" or space followed by
   exactly three digits groups thousands, a final "." or "," followed by one or two digits is
   the decimal point. "$" matches any dollar currency, "¥" JPY or CNY. Percentages are not
   prices; amounts without a currency are not prices.
4. Personal data. No email address (also "name [at] domain [dot] com"); no phone number (see
   ``_is_phone``: an international "+"/"00" number, a national number with a trunk "0" or
   area code in parentheses, the North-American, Indian, Spanish/Portuguese mobile groupings,
   or 7+ digits right after a word such as "phone", "Tel.", "call", "電話"; never dates, year
   ranges, prices, sizes or model numbers); no name from ``other_people`` (an entry is
   "First Last": matched as the full name in any case, as the first name alone with its exact
   spelling and capitals, or as an honorific + last name such as "Frau Schmidt" / "山田様";
   single-kanji names only with an honorific; the customer's own names never count). The
   greeting (first line of the body when it starts with a salutation such as "Hello", "Liebe",
   "Bonjour", "Olá", "Beste", or a Japanese line with 様/さん) must name the customer (first
   name, or last name as in "Sehr geehrte Frau Müller"), or no one ("Hello,", "Dear customer,",
   "お客様各位"); a capitalised word in it that is neither the customer's name nor a generic
   word (customer, friend, Kundin, ...) or an honorific fails.
5. Length bounds per field, in characters (``ValidationLimits``).
6. No unresolved placeholders: {{...}}, {name}, {0}, [[...]], [NAME]-style brackets, bracketed
   placeholder words ("[Your Name]", "[お名前]"), <customer> or any XML/HTML-looking tag,
   <<...>>, %s / %(name)s, $first_name / ${...}, "INSERT ... HERE" (capitals; in brackets any
   case), "Lorem ipsum", 〇〇.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cached_property, lru_cache
from itertools import islice

from include.campaign.languages import SUPPORTED_LANGUAGES, language_confidences

LANGUAGE_MARGIN = 0.2
MIN_LANGUAGE_LETTERS = 20
MAX_IDS_IN_REASON = 10

# ---------------------------------------------------------------------------- data


@dataclass(frozen=True)
class ProductFact:
    product_id: str
    name: str
    price: Decimal | None  # catalog price (the discounted one), None if unknown
    currency: str | None  # ISO 4217, e.g. "EUR", "INR"

    @cached_property
    def _match_keys(self) -> _ProductKeys:
        """The name's comparison phrases, computed once per product object (not a field)."""
        return _product_keys(self.name, self.product_id)


@dataclass(frozen=True)
class EmailDraft:
    subject: str
    preheader: str
    body: str
    product_ids: tuple[str, ...]  # ids the model says it mentioned


class MalformedOutput(ValueError):
    """The model's tool input is not a usable email; ``reason`` is one line without its content."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class EmailContext:
    customer_id: str
    first_name: str
    last_name: str
    language: str  # the language to write in (from email_language)
    recommended: tuple[ProductFact, ...]
    other_products: tuple[ProductFact, ...] = ()  # catalog products NOT recommended to this customer
    other_people: tuple[str, ...] = ()  # names of other customers: must not appear
    company_names: tuple[str, ...] = ("Tarnwick", "Tarnwick Outdoor & Home")


@dataclass(frozen=True)
class ValidationLimits:
    subject_chars: tuple[int, int] = (5, 120)
    preheader_chars: tuple[int, int] = (0, 200)
    body_chars: tuple[int, int] = (200, 5000)


@dataclass(frozen=True)
class ValidationResult:
    ok: bool
    reasons: tuple[str, ...]  # one line each, stable wording, never customer data
    detected_language: str | None


# ---------------------------------------------------------------------------- parsing

_TEXT_FIELDS = ("subject", "preheader", "body")
_REQUIRED_TEXT = ("subject", "body")  # the preheader may be empty (its lower bound is 0)


def parse_draft(tool_input: object) -> EmailDraft:
    """From the model's tool-use input (a dict with subject, preheader, body, product_ids).

    A JSON string holding such an object is accepted too. Unknown extra keys are ignored (the
    tool schema may ask for more). Missing or mistyped fields, an empty subject or body, or a
    product id that is not a non-empty string -> MalformedOutput with a one-line reason.
    Surrounding whitespace is stripped; repeated product ids are kept once, in order.
    """
    if isinstance(tool_input, (str, bytes)):
        try:
            tool_input = json.loads(tool_input)
        except ValueError:
            raise MalformedOutput("tool input is not a JSON object") from None
    if not isinstance(tool_input, Mapping):
        raise MalformedOutput(f"tool input is {_type_name(tool_input)}, not an object")
    values: dict[str, str] = {}
    for name in _TEXT_FIELDS:
        if name not in tool_input:
            raise MalformedOutput(f"missing field: {name}")
        value = tool_input[name]
        if not isinstance(value, str):
            raise MalformedOutput(f"field {name} is {_type_name(value)}, not a string")
        value = value.strip()
        if not value and name in _REQUIRED_TEXT:
            raise MalformedOutput(f"empty field: {name}")
        values[name] = value
    if "product_ids" not in tool_input:
        raise MalformedOutput("missing field: product_ids")
    raw_ids = tool_input["product_ids"]
    if not isinstance(raw_ids, (list, tuple)):
        raise MalformedOutput(f"field product_ids is {_type_name(raw_ids)}, not a list")
    ids: list[str] = []
    for item in raw_ids:
        if not isinstance(item, str):
            raise MalformedOutput(f"field product_ids holds {_type_name(item)}, not strings")
        item = item.strip()
        if not item:
            raise MalformedOutput("field product_ids holds an empty id")
        if item not in ids:
            ids.append(item)
    return EmailDraft(values["subject"], values["preheader"], values["body"], tuple(ids))


def _type_name(value: object) -> str:
    names = {type(None): "null", bool: "a boolean", int: "a number", float: "a number",
             str: "a string", list: "a list", tuple: "a list", dict: "an object"}
    return names.get(type(value), "an object" if isinstance(value, Mapping) else "another type")


# ---------------------------------------------------------------------------- normalisation

_CJK_CHARS = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f\u3005"
_CJK = re.compile(f"[{_CJK_CHARS}]")
_WORD_OR_CJK = re.compile(f"[{_CJK_CHARS}]|[^\\W_{_CJK_CHARS}]+")
_LATIN_ACCENTS = re.compile("[\u0300-\u036f]")


def _fold(text: str) -> str:
    """Casefolded, without Latin accents, full-width folded: the comparison form of names."""
    if text.isascii():
        return text.lower()
    text = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text).casefold())
    return unicodedata.normalize("NFC", _LATIN_ACCENTS.sub("", text))


def _words(text: str) -> list[str]:
    """Comparison words: folded, punctuation dropped, every CJK character its own word."""
    return _WORD_OR_CJK.findall(_fold(text))


def _phrase(words: list[str] | tuple[str, ...]) -> str:
    return " " + " ".join(words) + " "


def _blank(text: str, spans: list[tuple[int, int]]) -> str:
    """``text`` with the spans replaced by spaces (positions are kept)."""
    if not spans:
        return text
    chars = list(text)
    for start, end in spans:
        chars[start:end] = " " * (end - start)
    return "".join(chars)


@lru_cache(maxsize=8192)
def _literal_pattern(needle: str) -> re.Pattern[str] | None:
    parts = needle.split()
    if not parts or len(needle.strip()) < 2:
        return None
    return re.compile(r"\s+".join(re.escape(part) for part in parts), re.I)


def _literal_spans(text: str, needles: list[str]) -> list[tuple[int, int]]:
    """Where the needles occur, ignoring case and the width of whitespace."""
    spans = []
    for needle in needles:
        pattern = _literal_pattern(needle)
        if pattern is not None:
            spans += [m.span() for m in pattern.finditer(text)]
    return spans


# ---------------------------------------------------------------------------- products

_HEAD_END = re.compile(r"[,(|]")


@dataclass(frozen=True)
class _ProductKeys:
    product_id: str
    full: str  # " words of the full name "
    key: str  # " first four words of the head "
    head_words: tuple[str, ...]
    first_word: str  # of the key and of the full name: a cheap filter before the phrase search


def _product_keys(name: str, product_id: str) -> _ProductKeys:
    full = _words(name)
    head = _words(_HEAD_END.split(name, 1)[0]) or full
    key = head[:4] if len(head) >= 2 else full[:4]
    return _ProductKeys(product_id, _phrase(full), _phrase(key), tuple(head), key[0] if key else "")


def _keys(product: ProductFact) -> _ProductKeys:
    return product._match_keys


def _names_product(text_phrase: str, keys: _ProductKeys) -> bool:
    """A recommended product is named: key phrase, full name, or 3 consecutive head words."""
    if keys.key in text_phrase or keys.full in text_phrase:
        return True
    head = keys.head_words
    return any(_phrase(head[i:i + 3]) in text_phrase for i in range(len(head) - 2))


def _named_other_products(text_phrase: str, ctx: EmailContext) -> list[str]:
    recommended = [_keys(p) for p in ctx.recommended if p.name.strip()]
    recommended_ids = {p.product_id for p in ctx.recommended}
    # Text without the recommended products' full names: where an ambiguous key is looked for.
    blanked = text_phrase
    for keys in recommended:
        blanked = blanked.replace(keys.full, " | ")
    text_words = set(text_phrase.split())
    named = []
    for product in ctx.other_products:
        keys = _keys(product)
        if keys.first_word not in text_words or (keys.key not in text_phrase and keys.full not in text_phrase):
            continue
        if keys.product_id in recommended_ids or keys.product_id in named:
            continue
        # A key phrase that is also part of a recommended name (a variant of a recommended
        # product) only counts as the other product's full name, outside recommended names.
        if any(keys.key in r.full for r in recommended) and keys.full not in blanked:
            continue
        named.append(keys.product_id)
    return named


_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,39}$")


def _id_list(ids: list[str]) -> str:
    """Ids for a reason: only id-looking values (letters/digits with a digit), never free text."""
    shown = [i for i in ids if _SAFE_ID.match(i) and any(ch.isdigit() for ch in i)]
    hidden = len(ids) - len(shown)
    text = ",".join(shown[:MAX_IDS_IN_REASON])
    if len(shown) > MAX_IDS_IN_REASON:
        text += f" and {len(shown) - MAX_IDS_IN_REASON} more"
    if hidden:
        text += (" and " if text else "") + f"{hidden} unrecognised id" + ("s" if hidden > 1 else "")
    return text


# ---------------------------------------------------------------------------- prices

_SPACE = " \u00a0\u202f\u2009"
_AMOUNT = re.compile(
    rf"(?<![\d.,'])"
    rf"(?P<number>\d{{1,3}}(?:[.,'{_SPACE}]\d{{3}})+(?:[.,]\d{{1,2}})?|\d+(?:[.,]\d{{1,2}})?)"
    rf"(?P<dash>[.,](?:--?|–|—))?"
    rf"(?!\d)(?![.,'{_SPACE}]\d{{3}}(?!\d))(?![.,]\d)"
)
_DOLLARS = frozenset({"USD", "CAD", "AUD", "NZD", "HKD", "SGD", "MXN"})
_SYMBOLS: dict[str, frozenset[str]] = {
    "R$": frozenset({"BRL"}), "US$": frozenset({"USD"}), "A$": frozenset({"AUD"}),
    "AU$": frozenset({"AUD"}), "C$": frozenset({"CAD"}), "CA$": frozenset({"CAD"}),
    "NZ$": frozenset({"NZD"}), "HK$": frozenset({"HKD"}), "S$": frozenset({"SGD"}),
    "MX$": frozenset({"MXN"}), "$": _DOLLARS, "€": frozenset({"EUR"}), "£": frozenset({"GBP"}),
    "₹": frozenset({"INR"}), "¥": frozenset({"JPY", "CNY"}), "￥": frozenset({"JPY", "CNY"}),
    "円": frozenset({"JPY"}), "ユーロ": frozenset({"EUR"}), "ドル": _DOLLARS,
    "₩": frozenset({"KRW"}), "₽": frozenset({"RUB"}), "₺": frozenset({"TRY"}),
    "₪": frozenset({"ILS"}), "₫": frozenset({"VND"}), "฿": frozenset({"THB"}),
    "₱": frozenset({"PHP"}), "₦": frozenset({"NGN"}), "zł": frozenset({"PLN"}),
    "Rs.": frozenset({"INR"}), "Rs": frozenset({"INR"}),
}
_WORDS: dict[str, frozenset[str]] = {
    "euro": frozenset({"EUR"}), "euros": frozenset({"EUR"}), "yen": frozenset({"JPY"}),
    "rupee": frozenset({"INR"}), "rupees": frozenset({"INR"}), "reais": frozenset({"BRL"}),
    "dollar": _DOLLARS, "dollars": _DOLLARS, "franken": frozenset({"CHF"}),
}
# Upper-case ISO codes of currencies a shop may quote (three-letter words such as ALL, TOP, CUP
# or PEN are left out: "TOP 10" is not a price).
_CODES = frozenset(
    "EUR GBP USD INR JPY CHF BRL CAD AUD NZD SEK NOK DKK ISK PLN CZK HUF RON BGN CNY HKD SGD "
    "KRW TWD THB IDR MYR VND MXN ARS CLP COP ZAR AED SAR ILS RUB UAH".split()
)
_CURRENCY_TOKEN = (
    "(?P<symbol>" + "|".join(
        ("(?<![A-Za-z])" if s[0].isascii() and s[0].isalpha() else "") + re.escape(s)  # "Rs" not in "HouRs"
        for s in sorted(_SYMBOLS, key=len, reverse=True)
    ) + ")"
    "|(?<![A-Za-z])(?P<code>" + "|".join(sorted(_CODES)) + ")(?![A-Za-z])"
    "|(?<![A-Za-z])(?P<word>(?i:" + "|".join(sorted(_WORDS, key=len, reverse=True)) + "))(?![A-Za-z])"
)
_CURRENCY_AFTER = re.compile(f"(?P<gap>[{_SPACE}]?)(?:{_CURRENCY_TOKEN})")
_CURRENCY_BEFORE = re.compile(f"(?:{_CURRENCY_TOKEN})(?P<gap>[{_SPACE}]?)$")
_CURRENCY_WINDOW = 12
_PERCENT = re.compile(rf"[{_SPACE}]?%")
_GAP = re.compile(rf"^[{_SPACE}]?$")


@dataclass(frozen=True)
class _Price:
    amount: Decimal
    currencies: frozenset[str]
    code: str  # for the reason
    span: tuple[int, int]

    @property
    def label(self) -> str:
        amount = self.amount
        text = str(int(amount)) if amount == amount.to_integral_value() else f"{amount:.2f}"
        return f"{text} {self.code}"


def _amount(number: str) -> Decimal | None:
    digits = re.sub(rf"[{_SPACE}']", "", number)
    decimal_sep = None
    last = max(digits.rfind("."), digits.rfind(","))
    if last >= 0 and len(digits) - last - 1 in (1, 2):
        decimal_sep = last
    if decimal_sep is not None:
        whole, fraction = digits[:decimal_sep], digits[decimal_sep + 1:]
    else:
        whole, fraction = digits, ""
    whole = whole.replace(".", "").replace(",", "")
    try:
        return Decimal(f"{whole}.{fraction}" if fraction else whole)
    except InvalidOperation:
        return None


def _currency_of(match: re.Match[str]) -> tuple[frozenset[str], str]:
    if match.group("symbol"):
        currencies = _SYMBOLS[match.group("symbol")]
    elif match.group("code"):
        currencies = frozenset({match.group("code")})
    else:
        currencies = _WORDS[match.group("word").lower()]
    code = "USD" if currencies == _DOLLARS else ("JPY" if "JPY" in currencies else min(currencies))
    return currencies, code


def _find_prices(text: str) -> list[_Price]:
    """Amounts with a currency right before or after them (one space at most in between)."""
    used: set[int] = set()  # start of every currency token already attached to an amount
    prices = []
    for amount in _AMOUNT.finditer(text):
        start, end = amount.span()
        if _PERCENT.match(text, end):
            continue
        options = []  # (currency match, its start in text, tight)
        window = max(0, start - _CURRENCY_WINDOW)
        before = _CURRENCY_BEFORE.search(text, window, start)
        if before is not None:
            options.append((before, before.start(), not before.group("gap")))
        after = _CURRENCY_AFTER.match(text, end)
        if after is not None and after.group("gap") and _AMOUNT.match(text, after.end()):
            after = None  # "255 €29.99": the currency belongs to the amount glued to it
        if after is not None:
            options.append((after, after.start() + len(after.group("gap")), not after.group("gap")))
        options = [o for o in options if o[1] not in used]
        if not options:
            continue
        # The tight side wins ("255 €29.99"); otherwise the currency before the amount.
        currency, currency_start, _ = next((o for o in options if o[2]), options[0])
        value = _amount(amount.group("number"))
        if value is None:
            continue
        used.add(currency_start)
        codes, code = _currency_of(currency)
        span_start = min(start, currency_start)
        span_end = end if currency_start < start else after.end()
        prices.append(_Price(value, codes, code, (span_start, span_end)))
    return prices


def _price_matches(price: _Price, recommended: tuple[ProductFact, ...]) -> bool:
    for product in recommended:
        if product.price is None or not product.currency:
            continue
        try:  # a float price (9.95) is taken as written, not as its binary expansion
            catalog = Decimal(repr(product.price) if isinstance(product.price, float) else product.price)
        except (InvalidOperation, TypeError, ValueError):
            continue
        if product.currency.strip().upper() in price.currencies and catalog == price.amount:
            return True
    return False


# ---------------------------------------------------------------------------- personal data

_EMAIL = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,}")
_OBFUSCATED_AT = re.compile(r"[\[(]\s*at\s*[\])]", re.I)
_OBFUSCATED_EMAIL = re.compile(
    r"\b[\w.+-]+\s*[\[(]\s*at\s*[\])]\s*[\w-]+(?:\s*(?:[\[(]\s*dot\s*[\])]|\.)\s*[\w-]+)+", re.I
)


def _email_spans(text: str) -> list[tuple[int, int]]:
    spans = [m.span() for m in _EMAIL.finditer(text)] if "@" in text else []
    if _OBFUSCATED_AT.search(text):
        spans += [m.span() for m in _OBFUSCATED_EMAIL.finditer(text)]
    return spans


_URL = re.compile(r"\b(?:https?://|www\.)\S+", re.I)
# Letters and digits glued to a run make it a model number ("UA32T4340"); kana do not ("まで").
_PHONE_CANDIDATE = re.compile(
    rf"(?<![A-Za-z0-9+\-/.,])(?P<plus>\+[{_SPACE}]?)?\(?\d(?:\d|[{_SPACE}\-./()]{{1,2}}(?=\(?\d))*\d\)?"
    rf"(?![A-Za-z0-9%])"
)
_PHONE_WORDS = re.compile(
    r"(?:\b(?:phone|telephone|tel|call|ring|mobile|cell|whatsapp|sms|text us|hotline|helpline|fax|"
    r"toll[ -]?free|customer (?:care|service|support)|care (?:no|number)|contact|reach us|"
    r"telefon|telefono|teléfono|téléphone|telefone|telefoon|handy|anruf|rufen|appel|appelez|"
    r"llama|llámanos|chiama|ligue|bel)\b|電話|☎|📞)[^\d\n]{0,30}$",
    re.I,
)


def _is_date(groups: list[str], separators: str) -> bool:
    if len(groups) != 3 or not set(separators) <= set("./-") or " " in separators:
        return False
    sizes = [len(g) for g in groups]
    if sizes[2] == 4 and sizes[0] <= 2 and sizes[1] <= 2:
        return True
    return sizes[0] == 4 and sizes[1] <= 2 and sizes[2] <= 2


def _is_phone(candidate: str, context_before: str, enclosed: bool = False) -> bool:
    """Whether a run of digits and separators is a phone number (rules in the module docstring)."""
    groups = re.findall(r"\d+", candidate)
    digits = "".join(groups)
    n = len(digits)
    separators = re.sub(r"[\d()+]", "", candidate).strip()
    sizes = tuple(len(g) for g in groups)
    if _is_date(groups, separators):
        return False
    if all(len(g) == 4 and g[:2] in ("19", "20") for g in groups):  # years, year ranges
        return False
    if "." in separators and all(s in (1, 2) for s in sizes[1:]) and len(groups) == 2:
        return False  # a decimal number
    if candidate.startswith("+"):
        return 8 <= n <= 15 and digits[0] != "0"
    if separators.count("/") > 1 or (len(groups) > 2 and "." in separators and min(sizes) == 1):
        return False  # lists and versions: "Windows 11/10/8.1/8/7", "85.0.4181.3"
    if _PHONE_WORDS.search(context_before) and 7 <= n <= 15:
        return True
    if digits.startswith("00") and len(groups) >= 2:
        return 10 <= n <= 15 and digits[2] != "0"
    if re.match(r"\(\d{1,5}\)", candidate) and len(groups) >= 2 and 8 <= n <= 13:
        return True  # "(030) 1234567", "(11) 91234-5678"; not a code in parentheses
    if digits.startswith("0") and 9 <= n <= 12:
        return sizes != (5, 4)  # not a US ZIP+4 code
    if digits[:4] in ("1800", "1860") and 10 <= n <= 13:  # Indian toll-free
        return True
    if sizes in ((3, 3, 4), (1, 3, 3, 4)) and set(separators) <= set("-. "):
        return sizes == (3, 3, 4) or digits[0] == "1"  # NANP; Italian mobiles have the same shape
    if sizes in ((5, 5), (10,)) and digits[0] in "6789" and not enclosed:  # Indian mobile
        return True
    if sizes == (3, 3, 3) and digits[0] in "6789" and set(separators) <= set(" "):  # ES/PT mobile
        return True
    return False


def _phone_spans(text: str) -> list[tuple[int, int]]:
    """Where ``text`` holds phone numbers (ASCII digits and separators; see ``_contains_phone``)."""
    spans = []
    for match in _PHONE_CANDIDATE.finditer(text):
        start, end = match.span()
        enclosed = text[start - 1:start] in ("(", "[") or match.group(0).startswith("(")
        if _is_phone(match.group(0).strip(), text[max(0, start - 50):start], enclosed):
            spans.append((start, end))
    return spans


def _contains_phone(text: str) -> bool:
    return bool(_phone_spans(unicodedata.normalize("NFKC", text).replace("\u2212", "-")))  # "０３－", "−"


_HONORIFICS = (
    "Mr", "Mr.", "Mrs", "Mrs.", "Ms", "Ms.", "Miss", "Dr", "Dr.", "Prof", "Prof.", "Herr", "Frau",
    "M.", "Mme", "Mme.", "Mlle", "Monsieur", "Madame", "Mademoiselle", "Sr", "Sr.", "Sra", "Sra.",
    "Señor", "Señora", "Don", "Doña", "Sig.", "Sig.ra", "Signor", "Signora", "Dott.", "Senhor",
    "Senhora", "Dhr.", "Mevr.", "Meneer", "Mevrouw",
)
_JA_HONORIFIC = "(?:様|さま|さん|殿|くん|ちゃん)"
_JA_HONORIFIC_END = re.compile(_JA_HONORIFIC + "$")


@dataclass(frozen=True)
class _People:
    """Other customers' names, indexed for fast lookups (built once per ``other_people``)."""

    first_names: frozenset[str]  # exact spelling, Latin script, 3+ letters
    full_names: tuple[str, ...]  # " folded words " phrases, any script
    last_names: frozenset[str]  # folded, after an honorific
    cjk_needles: tuple[str, ...]  # substrings for names in Japanese script


_WORD = re.compile(r"\w+")
_HONORIFIC_SET = frozenset(_HONORIFICS)


@lru_cache(maxsize=256)
def _people(people: tuple[str, ...]) -> _People:
    first_names: set[str] = set()
    full_names: list[str] = []
    last_names: set[str] = set()
    cjk_needles: list[str] = []
    for person in people:
        parts = person.split()
        if not parts:
            continue
        first, last = parts[0], parts[-1]
        if _CJK.search(person):
            if len(parts) > 1:
                cjk_needles += ["".join(parts), last + "".join(parts[:-1])]
                cjk_needles += [last + h for h in ("様", "さま", "さん", "殿")]
            cjk_needles += [first] if len(first) >= 2 else [first + h for h in ("様", "さま", "さん", "殿")]
            continue
        if len(parts) > 1:
            full_names.append(_phrase(_words(person)))
            last_names.add(_fold(last))
        if len(first) >= 3 and _WORD.fullmatch(first):
            first_names.add(first)
    return _People(frozenset(first_names), tuple(full_names), frozenset(last_names), tuple(cjk_needles))


def _names_other_person(text: str, ctx: EmailContext) -> bool:
    """A name from ``other_people`` appears (the customer's own names never count)."""
    if not ctx.other_people:
        return False
    people = _people(tuple(ctx.other_people))
    own_words = set(_words(f"{ctx.first_name} {ctx.last_name}"))
    first, last = ctx.first_name.strip(), ctx.last_name.strip()
    own_text = "|".join((first + last, last + first))
    tokens = set(_WORD.findall(text))
    if any(set(_words(name)) - own_words for name in tokens & people.first_names):
        return True
    text_phrase = _phrase(_words(text))
    for full in people.full_names:
        if full in text_phrase and set(full.split()) - own_words:
            return True
    if people.last_names:
        words = text.split()
        for honorific, name in zip(words, words[1:]):
            if honorific in _HONORIFIC_SET:
                name = _fold(name.strip(".,;:!?()\"'“”’"))
                if name in people.last_names and name not in own_words:
                    return True
    for needle in people.cjk_needles:
        if needle in text and _JA_HONORIFIC_END.sub("", needle) not in own_text:
            return True
    return False


_SALUTATIONS = (
    "hello", "hi", "hey", "dear", "greetings", "good morning", "good afternoon", "good evening",
    "hallo", "liebe", "lieber", "liebes", "sehr geehrte", "sehr geehrter", "guten tag", "moin",
    "servus", "grüß gott", "grüezi", "bonjour", "bonsoir", "salut", "cher", "chère", "chers",
    "chères", "hola", "estimado", "estimada", "estimados", "querido", "querida", "buenos días",
    "buenas tardes", "ciao", "gentile", "gentilissimo", "gentilissima", "caro", "cara", "salve",
    "buongiorno", "buonasera", "egregio", "olá", "ola", "oi", "prezado", "prezada", "bom dia",
    "boa tarde", "hoi", "beste", "geachte", "dag", "goedemorgen", "goedemiddag", "lieve",
)
_GREETING = re.compile(
    r"^(?:" + "|".join(re.escape(s) for s in sorted(_SALUTATIONS, key=len, reverse=True)) + r")(?!\w)"
    r"[\s,]*(?P<rest>[^\n]*)",
    re.I,
)
_JA_GREETING = re.compile(f"(?P<name>[^\\s、，,。！!「」]{{1,12}}?){_JA_HONORIFIC}")
# Words that may follow a salutation without being a name: whole words, and stems (prefixes).
_GENERIC_WORDS = frozenset((
    "all", "and", "und", "et", "y", "e", "en", "ami", "amie", "amis", "bem", "lid", "leden", "fan", "fans",
    "sir", "madam", "dame", "there", "team", "back", "again", "wieder", "herr", "frau", "senhor", "senhora",
    "signor", "signora", "everyone", "valued",
))
_GENERIC_STEMS = (
    "custom", "client", "friend", "freund", "kund", "amig", "klant", "vriend", "member", "mitglied",
    "membre", "miembro", "socio", "liebhaber", "explor", "entdeck", "abenteu", "aventur", "avventur",
    "hiker", "wander", "shopper", "welcome", "willkommen", "bienvenu", "benvenut", "welkom", "zuruck",
    "outdoor", "nature", "natur",
)


def _greeting_ok(body: str, ctx: EmailContext) -> bool:
    """The greeting names this customer (first or last name), or nobody."""
    first_line = next((line.strip() for line in body.splitlines() if line.strip()), "")
    first_line = _PLACEHOLDER.sub(" ", first_line)  # a placeholder has its own reason
    own = [w for w in (_fold(ctx.first_name).strip(), _fold(ctx.last_name).strip()) if w]
    company = set(_words(" ".join(ctx.company_names)))
    if _CJK.search(first_line):
        match = _JA_GREETING.search(first_line)
        if match is None:
            return True
        name = _fold(match.group("name"))
        return any(n in name for n in own) or any(g in name for g in ("お客", "皆", "会員", "各位"))
    match = _GREETING.match(first_line)
    if match is None:
        return True
    rest = match.group("rest")
    for honorific in sorted(_HONORIFICS, key=len, reverse=True):  # "Mr." must not end the greeting at its dot
        rest = re.sub(rf"(?<!\w){re.escape(honorific)}(?!\w)", " ", rest)
    rest = re.split(r"[,!:;?.]", rest, 1)[0]
    own_words = {w for name in own for w in _words(name)}
    for token in rest.split()[:4]:
        letters = token.strip("\"'“”‘’()-")
        if not letters or not letters[0].isupper():
            continue
        folded = _words(letters)
        if all(w in own_words or w in company or w in _GENERIC_WORDS or w.startswith(_GENERIC_STEMS)
               for w in folded):
            continue
        return False  # a capitalised word that is not this customer's name: another person's name
    return True


# ---------------------------------------------------------------------------- placeholders

_PLACEHOLDER = re.compile(
    "|".join((
        r"\{\{.*?\}\}",
        r"\{\s*(?:[A-Za-z_][\w.\-]*|\d+)\s*\}",
        r"\[\[.*?\]\]",
        r"\[\s*[A-Z][A-Z0-9_ \-]*[A-Z0-9_]\s*\](?!\()",
        r"(?i:\[\s*(?:your|insert|customer|first|last|full|product|company|recipient|name|link|url|"
        r"date|price|discount|code|sender|vorname|nachname|nom|prénom|prenom|nombre|nome|naam)"
        r"\b[^\]\n]{0,40}\])(?!\()",
        r"[\[【]\s*(?:お?名前|氏名|商品名|会社名|顧客名)\s*[\]】]",
        r"</?[A-Za-z_][\w:.\-]*(?:\s[^<>\n]*)?/?>",
        r"<<[^<>\n]{1,40}>>",
        r"(?<![\w%])%(?:\([A-Za-z_]\w*\))?[sd](?![A-Za-z0-9])",
        r"\$\{[^}\n]*\}|(?<![\w$])\$[a-z_][a-z0-9_]*(?![\w])",
        r"\bINSERT\b[^\n]{0,60}?\bHERE\b",
        r"(?i:\blorem\s+ipsum\b)",
        r"\b__[A-Z][A-Z0-9_]*__\b",
        r"〇〇|○○|●●",
    ))
)


# ---------------------------------------------------------------------------- validation


def validate_email(
    draft: EmailDraft, ctx: EmailContext, limits: ValidationLimits = ValidationLimits()
) -> ValidationResult:
    """Run every check on ``draft`` (see the module docstring); all reasons in a stable order."""
    reasons: list[str] = []
    visible = "\n".join((draft.subject, draft.preheader, draft.body))
    product_names = [p.name for p in ctx.recommended]
    blanked = _blank(visible, _literal_spans(visible, product_names + list(ctx.company_names))
                     + [m.span() for m in _URL.finditer(visible)])

    # 1. language
    detected, language_reason = _check_language(visible, ctx)
    if language_reason:
        reasons.append(language_reason)

    # 2. products
    recommended = {p.product_id: p for p in ctx.recommended}
    if not draft.product_ids:
        reasons.append("mentions no products")
    unknown = [i for i in draft.product_ids if i not in recommended]
    if unknown:
        reasons.append(f"mentions products not recommended: {_id_list(unknown)}")
    text_phrase = _phrase(_words(visible))
    named_others = _named_other_products(text_phrase, ctx)
    if named_others:
        noun = "a product" if len(named_others) == 1 else "products"
        reasons.append(f"names {noun} not recommended: {_id_list(named_others)}")
    for product_id in draft.product_ids:
        product = recommended.get(product_id)
        if product is not None and product.name.strip() and not _names_product(text_phrase, _keys(product)):
            reasons.append(f"product {_id_list([product_id])} listed but not named in the email")

    # 3. prices
    prices = _find_prices(blanked)
    seen: set[str] = set()
    for price in prices:
        if not _price_matches(price, ctx.recommended) and price.label not in seen:
            seen.add(price.label)
            reasons.append(f"price {price.label} matches no recommended product")

    # 4. personal data
    emails = _email_spans(visible)
    if emails:
        reasons.append("contains an email address")
    without_prices = _blank(blanked, [p.span for p in prices] + emails)
    if _contains_phone(without_prices):
        reasons.append("contains a phone number")
    if _names_other_person(blanked, ctx):
        reasons.append("names another customer")
    if not _greeting_ok(draft.body, ctx):
        reasons.append("greeting does not use the customer's first name")

    # 5. length
    for field, (low, high) in (("subject", limits.subject_chars), ("preheader", limits.preheader_chars),
                               ("body", limits.body_chars)):
        size = len(getattr(draft, field).strip())
        if size < low:
            reasons.append(f"{field} too short: {size} < {low} characters")
        elif size > high:
            reasons.append(f"{field} too long: {size} > {high} characters")

    # 6. placeholders
    if _PLACEHOLDER.search(visible):
        reasons.append("unresolved placeholder")

    return ValidationResult(ok=not reasons, reasons=tuple(reasons), detected_language=detected)


_DIGITS = re.compile(r"\d+")
_LETTER = re.compile(r"[^\W\d_]")


def _check_language(visible: str, ctx: EmailContext) -> tuple[str | None, str | None]:
    expected = ctx.language
    neutral = [p.name for p in ctx.recommended] + list(ctx.company_names)
    neutral += [n for n in (ctx.first_name, ctx.last_name) if n and len(n.strip()) >= 2]
    spans = _literal_spans(visible, neutral)
    spans += [m.span() for m in _URL.finditer(visible)] + _email_spans(visible)
    text = _DIGITS.sub(" ", _blank(visible, spans))
    if sum(1 for _ in islice(_LETTER.finditer(text), MIN_LANGUAGE_LETTERS)) < MIN_LANGUAGE_LETTERS:
        return None, f"language could not be determined, expected {_code(expected)}"
    confidences = language_confidences(text)
    top, top_value = confidences[0]
    if top_value <= 0.0:
        return None, f"language could not be determined, expected {_code(expected)}"
    expected_value = dict(confidences).get(expected, 0.0)
    if top == expected or expected_value >= top_value - LANGUAGE_MARGIN:
        return top, None
    return top, f"wrong language: detected {top}, expected {_code(expected)}"


def _code(language: str) -> str:
    return language if language in SUPPORTED_LANGUAGES else "an unsupported language"


# ---------------------------------------------------------------------------- retry feedback

_LANGUAGE_NAMES = {"en": "English", "de": "German", "fr": "French", "es": "Spanish", "it": "Italian",
                   "pt": "Portuguese", "nl": "Dutch", "ja": "Japanese"}
_EXPECTED = re.compile(r"expected (?P<code>[a-z]{2})$")


def feedback(result: ValidationResult) -> str:
    """A short instruction for the model's one retry, built from the reasons only (no customer data)."""
    if result.ok or not result.reasons:
        return ""
    lines: list[str] = []

    def add(line: str) -> None:
        if line not in lines:
            lines.append(line)

    for reason in result.reasons:
        if reason.startswith(("wrong language", "language could not")):
            match = _EXPECTED.search(reason)
            name = _LANGUAGE_NAMES.get(match.group("code"), "the requested language") if match else (
                "the requested language")
            add(f"Write the subject, preheader and body entirely in {name}.")
        elif reason == "mentions no products":
            add("List in product_ids the id of every recommended product you mention.")
        elif reason.startswith("mentions products not recommended"):
            add("product_ids may only hold ids from the recommended products "
                f"(remove: {reason.split(': ', 1)[1]}).")
        elif reason.startswith("names a product") or reason.startswith("names products"):
            add("Do not name any product other than the recommended products "
                f"(remove: {reason.split(': ', 1)[1]}).")
        elif reason.endswith("listed but not named in the email"):
            add("Name every product you list in product_ids in the email, or drop its id.")
        elif reason.startswith("price "):
            add("Quote each price exactly as given for the recommended products (same amount and "
                "currency) and no other amounts; percentages are fine.")
        elif reason == "contains an email address":
            add("Do not include any email address.")
        elif reason == "contains a phone number":
            add("Do not include any phone number.")
        elif reason == "names another customer":
            add("Do not mention any other person's name; write only to this customer.")
        elif reason.startswith("greeting"):
            add("Greet the customer with the first name given in the customer facts, or without a name.")
        elif " too short: " in reason or " too long: " in reason:
            field, _, numbers = reason.partition(" too ")
            add(f"Change the length of the {field} ({'too ' + numbers}).")
        elif reason.startswith("malformed output"):
            add(f"Fix: {reason}. Call the tool once, with subject, preheader and body as text and product_ids "
                "as a list of product id strings.")
        elif reason == "unresolved placeholder":
            add("Replace every placeholder or template tag ({{...}}, [NAME], <tag>, ...) with the "
                "final text.")
        else:
            add(f"Fix: {reason}.")
    return "Your previous email was rejected. Write it again and call the tool, fixing this:\n" + "\n".join(
        f"- {line}" for line in lines
    )
