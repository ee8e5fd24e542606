"""What a process tells operators about itself: Prometheus metrics and, when configured, OpenTelemetry traces.

**Metrics.** The worker's Temporal runtime serves Prometheus on ``KZ_METRICS_ADDRESS`` (default
``127.0.0.1:9464``, ``/metrics``): the SDK's own metrics (``temporal_workflow_task_execution_failed``,
``temporal_workflow_task_schedule_to_start_latency``, ``temporal_activity_execution_failed``, …) and the
cases' counters of ``workflows.metrics`` (recorded through the SDK's metric meter, so on the same endpoint).

**Traces.** Off unless an OTLP exporter is configured by OpenTelemetry's own environment variables
(``OTEL_EXPORTER_OTLP_ENDPOINT`` or ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``, and ``OTEL_TRACES_EXPORTER`` not
``none``): then every client that ``infra.client.connect`` builds (worker, API, starter, audit) carries
Temporal's ``TracingInterceptor``, which spans starting, signalling and updating cases, running workflows and
activities, and exports them over OTLP/HTTP. The packages come with the ``otel`` extra
(``pip install 'kz-telecom-procedures[otel]'``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

__all__ = ["metrics_runtime", "trace_provider", "tracing_configured", "tracing_interceptors"]

log = logging.getLogger(__name__)


def metrics_runtime(address: str) -> Runtime:
    """A Temporal runtime serving Prometheus metrics on ``address`` (``host:port``); a clear error if taken."""
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ValueError(f"KZ_METRICS_ADDRESS must be host:port, got {address!r}")
    try:
        return Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=address)))
    except Exception as exc:
        raise RuntimeError(f"cannot serve metrics on {address} (KZ_METRICS_ADDRESS): {exc}") from exc


_provider: list[Any] = []


def trace_provider() -> Any | None:
    """The tracer provider ``tracing_interceptors`` set up (to flush before exiting), or None."""
    return _provider[0] if _provider else None


def tracing_configured(env: Mapping[str, str] = os.environ) -> bool:
    """Whether OpenTelemetry's environment names an OTLP endpoint for traces."""
    if env.get("OTEL_TRACES_EXPORTER", "otlp").strip().lower() == "none":
        return False
    return bool(env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_ENDPOINT"))


@cache
def tracing_interceptors(service: str = "kz-procedures") -> Sequence[Any]:
    """``[TracingInterceptor()]`` exporting over OTLP/HTTP when tracing is configured, else ``[]``.

    Sets the process's tracer provider once (service name from ``OTEL_SERVICE_NAME``, else ``service``);
    spans are batched and flushed when the process exits.
    """
    if not tracing_configured():
        return []
    try:
        from opentelemetry import trace
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
        from temporalio.contrib.opentelemetry import TracingInterceptor
    except ImportError as exc:
        raise RuntimeError(
            "an OTLP endpoint is configured (OTEL_EXPORTER_OTLP_ENDPOINT) but the OpenTelemetry packages are "
            f"missing ({exc.name}): pip install 'kz-telecom-procedures[otel]'"
        ) from exc
    resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME", service)})
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    _provider.append(provider)
    log.info("tracing: spans exported over OTLP/HTTP")
    return [TracingInterceptor(provider.get_tracer("kz-procedures"))]
