"""Registry simulator: the state registries (RSP, civil status, CNAS, SFS, CNDDCM, ANOFM, cadastre) over X-Road-style REST.

Run it with ``python -m devstack.registry_sim`` (default port 5002).
"""
from devstack.registry_sim.app import DEFAULT_PORT, create_app, parse_purpose  # noqa: F401
