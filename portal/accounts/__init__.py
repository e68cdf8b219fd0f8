"""People known to the portal: accounts (from MPass), login sessions and staff roles."""
