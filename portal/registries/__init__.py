"""eSocial's client for the state registries (MConnect, X-Road style) and the prefill of applications.

Production code: nothing here imports ``devstack``; in development the same client talks to the
registry simulator (``python -m devstack.registry_sim``) at ``Settings.registry_base_url``.
"""
