import Foundation
import HTTPClient
import TestSupport
import XCTest

/// The status page of the real daemon, in a real headless browser (Debian's chromium, installed by
/// scripts/test) and over plain HTTP without script: healthy, alive, degraded and down targets, a
/// target that restarts, one whose URL carries secrets.
final class StatusPageBrowserTests: XCTestCase {
    static let history = 6
    static let traceURL = "http://traces.example/trace/{trace_id}"
    static let artifacts = ConfigFixture.repositoryRoot.appendingPathComponent(".build/test-artifacts/StatusPageBrowserTests")

    /// The states each target must settle in.
    static let expected = ["healthy": "up", "alive": "up", "degraded": "degraded", "down": "down", "restarting": "up", "secret": "up"]

    func testPageInChromiumAndOverPlainHTTPShowsEveryTargetHistoryTraceLinksAndARestart() async throws {
        var peer = try FixtureServer(script: "http_server.py", args: ["{port}", "--instance", "i-1"])
        defer { peer.stop() }
        let closed = try freeLoopbackPort()
        let port = peer.port
        let agent = try RunningAgent(config: """
            admin:
              listen: {admin}
              history: \(Self.history)
              trace_url: \(Self.traceURL)
            log_level: info
            defaults:
              interval: 1s
              timeout: 800ms
              failure_threshold: 2
            targets:
              - {name: healthy, kind: http, url: "http://127.0.0.1:\(port)/status/200"}
              - {name: alive, kind: http, url: "http://127.0.0.1:\(port)/status/401"}
              - name: degraded
                kind: http
                url: http://127.0.0.1:\(port)/status/401
                auth: {type: bearer, token: not-the-right-one}
              - {name: down, kind: http, url: "http://127.0.0.1:\(closed)/"}
              - name: restarting
                kind: http
                url: http://127.0.0.1:\(port)/instance
                interval: 2s
                restart_detection:
                  - header: X-Instance-Id
              - {name: secret, kind: http, url: "http://user:hunter2@127.0.0.1:\(port)/status/200?token=s3cret-value&version=1"}
            """)
        try await agent.waitFor("every target's history full and in its state", timeout: 40) {
            guard let status = try? await Self.history(agent) else { return false }
            return Self.expected.allSatisfy { name, state in
                status[name]?.state == state && (name == "restarting" ? status[name]!.probes.count >= 2 : status[name]!.probes.count == Self.history)
            }
        }
        peer = try peer.restarted(args: ["{port}", "--instance", "i-2"])
        try await agent.waitFor("the restart", timeout: 20) {
            (try? await Self.history(agent))?["restarting"]?.events.contains { $0["type"] as? String == "restart" } == true
        }

        // History bound: never more than admin.history, long after more probes than that ran.
        let before = try await Self.history(agent)
        for (name, target) in before where name != "restarting" {
            XCTAssertEqual(target.probes.count, Self.history, name)
        }

        let dom = try await runChromium(["--dump-dom", agent.adminURL + "/"])
        let after = try await Self.history(agent)
        let plain = try await agent.get("/").1
        var gzipRequest = HTTPRequest(url: agent.adminURL + "/", timeout: .seconds(5))
        gzipRequest.acceptEncoding = "gzip"
        let gzipped = try await HTTPClient.shared.execute(gzipRequest)
        XCTAssertEqual(gzipped.headers["Content-Encoding"], "gzip", "the page goes gzipped to a client that takes it")
        XCTAssertTrue(String(decoding: gzipped.body, as: UTF8.self).hasPrefix("<!DOCTYPE html>"))
        for (source, html) in [("chromium", dom), ("plain HTTP", plain)] {
            let rows = Self.rows(html)
            XCTAssertEqual(Set(rows.keys), Set(Self.expected.keys), source)
            for (name, state) in Self.expected {
                XCTAssertEqual(rows[name]?.state, state, "\(source): \(name)")
                let marks = rows[name]?.marks ?? -1
                let kept = [before[name]?.probes.count ?? 0, after[name]?.probes.count ?? 0]
                XCTAssertTrue((kept.min()!...kept.max()!).contains(marks), "\(source): \(name) has \(marks) marks, kept \(kept)")
            }
            // Every failed probe's mark links to its own trace, and that trace is the probe's in /status.
            let downRow = try XCTUnwrap(rows["down"]?.html)
            let links = Self.traceLinks(downRow)
            XCTAssertEqual(links.count, rows["down"]?.marks, "\(source): every failed probe links to its trace")
            let downTraces = Set((before["down"]?.probes ?? []) + (after["down"]?.probes ?? []))
            for id in links { XCTAssertTrue(downTraces.contains(id), "\(source): \(id) is a probe of down") }
            XCTAssertTrue(rows["restarting"]?.html.contains("class=\"m healthy r\"") == true, "\(source): restart mark on the strip")
            for secret in ["hunter2", "s3cret-value", "not-the-right-one"] { XCTAssertFalse(html.contains(secret), "\(source): \(secret)") }
        }

        let targetDOM = try await runChromium(["--dump-dom", agent.adminURL + "/targets/restarting"])
        let targetPlain = try await agent.get("/targets/restarting").1
        for (source, html) in [("chromium", targetDOM), ("plain HTTP", targetPlain)] {
            XCTAssertTrue(html.contains("data-event=\"restart\""), source)
            XCTAssertTrue(html.contains("X-Instance-Id"), "\(source): the evidence")
            XCTAssertTrue(html.contains("data-event=\"state_change\""), source)
        }
        let secretPage = try await agent.get("/targets/secret").1 + (try await agent.get("/status?history=100").1)
        for secret in ["hunter2", "s3cret-value", "not-the-right-one"] { XCTAssertFalse(secretPage.contains(secret), secret) }
        XCTAssertTrue(secretPage.contains("REDACTED:REDACTED@127.0.0.1"))

        // Screenshots: laptop in light, phone in dark; the first must show more than a blank page.
        try FileManager.default.createDirectory(at: Self.artifacts, withIntermediateDirectories: true)
        let laptop = Self.artifacts.appendingPathComponent("status-laptop-light.png").path
        let phone = Self.artifacts.appendingPathComponent("status-phone-dark.png").path
        _ = try await runChromium(["--window-size=1366,900", "--screenshot=\(laptop)", agent.adminURL + "/"])
        _ = try await runChromium(["--window-size=390,844", "--force-dark-mode", "--blink-settings=preferredColorScheme=0",
                             "--screenshot=\(phone)", agent.adminURL + "/"])
        let targetPage = Self.artifacts.appendingPathComponent("target-phone-light.png").path
        _ = try await runChromium(["--window-size=390,844", "--screenshot=\(targetPage)", agent.adminURL + "/targets/restarting"])
        for path in [laptop, phone, targetPage] {
            let measure = try await runProcess(ConfigFixture.repositoryRoot.appendingPathComponent(".venv/bin/python3").path,
                                         [ConfigFixture.repositoryRoot.appendingPathComponent("Tests/Fixtures/png_nonblank.py").path, path])
            let fields = measure.split(separator: " ").compactMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            XCTAssertEqual(fields.count, 3, measure)
            XCTAssertGreaterThan(fields.last ?? 0, 8, "\(path) looks blank: \(measure)")
        }
    }

    /// Under failure-biased sampling at ratio 0 only failing probes' traces are exported: the
    /// history says which, and the page links those and marks the others sampled out.
    func testSampledOutProbesAreMarkedAndNotLinked() async throws {
        let peer = try FixtureServer(script: "http_server.py", args: ["{port}"])
        defer { peer.stop() }
        let closed = try freeLoopbackPort()
        let spans = ProbeSpanFile()
        let agent = try RunningAgent(config: """
            admin:
              listen: {admin}
              trace_url: \(Self.traceURL)
            defaults: {interval: 1s, timeout: 800ms}
            exporter:
              file: \(spans.path)
              sampling: {mode: failure_biased, ratio: 0}
            targets:
              - {name: fine, kind: http, url: "http://127.0.0.1:\(peer.port)/status/200"}
              - {name: broken, kind: http, url: "http://127.0.0.1:\(closed)/"}
            """)
        var sampled: [String: [Bool]] = [:]
        try await agent.waitFor("three probes each", timeout: 30) {
            guard let (_, body) = try? await agent.get("/status?history=10"),
                  let object = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any] else { return false }
            for target in object["targets"] as? [[String: Any]] ?? [] {
                sampled[target["name"] as? String ?? ""] = (target["history"] as? [[String: Any]] ?? []).compactMap { $0["sampled"] as? Bool }
            }
            return sampled.values.count == 2 && sampled.values.allSatisfy { $0.count >= 3 }
        }
        XCTAssertEqual(Set(sampled["broken"]!), [true], "every failing probe's trace is kept")
        XCTAssertLessThanOrEqual(sampled["fine"]!.filter { $0 }.count, 1, "only the state change's probe is kept: \(sampled["fine"]!)")
        let rows = Self.rows(try await agent.get("/").1)
        let fine = try XCTUnwrap(rows["fine"]?.html)
        XCTAssertTrue(fine.contains("<span class=\"m healthy so\""))
        XCTAssertTrue(fine.contains("sampled out"))
        XCTAssertFalse(try XCTUnwrap(rows["broken"]?.html).contains(" so\""))
        XCTAssertFalse(Self.traceLinks(try XCTUnwrap(rows["broken"]?.html)).isEmpty)
    }

    /// SIGHUP: an unchanged target keeps its history, a changed one starts over, and the reload's
    /// `admin.history` and `admin.basic_auth_users` take effect.
    func testHistorySurvivesSIGHUPForUnchangedTargetsAndTheReloadsAdminSettingsApply() async throws {
        let peer = try FixtureServer(script: "http_server.py", args: ["{port}"])
        defer { peer.stop() }
        func config(history: Int, changedInterval: String, users: String = "") -> String {
            """
            admin:
              listen: {admin}
              history: \(history)
            \(users)
            defaults: {interval: 1s, timeout: 800ms}
            targets:
              - {name: kept, kind: http, url: "http://127.0.0.1:\(peer.port)/status/200"}
              - {name: changed, kind: http, url: "http://127.0.0.1:\(peer.port)/status/200", interval: \(changedInterval)}
            """
        }
        let agent = try RunningAgent(config: config(history: 50, changedInterval: "1s"))
        try await agent.waitFor("four probes each", timeout: 30) {
            guard let history = try? await Self.history(agent) else { return false }
            return history["kept"].map { $0.probes.count >= 4 } == true && history["changed"].map { $0.probes.count >= 4 } == true
        }
        let before = try await Self.history(agent)
        let users = "  basic_auth_users: {alice: \"\(AdminAccessTests.pythonHash)\"}"
        try agent.rewriteConfig(config(history: 50, changedInterval: "2s", users: users))
        agent.signal(SIGHUP)
        try await agent.waitForLog("config reloaded")
        let (status, _) = try await agent.get("/status")
        XCTAssertEqual(status, 401, "the reload's users apply")
        var after = try await Self.authorizedHistory(agent)
        let kept = try XCTUnwrap(after["kept"])
        XCTAssertEqual(Array(kept.prefix(before["kept"]!.probes.count)), before["kept"]!.probes,
                       "the unchanged target keeps every probe from before the reload")
        XCTAssertFalse(Set(before["changed"]!.probes).contains(try XCTUnwrap(after["changed"]).first ?? ""), "a changed target starts over")

        try agent.rewriteConfig(config(history: 3, changedInterval: "2s", users: users))
        agent.signal(SIGHUP)
        try await agent.waitFor("the second reload") { agent.log.components(separatedBy: "config reloaded").count == 3 }
        after = try await Self.authorizedHistory(agent)
        XCTAssertEqual(after["kept"]?.count, 3, "the reload's admin.history")
    }

    static func authorizedHistory(_ agent: RunningAgent) async throws -> [String: [String]] {
        var request = HTTPRequest(url: agent.adminURL + "/status?history=100", timeout: .seconds(5))
        request.headers.add("Authorization", "Basic " + Data("alice:\(AdminAccessTests.password)".utf8).base64EncodedString())
        let body = try await HTTPClient.shared.execute(request).body
        let targets = (try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])?["targets"] as? [[String: Any]] ?? []
        return Dictionary(uniqueKeysWithValues: targets.map {
            ($0["name"] as? String ?? "", ($0["history"] as? [[String: Any]] ?? []).compactMap { $0["trace_id"] as? String })
        })
    }

    // MARK: - Reading the page

    struct Row {
        var state: String
        var marks: Int
        var html: String
    }

    /// Each `<tr class="target" …>` row by target name.
    static func rows(_ html: String) -> [String: Row] {
        var rows: [String: Row] = [:]
        for chunk in html.components(separatedBy: "<tr class=\"target\" ").dropFirst() {
            let row = chunk.components(separatedBy: "</tr>")[0]
            guard let name = attribute("data-target", in: row), let state = attribute("data-state", in: row) else { continue }
            let marks = row.components(separatedBy: "class=\"m ").count - 1
            rows[name] = Row(state: state, marks: marks, html: row)
        }
        return rows
    }

    static func attribute(_ name: String, in html: String) -> String? {
        guard let start = html.range(of: "\(name)=\"") else { return nil }
        return String(html[start.upperBound...].prefix { $0 != "\"" })
    }

    /// The trace id in the link of every mark of a failed probe.
    static func traceLinks(_ row: String) -> [String] {
        let prefix = traceURL.replacingOccurrences(of: "{trace_id}", with: "")
        return row.components(separatedBy: "<a class=\"m ").dropFirst().compactMap { mark in
            let tag = String(mark.prefix { $0 != ">" })
            guard tag.hasPrefix("unreachable") || tag.hasPrefix("unhealthy"),
                  let href = attribute("href", in: tag), href.hasPrefix(prefix) else { return nil }
            return String(href.dropFirst(prefix.count))
        }
    }

    struct TargetHistory {
        var state: String
        var probes: [String]
        var events: [[String: Any]]
    }

    static func history(_ agent: RunningAgent) async throws -> [String: TargetHistory] {
        let (_, body) = try await agent.get("/status?history=1000")
        let object = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
        var result: [String: TargetHistory] = [:]
        for target in object?["targets"] as? [[String: Any]] ?? [] {
            guard let name = target["name"] as? String else { continue }
            result[name] = TargetHistory(state: target["state"] as? String ?? "",
                                         probes: (target["history"] as? [[String: Any]] ?? []).compactMap { $0["trace_id"] as? String },
                                         events: target["events"] as? [[String: Any]] ?? [])
        }
        return result
    }

    // MARK: - Processes

    /// Headless chromium with a profile of its own; its standard output (the DOM for `--dump-dom`).
    func runChromium(_ arguments: [String]) async throws -> String {
        let profile = FileManager.default.temporaryDirectory.appendingPathComponent("chromium-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: profile) }
        return try await runProcess("/usr/bin/chromium", ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                                                    "--no-first-run", "--user-data-dir=\(profile.path)", "--hide-scrollbars"] + arguments,
                              timeout: 90)
    }

    /// Runs a program to its end (killed after `timeout` seconds); its standard output.
    func runProcess(_ path: String, _ arguments: [String], timeout: TimeInterval = 30) async throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let reader = Task.detached { out.fileHandleForReading.readDataToEndOfFile() }
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning, Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            throw FixtureError("\(path) did not finish within \(Int(timeout)) s")
        }
        return String(decoding: await reader.value, as: UTF8.self)
    }
}
