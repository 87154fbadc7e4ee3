import Foundation
import HTTPClient
import ProbeLogic
import Tracing
import XCTest
@testable import ProbeAgent

/// The status page as rendered (the daemon and browser test is `StatusPageBrowserTests`).
final class StatusPageTests: XCTestCase {
    private func book(_ specs: [TargetSpec], limit: Int = 120) -> TargetBook {
        let book = TargetBook(historyLimit: limit)
        book.replace(with: specs)
        return book
    }

    private static func count(_ needle: String, in text: String) -> Int { text.components(separatedBy: needle).count - 1 }

    func testRowsStatesStripAndTraceLinks() throws {
        let specs = [targetSpec("api", labels: ["team": "payments"]), targetSpec("db", labels: ["team": "storage"]), targetSpec("new")]
        let book = book(specs)
        let failing = probeRun("db", .unreachable, .connectionRefused, message: "connection refused", atSecond: 1,
                               transition: .init(from: .up, to: .down))
        _ = book.record(probeRun("api", .healthy, httpStatus: 200, atSecond: 0), of: specs[0])
        _ = book.record(probeRun("api", .degraded, httpStatus: 429, atSecond: 1), of: specs[0], sampled: false)
        _ = book.record(probeRun("db", .healthy, atSecond: 0), of: specs[1])
        _ = book.record(failing, of: specs[1])
        let page = StatusPage(entries: book.entries, settings: StatusPageSettings(traceURL: "https://tempo.example/t?id={trace_id}&x=1",
                                                                                  groupBy: "team"),
                              nowUnixNano: wallClockUnixNano() + 64_000_000_000).index()

        XCTAssertTrue(page.hasPrefix("<!DOCTYPE html>"))
        XCTAssertTrue(page.contains("<h2>team: payments</h2>") && page.contains("<h2>team: storage</h2>") && page.contains("<h2>no team</h2>"))
        XCTAssertTrue(page.contains("data-target=\"api\" data-state=\"degraded\""))
        XCTAssertTrue(page.contains("data-target=\"db\" data-state=\"down\""))
        XCTAssertTrue(page.contains("data-target=\"new\" data-state=\"unknown\""))
        XCTAssertTrue(page.contains("▼ down"), "a shape beside the colour")
        XCTAssertEqual(Self.count("class=\"m ", in: page), 4, "one mark per probe")
        XCTAssertTrue(page.contains("href=\"https://tempo.example/t?id=\(failing.traceID.hex)&amp;x=1\""), "trace link, escaped")
        XCTAssertTrue(page.contains("<span class=\"m degraded so\""), "a sampled-out probe is marked and not linked")
        XCTAssertTrue(page.contains("connection refused"), "last error")
        XCTAssertTrue(page.contains("1m 4s ago"), "time since the last transition")
        XCTAssertTrue(page.contains("<svg class=\"spark\""))
        XCTAssertTrue(page.contains("50.0%"), "uptime over the kept probes")
    }

    func testEverythingIsEscapedAndURLsRedacted() throws {
        let spec = targetSpec("x", url: "https://user:hunter2@api.example/mcp?token=s3cret&version=2#frag",
                              labels: ["team": "<b>t</b>"])
        let book = book([spec])
        _ = book.record(probeRun("x", .unhealthy, .http5xx, message: "<script>alert(1)</script>", atSecond: 0), of: spec)
        let page = StatusPage(entries: book.entries, settings: StatusPageSettings())
        let html = try XCTUnwrap(page.target("x")) + page.index()
        XCTAssertFalse(html.contains("<script>alert"))
        XCTAssertTrue(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        XCTAssertTrue(html.contains("team=&lt;b&gt;t&lt;/b&gt;"))
        for secret in ["hunter2", "user:", "s3cret", "frag"] { XCTAssertFalse(html.contains(secret), secret) }
        XCTAssertTrue(html.contains("https://REDACTED:REDACTED@api.example/mcp?token=REDACTED&amp;version=2"))
        XCTAssertNil(page.target("nope"))
        let json = String(decoding: book.statusJSON(history: 10), as: UTF8.self)
        for secret in ["hunter2", "s3cret"] { XCTAssertFalse(json.contains(secret), secret) }
    }

    func testTargetPageListsProbesStateChangesAndRestartsWithEvidence() throws {
        let spec = targetSpec("svc")
        let book = book([spec])
        _ = book.record(probeRun("svc", .healthy, atSecond: 0, transition: .init(from: .unknown, to: .up)), of: spec)
        let restart = probeRun("svc", .healthy, httpStatus: 200, atSecond: 1, restart: "X-Instance-Id changed: i-1 → i-2")
        _ = book.record(restart, of: spec)
        let html = try XCTUnwrap(StatusPage(entries: book.entries, settings: StatusPageSettings(traceURL: "http://j/trace/{trace_id}"))
            .target("svc"))
        XCTAssertEqual(Self.count("<tr class=\"probe\"", in: html), 2)
        XCTAssertTrue(html.contains("data-event=\"state_change\""))
        XCTAssertTrue(html.contains("data-event=\"restart\""))
        XCTAssertTrue(html.contains("X-Instance-Id changed: i-1 → i-2"))
        XCTAssertTrue(html.contains("<a class=\"trace\" href=\"http://j/trace/\(restart.traceID.hex)\">"))
        XCTAssertTrue(html.contains("class=\"m healthy r\""), "the restart probe is marked on the strip")
    }

    func testGatewayRestartsAreMarkedOnItsDiscoveredTargets() throws {
        let gateway = targetSpec("contextforge-gw", url: "http://gw.example:4444/health")
        let discovered = targetSpec("contextforge-time", url: "http://time.example/mcp",
                                    labels: ["source": ContextForgeMapping.sourceLabel, "gateway_id": "7"])
        let other = targetSpec("static", url: "http://other.example/")
        let book = book([gateway, discovered, other])
        for second in 0..<3 {
            for spec in [discovered, other] { _ = book.record(probeRun(spec.target.name, .healthy, atSecond: UInt64(second) * 10), of: spec) }
        }
        _ = book.record(probeRun("contextforge-gw", .healthy, atSecond: 15, restart: "mcp.server.version changed: 1.0 → 1.1"), of: gateway)
        let page = StatusPage(entries: book.entries, settings: StatusPageSettings(gatewayURL: "http://gw.example:4444"))
        let index = page.index()
        XCTAssertEqual(Self.count("data-gateway-restart=", in: index), 1, "on the discovered target only")
        let row = try XCTUnwrap(index.components(separatedBy: "data-target=\"contextforge-time\"").last?.components(separatedBy: "</tr>").first)
        XCTAssertTrue(row.contains("gateway contextforge-gw restarted: mcp.server.version changed: 1.0 → 1.1"))
        let timeline = try XCTUnwrap(page.target("contextforge-time"))
        XCTAssertTrue(timeline.contains("data-event=\"gateway_restart\""))
        XCTAssertFalse(try XCTUnwrap(page.target("static")).contains("gateway_restart"))
    }
}
