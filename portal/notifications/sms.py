"""SMS sizing and phone numbers: pure functions, no Flask, no database.

An SMS segment holds 160 GSM-7 characters, or 70 UCS-2 code units when any
character falls outside GSM-7 (Cyrillic, and the Romanian ș ț ă â î).  A
message longer than one segment is split into parts of 153 (GSM-7) or 67
(UCS-2) because each part carries a concatenation header.  GSM-7 extension
characters (``€ [ ] { } ^ ~ | \\`` and form feed) take two septets and are
never split across parts; neither is a UTF-16 surrogate pair.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

# 3GPP TS 23.038 default alphabet (the escape code 0x1B excluded) and its extension table.
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

SINGLE = {"gsm7": 160, "ucs2": 70}
MULTIPART = {"gsm7": 153, "ucs2": 67}

# What a notification SMS may cost: at most this many segments.
MAX_SEGMENTS = 2

E164 = re.compile(r"^\+[1-9]\d{7,14}$")
MOLDOVA_CODE = "373"


@dataclass(frozen=True)
class SmsSize:
    encoding: str  # "gsm7" | "ucs2"
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    segments: int


def is_gsm7(text: str) -> bool:
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text)


def _units(text: str, encoding: str) -> list[int]:
    """Width of each character in the chosen encoding."""
    if encoding == "gsm7":
        return [2 if ch in GSM7_EXTENSION else 1 for ch in text]
    return [2 if ord(ch) > 0xFFFF else 1 for ch in text]


def sms_size(text: str) -> SmsSize:
    """Encoding, length and number of segments ``text`` needs."""
    encoding = "gsm7" if is_gsm7(text) else "ucs2"
    widths = _units(text, encoding)
    units = sum(widths)
    if units == 0:
        return SmsSize(encoding, 0, 0)
    if units <= SINGLE[encoding]:
        return SmsSize(encoding, units, 1)
    per_part = MULTIPART[encoding]
    segments, used = 1, 0
    for width in widths:  # a character never straddles two parts
        if used + width > per_part:
            segments, used = segments + 1, 0
        used += width
    return SmsSize(encoding, units, segments)


def fits(text: str, max_segments: int = MAX_SEGMENTS) -> bool:
    return sms_size(text).segments <= max_segments


def compose_sms(core: str, link: str = "", *, prefix: str = "eSocial: ", max_segments: int = MAX_SEGMENTS) -> str:
    """``prefix`` + ``core`` + ``link``, shortening ``core`` (never the link) until it fits.

    Texts are written short so this is a safety net for long names or numbers,
    not the usual path.  The ellipsis is ``...`` in GSM-7 texts, since ``…`` is
    not GSM-7 and would halve the room.
    """
    core = " ".join(core.split())
    tail = f" {link}" if link else ""
    text = f"{prefix}{core}{tail}"
    if fits(text, max_segments):
        return text
    ellipsis = "..." if is_gsm7(text) else "…"
    words = core.split(" ")
    while words:
        words.pop()
        text = f"{prefix}{' '.join(words).rstrip(',;:.')}{ellipsis}{tail}"
        if fits(text, max_segments):
            return text
    # Only a link that is itself too long gets here; cut characters as a last resort.
    text = f"{prefix}{link}".strip()
    while text and not fits(text, max_segments):
        text = text[:-1]
    return text


def to_e164(phone: str | None, default_country: str = MOLDOVA_CODE) -> str | None:
    """Normalise a phone number to E.164, or ``None`` if it cannot be one.

    Accepts ``+373 69 123 456``, ``0037369123456`` and the national form
    ``069123456`` (a leading 0 and eight digits, Moldova's numbering plan).
    """
    if not phone:
        return None
    raw = re.sub(r"[\s\-().]", "", phone)
    if raw.startswith("00"):
        raw = "+" + raw[2:]
    elif re.fullmatch(r"0\d{8}", raw):
        raw = f"+{default_country}{raw[1:]}"
    return raw if E164.match(raw) else None
