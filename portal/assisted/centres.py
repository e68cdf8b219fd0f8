"""CUPS centres, from ``config/reference/cups.toml``."""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from portal.config import CONFIG_DIR
from portal.core.i18n import localized

KINDS = ("mayoralty", "library", "consulate")


@dataclass(frozen=True)
class Centre:
    code: str
    kind: str
    country: str
    timezone: str
    name: dict[str, str]
    address: dict[str, str]
    phone: str = ""
    raion: str | None = None

    def name_in(self, lang: str) -> str:
        return localized(self.name, lang)

    def address_in(self, lang: str) -> str:
        return localized(self.address, lang)

    @property
    def abroad(self) -> bool:
        return self.country != "MD"


def load_centres(path: Path | None = None) -> dict[str, Centre]:
    path = path or CONFIG_DIR / "reference" / "cups.toml"
    with path.open("rb") as fh:
        raw = tomllib.load(fh)
    from portal.routing.reference import load_territory

    raions = load_territory().raions
    centres: dict[str, Centre] = {}
    for c in raw.get("centre", []):
        code = c["code"]
        if code in centres:
            raise ValueError(f"CUPS centre {code} is listed twice")
        if c["kind"] not in KINDS:
            raise ValueError(f"CUPS centre {code}: kind is one of {', '.join(KINDS)}")
        if c["country"] == "MD" and c.get("raion") not in raions:
            raise ValueError(f"CUPS centre {code}: a centre in Moldova names its raion")
        ZoneInfo(c["timezone"])  # refuses an unknown zone at start
        for field in ("name", "address"):
            missing = {"ro", "ru", "en"} - set(c.get(field, {}))
            if missing:
                raise ValueError(f"CUPS centre {code}: {field} has no {', '.join(sorted(missing))} text")
        centres[code] = Centre(code=code, kind=c["kind"], country=c["country"], timezone=c["timezone"],
                               name=c["name"], address=c["address"], phone=c.get("phone", ""),
                               raion=c.get("raion"))
    return centres


@lru_cache(maxsize=1)
def centres() -> dict[str, Centre]:
    return load_centres()


def get(code: str | None) -> Centre | None:
    return centres().get(code or "")
