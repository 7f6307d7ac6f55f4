"""The fictional retailer every generated file describes: Tarnwick Outdoor & Home.

One source of truth for the facts the generated data and the hand-written documents must
agree on (store ids, countries, currencies, categories, warranty years). The documents
under ``documents/`` repeat these facts in prose; the tests check they still agree.
"""

from __future__ import annotations

from dataclasses import dataclass

RETAILER_NAME = "Tarnwick Outdoor & Home"
BRAND = "Tarnwick"
# RFC 2606 reserved names only: nothing generated may point at a real mailbox or site.
EMAIL_DOMAINS: tuple[str, ...] = ("example.com", "example.org", "example.net")
SHOP_BASE_URL = "https://shop.tarnwick.example"
IMAGE_BASE_URL = "https://images.tarnwick.example"

# The catalog is priced in euros (the retailer's home currency, head office in Innsbruck);
# POS and web events are in the customer's local currency at these price-list rates.
CATALOG_CURRENCY_SYMBOL = "€"
PRICE_LIST_RATES_FROM_EUR: dict[str, float] = {
    "EUR": 1.0,
    "GBP": 0.86,
    "USD": 1.08,
    "CHF": 0.95,
    "BRL": 5.90,
    "JPY": 162.0,
}


@dataclass(frozen=True)
class Country:
    code: str  # ISO-3166 alpha-2
    currency: str  # ISO-4217
    timezone: str  # IANA zone used to render event_ts with a local offset


COUNTRIES: dict[str, Country] = {
    c.code: c
    for c in (
        Country("GB", "GBP", "Europe/London"),
        Country("IE", "EUR", "Europe/Dublin"),
        Country("US", "USD", "America/New_York"),
        Country("DE", "EUR", "Europe/Berlin"),
        Country("AT", "EUR", "Europe/Vienna"),
        Country("CH", "CHF", "Europe/Zurich"),
        Country("FR", "EUR", "Europe/Paris"),
        Country("BE", "EUR", "Europe/Brussels"),
        Country("ES", "EUR", "Europe/Madrid"),
        Country("IT", "EUR", "Europe/Rome"),
        Country("PT", "EUR", "Europe/Lisbon"),
        Country("BR", "BRL", "America/Sao_Paulo"),
        Country("NL", "EUR", "Europe/Amsterdam"),
        Country("JP", "JPY", "Asia/Tokyo"),
    )
}


@dataclass(frozen=True)
class Store:
    store_id: str
    city: str
    country: str


# Must match documents/stores/store-locations.html (a test checks it). Countries without a
# store (IE, US, BE, BR) buy on the web only.
STORES: tuple[Store, ...] = (
    Store("TW-AT-01", "Innsbruck", "AT"),
    Store("TW-AT-02", "Vienna", "AT"),
    Store("TW-DE-01", "Munich", "DE"),
    Store("TW-DE-02", "Berlin", "DE"),
    Store("TW-DE-03", "Hamburg", "DE"),
    Store("TW-CH-01", "Zurich", "CH"),
    Store("TW-FR-01", "Lyon", "FR"),
    Store("TW-FR-02", "Paris", "FR"),
    Store("TW-IT-01", "Milan", "IT"),
    Store("TW-ES-01", "Barcelona", "ES"),
    Store("TW-PT-01", "Lisbon", "PT"),
    Store("TW-NL-01", "Amsterdam", "NL"),
    Store("TW-GB-01", "London", "GB"),
    Store("TW-GB-02", "Edinburgh", "GB"),
    Store("TW-JP-01", "Tokyo", "JP"),
    Store("TW-JP-02", "Sapporo", "JP"),
)


@dataclass(frozen=True)
class Locale:
    language: str  # BCP-47
    weight: float  # share of customers
    countries: tuple[tuple[str, float], ...]  # (country, weight), consistent with language
    first_names: tuple[str, ...]
    last_names: tuple[str, ...]


# Japanese names are written in kanji (as a Japanese customer master would hold them); the
# romaji beside each is used only to build the e-mail address.
JA_FIRST_NAMES: tuple[tuple[str, str], ...] = (
    ("陽翔", "haruto"), ("蓮", "ren"), ("湊", "minato"), ("大翔", "hiroto"), ("悠真", "yuma"),
    ("健太", "kenta"), ("翔太", "shota"), ("拓海", "takumi"), ("結衣", "yui"), ("陽菜", "hina"),
    ("美咲", "misaki"), ("さくら", "sakura"), ("葵", "aoi"), ("凛", "rin"), ("花子", "hanako"),
    ("由美", "yumi"), ("直樹", "naoki"), ("恵", "megumi"), ("誠", "makoto"), ("真央", "mao"),
)
JA_LAST_NAMES: tuple[tuple[str, str], ...] = (
    ("佐藤", "sato"), ("鈴木", "suzuki"), ("高橋", "takahashi"), ("田中", "tanaka"),
    ("伊藤", "ito"), ("渡辺", "watanabe"), ("山本", "yamamoto"), ("中村", "nakamura"),
    ("小林", "kobayashi"), ("加藤", "kato"), ("吉田", "yoshida"), ("山田", "yamada"),
    ("佐々木", "sasaki"), ("松本", "matsumoto"), ("井上", "inoue"), ("木村", "kimura"),
    ("林", "hayashi"), ("清水", "shimizu"), ("森", "mori"), ("池田", "ikeda"),
)
JA_ROMAJI: dict[str, str] = dict(JA_FIRST_NAMES + JA_LAST_NAMES)

LOCALES: tuple[Locale, ...] = (
    Locale(
        "en", 0.20, (("GB", 0.6), ("IE", 0.2), ("US", 0.2)),
        ("Oliver", "George", "Harry", "Jack", "Noah", "Amelia", "Olivia", "Isla", "Emily",
         "Grace", "Siobhan", "Ciaran", "Aoife", "Liam", "Emma", "Ethan", "Madison", "Hannah"),
        ("Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Murphy", "Kelly",
         "O'Brien", "Walsh", "Johnson", "Miller", "Davis", "Evans", "Campbell", "Stewart"),
    ),
    Locale(
        "de", 0.20, (("DE", 0.7), ("AT", 0.2), ("CH", 0.1)),
        ("Lukas", "Leon", "Finn", "Jonas", "Felix", "Maximilian", "Mia", "Emma", "Hannah",
         "Sophie", "Lea", "Lena", "Jürgen", "Sabine", "Katrin", "Matthias", "Anja", "Jörg"),
        ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
         "Schulz", "Hoffmann", "Huber", "Gruber", "Bauer", "Keller", "Weiß", "Brunner"),
    ),
    Locale(
        "fr", 0.12, (("FR", 0.8), ("BE", 0.12), ("CH", 0.08)),
        ("Gabriel", "Louis", "Raphaël", "Jules", "Hugo", "Léa", "Chloé", "Manon", "Camille",
         "Inès", "Zoé", "Théo", "Élodie", "Amélie", "François", "Céline"),
        ("Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand",
         "Leroy", "Moreau", "Simon", "Laurent", "Lefèvre", "Michel", "Garnier", "Faure"),
    ),
    Locale(
        "es", 0.10, (("ES", 1.0),),
        ("Hugo", "Martín", "Lucas", "Mateo", "Pablo", "Álvaro", "Lucía", "Sofía", "Martina",
         "María", "Paula", "Julia", "Javier", "Carmen", "Nuria", "Iñigo"),
        ("García", "Fernández", "González", "Rodríguez", "López", "Martínez", "Sánchez",
         "Pérez", "Gómez", "Ruiz", "Díaz", "Moreno", "Muñoz", "Álvarez", "Romero", "Navarro"),
    ),
    Locale(
        "it", 0.10, (("IT", 0.9), ("CH", 0.1)),
        ("Leonardo", "Francesco", "Alessandro", "Lorenzo", "Mattia", "Sofia", "Giulia",
         "Aurora", "Alice", "Ginevra", "Chiara", "Davide", "Federica", "Niccolò"),
        ("Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci",
         "Marino", "Greco", "Bruno", "Gallo", "Conti", "De Luca", "Costa", "Fontana"),
    ),
    Locale(
        "pt-PT", 0.05, (("PT", 1.0),),
        ("João", "Rodrigo", "Martim", "Francisco", "Tomás", "Maria", "Leonor", "Matilde",
         "Beatriz", "Carolina", "Inês", "Gonçalo", "Rita"),
        ("Silva", "Santos", "Ferreira", "Pereira", "Oliveira", "Costa", "Rodrigues",
         "Martins", "Sousa", "Fernandes", "Gonçalves", "Lopes", "Marques", "Carvalho"),
    ),
    Locale(
        "pt-BR", 0.06, (("BR", 1.0),),
        ("Miguel", "Arthur", "Heitor", "Davi", "Bernardo", "Helena", "Alice", "Laura",
         "Valentina", "Manuela", "Luana", "Thiago", "Larissa", "Caio"),
        ("Silva", "Souza", "Oliveira", "Lima", "Pereira", "Almeida", "Ribeiro", "Barbosa",
         "Cardoso", "Nascimento", "Araújo", "Rocha", "Teixeira", "Moraes"),
    ),
    Locale(
        "nl", 0.07, (("NL", 0.75), ("BE", 0.25)),
        ("Daan", "Sem", "Lucas", "Bram", "Thijs", "Emma", "Julia", "Tess", "Sanne", "Fleur",
         "Lotte", "Joost", "Maarten", "Eline"),
        ("de Jong", "Jansen", "de Vries", "van den Berg", "van Dijk", "Bakker", "Visser",
         "Smit", "Meijer", "de Boer", "Mulder", "Peeters", "Maes", "Claes"),
    ),
    Locale(
        "ja", 0.10, (("JP", 1.0),),
        tuple(kanji for kanji, _ in JA_FIRST_NAMES),
        tuple(kanji for kanji, _ in JA_LAST_NAMES),
    ),
)
LANGUAGES: tuple[str, ...] = tuple(locale.language for locale in LOCALES)


@dataclass(frozen=True)
class Leaf:
    """A leaf of the category tree and what products in it look like."""

    path: str  # Amazon-style "Top|Sub|Leaf" category string
    noun: str  # short noun reviewers use ("jacket", "pan")
    titles: tuple[str, ...]  # product-name stems
    features: tuple[str, ...]  # name fragments and about_product bullets
    variants: tuple[str, ...]  # colour / size / capacity in brackets
    price_eur: tuple[int, int]  # list-price range
    good: tuple[str, ...]  # what happy reviewers praise
    bad: tuple[str, ...]  # what unhappy reviewers complain about
    companion: str | None = None  # leaf key often bought together (bundle signal)


# Warranty years by top-level category, as stated in documents/policies/warranty-policy.md.
WARRANTY_YEARS: dict[str, str] = {
    "DownJackets": "5-year",
    "RainShells": "3-year",
    "LeatherHikingBoots": "2-year",
    "Tents": "3-year",
    "CastIronPans": "lifetime",
    "DutchOvens": "lifetime",
}
DEFAULT_WARRANTY = "2-year"

LEAVES: dict[str, Leaf] = {
    "DownJackets": Leaf(
        "Outdoor&Trail|Clothing|Jackets&Coats|DownJackets", "jacket",
        ("Hooded Down Jacket", "Down Parka", "Lightweight Down Vest", "Packable Down Jacket"),
        ("700 Fill-Power Responsibly Sourced Down", "Recycled Ripstop Shell",
         "Packs into Its Own Pocket", "PFC-Free Water-Repellent Finish", "Two-Way Front Zip"),
        ("Pine Green, M", "Black, L", "Fjord Blue, S", "Rust, XL", "Slate Grey, M"),
        (149, 429),
        ("really warm", "light enough to carry all day", "packs down tiny", "fits true to size"),
        ("lost feathers from day one", "the zip broke after two weeks", "not warm below zero",
         "the sleeves are far too short"),
        "DownWash",
    ),
    "RainShells": Leaf(
        "Outdoor&Trail|Clothing|Jackets&Coats|RainShells", "shell",
        ("3-Layer Waterproof Rain Jacket", "Storm Shell Jacket", "Packable Rain Anorak"),
        ("20,000 mm Hydrostatic Head", "Fully Taped Seams", "Helmet-Compatible Hood",
         "Pit Zips for Venting", "Recycled Nylon Face Fabric"),
        ("Signal Orange, M", "Black, S", "Moss, L", "Navy, XL"),
        (119, 389),
        ("kept me dry in a full day of rain", "breathes well on climbs", "great hood"),
        ("wetted out after an hour", "the seam tape peeled off", "rustles like a crisp packet"),
        "RepairKits",
    ),
    "MerinoBaseLayers": Leaf(
        "Outdoor&Trail|Clothing|Knitwear|MerinoBaseLayers", "base layer",
        ("Merino 200 Long-Sleeve Base Layer", "Merino 150 T-Shirt", "Merino Leggings"),
        ("100% Mulesing-Free Merino Wool", "Flatlock Seams", "Naturally Odour-Resistant",
         "Machine Washable at 30 Degrees"),
        ("Charcoal, M", "Heather Red, S", "Forest, L", "Oat, XL"),
        (49, 119),
        ("no smell even after a week", "soft and not itchy at all", "perfect under a shell"),
        ("holes after three washes", "shrank in the wash", "itchy on the neck"),
        "WoolJumpers",
    ),
    "WoolJumpers": Leaf(
        "Outdoor&Trail|Clothing|Knitwear|WoolJumpers", "jumper",
        ("Fisherman Rib Wool Jumper", "Half-Zip Lambswool Sweater", "Cable-Knit Cardigan"),
        ("Tyrolean Lambswool", "Reinforced Elbows", "Ribbed Cuffs and Hem"),
        ("Ecru, M", "Loden Green, L", "Navy, S", "Oatmeal, XL"),
        (79, 189),
        ("beautifully made", "cosy on cold evenings", "holds its shape"),
        ("pilled after a week", "the colour faded quickly", "much thinner than pictured"),
    ),
    "LeatherHikingBoots": Leaf(
        "Outdoor&Trail|Footwear|Boots|LeatherHikingBoots", "boots",
        ("Full-Grain Leather Hiking Boots", "Mountain Trekking Boots", "Resoleable Leather Boots"),
        ("Waxed Full-Grain Nubuck", "Vibram-Style Rubber Outsole", "Goodyear-Welted",
         "Waterproof Breathable Membrane", "Resoleable at Any Tarnwick Store"),
        ("Brown, EU 42", "Dark Brown, EU 38", "Chestnut, EU 44", "Black, EU 40"),
        (179, 349),
        ("comfortable straight out of the box", "bone dry in wet grass", "great ankle support"),
        ("gave me blisters on the heel", "the sole started to separate", "leaked after a month"),
        "LeatherWax",
    ),
    "TrailShoes": Leaf(
        "Outdoor&Trail|Footwear|TrailShoes", "shoes",
        ("Trail Running Shoes", "Approach Shoes", "Lightweight Hiking Shoes"),
        ("4 mm Lugs for Grip", "Rock Plate", "Quick-Lace System", "Recycled Mesh Upper"),
        ("Grey/Lime, EU 43", "Blue, EU 39", "Black, EU 41", "Sand, EU 45"),
        (89, 169),
        ("grippy on wet rock", "light and fast", "roomy toe box"),
        ("the mesh tore within a month", "runs a full size small", "slippery on wet roots"),
    ),
    "Tents": Leaf(
        "Outdoor&Trail|Camping|Tents", "tent",
        ("2-Person Backpacking Tent", "3-Person Tunnel Tent", "4-Season Geodesic Tent",
         "Family Cabin Tent"),
        ("Freestanding Aluminium Poles", "Two Doors and Two Vestibules", "3,000 mm Flysheet",
         "Pitches Inner and Fly Together", "Footprint Included"),
        ("Green, 2P", "Sand, 3P", "Orange, 2P", "Grey, 6P"),
        (229, 1299),
        ("pitches in five minutes", "stood up to a proper storm", "roomy for two"),
        ("a pole snapped on the second night", "condensation everywhere", "leaked at the seams"),
        "SleepingMats",
    ),
    "SleepingBags": Leaf(
        "Outdoor&Trail|Camping|SleepingBags", "sleeping bag",
        ("Down Mummy Sleeping Bag", "Synthetic 3-Season Sleeping Bag", "Summer Quilt"),
        ("Comfort Rating -5 C", "Anti-Snag Zip", "Compression Sack Included"),
        ("Regular, Left Zip", "Long, Right Zip", "Regular, Right Zip"),
        (99, 549),
        ("warm and light", "lovely to sleep in", "compresses small"),
        ("cold well above its rating", "the zip snags constantly", "lost loft after a trip"),
        "SleepingMats",
    ),
    "SleepingMats": Leaf(
        "Outdoor&Trail|Camping|SleepingMats", "mat",
        ("Self-Inflating Sleeping Mat", "Insulated Air Pad", "Closed-Cell Foam Mat"),
        ("R-Value 4.2", "Valve with One-Way Inflation", "Repair Kit Included"),
        ("Regular", "Long Wide", "Short"),
        (39, 179),
        ("comfortable on rocky ground", "inflates quickly", "quiet when turning over"),
        ("slow leak after a week", "too narrow", "the valve failed"),
    ),
    "HikingBackpacks": Leaf(
        "Outdoor&Trail|Packs&Bags|HikingBackpacks", "backpack",
        ("38 L Hiking Backpack", "55+10 L Trekking Pack", "22 L Day Pack"),
        ("Adjustable Back System", "Integrated Rain Cover", "Hip-Belt Pockets",
         "Hydration Compatible"),
        ("Moss, M/L", "Black, S/M", "Ochre, M/L"),
        (69, 289),
        ("carries heavy loads comfortably", "lots of clever pockets", "well ventilated back"),
        ("a buckle broke on day two", "the hip belt digs in", "stitching came loose"),
        "HeadTorches",
    ),
    "HeadTorches": Leaf(
        "Outdoor&Trail|Accessories|HeadTorches", "head torch",
        ("400 Lumen Rechargeable Head Torch", "Red-Light Camp Head Torch"),
        ("USB-C Rechargeable", "IPX6 Waterproof", "Lock Mode for Packing"),
        ("Black", "Orange"),
        (29, 79),
        ("bright and long-lasting", "comfortable strap"),
        ("battery dies overnight", "the strap lost its stretch"),
    ),
    "FlasksBottles": Leaf(
        "Outdoor&Trail|Accessories|Flasks&Bottles", "flask",
        ("Vacuum Insulated Flask 750 ml", "Stainless Steel Bottle 1 L"),
        ("Keeps Drinks Hot 24 Hours", "Leak-Proof Lid", "Dishwasher Safe"),
        ("Forest", "Steel", "Berry"),
        (19, 49),
        ("coffee still hot at lunch", "does not leak"),
        ("the lid leaks", "dented on the first drop"),
    ),
    "CastIronPans": Leaf(
        "Home&Kitchen|Kitchen&Dining|Cookware|CastIronPans", "pan",
        ("Pre-Seasoned Cast-Iron Skillet", "Cast-Iron Grill Pan", "Nambu-Style Cast-Iron Pan"),
        ("Pre-Seasoned with Flaxseed Oil", "Works on Induction and Open Fire",
         "Made in Iwate", "Pour Spouts on Both Sides"),
        ("26 cm", "30 cm", "20 cm"),
        (39, 149),
        ("sears steak perfectly", "heats evenly", "will outlive me"),
        ("arrived rusty", "the seasoning flakes off", "far too heavy to lift"),
        "CastIronOil",
    ),
    "DutchOvens": Leaf(
        "Home&Kitchen|Kitchen&Dining|Cookware|DutchOvens", "dutch oven",
        ("Enamelled Cast-Iron Dutch Oven", "Camp Dutch Oven with Legs"),
        ("Oven Safe to 260 C", "Self-Basting Lid", "Enamel Interior"),
        ("4.7 L, Red", "6 L, Black", "3 L, Sage"),
        (89, 259),
        ("perfect bread every time", "stews are amazing"),
        ("the enamel chipped", "lid does not sit flat"),
        "CastIronOil",
    ),
    "Knives": Leaf(
        "Home&Kitchen|Kitchen&Dining|Knives", "knife",
        ("Santoku Knife 18 cm", "Chef's Knife 21 cm", "Folding Camp Knife"),
        ("Damascus Steel", "Olive-Wood Handle", "Hand-Sharpened"),
        ("18 cm", "21 cm", "9 cm blade"),
        (49, 229),
        ("razor sharp", "beautifully balanced"),
        ("blade chipped on a squash", "handle cracked"),
    ),
    "StonewareMugs": Leaf(
        "Home&Kitchen|Kitchen&Dining|Tableware|StonewareMugs", "mug",
        ("Hand-Glazed Stoneware Mug Set of 2", "Enamel Camp Mug"),
        ("Microwave and Dishwasher Safe", "Each Glaze Unique"),
        ("Glacier", "Ember", "Lichen"),
        (14, 39),
        ("lovely glaze", "nice weight in the hand"),
        ("arrived cracked", "the glaze crazed"),
    ),
    "WoolBlankets": Leaf(
        "Home&Kitchen|HomeTextiles|WoolBlankets", "blanket",
        ("Pure New Wool Throw", "Herringbone Wool Blanket", "Alpine Loden Blanket"),
        ("Woven in Vorarlberg", "Fringed Edges", "150 x 200 cm"),
        ("Grey Herringbone", "Ochre Check", "Forest Plaid"),
        (69, 219),
        ("warm and heavy", "gorgeous colours"),
        ("sheds fluff everywhere", "scratchy"),
        "CandlesLanterns",
    ),
    "LinenBedding": Leaf(
        "Home&Kitchen|HomeTextiles|LinenBedding", "bedding",
        ("Stonewashed Linen Duvet Cover Set", "Linen Fitted Sheet"),
        ("100% European Flax", "OEKO-TEX Certified", "Coconut Buttons"),
        ("Double, Sand", "King, White", "Single, Sage"),
        (59, 249),
        ("soft after one wash", "cool in summer"),
        ("shrank badly", "buttons fell off"),
    ),
    "CandlesLanterns": Leaf(
        "Home&Kitchen|HomeDecor|Candles&Lanterns", "lantern",
        ("Beeswax Candle Set", "Storm Lantern", "Cedar Scented Candle"),
        ("Hand-Poured", "Burns 40 Hours", "Brass Fittings"),
        ("Set of 3", "Large", "Small"),
        (12, 69),
        ("smells wonderful", "cosy light"),
        ("tunnelled after an hour", "glass cracked"),
    ),
    "DownWash": Leaf(
        "Care&Repair|ClothingCare|DownWash", "down wash",
        ("Down Wash 300 ml", "Tech Wash and Reproof Kit"),
        ("Biodegradable Formula", "Restores Loft"),
        ("300 ml", "2 x 300 ml"),
        (9, 24),
        ("jacket came out fluffy again", "easy to use"),
        ("left a residue", "did nothing"),
    ),
    "LeatherWax": Leaf(
        "Care&Repair|FootwearCare|LeatherWax", "wax",
        ("Beeswax Leather Dressing", "Boot Care Kit with Brush"),
        ("Natural Beeswax and Lanolin", "Restores Water Resistance"),
        ("100 ml", "Kit"),
        (9, 29),
        ("boots look new again", "a little goes a long way"),
        ("darkened my boots a lot", "dried out quickly"),
    ),
    "CastIronOil": Leaf(
        "Care&Repair|CookwareCare|CastIronOil", "seasoning oil",
        ("Cast-Iron Seasoning Oil", "Chainmail Scrubber and Oil Set"),
        ("Food-Safe Flaxseed Blend", "Stainless Chainmail"),
        ("100 ml", "Set"),
        (8, 25),
        ("pan looks great", "scrubber is brilliant"),
        ("sticky finish", "leaked in the box"),
    ),
    "RepairKits": Leaf(
        "Care&Repair|RepairKits", "repair kit",
        ("Field Repair Kit", "Seam Sealer and Patch Set"),
        ("Tenacious Patches", "Needle and Thread", "Works on Tents and Shells"),
        ("Standard", "Expedition"),
        (9, 29),
        ("saved my trip", "everything you need"),
        ("patches peel off", "tiny tube of glue"),
    ),
}

# House lines and third-party brands the retailer stocks (all invented), by category
# prefix; the first matching prefix wins. Matches the lines named in brand-story.md.
BRANDS_BY_CATEGORY: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Outdoor&Trail|Clothing|Knitwear", ("Tarnwick Hochkar", "Sorlie Wool")),
    ("Outdoor&Trail|Clothing", ("Tarnwick Hochkar", "Graufels")),
    ("Outdoor&Trail|Footwear", ("Tarnwick Hochkar", "Graufels")),
    ("Outdoor&Trail", ("Tarnwick Fjellsund", "Brackenfold", "Lumecraft")),
    ("Home&Kitchen|Kitchen&Dining|Cookware", ("Tarnwick Kessel", "Omura Tekki")),
    ("Home&Kitchen|Kitchen&Dining", ("Tarnwick Kessel", "Hollin & Vane")),
    ("Home&Kitchen", ("Tarnwick Hearth", "Sorlie Wool", "Hollin & Vane")),
    ("Care&Repair", ("Tarnwick", "Brackenfold")),
)


def brands_for(category_path: str) -> tuple[str, ...]:
    return next(brands for prefix, brands in BRANDS_BY_CATEGORY
                if category_path.startswith(prefix))
