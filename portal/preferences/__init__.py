"""A person's settings and the page-level care every visitor gets.

* Settings (``/account``): country of residence, time zone (defaulting from the country), contact
  details in international form, channels (e-mail is the default abroad), language.
* The simple, large-text display for kiosks and anyone who prefers it: a persistent toggle kept in a
  cookie that holds no personal data.
* On shared computers: personal pages are never stored by the browser (``Cache-Control: no-store``), the
  login cookie is a session cookie, the session ends after inactivity, and logging out or ending a CUPS
  visit tells the browser to clear what it cached (``Clear-Site-Data``).
* Low bandwidth: static files get fingerprinted URLs (``?v=<hash>``) and a one-year immutable cache.
"""
