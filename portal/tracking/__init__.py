"""Following an application without an account: the printable receipt with a short code, and the public
status lookup (application number + code, rate-limited) that shows the status and nothing personal."""
