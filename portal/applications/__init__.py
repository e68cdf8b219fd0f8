"""The domain core: applications, the benefit claims they carry, status and history."""
