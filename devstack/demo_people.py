"""The demo people: who you can log in as on the development MPass IdP.

Each is also a person in the registry simulator's synthetic population, with
the household profile described here, so the journey in the demo is the same
every time.  ``roles`` are what eSocial's demo data assigns to the IDNP; MPass
itself knows nothing of roles.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class DemoPerson:
    idnp: str
    first_name: str
    last_name: str
    birth_date: str  # yyyy-MM-dd, as MPass sends BirthDate
    gender: int  # MPass: 0 unspecified, 1 male, 2 female
    email: str
    phone: str  # E.164
    language: str  # ro | ru | en
    raion: str  # raion code from config/reference/territory.toml; "abroad" keeps a Moldovan raion of record
    description: dict[str, str]
    # Household profile for the registry simulator (see devstack/population.py).
    household: dict = field(default_factory=dict)
    roles: tuple[tuple[str, str | None], ...] = ()  # (role, agency code)
    abroad_country: str | None = None


CITIZENS = (
    DemoPerson(
        idnp="2005001000017", first_name="Ion", last_name="Rusu", birth_date="1988-03-14", gender=1,
        email="ion.rusu@example.md", phone="+37369100017", language="ro", raion="ialoveni",
        description={"ro": "Familie cu doi copii în Ialoveni, un nou-născut, venituri mici",
                     "ru": "Семья с двумя детьми в Яловенах, новорождённый, низкий доход",
                     "en": "Family with two children in Ialoveni, a newborn, low income"},
        household={"spouse": True, "children": 2, "newborn_days_ago": 40, "monthly_income": 2100,
                   "insured_months": 20},
    ),
    DemoPerson(
        idnp="2005001000028", first_name="Natalia", last_name="Ceban", birth_date="1992-07-02", gender=2,
        email="natalia.ceban@example.md", phone="+37379100028", language="ru", raion="soroca",
        description={"ro": "Mamă singură în Soroca, un nou-născut, vorbește rusă",
                     "ru": "Мать-одиночка в Сороке, новорождённый, говорит по-русски",
                     "en": "Single mother in Soroca, a newborn, Russian-speaking"},
        household={"spouse": False, "children": 1, "newborn_days_ago": 20, "monthly_income": 1500,
                   "insured_months": 14},
    ),
    DemoPerson(
        idnp="2005001000039", first_name="Maria", last_name="Lungu", birth_date="1951-11-20", gender=2,
        email="", phone="+37368100039", language="ro", raion="chisinau",
        description={"ro": "Pensionară singură în Chișinău, fără e-mail, dizabilitate accentuată",
                     "ru": "Одинокая пенсионерка в Кишинэу, без e-mail, выраженная степень инвалидности",
                     "en": "Pensioner living alone in Chișinău, no e-mail, accentuated disability"},
        household={"spouse": False, "children": 0, "pension": 2600, "disability": "accentuated"},
    ),
    DemoPerson(
        idnp="2005001000040", first_name="Andrei", last_name="Munteanu", birth_date="1985-05-09", gender=1,
        email="andrei.munteanu@example.it", phone="+393331000040", language="ru", raion="cahul",
        abroad_country="IT",
        description={"ro": "Locuiește în Italia, copil născut acolo și neînregistrat în Moldova",
                     "ru": "Живёт в Италии, ребёнок родился там и не зарегистрирован в Молдове",
                     "en": "Lives in Italy, a child born there and not registered in Moldova"},
        household={"spouse": True, "children": 1, "monthly_income": 0, "insured_months": 0,
                   "child_born_abroad": True},
    ),
    # Acting for a child (portal.representation): a mother whose child, 9, has a severe disability.
    DemoPerson(
        idnp="2005001000615", first_name="Svetlana", last_name="Botnari", birth_date="1986-02-11", gender=2,
        email="svetlana.botnari@example.md", phone="+37369100615", language="ro", raion="straseni",
        description={"ro": "Mamă în Strășeni, copilul de 9 ani are o dizabilitate severă: depune cererea pentru el",
                     "ru": "Мать в Страшенах, у 9-летнего ребёнка тяжёлая инвалидность: подаёт заявление за него",
                     "en": "Mother in Strășeni whose child, 9, has a severe disability: applies on the child's behalf"},
        household={"spouse": False, "children": 1, "newborn_days_ago": 9 * 365 + 40, "monthly_income": 1800,
                   "insured_months": 12, "child_disability": "severe"},
    ),
)

STAFF = (
    DemoPerson(
        idnp="2005001000051", first_name="Elena", last_name="Vasilache", birth_date="1979-01-25", gender=2,
        email="elena.vasilache@atas-centru.gov.md", phone="+37369100051", language="ro", raion="ialoveni",
        description={"ro": "Asistentă socială, ATAS Centru (Ialoveni)", "ru": "Социальный работник, ТАСП Центр (Яловены)",
                     "en": "Case worker, ATAS Centru (Ialoveni)"},
        roles=(("case_worker", "ATAS-CENTRU"),),
    ),
    DemoPerson(
        idnp="2005001000062", first_name="Sergiu", last_name="Bodiu", birth_date="1983-09-30", gender=1,
        email="sergiu.bodiu@atas-nordest.gov.md", phone="+37369100062", language="ru", raion="soroca",
        description={"ro": "Asistent social, ATAS Nord-Est (Soroca)", "ru": "Социальный работник, ТАСП Северо-Восток (Сорока)",
                     "en": "Case worker, ATAS Nord-Est (Soroca)"},
        roles=(("case_worker", "ATAS-NORD-EST"),),
    ),
    DemoPerson(
        idnp="2005001000073", first_name="Olga", last_name="Țurcan", birth_date="1975-04-11", gender=2,
        email="olga.turcan@cnas.gov.md", phone="+37369100073", language="ro", raion="chisinau",
        description={"ro": "Specialistă, Casa Națională de Asigurări Sociale", "ru": "Специалист, Национальная касса социального страхования",
                     "en": "Case worker, National Social Insurance House"},
        # CNAS also keeps the social insurance register: she answers reports of wrong insurance data too.
        roles=(("case_worker", "CNAS"), ("registry_officer", "cnas")),
    ),
    DemoPerson(
        idnp="2005001000084", first_name="Victor", last_name="Grosu", birth_date="1970-12-02", gender=1,
        email="victor.grosu@atas-centru.gov.md", phone="+37369100084", language="ro", raion="straseni",
        description={"ro": "Șef de secție, ATAS Centru", "ru": "Руководитель отдела, ТАСП Центр",
                     "en": "Supervisor, ATAS Centru"},
        roles=(("supervisor", "ATAS-CENTRU"), ("case_worker", "ATAS-CENTRU")),
    ),
    DemoPerson(
        idnp="2005001000095", first_name="Ana", last_name="Ciobanu", birth_date="1987-06-18", gender=2,
        email="ana.ciobanu@mmps.gov.md", phone="+37369100095", language="ro", raion="chisinau",
        description={"ro": "Administratoare de sistem, Ministerul Muncii și Protecției Sociale",
                     "ru": "Системный администратор, Министерство труда и социальной защиты",
                     "en": "System administrator, Ministry of Labour and Social Protection"},
        roles=(("sysadmin", None),),
    ),
    # The back office's other roles (portal/backoffice): a second worker, a supervisor of another agency,
    # an agency administrator and a ministry analyst.
    DemoPerson(
        idnp="2005001000501", first_name="Ana", last_name="Moraru", birth_date="1989-04-22", gender=2,
        email="ana.moraru@atas-centru.gov.md", phone="+37369100501", language="ro", raion="criuleni",
        description={"ro": "Asistentă socială, ATAS Centru (examinează contestațiile)",
                     "ru": "Социальный работник, ТАСП Центр (рассматривает обжалования)",
                     "en": "Case worker, ATAS Centru (reviews appeals)"},
        roles=(("case_worker", "ATAS-CENTRU"),),
    ),
    DemoPerson(
        idnp="2005001000512", first_name="Nicolae", last_name="Ciobanu", birth_date="1972-02-09", gender=1,
        email="nicolae.ciobanu@atas-nordest.gov.md", phone="+37369100512", language="ru", raion="drochia",
        description={"ro": "Șef de secție, ATAS Nord-Est", "ru": "Руководитель отдела, ТАСП Северо-Восток",
                     "en": "Supervisor, ATAS Nord-Est"},
        roles=(("supervisor", "ATAS-NORD-EST"), ("case_worker", "ATAS-NORD-EST")),
    ),
    DemoPerson(
        idnp="2005001000523", first_name="Irina", last_name="Popa", birth_date="1981-10-27", gender=2,
        email="irina.popa@atas-centru.gov.md", phone="+37369100523", language="ro", raion="ialoveni",
        description={"ro": "Administratoare, ATAS Centru (regulile de repartizare)",
                     "ru": "Администратор, ТАСП Центр (правила распределения)",
                     "en": "Agency administrator, ATAS Centru (routing rules)"},
        roles=(("agency_admin", "ATAS-CENTRU"),),
    ),
    DemoPerson(
        idnp="2005001000534", first_name="Dumitru", last_name="Rotaru", birth_date="1984-08-14", gender=1,
        email="dumitru.rotaru@social.gov.md", phone="+37369100534", language="en", raion="chisinau",
        description={"ro": "Analist, Ministerul Muncii și Protecției Sociale (doar cifre)",
                     "ru": "Аналитик, Министерство труда и социальной защиты (только цифры)",
                     "en": "Analyst, Ministry of Labour and Social Protection (figures only)"},
        roles=(("analyst", None),),
    ),
    # CUPS specialists (portal.assisted): a village centre and a consular mission abroad.
    DemoPerson(
        idnp="2005001000604", first_name="Lilia", last_name="Cojocaru", birth_date="1990-09-03", gender=2,
        email="lilia.cojocaru@lozova.md", phone="+37369100604", language="ro", raion="straseni",
        description={"ro": "Specialistă CUPS, primăria Lozova (Strășeni)",
                     "ru": "Специалист ЕЦПУ, примэрия Лозова (Страшень)",
                     "en": "CUPS specialist, Lozova town hall (Strășeni)"},
        roles=(("cups_specialist", "CUPS-LOZOVA"),),
    ),
    DemoPerson(
        idnp="2005001000626", first_name="Mihai", last_name="Croitoru", birth_date="1982-12-19", gender=1,
        email="mihai.croitoru@mfa.gov.md", phone="+390600000626", language="ro", raion="chisinau",
        description={"ro": "Specialist CUPS, secția consulară a Ambasadei la Roma",
                     "ru": "Специалист ЕЦПУ, консульский отдел посольства в Риме",
                     "en": "CUPS specialist, consular section of the Embassy in Rome"},
        roles=(("cups_specialist", "CUPS-ROMA"),),
    ),
)

EVERYONE = CITIZENS + STAFF


def by_idnp(idnp: str) -> DemoPerson | None:
    return next((p for p in EVERYONE if p.idnp == idnp), None)
