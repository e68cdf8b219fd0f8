"""The agencies' back office: queues, cases and decisions."""
