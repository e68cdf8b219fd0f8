"""Load and check the benefit catalogue.

The catalogue is data: adding a benefit means adding a ``[[benefit]]`` table,
not a code branch.  :func:`load_catalogue` refuses a file that names unknown
data items, registries, questions or documents, so mistakes fail at start-up.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from portal.config import CONFIG_DIR
from portal.core.i18n import localized

LANGS = ("ro", "ru", "en")


class CatalogueError(ValueError):
    pass


@dataclass(frozen=True)
class Option:
    value: str
    label: dict[str, str]


@dataclass(frozen=True)
class Question:
    code: str
    type: str  # money | choice | iban (a bank account number)
    label: dict[str, str]
    hint: dict[str, str] = field(default_factory=dict)
    required: bool = True
    options: tuple[Option, ...] = ()


@dataclass(frozen=True)
class DocumentKind:
    code: str
    title: dict[str, str]
    hint: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DocumentNeed:
    kind: str
    when: str | None = None  # a named condition, see portal.applications.steps


@dataclass(frozen=True)
class Benefit:
    code: str
    title: dict[str, str]
    summary: dict[str, str]
    legal_basis: str
    processing_days: int
    data: dict[str, str]  # data item → registry code
    questions: tuple[str, ...] = ()
    documents: tuple[DocumentNeed, ...] = ()
    # Months an approved claim lasts before it must be renewed; 0 = never (a one-off payment).
    renewal_months: int = 0

    def title_in(self, lang: str) -> str:
        return localized(self.title, lang)

    def summary_in(self, lang: str) -> str:
        return localized(self.summary, lang)


@dataclass(frozen=True)
class Catalogue:
    benefits: dict[str, Benefit]
    data_items: dict[str, dict[str, str]]  # item → title per language
    questions: dict[str, Question]
    documents: dict[str, DocumentKind]
    # item → registry for items that name their registry themselves: shown on "My data" even while no
    # benefit asks for them
    data_sources: dict[str, str] = field(default_factory=dict)

    def get(self, code: str) -> Benefit:
        return self.benefits[code]

    def __iter__(self):
        return iter(self.benefits.values())

    def items_for(self, codes) -> dict[str, str]:
        """Data items (→ registry) needed by any of the benefits ``codes``."""
        items: dict[str, str] = {}
        for code in codes:
            for item, registry in self.benefits[code].data.items():
                if items.setdefault(item, registry) != registry:
                    raise CatalogueError(f"{item} comes from two registries")
        return items

    def questions_for(self, codes) -> list[Question]:
        seen: dict[str, Question] = {}
        for code in codes:
            for q in self.benefits[code].questions:
                seen.setdefault(q, self.questions[q])
        return list(seen.values())

    def documents_for(self, codes) -> list[DocumentNeed]:
        seen: dict[str, DocumentNeed] = {}
        for code in codes:
            for need in self.benefits[code].documents:
                seen.setdefault(need.kind, need)
        return list(seen.values())


def _texts(raw: dict | None, where: str, required: bool = True) -> dict[str, str]:
    raw = dict(raw or {})
    if required and not raw.get("ro"):
        raise CatalogueError(f"{where}: a Romanian text is required")
    return raw


def _months(value, code: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise CatalogueError(f"benefit {code}: renewal_months must be a whole number of months, 0 or more")
    return value


def load_catalogue(path: Path | None = None, registries: set[str] | None = None) -> Catalogue:
    path = path or CONFIG_DIR / "catalogue.toml"
    with path.open("rb") as fh:
        raw = tomllib.load(fh)
    if registries is None:
        with (CONFIG_DIR / "reference" / "registries.toml").open("rb") as fh:
            registries = set(tomllib.load(fh)["registry"])
    data_items = {code: _texts(d.get("title"), f"data.{code}") for code, d in raw.get("data", {}).items()}
    data_sources = {code: d["registry"] for code, d in raw.get("data", {}).items() if "registry" in d}
    for code, registry in data_sources.items():
        if registry not in registries:
            raise CatalogueError(f"data.{code}: unknown registry {registry}")
    questions = {}
    for code, q in raw.get("question", {}).items():
        if q.get("type") not in {"money", "choice", "iban"}:
            raise CatalogueError(f"question.{code}: type must be money, choice or iban")
        options = tuple(Option(o["value"], _texts(o["label"], f"question.{code}.option")) for o in q.get("options", []))
        if q["type"] == "choice" and not options:
            raise CatalogueError(f"question.{code}: a choice needs options")
        questions[code] = Question(code, q["type"], _texts(q.get("label"), f"question.{code}"),
                                   _texts(q.get("hint"), f"question.{code}.hint", required=False),
                                   bool(q.get("required", True)), options)
    documents = {code: DocumentKind(code, _texts(d.get("title"), f"document.{code}"),
                                    _texts(d.get("hint"), f"document.{code}.hint", required=False))
                 for code, d in raw.get("document", {}).items()}
    benefits = {}
    for b in raw.get("benefit", []):
        code = b["code"]
        if code in benefits:
            raise CatalogueError(f"benefit {code} is defined twice")
        for item, registry in b.get("data", {}).items():
            if item not in data_items:
                raise CatalogueError(f"benefit {code}: unknown data item {item}")
            if registry not in registries:
                raise CatalogueError(f"benefit {code}: unknown registry {registry}")
            if data_sources.get(item, registry) != registry:
                raise CatalogueError(f"benefit {code}: {item} comes from {data_sources[item]}, not {registry}")
        for q in b.get("questions", []):
            if q not in questions:
                raise CatalogueError(f"benefit {code}: unknown question {q}")
        needs = tuple(DocumentNeed(d["kind"], d.get("when")) for d in b.get("documents", []))
        for need in needs:
            if need.kind not in documents:
                raise CatalogueError(f"benefit {code}: unknown document {need.kind}")
        benefits[code] = Benefit(
            code=code,
            title=_texts(b.get("title"), f"benefit {code}"),
            summary=_texts(b.get("summary"), f"benefit {code} summary"),
            legal_basis=b.get("legal_basis", ""),
            processing_days=int(b.get("processing_days", 30)),
            data=dict(b.get("data", {})),
            questions=tuple(b.get("questions", [])),
            documents=needs,
            renewal_months=_months(b.get("renewal_months", 0), code),
        )
    if not benefits:
        raise CatalogueError("the catalogue is empty")
    return Catalogue(benefits, data_items, questions, documents, data_sources)
