"""What the service tells its operators: Prometheus metrics, OpenTelemetry traces and,
when a DSN is set, errors reported to Sentry.

Traces are configured only by the standard `OTEL_*` variables (`tracing`); metrics and
Sentry by the service's settings (`METRICS_*`, `SENTRY_*`).
"""
