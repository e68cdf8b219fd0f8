"""Notifications: written in the same transaction as the change (outbox), delivered after it."""
