"""MPass login (SAML 2.0 service provider). The only package that imports the SAML library."""
