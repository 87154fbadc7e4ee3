/// OTLP metric and attribute names → Prometheus names: blackbox_exporter's where one exists, a
/// table for the rest of ours, and the OpenTelemetry compatibility rules for anything else.
enum PrometheusNames {
    static let metrics: [String: String] = [
        "probe.success": "probe_success",
        "probe.last_duration": "probe_duration_seconds",
        "probe.http.status_code": "probe_http_status_code",
        "probe.http.phase.last_duration": "probe_http_duration_seconds",
        "probe.tls.cert.not_after": "probe_ssl_earliest_cert_expiry",
        "probe.consecutive_failures": "probe_consecutive_failures",
        "probe.state.transitions": "probe_state_transitions_total",
        "probe.target.restarts": "probe_target_restarts_total",
        "probe.health.status": "probe_health_status",
        "probe.auth.token_unavailable": "probe_auth_token_unavailable",
        "probe_agent.config.reload.success": "probe_agent_config_reload_success",
        "probe_agent.spans.dropped": "probe_agent_spans_dropped_total",
        "otlp.exporter.exported": "otlp_exporter_exported_total",
        "otlp.exporter.dropped": "otlp_exporter_dropped_total",
        "otlp.exporter.failed": "otlp_exporter_failed_total",
        "otlp.exporter.retries": "otlp_exporter_retries_total",
        "otlp.exporter.queue_size": "otlp_exporter_queue_size",
    ]

    /// Histograms that go out over OTLP only. blackbox_exporter's `probe_duration_seconds` and
    /// `probe_http_duration_seconds{phase}` are gauges of the last probe, and dashboards and alerts
    /// written for it query them as such; a histogram under those names would leave them empty.
    /// Their distributions reach Prometheus through the collector (`probe_duration_seconds_bucket`,
    /// `probe_http_phase_duration_seconds_bucket`, job `otel-collector`).
    static let otlpOnly: Set<String> = ["probe.duration", "probe.http.phase.duration", "mcp.client.operation.duration"]

    static let labels: [String: String] = [
        "probe.target": "target",
        "mcp.transport": "mcp_transport",
        "health.probe_type": "probe_type",
    ]

    /// Label names a target's `labels:` must not use, as they would collide on the target's series:
    /// the agent's own (the three above, then `phase`, `status`, `from`, `to` of single metrics),
    /// the exposition format's (`le`, `quantile`) and those Prometheus and the collector attach.
    static let reservedTargetLabels = ["target", "mcp_transport", "probe_type", "phase", "status", "from", "to",
                                       "le", "quantile", "job", "instance"]

    /// The family name: from the table, else sanitised with `_seconds` for unit `s` and `_total` for counters.
    static func metricName(_ name: String, unit: String, isCounter: Bool) -> String {
        if let mapped = metrics[name] { return mapped }
        var result = sanitized(name)
        if result.first?.isNumber == true { result = "_" + result }
        if unit == "s", !result.hasSuffix("_seconds") { result += "_seconds" }
        if isCounter, !result.hasSuffix("_total") { result += "_total" }
        return result
    }

    static func labelName(_ key: String) -> String {
        if let mapped = labels[key] { return mapped }
        let result = sanitized(key)
        // Leading digits are invalid and `__` is reserved for Prometheus' own labels.
        if result.first?.isNumber == true || result.hasPrefix("__") { return "key_" + result }
        return result.isEmpty ? "key_" : result
    }

    /// Every character outside `[A-Za-z0-9_]` becomes `_` (colons too: they are for recording rules).
    static func sanitized(_ name: String) -> String {
        String(String.UnicodeScalarView(name.unicodeScalars.map { scalar in
            scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || scalar == "_") ? scalar : "_"
        }))
    }
}
