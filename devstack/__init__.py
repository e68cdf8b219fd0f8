"""Development stand-ins for the platforms eSocial plugs into.

The MPass identity provider, the registry simulator, the mail and SMS sinks
and the demo data.  Nothing under ``portal/`` imports this package, and the
production configuration refuses to trust the development IdP.
"""
