"""Operations: correlation ids, request metrics, readiness and the Prometheus endpoint."""
