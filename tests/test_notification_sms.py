"""SMS sizing and phone numbers: pure functions, no app."""
import pytest

from portal.notifications.sms import MAX_SEGMENTS, compose_sms, fits, is_gsm7, sms_size, to_e164

LINK = "https://esocial.gov.md/applications/AbCdEfGhIjKlMnOp"


@pytest.mark.parametrize("length, segments", [(1, 1), (160, 1), (161, 2), (306, 2), (307, 3)])
def test_latin_uses_gsm7_160_then_153_per_part(length, segments):
    size = sms_size("a" * length)
    assert (size.encoding, size.units, size.segments) == ("gsm7", length, segments)


@pytest.mark.parametrize("length, segments", [(70, 1), (71, 2), (134, 2), (135, 3)])
def test_cyrillic_uses_ucs2_70_then_67_per_part(length, segments):
    text = ("Заявление получено " * 20)[:length]
    size = sms_size(text)
    assert (size.encoding, size.segments) == ("ucs2", segments)


def test_romanian_comma_below_letters_are_not_gsm7():
    # ș ț (and ă â î) are outside GSM-7: one of them turns the whole text into UCS-2.
    for ch in "șțăâîȘȚĂÂÎ":
        assert not is_gsm7(ch), ch
    plain = "Cererea dvs. a fost inregistrata. Detalii: " + LINK
    assert sms_size(plain).encoding == "gsm7"
    with_diacritics = "Cererea dvs. a fost înregistrată. Detalii: " + LINK
    size = sms_size(with_diacritics)
    assert size.encoding == "ucs2"
    assert size.units == len(with_diacritics) == 95
    assert size.segments == 2  # 95 > 70: the same words cost two segments instead of one
    assert sms_size("a" * 100).segments == 1
    assert sms_size("ț" + "a" * 99).segments == 2  # one letter is enough


def test_gsm7_accented_letters_that_are_in_the_alphabet():
    assert sms_size("é è à ù ì ò Ä Ö Ñ Ü ä ö ñ ü ß").encoding == "gsm7"


def test_extension_characters_take_two_septets_and_never_straddle_parts():
    assert sms_size("€" * 80) == sms_size("€" * 80).__class__("gsm7", 160, 1)
    assert sms_size("€" * 81).segments == 2
    # 152 + 2 would be 154 > 153: the euro sign starts part two, which then overflows into part three.
    text = "a" * 152 + "€" + "a" * 152
    assert sms_size(text).units == 306
    assert sms_size(text).segments == 3


def test_surrogate_pairs_count_two_units():
    assert sms_size("🙂" * 35) == sms_size("🙂").__class__("ucs2", 70, 1)
    assert sms_size("🙂" * 36).segments == 2


def test_empty_text_has_no_segments():
    assert sms_size("").segments == 0


def test_compose_keeps_short_texts_and_the_link():
    text = compose_sms("Application 2025-000123 received. Details:", LINK)
    assert text == f"eSocial: Application 2025-000123 received. Details: {LINK}"
    assert sms_size(text).segments == 1


@pytest.mark.parametrize("core", [
    "Решение по заявлению 2025-000123 о единовременном пособии при рождении ребёнка: одобрено. Подробности:",
    "Decizie privind cererea 2025-000123 pentru indemnizația unică la nașterea copilului: aprobată. Detalii:",
    "Decision on application 2025-000123 for the one-off birth allowance and the cold-season aid: "
    "approved, with a long explanation that goes on and on well beyond what a text message can carry. Details:",
])
def test_compose_shortens_the_words_never_the_link(core):
    text = compose_sms(core, LINK)
    assert fits(text, MAX_SEGMENTS)
    assert text.endswith(LINK)
    assert text.startswith("eSocial: ")


def test_compose_uses_a_gsm7_ellipsis_in_gsm7_texts():
    text = compose_sms("word " * 80, LINK)
    assert "..." in text and "…" not in text
    assert sms_size(text).encoding == "gsm7"


@pytest.mark.parametrize("raw, expected", [
    ("+37369123456", "+37369123456"),
    ("+373 69 123 456", "+37369123456"),
    ("0037369123456", "+37369123456"),
    ("069123456", "+37369123456"),
    ("(+373) 69-123-456", "+37369123456"),
    ("+40 721 234 567", "+40721234567"),
    ("69123456", None),
    ("hello", None),
    ("", None),
    (None, None),
])
def test_phone_numbers_are_normalised_to_e164(raw, expected):
    assert to_e164(raw) == expected
