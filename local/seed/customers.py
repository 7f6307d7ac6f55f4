"""Customer master data: ``customers/customers.csv``."""

from __future__ import annotations

import csv
import io
import random
import unicodedata
from dataclasses import dataclass
from itertools import accumulate

from local.seed.retailer import EMAIL_DOMAINS, JA_ROMAJI, LEAVES, LOCALES

CUSTOMERS_KEY = "customers/customers.csv"
CUSTOMER_COLUMNS = (
    "customer_id", "first_name", "last_name", "email", "preferred_language", "country",
    "marketing_consent",
)
CONSENT_RATE = 0.8
# Letters NFKD does not decompose into ASCII.
_ASCII_FOLD = str.maketrans({"ß": "ss", "æ": "ae", "ø": "o", "œ": "oe", "'": "", " ": ""})


@dataclass(frozen=True)
class Customer:
    customer_id: str
    first_name: str
    last_name: str
    email: str
    language: str
    country: str
    consent: bool
    favourite_leaves: tuple[str, ...]  # not exported: the hidden signal behind purchases
    activity: float  # relative purchase frequency; a few customers buy much more often


def customer_id(number: int) -> str:
    return f"C{number:06d}"


def _ascii(name: str) -> str:
    if name in JA_ROMAJI:
        return JA_ROMAJI[name]
    folded = unicodedata.normalize("NFKD", name.lower().translate(_ASCII_FOLD))
    return "".join(ch for ch in folded if ch.isascii() and ch.isalnum())


def generate_customers(count: int, rng: random.Random) -> list[Customer]:
    locale_weights = list(accumulate(locale.weight for locale in LOCALES))
    leaf_keys = list(LEAVES)
    customers = []
    for number, locale in enumerate(
        rng.choices(LOCALES, cum_weights=locale_weights, k=count), start=1
    ):
        countries, weights = zip(*locale.countries)
        first = rng.choice(locale.first_names)
        last = rng.choice(locale.last_names)
        # The number keeps addresses unique without a lookup table (matters at 100k).
        local_part = f"{_ascii(first)}.{_ascii(last)}{number}"
        customers.append(
            Customer(
                customer_id=customer_id(number),
                first_name=first,
                last_name=last,
                email=f"{local_part}@{rng.choice(EMAIL_DOMAINS)}",
                language=locale.language,
                country=rng.choices(countries, weights=weights)[0],
                consent=rng.random() < CONSENT_RATE,
                favourite_leaves=tuple(rng.sample(leaf_keys, k=rng.choice((1, 2, 2, 3)))),
                activity=rng.paretovariate(1.5),
            )
        )
    return customers


# Rows a CRM export really produces now and then; each kind is one the customer pipeline must
# quarantine with its own reason (include/customer_master/validation.py).
BAD_CUSTOMER_KINDS: dict[str, tuple[str, ...]] = {
    "invalid_email": ("{id}", "Anna", "Beispiel", "anna.beispiel.at.example.com", "de", "DE", "true"),
    "unknown_language": ("{id}", "Marco", "Esempio", "marco.esempio@example.org", "xx", "IT", "true"),
    "unknown_country": ("{id}", "Sofia", "Exemplo", "sofia.exemplo@example.net", "pt-BR", "ZZ", "false"),
    "invalid_consent": ("{id}", "Tom", "Example", "tom.example@example.com", "en", "GB", "yes"),
    "missing_customer_id": ("", "Eva", "Voorbeeld", "eva.voorbeeld@example.com", "nl", "NL", "true"),
    "wrong_column_count": ("{id}", "Luc", "Exemple", "luc.exemple@example.fr", "fr"),
}


def bad_customer_rows(good_count: int, bad_rate: float) -> list[tuple[str, dict[str, object]]]:
    """(csv row, manifest entry) pairs appended after the good rows; ids never clash with good ones."""
    if bad_rate <= 0:
        return []
    kinds = list(BAD_CUSTOMER_KINDS)
    count = max(len(kinds), round(good_count * bad_rate))
    rows = []
    for i in range(count):
        kind = kinds[i % len(kinds)]
        cid = customer_id(good_count + 900_000 + i) if BAD_CUSTOMER_KINDS[kind][0] else ""
        fields = [f.format(id=cid) for f in BAD_CUSTOMER_KINDS[kind]]
        line = good_count + 2 + i  # 1-based, after the header and the good rows
        rows.append((",".join(fields), {"kind": kind, "line": line, "customer_id": cid}))
    return rows


def customers_csv(customers: list[Customer], bad_rows: list[tuple[str, dict[str, object]]] = ()) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CUSTOMER_COLUMNS)
    writer.writerows(
        (c.customer_id, c.first_name, c.last_name, c.email, c.language, c.country,
         "true" if c.consent else "false")
        for c in customers
    )
    buffer.writelines(f"{row}\n" for row, _ in bad_rows)
    return buffer.getvalue().encode("utf-8")
