"""A synthetic population of Moldova for the registry simulator.

Deterministic: the same ``(size, today, seed)`` gives the same people on every
run and every machine (one seeded :class:`random.Random`, no sets or hashes in
the generation order).  About 10,000 persons in households spread over every
raion of ``config/reference/territory.toml``, built in memory in well under a
second.

The population is the *truth* the simulated registries serve, each registry
showing only its own slice: the population register (identity, address,
household), the civil-status register (births, marriages), CNAS (insurance), SFS
(income), CNDDCM (disability), ANOFM (unemployment) and the cadastre.

Every demo person of :mod:`devstack.demo_people` is in it with exactly their
IDNP, name, birth date and raion, in the household their ``household`` profile
describes.  Other IDNPs use office codes 100 and above, so they never collide
with the demo numbers (office ``001``) or the test accounts (``2001000…``).
Children born abroad and never registered in Moldova have no IDNP: they are
kept on their household (:attr:`Household.unregistered_children`) and no
registry knows them.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import random
from collections import defaultdict
from dataclasses import dataclass, field

from devstack import demo_people
from portal.core.idnp import make_idnp
from portal.routing.reference import load_territory

DEFAULT_SIZE = 10_000
DEFAULT_SEED = 373  # Moldova's calling code

RELATIONS = ("applicant", "spouse", "child", "parent", "other")
INCOME_SOURCES = ("salary", "pension", "business", "other")
DISABILITY_DEGREES = ("severe", "accentuated", "medium")
MONTHS_OF_INCOME = 12  # full months of income kept per person (the client asks for the last 3)
PENSION_AGE = 63

# --- names ----------------------------------------------------------------------------

RO_MALE = (
    "Ion", "Vasile", "Gheorghe", "Nicolae", "Mihai", "Andrei", "Alexandru", "Ștefan", "Constantin", "Dumitru",
    "Sergiu", "Victor", "Iurie", "Vlad", "Cristian", "Dorin", "Radu", "Tudor", "Petru", "Grigore", "Anatol",
    "Valeriu", "Octavian", "Mircea", "Vitalie", "Ionuț", "Dănuț", "Răzvan", "Cătălin", "Bogdan", "Traian",
    "Adrian", "Eugen", "Marin", "Pavel", "Teodor", "Costică", "Nicușor", "Mihăiță", "Liviu",
)
RO_FEMALE = (
    "Maria", "Elena", "Ana", "Ioana", "Tatiana", "Natalia", "Irina", "Cristina", "Mariana", "Doina", "Aurelia",
    "Valentina", "Ludmila", "Lilia", "Angela", "Svetlana", "Olga", "Silvia", "Violeta", "Mihaela", "Ecaterina",
    "Nicoleta", "Dumitrița", "Lucreția", "Mărioara", "Ștefania", "Ileana", "Iuliana", "Cătălina", "Rodica",
    "Veronica", "Domnița", "Viorica", "Zinaida", "Alexandra", "Daniela", "Corina", "Diana", "Adriana", "Ionela",
)
RO_SURNAMES = (
    "Rusu", "Ceban", "Lungu", "Munteanu", "Popescu", "Ciobanu", "Țurcan", "Rotaru", "Cojocaru", "Bodiu", "Grosu",
    "Sârbu", "Cebotari", "Botnari", "Moraru", "Bălan", "Croitoru", "Guțu", "Melnic", "Cazacu", "Roșca", "Țîrdea",
    "Onu", "Știrbu", "Bîrcă", "Plămădeală", "Mîndru", "Ursu", "Mocanu", "Lupu", "Pîslaru", "Căldare", "Țăranu",
    "Bușmachiu", "Șeremet", "Vântu", "Câmpeanu", "Răileanu", "Gîrlea", "Cârlig", "Ungureanu", "Păduraru",
    "Negruță", "Chiriac", "Pîrțac", "Ștefăneț", "Vrabie", "Donică", "Țâcu", "Dabija",
)
RU_MALE = (
    "Alexandr", "Serghei", "Dmitri", "Vladimir", "Nicolai", "Oleg", "Igor", "Andrei", "Pavel", "Evghenii", "Iurii",
    "Mihail", "Victor", "Anatolii", "Valerii", "Boris", "Ghennadii", "Maxim", "Artiom", "Denis", "Roman", "Vadim",
)
RU_FEMALE = (
    "Tatiana", "Svetlana", "Olga", "Elena", "Natalia", "Irina", "Galina", "Liudmila", "Valentina", "Anastasia",
    "Ecaterina", "Larisa", "Nadejda", "Vera", "Iulia", "Oxana", "Marina", "Alla", "Zinaida", "Ksenia", "Daria",
)
# Masculine forms; the feminine is derived (Ivanov → Ivanova); -enko, -uk and -ici do not change.
RU_SURNAMES = (
    "Ivanov", "Petrov", "Smirnov", "Popov", "Kuznețov", "Sokolov", "Volkov", "Morozov", "Novikov", "Pavlov",
    "Vasiliev", "Lebedev", "Kozlov", "Stepanov", "Nikolaev", "Orlov", "Zaițev", "Belousov", "Șevcenko",
    "Bondarenko", "Tkacenko", "Kravcenko", "Kovalciuk", "Grigoriev", "Ciorniy", "Jukov", "Țvetkov", "Fiodorov",
)

# Share of Russian-speaking families by raion (the rest have Romanian names).
RU_SHARE = {"gagauzia": 0.75, "taraclia": 0.7, "balti": 0.45, "chisinau": 0.25, "dubasari": 0.15, "ocnita": 0.3}
RU_SHARE_DEFAULT = 0.07

# --- places ---------------------------------------------------------------------------

# The first locality is the raion's centre (urban); the others are villages.
LOCALITIES = {
    "anenii-noi": ("Anenii Noi", "Bulboaca", "Varnița", "Mereni", "Gura Bîcului"),
    "basarabeasca": ("Basarabeasca", "Abaclia", "Iordanovca", "Sadaclia"),
    "briceni": ("Briceni", "Lipcani", "Corjeuți", "Larga"),
    "cahul": ("Cahul", "Giurgiulești", "Colibași", "Crihana Veche", "Slobozia Mare"),
    "cantemir": ("Cantemir", "Cociulia", "Baimaclia", "Gotești"),
    "calarasi": ("Călărași", "Hîrjauca", "Sipoteni", "Pîrjolteni"),
    "causeni": ("Căușeni", "Cîrnățeni", "Zaim", "Ursoaia"),
    "cimislia": ("Cimișlia", "Gura Galbenei", "Javgur", "Selemet"),
    "criuleni": ("Criuleni", "Măgdăcești", "Cruglic", "Dubăsarii Vechi"),
    "donduseni": ("Dondușeni", "Tîrnova", "Corbu", "Sudarca"),
    "drochia": ("Drochia", "Pelinia", "Zgurița", "Sofia"),
    "dubasari": ("Cocieri", "Molovata", "Coșnița", "Doroțcaia"),
    "edinet": ("Edineț", "Cupcini", "Gordinești", "Hlinaia"),
    "falesti": ("Fălești", "Pînzăreni", "Năvîrneț", "Sărata Veche"),
    "floresti": ("Florești", "Mărculești", "Ghindești", "Cuhureștii de Sus"),
    "glodeni": ("Glodeni", "Balatina", "Cuhnești", "Iabloana"),
    "hincesti": ("Hîncești", "Lăpușna", "Mingir", "Cărpineni"),
    "ialoveni": ("Ialoveni", "Costești", "Văsieni", "Ruseștii Noi", "Puhoi"),
    "leova": ("Leova", "Iargara", "Sărata Nouă", "Borogani"),
    "nisporeni": ("Nisporeni", "Vărzărești", "Grozești", "Bălănești"),
    "ocnita": ("Ocnița", "Otaci", "Frunză", "Naslavcea"),
    "orhei": ("Orhei", "Peresecina", "Ivancea", "Trebujeni", "Susleni"),
    "rezina": ("Rezina", "Ignăței", "Mateuți", "Saharna"),
    "riscani": ("Rîșcani", "Costești", "Recea", "Sturzeni"),
    "singerei": ("Sîngerei", "Biruința", "Bilicenii Vechi", "Copăceni"),
    "soroca": ("Soroca", "Vădeni", "Racovăț", "Cosăuți"),
    "straseni": ("Strășeni", "Bucovăț", "Lozova", "Sireți", "Micăuți"),
    "soldanesti": ("Șoldănești", "Cotiujenii Mari", "Sămășcani", "Olișcani"),
    "stefan-voda": ("Ștefan Vodă", "Slobozia", "Purcari", "Talmaza", "Palanca"),
    "taraclia": ("Taraclia", "Tvardița", "Valea Perjei", "Corten"),
    "telenesti": ("Telenești", "Sărătenii Vechi", "Căzănești", "Mîndrești"),
    "ungheni": ("Ungheni", "Cornești", "Sculeni", "Pîrlița", "Zagarancea"),
    "chisinau": ("Chișinău", "Durlești", "Codru", "Vatra", "Sîngera"),
    "balti": ("Bălți", "Elizaveta", "Sadovoe"),
    "gagauzia": ("Comrat", "Ceadîr-Lunga", "Vulcănești", "Congaz", "Cișmichioi"),
}
STREETS = (
    "str. Ștefan cel Mare", "str. Mihai Eminescu", "str. Alexandru cel Bun", "str. Independenței",
    "str. Mitropolit Varlaam", "str. Decebal", "str. Ion Creangă", "str. Păcii", "str. Livezilor", "str. Școlii",
    "str. Grigore Vieru", "str. 31 August 1989", "str. Tineretului", "str. Bisericii", "str. Vasile Alecsandri",
    "str. Florilor", "str. Teilor", "str. Trandafirilor", "str. Mihai Viteazul", "bd. Dacia", "str. Sfântul Gheorghe",
    "str. Dimitrie Cantemir", "str. Plămădeala", "str. Mărțișor",
)
# Population weight of a raion (municipalities are larger); everything else weighs 1.
RAION_WEIGHT = {"chisinau": 12, "balti": 2.5, "gagauzia": 2.5, "orhei": 1.6, "cahul": 1.6, "ungheni": 1.5,
                "soroca": 1.3, "hincesti": 1.6, "ialoveni": 1.4, "straseni": 1.4}
URBAN_SHARE = {"chisinau": 0.85, "balti": 0.9}
URBAN_SHARE_DEFAULT = 0.35
ABROAD_SHARE = 0.04
ABROAD = {  # ISO 3166-1 alpha-2 → address templates ({n}: house number)
    "IT": ("Via Roma {n}, 00184 Roma", "Corso Venezia {n}, 20121 Milano", "Via Mazzini {n}, 37121 Verona",
           "Via Garibaldi {n}, 10122 Torino", "Via Dante {n}, 40126 Bologna"),
    "DE": ("Hauptstraße {n}, 10827 Berlin", "Bahnhofstraße {n}, 80335 München"),
    "FR": ("{n} rue de la République, 69002 Lyon", "{n} avenue Jean Jaurès, 75019 Paris"),
    "ES": ("Calle Mayor {n}, 28013 Madrid", "Carrer de Balmes {n}, 08007 Barcelona"),
    "PT": ("Rua Augusta {n}, 1100-053 Lisboa",),
    "RO": ("Strada Lăpușneanu {n}, 700057 Iași", "Bulevardul Unirii {n}, 030119 București"),
    "GB": ("{n} High Street, London E15 2QB", "{n} Station Road, Leeds LS1 4DY"),
    "IE": ("{n} Main Street, Dublin D01 K0Y8",),
    "IL": ("Rehov Herzl {n}, Tel Aviv",),
    "CZ": ("Vinohradská {n}, 120 00 Praha 2",),
    "US": ("{n} Maple Avenue, Sacramento, CA 95814",),
}
ABROAD_WEIGHT = {"IT": 30, "DE": 12, "FR": 10, "ES": 6, "PT": 5, "RO": 12, "GB": 10, "IE": 5, "IL": 5, "CZ": 3, "US": 2}

# Example amounts (lei/month) for benefits already paid; see the domain brief, these are not legal values.
STATE_ALLOWANCE = {"severe": 1500.0, "accentuated": 1300.0, "medium": 900.0, "child": 1900.0}


# --- the model --------------------------------------------------------------------------


@dataclass(frozen=True)
class Address:
    raion_code: str
    locality: str
    street: str
    number: str
    country: str = "MD"  # ISO 3166-1 alpha-2 of where the household lives
    foreign_address: str | None = None
    urban: bool = False

    @property
    def abroad(self) -> bool:
        return self.country != "MD"


@dataclass(frozen=True)
class Income:
    month: dt.date  # first day of the month
    source: str  # salary | pension | business | other
    amount: float


@dataclass(frozen=True)
class Pension:
    type: str  # age | disability | survivor
    monthly: float


@dataclass(frozen=True)
class PaidBenefit:
    code: str  # child_raising_allowance | child_care_allowance | state_social_allowance | unemployment_benefit
    monthly: float


@dataclass(frozen=True)
class Insurance:
    insured_months_last_24: int = 0
    average_insured_income: float = 0.0
    pension: Pension | None = None
    benefits: tuple[PaidBenefit, ...] = ()


@dataclass(frozen=True)
class Disability:
    degree: str  # severe | accentuated | medium
    certificate: str
    issued_on: dt.date
    valid_until: dt.date | None


@dataclass(frozen=True)
class Parcel:
    cadastral_number: str
    kind: str  # agricultural_land | garden | house | apartment
    area: float  # hectares for land, square metres for dwellings
    share: str  # "1/1", "1/2", …

    @property
    def is_land(self) -> bool:
        return self.kind in ("agricultural_land", "garden")


@dataclass(frozen=True)
class BirthRecord:
    record_number: str
    child_idnp: str
    birth_date: dt.date
    registered_on: dt.date
    mother_idnp: str | None
    father_idnp: str | None
    raion_code: str


@dataclass(frozen=True)
class MarriageRecord:
    record_number: str
    registered_on: dt.date
    spouse_idnps: tuple[str, str]
    ended_on: dt.date | None = None
    end_reason: str | None = None  # death | divorce


@dataclass(frozen=True)
class UnregisteredChild:
    """A child born abroad whose birth was never registered in Moldova: no IDNP, unknown to every registry."""

    first_name: str
    last_name: str
    sex: str
    birth_date: dt.date
    birth_country: str
    mother_idnp: str | None
    father_idnp: str | None


@dataclass
class Person:
    idnp: str
    first_name: str
    last_name: str
    sex: str  # M | F
    birth_date: dt.date
    household_id: str
    relation: str  # to the household's applicant (head): applicant | spouse | child | parent | other
    address: Address
    citizenship: str = "MD"
    birth_country: str = "MD"
    mother_idnp: str | None = None
    father_idnp: str | None = None
    incomes: tuple[Income, ...] = ()
    insurance: Insurance = field(default_factory=Insurance)
    disability: Disability | None = None
    unemployed_since: dt.date | None = None
    parcels: tuple[Parcel, ...] = ()
    deceased_on: dt.date | None = None

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def alive(self) -> bool:
        return self.deceased_on is None

    def age_on(self, day: dt.date) -> int:
        return _years_between(self.birth_date, day)

    @property
    def land_ha(self) -> float:
        return round(sum(p.area * _share(p.share) for p in self.parcels if p.is_land), 4)

    @property
    def dwellings(self) -> int:
        return sum(1 for p in self.parcels if not p.is_land)


@dataclass
class Household:
    id: str
    applicant_idnp: str
    address: Address
    member_idnps: list[str] = field(default_factory=list)  # living members, applicant first
    unregistered_children: list[UnregisteredChild] = field(default_factory=list)

    @property
    def raion_code(self) -> str:
        return self.address.raion_code


# --- lookups ------------------------------------------------------------------------------


class Population:
    """The synthetic population with lookups by IDNP."""

    def __init__(self, *, today: dt.date, seed: int, persons: dict[str, Person],
                 households: dict[str, Household], births: list[BirthRecord]):
        self.today = today
        self.seed = seed
        self.persons = persons
        self.households = households
        self.births = births
        self._births_by_parent: dict[str, list[BirthRecord]] = defaultdict(list)
        self._birth_by_child: dict[str, BirthRecord] = {}
        for record in births:
            self._birth_by_child[record.child_idnp] = record
            for parent in (record.mother_idnp, record.father_idnp):
                if parent:
                    self._births_by_parent[parent].append(record)

    def __len__(self) -> int:
        return len(self.persons)

    def __iter__(self):
        return iter(self.persons.values())

    def __contains__(self, idnp: str) -> bool:
        return idnp in self.persons

    def __eq__(self, other) -> bool:
        if not isinstance(other, Population):
            return NotImplemented
        return (self.today, self.persons, self.households, self.births) == (
            other.today, other.persons, other.households, other.births)

    __hash__ = None  # mutable

    def person(self, idnp: str) -> Person | None:
        return self.persons.get(idnp)

    def household_of(self, idnp: str) -> Household | None:
        person = self.persons.get(idnp)
        return self.households.get(person.household_id) if person else None

    def members(self, idnp: str) -> list[tuple[Person, str]]:
        """The living members of ``idnp``'s household with their relation *to ``idnp``* (who is "applicant")."""
        anchor = self.persons.get(idnp)
        household = self.household_of(idnp)
        if anchor is None or household is None:
            return []
        ids = household.member_idnps if anchor.alive else [idnp]
        return [(self.persons[m], _relation(anchor, self.persons[m])) for m in ids]

    def births_of(self, parent_idnp: str) -> list[BirthRecord]:
        """Births registered in Moldova where ``parent_idnp`` is the mother or the father, oldest first."""
        return sorted(self._births_by_parent.get(parent_idnp, ()), key=lambda r: (r.birth_date, r.record_number))

    def birth_record(self, child_idnp: str) -> BirthRecord | None:
        return self._birth_by_child.get(child_idnp)

    def marriages_of(self, idnp: str) -> list[MarriageRecord]:
        """Marriages registered in Moldova where ``idnp`` is a spouse: the household's couple (the head and
        their spouse), the one that ended by the spouse's death included."""
        person = self.persons.get(idnp)
        if person is None or person.relation not in ("applicant", "spouse"):
            return []
        household = self.households.get(person.household_id)
        if household is None:
            return []
        head = self.persons.get(household.applicant_idnp)
        if person.relation == "applicant":
            spouses = [p for p in self.persons.values()
                       if p.household_id == person.household_id and p.relation == "spouse"]
        else:
            spouses = [head] if head is not None and head.idnp != idnp else []
        out = []
        for other in spouses:
            a, b = sorted((person, other), key=lambda p: p.idnp)
            digest = int(hashlib.sha256(f"{a.idnp}{b.idnp}".encode()).hexdigest()[:12], 16)
            younger = max(a.birth_date, b.birth_date)
            married = _add_years(younger, 19 + digest % 6) + dt.timedelta(days=digest % 300)
            first_child = min((r.birth_date for r in self.births_of(a.idnp) if r in self.births_of(b.idnp)),
                              default=None)
            if first_child is not None and married > first_child - dt.timedelta(days=300):
                married = max(_add_years(younger, 18), first_child - dt.timedelta(days=300))
            married = min(married, self.today)
            ended = next((p.deceased_on for p in (a, b) if p.deceased_on is not None), None)
            out.append(MarriageRecord(record_number=f"AC-{married.year}-{digest % 1_000_000:06d}",
                                      registered_on=married, spouse_idnps=(a.idnp, b.idnp), ended_on=ended,
                                      end_reason="death" if ended else None))
        return out

    def incomes(self, idnp: str, start: dt.date, end: dt.date) -> list[Income]:
        person = self.persons.get(idnp)
        if person is None:
            return []
        return [i for i in person.incomes if start <= i.month <= end]

    def income_months(self) -> list[dt.date]:
        """First days of the months for which incomes exist, oldest first."""
        return _months_back(self.today, MONTHS_OF_INCOME)

    def raion_codes(self) -> set[str]:
        return {h.raion_code for h in self.households.values()}

    def samples(self) -> dict[str, str]:
        """A few IDNPs worth trying, by description (demo people first)."""
        out = {f"{p.first_name} {p.last_name} (demo)": p.idnp for p in demo_people.EVERYONE}
        wanted = {
            "severe disability": lambda p: p.disability is not None and p.disability.degree == "severe",
            "registered unemployed": lambda p: p.unemployed_since is not None,
            "pensioner": lambda p: p.insurance.pension is not None and p.insurance.pension.type == "age",
            "lives abroad": lambda p: p.address.abroad and p.relation == "applicant",
            "newborn": lambda p: (self.today - p.birth_date).days < 365,
            "land owner": lambda p: p.land_ha >= 1.0,
            "deceased": lambda p: not p.alive,
        }
        demo = {p.idnp for p in demo_people.EVERYONE}
        for label, test in wanted.items():
            match = next((p for p in self.persons.values() if p.idnp not in demo and test(p)), None)
            if match:
                out[f"{match.name}: {label}"] = match.idnp
        return out

    # --- life events (the registry simulator's event feed changes the truth it serves) ----------------------

    def register_birth(self, parent_idnp: str, *, first_name: str | None = None, sex: str = "F",
                       born_on: dt.date | None = None) -> tuple[Person, BirthRecord]:
        """A child born to ``parent_idnp`` (and their spouse in the household, if any), registered today."""
        parent = self.persons.get(parent_idnp)
        if parent is None or not parent.alive:
            raise ValueError("no living person with this IDNP")
        household = self.households[parent.household_id]
        others = [self.persons[m] for m in household.member_idnps if m != parent.idnp]
        spouse = next((p for p in others if p.relation in ("applicant", "spouse") and p.sex != parent.sex
                       and p.alive and parent.relation in ("applicant", "spouse")), None)
        mother, father = (parent, spouse) if parent.sex == "F" else (spouse, parent)
        born_on = born_on or self.today
        if sex not in ("F", "M"):
            raise ValueError("sex is F or M")
        idnp = self._new_idnp(born_on)
        child = Person(idnp=idnp, first_name=first_name or ("Ana" if sex == "F" else "Ion"),
                       last_name=(father or parent).last_name, sex=sex, birth_date=born_on,
                       household_id=household.id, relation="child", address=household.address,
                       mother_idnp=mother.idnp if mother else None, father_idnp=father.idnp if father else None)
        self.persons[idnp] = child
        household.member_idnps.append(idnp)
        record = BirthRecord(record_number=f"AN-{born_on.year}-{900000 + len(self.births):06d}", child_idnp=idnp,
                             birth_date=born_on, registered_on=max(born_on, self.today),
                             mother_idnp=child.mother_idnp, father_idnp=child.father_idnp,
                             raion_code=household.raion_code)
        self.births.append(record)
        self._birth_by_child[idnp] = record
        for p in (record.mother_idnp, record.father_idnp):
            if p:
                self._births_by_parent[p].append(record)
        return child, record

    def _new_idnp(self, born_on: dt.date) -> str:
        from portal.core.idnp import make_idnp

        serial = getattr(self, "_event_serial", 0)
        while True:
            serial += 1
            idnp = make_idnp(f"2{born_on.year % 1000:03d}199{serial:05d}")  # office 199: born through an event
            if idnp not in self.persons:
                self._event_serial = serial
                return idnp

    def register_death(self, idnp: str, on: dt.date | None = None) -> Person:
        person = self.persons.get(idnp)
        if person is None or not person.alive:
            raise ValueError("no living person with this IDNP")
        person.deceased_on = on or self.today
        household = self.households[person.household_id]
        if idnp in household.member_idnps:
            household.member_idnps.remove(idnp)
        return person

    def change_address(self, idnp: str, raion_code: str, locality: str, street: str, number: str) -> Address:
        """The person's whole household moves (every member's domicile changes with it)."""
        person = self.persons.get(idnp)
        if person is None or not person.alive:
            raise ValueError("no living person with this IDNP")
        household = self.households[person.household_id]
        address = Address(raion_code, locality, street, number)
        household.address = address
        for m in household.member_idnps:
            self.persons[m].address = address
        return address

    def decide_disability(self, idnp: str, degree: str, *, issued_on: dt.date | None = None,
                          valid_until: dt.date | None = None) -> Disability:
        person = self.persons.get(idnp)
        if person is None or not person.alive:
            raise ValueError("no living person with this IDNP")
        if degree not in DISABILITY_DEGREES:
            raise ValueError(f"degree is one of {', '.join(DISABILITY_DEGREES)}")
        issued = issued_on or self.today
        person.disability = Disability(degree, f"CNDDCM-{issued.year}-9{len(self.persons):05d}", issued, valid_until)
        return person.disability

    def register_unemployed(self, idnp: str, since: dt.date | None = None) -> Person:
        person = self.persons.get(idnp)
        if person is None or not person.alive:
            raise ValueError("no living person with this IDNP")
        person.unemployed_since = since or self.today
        return person

    def fingerprint(self) -> str:
        """SHA-256 of every record: equal on every machine for the same size, today and seed."""
        digest = hashlib.sha256()
        for idnp in sorted(self.persons):
            digest.update(repr(self.persons[idnp]).encode())
        for hid in sorted(self.households):
            digest.update(repr(self.households[hid]).encode())
        for record in self.births:
            digest.update(repr(record).encode())
        return digest.hexdigest()


def _relation(anchor: Person, other: Person) -> str:
    """``other``'s relation to ``anchor``, both in the same household (relations are stored to its head)."""
    if other.idnp == anchor.idnp:
        return "applicant"
    a, o = anchor.relation, other.relation
    if a == "applicant":
        return o
    if a == "spouse":
        return {"applicant": "spouse", "child": "child"}.get(o, "other")
    if a == "child":
        if o in ("applicant", "spouse") and other.idnp in (anchor.mother_idnp, anchor.father_idnp):
            return "parent"
        return "other"
    if a == "parent":
        if o == "applicant" and anchor.idnp in (other.mother_idnp, other.father_idnp):
            return "child"
        return "spouse" if o == "parent" else "other"
    return "other"


def _share(text: str) -> float:
    num, _, den = text.partition("/")
    return int(num) / int(den or 1)


def _years_between(start: dt.date, end: dt.date) -> int:
    return end.year - start.year - ((end.month, end.day) < (start.month, start.day))


def _months_back(today: dt.date, n: int) -> list[dt.date]:
    """First days of the ``n`` full months before ``today``'s month, oldest first."""
    year, month = today.year, today.month
    out = []
    for _ in range(n):
        month -= 1
        if month == 0:
            year, month = year - 1, 12
        out.append(dt.date(year, month, 1))
    return out[::-1]


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _feminine(surname: str) -> str:
    if surname.endswith(("ov", "ev", "in")):
        return surname + "a"
    if surname.endswith("iy"):
        return surname[:-2] + "aia"
    return surname


# --- the generator ---------------------------------------------------------------------------


class _Builder:
    def __init__(self, today: dt.date, seed: int):
        self.rng = random.Random(seed)
        self.today = today
        self.seed = seed
        territory = load_territory()
        self.raions = list(territory.raions.values())  # file order: deterministic
        self.raion_index = {r.code: i for i, r in enumerate(self.raions)}
        self.raion_weights = [RAION_WEIGHT.get(r.code, 1.0) for r in self.raions]
        self.persons: dict[str, Person] = {}
        self.households: dict[str, Household] = {}
        self.births: list[BirthRecord] = []
        self.serial: dict[int, int] = defaultdict(int)
        self.record_seq = 0
        self.parcel_seq = 0
        self.certificate_seq = 0
        self.months = _months_back(today, MONTHS_OF_INCOME)
        self.reserved = {p.idnp for p in demo_people.EVERYONE}
        self.countries = list(ABROAD_WEIGHT)
        self.country_weights = [ABROAD_WEIGHT[c] for c in self.countries]

    # small helpers

    def _date_aged(self, lo: float, hi: float) -> dt.date:
        """A birth date of someone aged between ``lo`` and ``hi`` years today."""
        days = self.rng.randint(int(lo * 365.25), int(hi * 365.25) + 364)
        return self.today - dt.timedelta(days=days)

    def _idnp(self, birth_date: dt.date, raion_code: str) -> str:
        rng = self.rng
        if birth_date.year >= 1995:
            first, year = "2", birth_date.year
        elif rng.random() < 0.3:
            first, year = "0", rng.randint(1993, 1999)
        else:
            first, year = "2", rng.randint(1995, 2012)
        office = 100 + self.raion_index.get(raion_code, 0)  # offices 100–199: never the demo office 001
        self.serial[office] += 1
        if self.serial[office] > 99_999:
            raise ValueError("population too large for the IDNP scheme (100,000 per raion)")
        idnp = make_idnp(f"{first}{year % 1000:03d}{office:03d}{self.serial[office]:05d}")
        assert idnp not in self.reserved and idnp not in self.persons
        return idnp

    def _first_name(self, sex: str, ethnicity: str) -> str:
        names = {("M", "ro"): RO_MALE, ("F", "ro"): RO_FEMALE, ("M", "ru"): RU_MALE, ("F", "ru"): RU_FEMALE}
        return self.rng.choice(names[sex, ethnicity])

    def _surname(self, ethnicity: str) -> str:
        return self.rng.choice(RO_SURNAMES if ethnicity == "ro" else RU_SURNAMES)

    @staticmethod
    def _surname_for(base: str, sex: str, ethnicity: str) -> str:
        return _feminine(base) if ethnicity == "ru" and sex == "F" else base

    def _pick_raion(self) -> str:
        return self.rng.choices(self.raions, weights=self.raion_weights)[0].code

    def _address(self, raion_code: str, abroad: str | None = None) -> Address:
        rng = self.rng
        localities = LOCALITIES.get(raion_code)
        if not localities:  # a raion added to territory.toml after this list
            raion = self.raions[self.raion_index[raion_code]]
            localities = (raion.name.get("ro", raion_code),)
        urban = rng.random() < URBAN_SHARE.get(raion_code, URBAN_SHARE_DEFAULT)
        locality = localities[0] if urban or len(localities) == 1 else rng.choice(localities[1:])
        number = str(rng.randint(1, 180))
        if urban and rng.random() < 0.6:
            number += f", ap. {rng.randint(1, 120)}"
        foreign = None
        if abroad:
            template = rng.choice(ABROAD[abroad]) if abroad in ABROAD else "{n} Main Street"
            foreign = template.format(n=rng.randint(1, 250))
        return Address(raion_code, locality, rng.choice(STREETS), number, abroad or "MD", foreign, urban)

    def _household(self, address: Address) -> Household:
        hid = f"G{len(self.households) + 1:06d}"
        household = Household(hid, "", address)
        self.households[hid] = household
        return household

    def _register_birth(self, person: Person) -> None:
        self.record_seq += 1
        registered = min(person.birth_date + dt.timedelta(days=self.rng.randint(2, 25)), self.today)
        self.births.append(BirthRecord(
            record_number=f"AN-{person.birth_date.year}-{self.record_seq:06d}",
            child_idnp=person.idnp, birth_date=person.birth_date, registered_on=registered,
            mother_idnp=person.mother_idnp, father_idnp=person.father_idnp,
            raion_code=person.address.raion_code))

    def _add(self, household: Household, *, sex: str, birth_date: dt.date, relation: str, ethnicity: str,
             surname: str, first_name: str | None = None, idnp: str | None = None, exact_last_name: bool = False,
             mother: Person | None = None, father: Person | None = None, deceased_on: dt.date | None = None,
             ) -> Person:
        last_name = surname if exact_last_name else self._surname_for(surname, sex, ethnicity)
        person = Person(
            idnp=idnp or self._idnp(birth_date, household.address.raion_code),
            first_name=first_name or self._first_name(sex, ethnicity),
            last_name=last_name, sex=sex, birth_date=birth_date, household_id=household.id,
            relation=relation, address=household.address,
            mother_idnp=mother.idnp if mother else None, father_idnp=father.idnp if father else None,
            deceased_on=deceased_on,
        )
        self.persons[person.idnp] = person
        if deceased_on is None:
            if relation == "applicant":
                household.applicant_idnp = person.idnp
                household.member_idnps.insert(0, person.idnp)
            else:
                household.member_idnps.append(person.idnp)
        return person

    def _children(self, household: Household, mother: Person | None, father: Person | None, count: int,
                  ethnicity: str, surname: str, newborn_days_ago: int | None = None,
                  abroad_unregistered: bool = False) -> list[Person]:
        """``count`` children of the couple; the youngest is ``newborn_days_ago`` days old if given."""
        rng = self.rng
        youngest_parent = min(p.age_on(self.today) for p in (mother, father) if p is not None)
        oldest_possible = max(0, min(24, youngest_parent - 19))
        ages_days = []
        if newborn_days_ago is not None:
            ages_days.append(newborn_days_ago)
        while len(ages_days) < count:
            limit = oldest_possible if rng.random() < 0.15 else min(17, oldest_possible)
            ages_days.append(rng.randint(30, max(31, int(limit * 365.25))))
        kids = []
        for age_days in sorted(ages_days, reverse=True):
            sex = rng.choice("MF")
            birth = self.today - dt.timedelta(days=age_days)
            born_abroad = household.address.abroad and age_days < 6 * 365
            if abroad_unregistered or (born_abroad and rng.random() < 0.4):
                household.unregistered_children.append(UnregisteredChild(
                    self._first_name(sex, ethnicity), self._surname_for(surname, sex, ethnicity), sex, birth,
                    household.address.country, mother.idnp if mother else None, father.idnp if father else None))
                continue
            kid = self._add(household, sex=sex, birth_date=birth, relation="child", ethnicity=ethnicity,
                            surname=surname, mother=mother, father=father)
            if born_abroad:
                kid.birth_country = household.address.country
            kids.append(kid)
        return kids

    # economic life

    def _profile(self, person: Person) -> str:
        rng = self.rng
        age = person.age_on(self.today)
        if age < 18:
            return "child"
        if person.address.abroad:
            return "abroad"
        if age >= PENSION_AGE:
            return "working_pensioner" if age < 70 and rng.random() < 0.15 else "pensioner"
        if age < 23 and rng.random() < 0.5:
            return "student"
        return rng.choices(("employee", "business", "unemployed", "inactive"), weights=(58, 7, 12, 23))[0]

    def _monthly(self, amount: float, months: list[dt.date], source: str, spread: float,
                 exact: bool = False) -> list[Income]:
        out = []
        for month in months:
            value = amount if exact else amount * (1 + self.rng.uniform(-spread, spread))
            out.append(Income(month, source, round(float(value), 2)))
        return out

    def _economy(self, person: Person, profile: str | None = None, *, salary: float | None = None,
                 insured_months: int | None = None, pension: float | None = None) -> None:
        """Incomes, insurance record, unemployment and disability of one person."""
        rng = self.rng
        profile = profile or self._profile(person)
        age = person.age_on(self.today)
        incomes: list[Income] = []
        months = 0
        insured_income = 0.0
        pension_record = None
        benefits: list[PaidBenefit] = []

        # disability first: it shapes the rest
        if person.disability is None and profile != "given":
            chance = 0.02 if age < 18 else 0.04 if age < 60 else 0.12
            if rng.random() < chance:
                person.disability = self._disability(person, rng.choices(DISABILITY_DEGREES, weights=(2, 4, 4))[0])

        if profile == "given":  # a demo person: exactly what the profile says
            if salary:
                incomes += self._monthly(salary, self.months, "salary", 0, exact=True)
                insured_income = float(salary)
            months = insured_months or 0
            if pension:
                pension_record = Pension("age", float(pension))
                incomes += self._monthly(pension, self.months, "pension", 0, exact=True)
        elif profile in ("employee", "working_pensioner"):
            low = rng.random() < 0.18
            amount = rng.uniform(2000, 5000) if low else min(45000.0, rng.lognormvariate(9.05, 0.4))
            months = 24 if rng.random() < 0.75 else rng.randint(3, 23)
            paid_months = self.months[-min(months, MONTHS_OF_INCOME):]
            incomes += self._monthly(amount, paid_months, "salary", 0.06)
            insured_income = round(amount, 2)
        elif profile == "business":
            amount = rng.uniform(2500, 18000)
            incomes += self._monthly(amount, self.months, "business", 0.35)
            if rng.random() < 0.6:
                months, insured_income = 24, round(min(amount, 6000.0), 2)
        elif profile == "unemployed":
            months = rng.choice((0, 0, 3, 6, 9, 12, 14, 18))
            insured_income = round(rng.uniform(3000, 9000), 2) if months else 0.0
            if rng.random() < 0.7:
                person.unemployed_since = self.today - dt.timedelta(days=rng.randint(20, 700))
                if months >= 12 and rng.random() < 0.6:
                    benefits.append(PaidBenefit("unemployment_benefit", round(insured_income * 0.5, 2)))
        if profile in ("pensioner", "working_pensioner"):
            amount = rng.uniform(2300, 7000)
            pension_record = Pension("age", round(amount, 2))
            incomes += self._monthly(amount, self.months, "pension", 0, exact=True)
        if profile in ("employee", "business", "pensioner", "working_pensioner", "inactive") and rng.random() < 0.05:
            amount = rng.uniform(400, 3500)
            incomes += [i for i in self._monthly(amount, self.months, "other", 0.3) if rng.random() < 0.7]

        # disability: a disability pension for those with an insurance record, else the state allowance
        if person.disability is not None and pension_record is None and profile != "given":
            if age >= 18 and profile in ("employee", "business", "unemployed", "inactive") and rng.random() < 0.5:
                amount = round(rng.uniform(1600, 3800), 2)
                pension_record = Pension("disability", amount)
                incomes += self._monthly(amount, self.months, "pension", 0, exact=True)
            else:
                key = "child" if age < 18 else person.disability.degree
                benefits.append(PaidBenefit("state_social_allowance", STATE_ALLOWANCE[key]))

        person.incomes = tuple(sorted(incomes, key=lambda i: (i.month, INCOME_SOURCES.index(i.source))))
        person.insurance = Insurance(int(months), round(float(insured_income), 2), pension_record, tuple(benefits))

    def _disability(self, person: Person, degree: str, permanent: bool | None = None) -> Disability:
        rng = self.rng
        age = person.age_on(self.today)
        issued = self.today - dt.timedelta(days=rng.randint(10, 700))
        if permanent is None:
            permanent = age >= 55 or (degree == "severe" and rng.random() < 0.4)
        if permanent:
            until = None
        elif age < 18:
            until = _add_years(person.birth_date, 18)
        else:
            until = _add_years(issued, rng.choice((1, 2, 3)))
            if until <= self.today:
                until = _add_years(until, 2)
        self.certificate_seq += 1
        return Disability(degree, f"CNDDCM-{issued.year}-{self.certificate_seq:05d}", issued, until)

    def _child_benefits(self, mother: Person | None, father: Person | None, kids: list[Person]) -> None:
        """Monthly child-raising allowance (insured) or child-care allowance (uninsured) for a child under 3."""
        if not kids or not any(k.age_on(self.today) < 3 for k in kids):
            return
        parent = mother or father
        if parent is None or parent.address.abroad:
            return
        insured = parent.insurance.insured_months_last_24 >= 9
        if insured:
            amount = max(740.0, round(parent.insurance.average_insured_income * 0.3, 2))
            benefit = PaidBenefit("child_raising_allowance", amount)
        else:
            benefit = PaidBenefit("child_care_allowance", 1000.0)
        ins = parent.insurance
        parent.insurance = Insurance(ins.insured_months_last_24, ins.average_insured_income, ins.pension,
                                     ins.benefits + (benefit,))

    def _property(self, household: Household, owners: list[Person]) -> None:
        """Land and dwellings, co-owned in equal shares by the owners (the applicant and spouse)."""
        rng = self.rng
        address = household.address
        parcels: list[tuple[str, float]] = []
        if address.urban:
            roll = rng.random()
            if roll < 0.62:
                parcels.append(("apartment", round(rng.uniform(28, 95), 1)))
            elif roll < 0.85:
                parcels.append(("house", round(rng.uniform(60, 180), 1)))
            if rng.random() < 0.12:
                parcels.append(("agricultural_land", round(rng.uniform(0.1, 1.5), 2)))
        else:
            if rng.random() < 0.93:
                parcels.append(("house", round(rng.uniform(45, 150), 1)))
                parcels.append(("garden", round(rng.uniform(0.04, 0.25), 2)))
            if rng.random() < 0.65:
                parcels.append(("agricultural_land", round(rng.uniform(0.2, 3.2), 2)))
            if rng.random() < 0.05:
                parcels.append(("agricultural_land", round(rng.uniform(2, 15), 2)))
        if not owners or not parcels:
            return
        share = f"1/{len(owners)}"
        for kind, area in parcels:
            self.parcel_seq += 1
            number = f"{self.raion_index[address.raion_code] + 1:02d}{rng.randint(1, 99):02d}{rng.randint(100, 999)}.{self.parcel_seq:05d}"
            for owner in owners:
                owner.parcels = owner.parcels + (Parcel(number, kind, area, share),)

    # households

    def random_household(self, raion_code: str | None = None, applicant: demo_people.DemoPerson | None = None) -> None:
        rng = self.rng
        raion_code = raion_code or (applicant.raion if applicant else self._pick_raion())
        kinds = ("single", "single_senior", "couple", "senior_couple", "family", "single_parent", "multigen",
                 "family_other")
        weights = (10, 12, 8, 10, 28, 8, 10, 6)
        fixed_bd = dt.date.fromisoformat(applicant.birth_date) if applicant else None
        if fixed_bd is not None:
            senior = _years_between(fixed_bd, self.today) >= PENSION_AGE - 1
            allowed = {"single_senior", "senior_couple"} if senior else set(kinds) - {"single_senior", "senior_couple"}
            weights = tuple(w if k in allowed else 0 for k, w in zip(kinds, weights))
        kind = rng.choices(kinds, weights=weights)[0]
        senior = kind in ("single_senior", "senior_couple")
        abroad = None
        if applicant is None and not senior and rng.random() < ABROAD_SHARE * 1.3:
            abroad = rng.choices(self.countries, weights=self.country_weights)[0]
        household = self._household(self._address(raion_code, abroad))
        ethnicity = "ru" if rng.random() < RU_SHARE.get(raion_code, RU_SHARE_DEFAULT) else "ro"
        surname = self._surname(ethnicity)

        # the applicant
        if applicant:
            sex = {1: "M", 2: "F"}.get(applicant.gender) or rng.choice("MF")
            head = self._add(household, sex=sex, birth_date=fixed_bd, relation="applicant", ethnicity=ethnicity,
                             surname=applicant.last_name, first_name=applicant.first_name, idnp=applicant.idnp,
                             exact_last_name=True)
            surname = applicant.last_name
        else:
            lo, hi = {"single": (18, 60), "single_senior": (63, 92), "couple": (20, 45),
                      "senior_couple": (62, 86), "family": (24, 50), "single_parent": (20, 48),
                      "multigen": (24, 45), "family_other": (25, 55)}[kind]
            sex = ("F" if rng.random() < 0.85 else "M") if kind == "single_parent" else rng.choice("MF")
            head = self._add(household, sex=sex, birth_date=self._date_aged(lo, hi), relation="applicant",
                             ethnicity=ethnicity, surname=surname)
        head_age = head.age_on(self.today)
        owners = [head]
        spouse = None
        if kind in ("couple", "senior_couple", "family", "multigen", "family_other"):
            gap = rng.gauss(2.5 if head.sex == "M" else -2.5, 2.5)
            age = min(95.0, max(18.0, head_age - gap))
            spouse = self._add(household, sex="F" if head.sex == "M" else "M",
                               birth_date=self._date_aged(age, age), relation="spouse",
                               ethnicity=ethnicity, surname=surname)
            owners.append(spouse)
        elif kind == "single_senior" and rng.random() < 0.25:  # widowed: the spouse is in the register as deceased
            died = self.today - dt.timedelta(days=rng.randint(30, 5 * 365))
            self._add(household, sex="F" if head.sex == "M" else "M",
                      birth_date=self._date_aged(head_age + 1, head_age + 6), relation="spouse",
                      ethnicity=ethnicity, surname=surname, deceased_on=died)
        kids: list[Person] = []
        mother = head if head.sex == "F" else spouse
        father = head if head.sex == "M" else spouse
        if kind in ("family", "single_parent", "multigen", "family_other"):
            count = rng.choices((1, 2, 3, 4), weights=(45, 35, 14, 6))[0]
            parent_for_age = mother or father
            newborn = None
            if parent_for_age.age_on(self.today) <= 44 and rng.random() < 0.09:
                newborn = rng.randint(3, 360)
            kids = self._children(household, mother, father, count, ethnicity, surname, newborn)
        if kind == "multigen":
            base = min(95, head_age + rng.randint(20, 32))
            grand = [self._add(household, sex=sex_, birth_date=self._date_aged(base - d, base - d), relation="parent",
                               ethnicity=ethnicity, surname=surname)
                     for sex_, d in (("M", 0), ("F", 3)) if rng.random() < 0.75 or sex_ == "F"]
            for g in grand:
                if g.sex == "F":
                    head.mother_idnp = g.idnp
                else:
                    head.father_idnp = g.idnp
        if kind == "family_other":
            self._add(household, sex=rng.choice("MF"), birth_date=self._date_aged(18, 60), relation="other",
                      ethnicity=ethnicity, surname=self._surname(ethnicity) if rng.random() < 0.5 else surname)

        for member_idnp in household.member_idnps:
            member = self.persons[member_idnp]
            forced = "employee" if applicant is not None and member is head else None
            self._economy(member, forced)
        self._child_benefits(mother, father, kids)
        self._property(household, owners)

    def demo_household(self, demo: demo_people.DemoPerson) -> None:
        """The household a demo citizen's profile describes, exactly."""
        rng = self.rng
        profile = demo.household
        address = self._address(demo.raion, demo.abroad_country)
        household = self._household(address)
        ethnicity = "ro"
        surname = demo.last_name
        sex = {1: "M", 2: "F"}.get(demo.gender) or "F"
        head = self._add(household, sex=sex, birth_date=dt.date.fromisoformat(demo.birth_date),
                         relation="applicant", ethnicity=ethnicity, surname=surname, first_name=demo.first_name,
                         idnp=demo.idnp, exact_last_name=True)
        spouse = None
        if profile.get("spouse"):
            age = head.age_on(self.today) + (-2 if sex == "M" else 2)
            spouse = self._add(household, sex="F" if sex == "M" else "M", birth_date=self._date_aged(age, age),
                               relation="spouse", ethnicity=ethnicity, surname=surname)
        mother = head if sex == "F" else spouse
        father = head if sex == "M" else spouse
        count = int(profile.get("children", 0))
        kids: list[Person] = []
        if count:
            abroad_child = bool(profile.get("child_born_abroad"))
            newborn = profile.get("newborn_days_ago")
            if abroad_child:
                # the youngest child, born abroad a few months ago and never registered in Moldova
                born = newborn if newborn is not None else 75
                household.unregistered_children.append(UnregisteredChild(
                    self._first_name(rng.choice("MF"), ethnicity), surname, rng.choice("MF"),
                    self.today - dt.timedelta(days=born), demo.abroad_country or "IT",
                    mother.idnp if mother else None, father.idnp if father else None))
                if count > 1:
                    kids = self._children(household, mother, father, count - 1, ethnicity, surname)
            else:
                kids = self._children(household, mother, father, count, ethnicity, surname, newborn)
        self._economy(head, "given", salary=profile.get("monthly_income") or None,
                      insured_months=profile.get("insured_months", 0), pension=profile.get("pension"))
        if profile.get("disability"):
            head.disability = self._disability(head, profile["disability"], permanent=head.age_on(self.today) >= 55)
        if spouse is not None:
            self._economy(spouse, "given", insured_months=0)
        for kid in kids:
            self._economy(kid, "child")
            kid.disability = None  # the demo story has no disabled child
            kid.insurance = Insurance()
        if profile.get("child_disability") and kids:  # unless it says so: the youngest child, a minor
            kids[-1].disability = self._disability(kids[-1], profile["child_disability"], permanent=False)
        self._child_benefits(mother, father, kids)
        self._property(household, [p for p in (head, spouse) if p is not None])

    def build(self, size: int) -> Population:
        for demo in demo_people.CITIZENS:
            self.demo_household(demo)
        for staff in demo_people.STAFF:
            self.random_household(applicant=staff)
        # a few households in every raion first, then by population weight
        for _ in range(4):
            for raion in self.raions:
                self.random_household(raion.code)
        while len(self.persons) < size:
            self.random_household()
        # the civil-status register: every person with an IDNP was born in Moldova or had the birth transcribed
        for person in self.persons.values():
            self._register_birth(person)
        return Population(today=self.today, seed=self.seed, persons=self.persons, households=self.households,
                          births=self.births)


def build_population(size: int = DEFAULT_SIZE, today: dt.date | None = None, seed: int = DEFAULT_SEED) -> Population:
    """Generate the population: at least ``size`` persons (the deceased included), as of ``today``.

    ``today`` defaults to the date of :mod:`portal.core.clock` (the real date unless a test set it), so that
    a birth "40 days ago" stays recent whenever the population is built.
    """
    if today is None:
        from portal.core import clock

        today = clock.today()
    return _Builder(today, seed).build(size)
