"""Keeping "Signaler une erreur" for people: what a report form must pass before it is stored.

No account and no cookie, so the checks rest on the form itself and on this process's memory:

- a **honeypot** field people never see (``adresse_web``): a form that fills it is thanked and
  dropped, so a robot learns nothing;
- a **signed timestamp** (``jeton``: the time the form was shown and an HMAC of it with the
  shop's id): a form sent less than ``MIN_FILL_S`` after it was shown, or older than
  ``MAX_AGE_S``, or not signed here, is shown again with its message and a fresh stamp;
- **sizes**: a message of ``MIN_MESSAGE`` to ``MAX_MESSAGE`` characters with at most
  ``MAX_LINKS`` web addresses, a field among the page's own;
- **duplicates**: the same message about the same shop while an earlier one is still open is
  thanked and not stored again;
- **rates**: ``PER_SHOP`` reports an hour per shop and ``PER_SENDER`` an hour per sender,
  counted in memory under a salted hash of the address (never logged, never stored).

The signing key lives in the data directory (``form-key``), so every worker of one machine
signs alike; several machines need the same file.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from aggregator.runtime import Runtime
from aggregator.store.error_reports import MAX_MESSAGE
from aggregator.web.limits import TokenBuckets
from search.analysis import key

MIN_FILL_S = 3
MAX_AGE_S = 6 * 3600
MIN_MESSAGE = 5
MAX_LINKS = 2
#: Reports an hour (burst the same): one shop, one sender.
PER_SHOP = 10
PER_SENDER = 5
#: Open reports looked through for a duplicate (newest first).
DUPLICATE_WINDOW = 500
HONEYPOT = "adresse_web"
_LINK = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)


@dataclass(frozen=True)
class Verdict:
    """What to do with a report: ``store`` it, ``thank`` without storing, or show ``problem``
    (in French) with the form again, with this HTTP ``status``."""

    action: str
    problem: str = ""
    status: int = 200


def _key_of(runtime: Runtime) -> bytes:
    cached = getattr(runtime, "_public_form_key", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    path = Path(runtime.settings.data_dir) / "form-key"
    try:
        found = path.read_bytes()
    except FileNotFoundError:
        found = b""
    if len(found) < 32:
        found = secrets.token_bytes(32)
        try:  # the first worker writes it; the others read that one
            path.parent.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "wb") as out:
                out.write(found)
        except FileExistsError:
            found = path.read_bytes()
        except OSError:
            pass  # read-only data directory: this process's own key
    runtime._public_form_key = found  # type: ignore[attr-defined]
    return found


def stamp(runtime: Runtime, entity_id: str, issued: int | None = None) -> str:
    """The form's signed timestamp: ``<seconds>.<signature>``."""
    issued = int(time.time()) if issued is None else issued
    return f"{issued}.{_signature(runtime, entity_id, issued)}"


def _signature(runtime: Runtime, entity_id: str, issued: int) -> str:
    text = f"{entity_id}:{issued}".encode()
    return hmac.new(_key_of(runtime), text, hashlib.sha256).hexdigest()[:32]


def _age(runtime: Runtime, entity_id: str, token: str) -> float | None:
    """Seconds since the form was shown, or None when the stamp was not signed here."""
    issued, _, signature = token.partition(".")
    if not issued.isdigit() or len(issued) > 12:
        return None
    if not hmac.compare_digest(signature, _signature(runtime, entity_id, int(issued))):
        return None
    return time.time() - int(issued)


def _buckets(runtime: Runtime) -> tuple[TokenBuckets, TokenBuckets, bytes]:
    found = getattr(runtime, "_public_report_buckets", None)
    if found is None:
        found = (
            TokenBuckets(rate=PER_SHOP / 3600, burst=PER_SHOP),
            TokenBuckets(rate=PER_SENDER / 3600, burst=PER_SENDER),
            secrets.token_bytes(16),  # salt: the address is not kept even in memory
        )
        runtime._public_report_buckets = found  # type: ignore[attr-defined]
    return found  # type: ignore[no-any-return]


def judge(
    runtime: Runtime,
    entity_id: str,
    form: dict[str, str],
    fields: set[str],
    sender: str,
) -> Verdict:
    """The verdict on one report form about ``entity_id`` (``fields``: those the page offers;
    ``sender``: the client address, used only inside this call)."""
    if form.get(HONEYPOT, "").strip():
        return Verdict("thank")
    age = _age(runtime, entity_id, form.get("jeton", ""))
    if age is None or age > MAX_AGE_S:
        return Verdict(
            "again",
            "Ce formulaire a expiré : vérifiez votre message, puis envoyez-le à nouveau.",
            400,
        )
    if age < MIN_FILL_S:
        return Verdict(
            "again", "Envoi trop rapide : relisez votre message, puis envoyez-le à nouveau.", 400
        )
    message, field = form.get("message", "").strip(), form.get("champ", "")
    if field and field not in fields:
        return Verdict("again", "Choisissez l'information concernée dans la liste.", 400)
    if len(message) < MIN_MESSAGE:
        return Verdict("again", "Décrivez l'erreur en quelques mots.", 400)
    if len(message) > MAX_MESSAGE:
        return Verdict(
            "again", f"Votre message dépasse {MAX_MESSAGE} caractères : raccourcissez-le.", 400
        )
    if len(_LINK.findall(message)) > MAX_LINKS:
        return Verdict("again", f"Un signalement contient au plus {MAX_LINKS} liens.", 400)
    shops, senders, salt = _buckets(runtime)
    who = hashlib.sha256(salt + sender.encode()).hexdigest()
    if senders.take(who) > 0 or shops.take(entity_id) > 0:
        return Verdict(
            "again",
            "Beaucoup de signalements sont arrivés en peu de temps : réessayez dans une heure.",
            429,
        )
    said = key(message)
    for report in runtime.store.list_error_reports("open", DUPLICATE_WINDOW):
        if report.entity_id == entity_id and key(report.message) == said:
            return Verdict("thank")
    return Verdict("store")
