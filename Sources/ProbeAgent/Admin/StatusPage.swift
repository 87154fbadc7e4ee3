import HTTPClient
import ProbeLogic
import Tracing

/// What the status page shows beyond the targets themselves (from `admin:` and `discovery:`).
struct StatusPageSettings: Sendable, Equatable {
    /// `admin.trace_url`: `{trace_id}` is replaced by a probe's trace id.
    var traceURL: String?
    /// `admin.group_by`: the label whose values group the rows.
    var groupBy: String?
    /// `discovery.contextforge.url`: the configured target on this origin is the gateway whose
    /// restarts are marked on the timelines of the targets discovered from it.
    var gatewayURL: String?
    /// Seconds between the script's in-place refreshes.
    var refreshSeconds = 10

    init(admin: AdminSettings, discovery: ContextForgeDiscovery?) {
        traceURL = admin.traceURL
        groupBy = admin.groupBy
        gatewayURL = discovery?.url
    }

    init(traceURL: String? = nil, groupBy: String? = nil, gatewayURL: String? = nil) {
        self.traceURL = traceURL
        self.groupBy = groupBy
        self.gatewayURL = gatewayURL
    }
}

/// The admin listener's HTML: `GET /` (every target, one row each) and `GET /targets/<name>` (one
/// target's kept history as a timeline and a table). Rendered on the server, so it reads the same
/// with curl and without JavaScript; a few lines of script replace `<main>` in place every
/// `refreshSeconds`. Every text from a config, a target or an answer is escaped; URLs are shown
/// redacted as on spans (`HTTPURL.redact`).
struct StatusPage {
    let entries: [String: TargetBook.Entry]
    let settings: StatusPageSettings
    let nowUnixNano: UInt64
    /// Probes on the front page's strip and sparkline (the target page shows all kept).
    static let stripProbes = 30

    init(entries: [String: TargetBook.Entry], settings: StatusPageSettings, nowUnixNano: UInt64 = wallClockUnixNano()) {
        self.entries = entries
        self.settings = settings
        self.nowUnixNano = nowUnixNano
    }

    // MARK: - Pages

    func index() -> String {
        var html = Self.head(title: "probe-agent status", refresh: settings.refreshSeconds)
        let names = entries.keys.sorted()
        let counts = Dictionary(grouping: names) { entries[$0]!.health.state }.mapValues(\.count)
        html += "<main><header><h1>probe-agent</h1><p class=\"summary\">\(names.count) targets"
        for state in TargetHealth.State.allCases {
            html += " · <span class=\"s-\(state.rawValue)\">\(Self.stateSymbol(state)) \(counts[state] ?? 0) \(state.rawValue)</span>"
        }
        html += " · <time datetime=\"\(Self.isoTime(nowUnixNano))\">\(Self.isoTime(nowUnixNano))</time></p></header>"
        let gateway = gatewayRestarts()
        for (group, members) in groups(names) {
            if let group { html += "<h2>\(HTMLText.escape(group))</h2>" }
            html += "<table class=\"targets\"><thead><tr><th>target</th><th>state</th><th>last probe</th><th>uptime</th>"
                + "<th>latency</th><th>last \(Self.stripProbes) probes</th><th>last error</th><th>since</th></tr></thead><tbody>"
            for name in members { html += row(name, entries[name]!, gateway: gateway) }
            html += "</tbody></table>"
        }
        if names.isEmpty { html += "<p>No targets yet.</p>" }
        return html + "</main>" + Self.foot
    }

    /// nil when there is no such target.
    func target(_ name: String) -> String? {
        guard let entry = entries[name] else { return nil }
        let escaped = HTMLText.escape(name)
        var html = Self.head(title: "\(escaped) · probe-agent", refresh: settings.refreshSeconds)
        html += "<main><header><p><a href=\"/\">← all targets</a></p><h1>\(escaped) \(Self.badge(entry.health.state))</h1>"
        html += "<dl class=\"facts\"><dt>URL</dt><dd><code>\(HTMLText.escape(HTTPURL.redact(entry.spec.target.url)))</code></dd>"
        html += "<dt>interval</dt><dd>\(entry.spec.interval.configText)</dd>"
        if !entry.spec.target.labels.isEmpty { html += "<dt>labels</dt><dd>\(Self.labels(entry.spec.target.labels))</dd>" }
        html += "<dt>uptime</dt><dd>\(Self.uptime(entry.history.probes))</dd>"
        if let transition = entry.lastTransition {
            html += "<dt>last change</dt><dd>\(HTMLText.escape(transition.from)) → \(HTMLText.escape(transition.to)), "
                + "\(since(transition.atUnixNano))</dd>"
        }
        if let failure = entry.lastFailure {
            html += "<dt>last error</dt><dd class=\"error\">\(HTMLText.escape(failure.message)) (\(since(failure.atUnixNano)))</dd>"
        }
        html += "</dl></header>"
        let probes = entry.history.probes
        let gateway = isDiscovered(entry) ? gatewayRestarts() : nil
        html += "<section><h2>Timeline (\(probes.count) probes kept)</h2>"
        html += strip(probes, events: entry.history.events, gateway: gateway, large: true)
        html += sparkline(probes, width: 600, height: 48)
        html += "</section><section><h2>History</h2><div class=\"scroll\"><table class=\"history\"><thead><tr><th>time</th>"
            + "<th>health</th><th>HTTP</th><th>error.type</th><th>duration</th><th>trace</th></tr></thead><tbody>"
        for item in timeline(probes, events: entry.history.events, gateway: gateway).reversed() {
            html += historyRow(item)
        }
        html += "</tbody></table></div></section></main>"
        return html + Self.foot
    }

    // MARK: - Front page parts

    private func groups(_ names: [String]) -> [(String?, [String])] {
        guard let label = settings.groupBy else { return [(nil, names)] }
        let grouped = Dictionary(grouping: names) { entries[$0]!.spec.target.labels[label] }
        let keys = grouped.keys.sorted { ($0 ?? "\u{10FFFF}") < ($1 ?? "\u{10FFFF}") }
        return keys.map { key in (key.map { "\(label): \($0)" } ?? "no \(label)", grouped[key]!) }
    }

    private func row(_ name: String, _ entry: TargetBook.Entry, gateway: GatewayRestarts?) -> String {
        let probes = entry.history.last(Self.stripProbes)
        let escaped = HTMLText.escape(name)
        var html = "<tr class=\"target\" data-target=\"\(escaped)\" data-state=\"\(entry.health.state.rawValue)\">"
        html += "<td data-label=\"target\"><a class=\"name\" href=\"/targets/\(HTMLText.pathSegment(name))\">\(escaped)</a>"
        if !entry.spec.target.labels.isEmpty { html += "<div class=\"labels\">\(Self.labels(entry.spec.target.labels))</div>" }
        html += "</td><td data-label=\"state\">\(Self.badge(entry.health.state))</td>"
        if let last = entry.last {
            html += "<td data-label=\"last probe\" class=\"h-\(last.status.rawValue)\">\(Self.healthSymbol(last.status)) \(last.status.rawValue)</td>"
        } else {
            html += "<td data-label=\"last probe\">–</td>"
        }
        html += "<td data-label=\"uptime\">\(Self.uptime(entry.history.probes))</td>"
        html += "<td data-label=\"latency\">\(sparkline(Array(probes), width: 120, height: 24))</td>"
        html += "<td data-label=\"probes\">\(strip(Array(probes), events: entry.history.events, gateway: isDiscovered(entry) ? gateway : nil, large: false))</td>"
        html += "<td data-label=\"last error\" class=\"error\">\(entry.lastFailure.map { HTMLText.escape($0.message) } ?? "")</td>"
        html += "<td data-label=\"since\">\(entry.lastTransition.map { since($0.atUnixNano) } ?? "–")</td></tr>"
        return html
    }

    /// One mark per probe, oldest left; a restart probe is outlined, a gateway restart is a line
    /// between the probes around it. Each mark links to its trace unless sampled out.
    private func strip(_ probes: [ProbeRecord], events: [TargetEvent], gateway: GatewayRestarts?, large: Bool) -> String {
        let restarts = Dictionary(events.compactMap { event -> (TraceID, String)? in
            if case .restart(let evidence) = event.kind { return (event.traceID, evidence) }
            return nil
        }, uniquingKeysWith: { first, _ in first })
        var gatewayMarks = ArraySlice(gateway?.events.filter { $0.atUnixNano >= (probes.first?.atUnixNano ?? .max) } ?? [])
        var html = "<div class=\"strip\(large ? " large" : "")\" role=\"group\" aria-label=\"probes, oldest first\">"
        for probe in probes {
            while let event = gatewayMarks.first, event.atUnixNano <= probe.atUnixNano {
                html += gatewayMark(event, gateway: gateway!.name)
                gatewayMarks.removeFirst()
            }
            var title = "\(Self.clock(probe.atUnixNano)) \(probe.health.rawValue)"
            if probe.httpStatus != 0 { title += " · HTTP \(probe.httpStatus)" }
            if let errorType = probe.errorType { title += " · \(errorType.rawValue)" }
            title += " · \(Self.duration(probe.durationSeconds))"
            var classes = "m \(probe.health.rawValue)"
            if let evidence = restarts[probe.traceID] {
                classes += " r"
                title += " · restart: \(evidence)"
            }
            if !probe.sampled { classes += " so"; title += " · sampled out" }
            // Lean: a fleet's front page has thousands of these (the trace id is in the link).
            let attributes = "class=\"\(classes)\" title=\"\(HTMLText.escape(title))\""
            if let link = traceLink(probe.traceID, sampled: probe.sampled) {
                html += "<a \(attributes) href=\"\(link)\"></a>"
            } else {
                html += "<span \(attributes)></span>"
            }
        }
        for event in gatewayMarks { html += gatewayMark(event, gateway: gateway!.name) }
        return html + "</div>"
    }

    private func gatewayMark(_ event: TargetEvent, gateway: String) -> String {
        guard case .restart(let evidence) = event.kind else { return "" }
        let title = "\(Self.clock(event.atUnixNano)) gateway \(gateway) restarted: \(evidence)"
        return "<span class=\"gw\" data-gateway-restart=\"\(event.traceID.hex)\" title=\"\(HTMLText.escape(title))\"></span>"
    }

    /// Probe durations as a line, slowest at the top; a failed probe's point is a dot in the
    /// failure colour.
    private func sparkline(_ probes: [ProbeRecord], width: Int, height: Int) -> String {
        guard !probes.isEmpty else { return "" }
        let durations = probes.map { Double($0.durationSeconds) }
        let top = max(durations.max() ?? 0, 1e-6)
        let step = probes.count > 1 ? Double(width - 4) / Double(probes.count - 1) : 0
        var points = ""
        var dots = ""
        for (index, value) in durations.enumerated() {
            let x = 2 + Double(index) * step
            let y = Double(height - 2) - value / top * Double(height - 4)
            points += "\(Self.coordinate(x)),\(Self.coordinate(y)) "
            if !probes[index].health.isSuccess { dots += "<circle cx=\"\(Self.coordinate(x))\" cy=\"\(Self.coordinate(y))\" r=\"2\"/>" }
        }
        let label = "latency of the last \(probes.count) probes: \(Self.duration(Float(durations.min() ?? 0))) to \(Self.duration(Float(top)))"
        return "<svg class=\"spark\" width=\"\(width)\" height=\"\(height)\" viewBox=\"0 0 \(width) \(height)\" role=\"img\" "
            + "aria-label=\"\(label)\"><title>\(label)</title><polyline points=\"\(points)\"/>\(dots)</svg>"
    }

    // MARK: - Target page parts

    private enum TimelineItem {
        case probe(ProbeRecord)
        case event(TargetEvent, gateway: String?)

        var atUnixNano: UInt64 {
            switch self {
            case .probe(let probe): probe.atUnixNano
            case .event(let event, _): event.atUnixNano
            }
        }
    }

    /// Probes and events oldest first; an event sorts after the probe that saw it.
    private func timeline(_ probes: [ProbeRecord], events: [TargetEvent], gateway: GatewayRestarts?) -> [TimelineItem] {
        let oldest = probes.first?.atUnixNano ?? 0
        var items = probes.map(TimelineItem.probe)
        items += events.map { .event($0, gateway: nil) }
        items += (gateway?.events ?? []).filter { $0.atUnixNano >= oldest }.map { .event($0, gateway: gateway!.name) }
        return items.enumerated().sorted { a, b in
            if a.element.atUnixNano != b.element.atUnixNano { return a.element.atUnixNano < b.element.atUnixNano }
            return a.offset < b.offset
        }.map(\.element)
    }

    private func historyRow(_ item: TimelineItem) -> String {
        switch item {
        case .probe(let probe):
            var html = "<tr class=\"probe\" data-health=\"\(probe.health.rawValue)\"><td>\(Self.isoTime(probe.atUnixNano))</td>"
            html += "<td class=\"h-\(probe.health.rawValue)\">\(Self.healthSymbol(probe.health)) \(probe.health.rawValue)</td>"
            html += "<td>\(probe.httpStatus == 0 ? "–" : String(probe.httpStatus))</td>"
            html += "<td>\(probe.errorType?.rawValue ?? "")</td><td>\(Self.duration(probe.durationSeconds))</td>"
            return html + "<td>\(traceCell(probe.traceID, sampled: probe.sampled))</td></tr>"
        case .event(let event, let gateway):
            let what: String
            let kind: String
            switch event.kind {
            case .stateChange(let from, let to):
                kind = "state_change"
                what = "state change: \(Self.badge(from)) → \(Self.badge(to))"
            case .restart(let evidence):
                kind = gateway == nil ? "restart" : "gateway_restart"
                let subject = gateway.map { "gateway \(HTMLText.escape($0)) restarted" } ?? "restart"
                what = "↻ \(subject): <span class=\"evidence\">\(HTMLText.escape(evidence))</span>"
            }
            return "<tr class=\"event\" data-event=\"\(kind)\"><td>\(Self.isoTime(event.atUnixNano))</td>"
                + "<td colspan=\"4\">\(what)</td><td>\(traceCell(event.traceID, sampled: event.sampled))</td></tr>"
        }
    }

    private func traceCell(_ traceID: TraceID, sampled: Bool) -> String {
        let id = "<code>\(traceID.hex)</code>"
        guard sampled else { return "\(id) <span class=\"so-label\">sampled out</span>" }
        guard let link = traceLink(traceID, sampled: true) else { return id }
        return "<a class=\"trace\" href=\"\(link)\">\(id)</a>"
    }

    // MARK: - Shared parts

    /// The trace's URL from `admin.trace_url`, escaped for an attribute; nil for a sampled-out
    /// probe (there is no trace to show) or without a template.
    private func traceLink(_ traceID: TraceID, sampled: Bool) -> String? {
        guard sampled, let template = settings.traceURL else { return nil }
        return HTMLText.escape(template.replacingOccurrences(of: AdminSettingsDecoder.traceIDPlaceholder, with: traceID.hex))
    }

    struct GatewayRestarts {
        var name: String
        var events: [TargetEvent]
    }

    private func isDiscovered(_ entry: TargetBook.Entry) -> Bool {
        entry.spec.target.labels["source"] == ContextForgeMapping.sourceLabel
    }

    /// The restarts of the configured target on the discovery gateway's origin, if there is one.
    private func gatewayRestarts() -> GatewayRestarts? {
        guard let url = settings.gatewayURL, let origin = HTTPURL(url)?.origin else { return nil }
        guard let name = entries.keys.sorted().first(where: { name in
            let entry = entries[name]!
            return !isDiscovered(entry) && HTTPURL(entry.spec.target.url)?.origin == origin
        }) else { return nil }
        return GatewayRestarts(name: name, events: entries[name]!.history.events.filter(\.isRestart))
    }

    private func since(_ unixNano: UInt64) -> String {
        "<span title=\"\(Self.isoTime(unixNano))\">\(Self.age(nowUnixNano > unixNano ? nowUnixNano - unixNano : 0)) ago</span>"
    }

    static func labels(_ labels: [String: String]) -> String {
        labels.keys.sorted().map { "<span class=\"label\">\(HTMLText.escape($0))=\(HTMLText.escape(labels[$0]!))</span>" }
            .joined(separator: " ")
    }

    static func badge(_ state: TargetHealth.State) -> String {
        "<span class=\"badge s-\(state.rawValue)\" data-state=\"\(state.rawValue)\">\(stateSymbol(state)) \(state.rawValue)</span>"
    }

    /// A shape beside every colour, so the state reads without telling colours apart.
    static func stateSymbol(_ state: TargetHealth.State) -> String {
        switch state {
        case .up: "▲"
        case .degraded: "◆"
        case .down: "▼"
        case .unknown: "?"
        }
    }

    static func healthSymbol(_ health: HealthStatus) -> String {
        switch health {
        case .healthy: "●"
        case .alive: "○"
        case .degraded: "◆"
        case .unhealthy: "✕"
        case .unreachable: "⨯"
        }
    }

    /// Healthy or alive probes over the kept ones.
    static func uptime(_ probes: [ProbeRecord]) -> String {
        guard !probes.isEmpty else { return "–" }
        let up = probes.count { $0.health.isSuccess }
        let percent = Double(up) * 100 / Double(probes.count)
        let text = percent == 100 || percent == 0 ? String(Int(percent)) : String(format1(percent))
        return "<span title=\"\(up) of \(probes.count) probes healthy or alive\">\(text)%</span>"
    }

    static func duration(_ seconds: Float) -> String {
        let ms = Double(seconds) * 1000
        if ms < 10 { return "\(format1(ms)) ms" }
        if ms < 1000 { return "\(Int(ms.rounded())) ms" }
        return "\(format1(ms / 1000)) s"
    }

    static func age(_ nanoseconds: UInt64) -> String {
        let seconds = nanoseconds / 1_000_000_000
        switch seconds {
        case ..<60: return "\(seconds)s"
        case ..<3600: return "\(seconds / 60)m \(seconds % 60)s"
        case ..<86400: return "\(seconds / 3600)h \(seconds % 3600 / 60)m"
        default: return "\(seconds / 86400)d \(seconds % 86400 / 3600)h"
        }
    }

    private static func format1(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }

    private static func coordinate(_ value: Double) -> String { format1(value) }

    static func clock(_ unixNano: UInt64) -> String { UTCTime.clock(unixNano) }

    static func isoTime(_ unixNano: UInt64) -> String { UTCTime.iso8601(unixNano) }

    // MARK: - Document

    static func head(title: String, refresh: Int) -> String {
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            + "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            + "<meta name=\"color-scheme\" content=\"light dark\"><title>\(title)</title><style>\(css)</style></head>"
            + "<body data-refresh=\"\(refresh)\">"
    }

    /// Replaces `<main>` with the same page fetched again; without script the page is complete as served.
    static let foot = """
        <script>(function(){var s=+document.body.dataset.refresh;if(!s||!window.fetch||!window.DOMParser)return;\
        setInterval(function(){fetch(location.href,{cache:"no-store",credentials:"same-origin"}).then(function(r){\
        return r.ok?r.text():null}).then(function(t){if(!t)return;var m=new DOMParser().parseFromString(t,"text/html")\
        .querySelector("main"),o=document.querySelector("main");if(m&&o)o.replaceWith(m)}).catch(function(){})},s*1000)})();\
        </script></body></html>
        """

    static let css = """
        :root{color-scheme:light dark;--bg:#fff;--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--ok:#0969da;\
        --alive:#54aeff;--warn:#9a6700;--bad:#cf222e;--unk:#818b98;--chip:#f6f8fa}\
        @media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#9198a1;--line:#3d444d;\
        --ok:#4493f8;--alive:#9ecbff;--warn:#d29922;--bad:#f85149;--unk:#8b949e;--chip:#151b23}}\
        body{margin:0 auto;max-width:1500px;padding:12px;background:var(--bg);color:var(--fg);\
        font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif}\
        a{color:var(--ok)}h1{font-size:1.4em;margin:.2em 0}h2{font-size:1.1em;margin:1.2em 0 .4em}\
        .summary,.labels,.facts dt{color:var(--muted)}.label{display:inline-block;background:var(--chip);\
        border:1px solid var(--line);border-radius:4px;padding:0 4px;margin:1px;font-size:.85em}\
        table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:5px 8px;border-bottom:1px solid var(--line);\
        vertical-align:middle}th{font-weight:600;color:var(--muted);font-size:.9em}.name{font-weight:600}\
        .badge{display:inline-block;padding:0 8px;border:2px solid currentColor;border-radius:10px;font-weight:600;\
        font-size:.9em;white-space:nowrap}.s-up,.h-healthy{color:var(--ok)}.h-alive{color:var(--alive)}\
        .s-degraded,.h-degraded{color:var(--warn)}.s-down,.h-unhealthy,.h-unreachable{color:var(--bad)}.s-unknown{color:var(--unk)}\
        .error{max-width:28em;overflow-wrap:anywhere;font-size:.9em}\
        .strip{display:flex;align-items:flex-end;gap:1px;height:22px;min-width:8px}.strip.large{height:44px;flex-wrap:wrap}\
        .m{display:block;flex:0 0 5px;height:100%;background:var(--ok)}.large .m{flex-basis:7px;height:40px}\
        .m.alive{background:var(--alive)}.m.degraded{background:var(--warn);height:65%}\
        .m.unhealthy{background:var(--bad);height:35%}.m.unreachable{background:var(--bad);height:20%}\
        .m.r{outline:2px solid var(--fg);outline-offset:-1px}.m.so{opacity:.45}\
        .gw{display:block;flex:0 0 3px;height:100%;background:repeating-linear-gradient(var(--fg) 0 3px,transparent 3px 5px)}\
        .spark{display:block;overflow:visible;max-width:100%;height:auto}.spark polyline{fill:none;stroke:var(--ok);stroke-width:1.5}\
        .spark circle{fill:var(--bad)}.so-label{color:var(--muted);font-style:italic}\
        .event td{background:var(--chip)}.evidence{font-family:ui-monospace,monospace;overflow-wrap:anywhere}\
        .facts{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px}.facts dd{margin:0}.scroll{overflow-x:auto}\
        @media (max-width:760px){table.targets thead{display:none}table.targets tr{display:block;\
        border-bottom:1px solid var(--line);padding:6px 0}table.targets td{display:flex;gap:8px;border:0;padding:2px 0}\
        table.targets td::before{content:attr(data-label);color:var(--muted);min-width:6.5em}.error{max-width:none}}
        """
}
