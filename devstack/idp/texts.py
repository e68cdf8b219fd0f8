"""The development IdP's few texts in Romanian, Russian and English (a dev tool: no gettext catalogue)."""
from __future__ import annotations

LANGUAGES = ("ro", "ru", "en")
DEFAULT = "ro"
LANGUAGE_NAMES = {"ro": "Română", "ru": "Русский", "en": "English"}

TEXTS: dict[str, dict[str, str]] = {
    "brand": {"ro": "MPass – mediu de dezvoltare", "ru": "MPass – среда разработки",
              "en": "MPass – development"},
    "banner": {
        "ro": "Acesta este înlocuitorul de dezvoltare pentru MPass. Nu este serviciul real de autentificare al "
              "guvernului: persoanele de mai jos sunt fictive și nu se cere nicio parolă.",
        "ru": "Это заменитель MPass для разработки. Это не настоящая государственная служба входа: люди ниже "
              "вымышлены, пароль не требуется.",
        "en": "This is the development stand-in for MPass. It is not the real government login service: the people "
              "below are fictitious and no password is asked.",
    },
    "language": {"ro": "Limba", "ru": "Язык", "en": "Language"},
    "choose_title": {"ro": "Alegeți cu cine vă autentificați", "ru": "Выберите, под кем войти",
                     "en": "Choose who to log in as"},
    "choose_lead": {
        "ro": "Serviciul %(sp)s cere autentificarea. Alegeți o persoană de test.",
        "ru": "Служба %(sp)s запрашивает вход. Выберите тестового человека.",
        "en": "The service %(sp)s asks you to log in. Choose a test person.",
    },
    "citizens": {"ro": "Cetățeni", "ru": "Граждане", "en": "Citizens"},
    "staff": {"ro": "Angajați", "ru": "Сотрудники", "en": "Staff"},
    "idnp": {"ro": "IDNP", "ru": "IDNP", "en": "IDNP"},
    "log_in_as": {"ro": "Autentificare ca", "ru": "Войти как", "en": "Log in as"},
    "continue": {"ro": "Continuați", "ru": "Продолжить", "en": "Continue"},
    "forged_title": {"ro": "Demonstrație de securitate", "ru": "Демонстрация безопасности",
                     "en": "Security demonstration"},
    "forged_lead": {
        "ro": "Trimite serviciului un răspuns FALSIFICAT: semnat pentru Ion Rusu, apoi schimbat în Natalia Ceban. "
              "Serviciul trebuie să-l refuze.",
        "ru": "Отправить службе ПОДДЕЛАННЫЙ ответ: подписан для Ion Rusu, затем изменён на Natalia Ceban. "
              "Служба должна его отклонить.",
        "en": "Send the service a FORGED answer: signed for Ion Rusu, then changed to Natalia Ceban. "
              "The service must refuse it.",
    },
    "forged_button": {"ro": "Trimite un răspuns falsificat (demonstrație)",
                      "ru": "Отправить поддельный ответ (демонстрация)",
                      "en": "Send a forged answer (demonstration)"},
    "sending_title": {"ro": "Vă trimitem înapoi la serviciu", "ru": "Возвращаем вас в службу",
                      "en": "Taking you back to the service"},
    "sending_lead": {
        "ro": "Dacă pagina nu se deschide singură, apăsați butonul „Continuați”.",
        "ru": "Если страница не откроется сама, нажмите кнопку «Продолжить».",
        "en": "If the page does not open by itself, press the Continue button.",
    },
    "refused_title": {"ro": "Cererea nu a fost acceptată", "ru": "Запрос не принят",
                      "en": "The request was not accepted"},
    "bad_signature": {
        "ro": "Cererea serviciului nu este semnată sau semnătura nu este validă. MPass acceptă doar cereri "
              "semnate cu certificatul înregistrat al serviciului.",
        "ru": "Запрос службы не подписан или подпись недействительна. MPass принимает только запросы, "
              "подписанные зарегистрированным сертификатом службы.",
        "en": "The service's request is not signed, or its signature is not valid. MPass accepts only requests "
              "signed with the service's registered certificate.",
    },
    "bad_request": {
        "ro": "Cererea nu poate fi citită sau vine de la un serviciu necunoscut.",
        "ru": "Запрос не удаётся прочитать или он пришёл от неизвестной службы.",
        "en": "The request cannot be read, or it comes from an unknown service.",
    },
    "expired": {
        "ro": "Această cerere a expirat. Reveniți la serviciu și începeți din nou.",
        "ru": "Срок действия запроса истёк. Вернитесь в службу и начните заново.",
        "en": "This request has expired. Go back to the service and start again.",
    },
    "no_sp_metadata": {
        "ro": "Metadatele serviciului lipsesc. Porniți portalul cu lansatorul de dezvoltare.",
        "ru": "Нет метаданных службы. Запустите портал через лаунчер разработки.",
        "en": "The service's metadata is missing. Start the portal with the development launcher.",
    },
    "home_title": {"ro": "MPass – mediu de dezvoltare", "ru": "MPass – среда разработки",
                   "en": "MPass – development"},
    "logged_in_as": {"ro": "Sunteți autentificat ca %(name)s.", "ru": "Вы вошли как %(name)s.",
                     "en": "You are logged in as %(name)s."},
    "nobody": {"ro": "Nu este nimeni autentificat.", "ru": "Никто не вошёл.", "en": "Nobody is logged in."},
    "logout_everywhere_title": {"ro": "Ieșire din toate serviciile", "ru": "Выход из всех служб",
                                "en": "Log out of every service"},
    "logout_everywhere_lead": {
        "ro": "MPass va cere fiecărui serviciu în care sunteți autentificat să vă închidă sesiunea.",
        "ru": "MPass попросит каждую службу, в которую вы вошли, завершить ваш сеанс.",
        "en": "MPass will ask every service you are logged in to to end your session.",
    },
    "services": {"ro": "Servicii în care sunteți autentificat", "ru": "Службы, в которые вы вошли",
                 "en": "Services you are logged in to"},
    "logout_button": {"ro": "Ieșire din toate serviciile", "ru": "Выйти из всех служб",
                      "en": "Log out everywhere"},
    "logged_out_title": {"ro": "V-ați deconectat", "ru": "Вы вышли", "en": "You have logged out"},
    "logged_out_lead": {"ro": "Sesiunea MPass s-a încheiat.", "ru": "Сеанс MPass завершён.",
                        "en": "Your MPass session has ended."},
    "logout_unconfirmed": {
        "ro": "Serviciul nu a confirmat ieșirea: răspunsul lipsește, nu este semnat sau nu corespunde cererii.",
        "ru": "Служба не подтвердила выход: ответ отсутствует, не подписан или не соответствует запросу.",
        "en": "The service did not confirm the logout: the answer is missing, unsigned or does not match the "
              "request.",
    },
    "metadata": {"ro": "Metadatele IdP", "ru": "Метаданные IdP", "en": "IdP metadata"},
}


def pick_language(value: str | None) -> str:
    return value if value in LANGUAGES else DEFAULT


def text(key: str, lang: str, **params) -> str:
    entry = TEXTS[key]
    value = entry.get(lang) or entry[DEFAULT]
    return value % params if params else value
