"""Identifiers a shop is known by: phone (E.164), e-mail, website domain, SIRET.

An identifier that cannot be read is ``None``, never a guess: a wrong identifier is worse than a
missing one, because two records sharing it would be merged.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

import phonenumbers

#: Domains that say nothing about which shop a website is: social networks, directories, maps,
#: link shorteners and delivery apps. Subdomains count too (``fr-fr.facebook.com``).
NON_SHOP_DOMAINS: frozenset[str] = frozenset(
    [
        "facebook.com",
        "fb.com",
        "fb.me",
        "instagram.com",
        "twitter.com",
        "x.com",
        "linkedin.com",
        "youtube.com",
        "youtu.be",
        "tiktok.com",
        "pinterest.com",
        "pinterest.fr",
        "snapchat.com",
        "google.com",
        "google.fr",
        "goo.gl",
        "g.page",
        "g.co",
        "maps.app.goo.gl",
        "pagesjaunes.fr",
        "pj.fr",
        "tripadvisor.fr",
        "tripadvisor.com",
        "yelp.fr",
        "yelp.com",
        "ubereats.com",
        "deliveroo.fr",
        "just-eat.fr",
        "justeat.fr",
        "linktr.ee",
        "wa.me",
        "whatsapp.com",
        "bit.ly",
        "leboncoin.fr",
        "societe.com",
        "infogreffe.fr",
        "annuaire-entreprises.data.gouv.fr",
        "openstreetmap.org",
    ]
)
#: Hosting services whose customers each get a subdomain: the subdomain is the shop's own.
SHARED_HOSTS: frozenset[str] = frozenset(
    [
        "wixsite.com",
        "wix.com",
        "business.site",
        "jimdo.com",
        "jimdofree.com",
        "jimdosite.com",
        "over-blog.com",
        "wordpress.com",
        "blogspot.com",
        "blogspot.fr",
        "e-monsite.com",
        "myshopify.com",
        "free.fr",
        "sitew.fr",
        "webnode.fr",
        "webnode.com",
        "weebly.com",
        "square.site",
        "ueniweb.com",
        "github.io",
        "netlify.app",
        "godaddysites.com",
    ]
)
#: Second-level public suffixes: the registrable domain keeps one label more under them.
PUBLIC_SECOND_LEVELS: frozenset[str] = frozenset(
    [
        "asso.fr",
        "com.fr",
        "nom.fr",
        "gouv.fr",
        "tm.fr",
        "co.uk",
        "org.uk",
        "com.es",
        "com.pt",
        "co.jp",
        "com.au",
    ]
)
_SCHEME = re.compile(r"^[a-z][a-z0-9+.\-]*://")
_HOST_END = re.compile(r"[/?#:\\]")
_HOST = re.compile(r"[a-z0-9\-_.]+")
_EMAIL = re.compile(r"[a-z0-9._%+\-]+@[a-z0-9.\-]+\.[a-z]{2,}")
#: Groups of at most five digits joined by slashes (and the usual punctuation): one number.
_SLASHED = re.compile(r"[+(]?[\d\s.()\-]{1,8}(?:/[\d\s.()\-]{1,8})+")
_PHONE_SPLIT = re.compile(r"\s*(?:/|;|,|\bou\b|\bor\b|\|)\s*")
#: SIREN of La Poste, whose establishments' SIRETs are checked by digit sum, not by Luhn.
LA_POSTE_SIREN = "356000000"
#: ...except its head office, whose SIRET passes Luhn like everyone else's.
LA_POSTE_HEAD_OFFICE = "35600000000048"


def normalise_phones(phone: str | None, country: str = "FR") -> tuple[str, ...]:
    """Every valid number in the text, as E.164, in order; invalid numbers are dropped.

    >>> normalise_phones("05 61 22 33 44 / 06.12.34.56.78")
    ('+33561223344', '+33612345678')
    >>> normalise_phones("212/757-9813", "US")
    ('+12127579813',)
    """
    if not phone:
        return ()
    country = (country or "FR").upper()
    if "/" in phone and _SLASHED.fullmatch(phone.strip()):
        # "212/757-9813", "05/61/22/33/44": slashes between groups of one number, not a list.
        phone = phone.replace("/", " ")
    compact = phone.translate(_PUNCTUATION)
    if country == "FR" and len(compact) <= 13:
        # Fast path: one French number written in any of the usual ways.
        fast = _french(compact)
        if fast is not None:
            return (fast,) if fast else ()
    found: dict[str, None] = {}
    for part in _PHONE_SPLIT.split(phone.strip()):
        fast = _french(part.translate(_PUNCTUATION)) if country == "FR" else None
        number = fast if fast is not None else _parse_phone(part, country)
        if number:
            found.setdefault(number, None)
    return tuple(found)


def phone_digits(phone: str, country: str = "FR") -> tuple[int, int]:
    """The first two valid numbers of the text as integers (E.164 without "+"), 0 for none:
    the form matching stores."""
    if country == "FR" or country == "fr":
        compact = phone.translate(_PUNCTUATION)
        if len(compact) <= 13:
            fast = _french(compact)
            if fast is not None:
                return (int(fast[1:]) if fast else 0), 0
    found = normalise_phones(phone, country)
    return (int(found[0][1:]) if found else 0), (int(found[1][1:]) if len(found) > 1 else 0)


def normalise_phone(phone: str | None, country: str = "FR") -> str | None:
    """The first valid number in the text as E.164 (``"+33561223344"``), or ``None``."""
    numbers = normalise_phones(phone, country)
    return numbers[0] if numbers else None


#: Spaces, dots, dashes and brackets inside a number: deleted before reading it.
_PUNCTUATION = str.maketrans("", "", " .-()\u00a0\u202f\t")
_FRENCH = re.compile(r"(?:\+33|0033|33)?0?([1-9]\d{8})|0([1-9]\d{8})")


def _french(compact: str) -> str | None:
    """``"+33561223344"`` for a French number written alone, ``""`` for an invalid one,
    ``None`` when the text is not one plain French number (the slow path decides).

    phonenumbers decides the validity of a French number by the first digits of its national
    number (three, five for the 8xx special rates): the answer is cached per prefix, so the
    slow parser runs a few hundred times per run instead of once per record.
    """
    match = _FRENCH.fullmatch(compact)
    if match is None or (compact[0] != "0" and compact[0] != "+"):
        return None
    national = match.group(1) or match.group(2)
    prefix = national[:5] if national[0] == "8" else national[:3]
    valid = _FR_PREFIX_VALID.get(prefix)
    if valid is None:
        valid = _parse_digits("+33" + national, "FR") is not None
        _FR_PREFIX_VALID[prefix] = valid
    return "+33" + national if valid else ""


_FR_PREFIX_VALID: dict[str, bool] = {}


def _parse_phone(text: str, country: str) -> str | None:
    text = text.strip()
    if not re.search(r"\d{2}", text):
        return None
    if re.fullmatch(r"[\d\s.()+\-]+", text):
        # Punctuation aside, "05 61 22 33 44" and "05.61.22.33.44" are one number: parse once.
        return _parse_digits(("+" if "+" in text else "") + re.sub(r"\D", "", text), country)
    return _parse_text(text, country)


@lru_cache(maxsize=65536)
def _parse_digits(digits: str, country: str) -> str | None:
    return _parse_text(digits, country)


def _parse_text(text: str, country: str) -> str | None:
    try:
        parsed = phonenumbers.parse(text, country)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def normalise_email(email: str | None) -> str | None:
    """The first address in the text, lowercase, or ``None``."""
    if not email:
        return None
    match = _EMAIL.search(email.strip().lower().removeprefix("mailto:"))
    return match.group(0).strip(".") if match else None


def website_domain(url: str | None, ignored: Iterable[str] = ()) -> str | None:
    """The registrable domain of a shop's own website, or ``None`` for social/platform pages.

    >>> website_domain("https://www.boulangerie-ange.fr/contact")
    'boulangerie-ange.fr'
    >>> website_domain("https://fr-fr.facebook.com/boulangerieange") is None
    True
    """
    if not url:
        return None
    text = url.strip().split()[0] if url.strip() else ""
    if not text or "@" in text.split("/")[0]:
        return None
    # The host: after the scheme, before any path, query, fragment or port (no urlsplit:
    # this runs once per distinct website of a run).
    host = _SCHEME.sub("", text.lower(), count=1)
    host = _HOST_END.split(host, maxsplit=1)[0].rsplit("@", 1)[-1].rstrip(".")
    if "." not in host or host.replace(".", "").isdigit() or not _HOST.fullmatch(host):
        return None
    labels = host.removeprefix("www.").split(".")
    blocked = _blocked(tuple(ignored))
    for i in range(len(labels) - 1):
        if ".".join(labels[i:]) in blocked:
            return None
    keep = 2
    suffix2 = ".".join(labels[-2:])
    if suffix2 in SHARED_HOSTS or suffix2 in PUBLIC_SECOND_LEVELS:
        keep = 3
    if len(labels) < keep:
        return None
    return ".".join(labels[-keep:])


@lru_cache(maxsize=64)
def _blocked(ignored: tuple[str, ...]) -> frozenset[str]:
    return NON_SHOP_DOMAINS | frozenset(d.lower().removeprefix("www.") for d in ignored)


def luhn_ok(digits: str) -> bool:
    """The Luhn check used by SIREN and SIRET numbers."""
    total = sum(map(int, digits[-1::-2])) + sum(_DOUBLED[int(ch)] for ch in digits[-2::-2])
    return total % 10 == 0


#: A digit doubled, its two digits summed (Luhn).
_DOUBLED = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)


def siret_is_valid(siret: str) -> bool:
    """14 digits passing Luhn, or a La Poste establishment (digit sum divisible by 5)."""
    if len(siret) != 14 or not siret.isdigit():
        return False
    if siret.startswith(LA_POSTE_SIREN) and siret != LA_POSTE_HEAD_OFFICE:
        return sum(int(ch) for ch in siret) % 5 == 0
    return luhn_ok(siret)


def normalise_siret(siret: str | None) -> str | None:
    """A valid 14-digit SIRET (spaces and dots removed), or ``None``. Thirteen digits that
    pass once a leading zero is put back are read so: a spreadsheet ate the zero."""
    if not siret:
        return None
    digits = re.sub(r"[\s.\-]", "", siret)
    if len(digits) == 13 and siret_is_valid("0" + digits):
        return "0" + digits
    return digits if siret_is_valid(digits) else None
