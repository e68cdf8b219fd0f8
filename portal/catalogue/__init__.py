"""The catalogue of benefits and services, loaded from ``config/catalogue.toml``."""
from portal.catalogue.loader import Benefit, Catalogue, Question, load_catalogue  # noqa: F401
