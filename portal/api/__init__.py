"""The integration API for the agencies' own systems (``/api/v1``): cases, actions, webhooks."""
