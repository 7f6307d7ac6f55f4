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


def customers_csv(customers: list[Customer]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CUSTOMER_COLUMNS)
    writer.writerows(
        (c.customer_id, c.first_name, c.last_name, c.email, c.language, c.country,
         "true" if c.consent else "false")
        for c in customers
    )
    return buffer.getvalue().encode("utf-8")
