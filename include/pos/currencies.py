"""ISO 4217 currency codes a sale can be priced in, embedded so validation needs no network.

The active codes of the ISO 4217 list (amendments up to 2025), minus the codes that are not a
currency a shop charges in: precious metals (XAU XAG XPT XPD), SDR and bond-market units (XDR XBA
XBB XBC XBD XSU XUA), fund codes (BOV CHE CHW CLF COU MXV USN UYI UYW), the testing code XTS and
XXX ("no currency"), which is exactly what a broken till sends. ANG stays beside its successor XCG
(2025) so late files from Curaçao and Sint Maarten still load; withdrawn codes (HRK, SLL, ZWL,
CUC) are unknown.
"""

from __future__ import annotations

CURRENCY_CODES: frozenset[str] = frozenset(
    """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN
    BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD
    CAD CDF CHF CLP CNY COP CRC CUP CVE CZK
    DJF DKK DOP DZD
    EGP ERN ETB EUR
    FJD FKP
    GBP GEL GHS GIP GMD GNF GTQ GYD
    HKD HNL HTG HUF
    IDR ILS INR IQD IRR ISK
    JMD JOD JPY
    KES KGS KHR KMF KPW KRW KWD KYD KZT
    LAK LBP LKR LRD LSL LYD
    MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN
    NAD NGN NIO NOK NPR NZD
    OMR
    PAB PEN PGK PHP PKR PLN PYG
    QAR
    RON RSD RUB RWF
    SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL
    THB TJS TMT TND TOP TRY TTD TWD TZS
    UAH UGX USD UYU UZS
    VED VES VND VUV
    WST
    XAF XCD XCG XOF XPF
    YER
    ZAR ZMW ZWG
    """.split()
)
