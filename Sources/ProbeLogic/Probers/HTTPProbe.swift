import Foundation
import HTTPClient
import Tracing

/// Plain HTTP (blackbox_exporter's http prober): one request as configured, judged by its status
/// (the runner then applies the answer checks, as for every kind).
public struct HTTPProbe: Prober {
    public static let defaultMaxBodyBytes = 1 << 20
    /// A larger body fails the probe as `response_too_large`.
    public var maxBodyBytes: Int

    public init(maxBodyBytes: Int = HTTPProbe.defaultMaxBodyBytes) {
        self.maxBodyBytes = maxBodyBytes
    }

    public func probe(_ target: Target, context: ProbeContext) async -> ProbeReport {
        let check = if case .http(let check) = target.kind { check } else { HTTPCheck() }
        var report = context.report(transport: nil)
        var request = HTTPRequest(method: check.method, url: target.url, headers: context.headers(for: target),
                                  body: check.body.map { Array($0.utf8) }, timeout: context.deadline.remaining)
        request.tls = target.tls
        request.freshConnection = true
        request.captureCertificate = target.url.lowercased().hasPrefix("https:")
        request.followRedirects = check.followRedirects
        request.maxResponseBodyBytes = maxBodyBytes

        switch await context.http.fetch(request) {
        case .failure(let error):
            report.record(error)
        case .success(let response):
            report.record(ProbeAnswer(url: response.effectiveURL ?? target.url, status: response.status, headers: response.headers,
                                      body: response.body, certificate: response.peerCertificate), timings: response.timings)
            if response.redirectCount > 0 { report.attributes.append(Attribute("probe.http.redirects", .int(response.redirectCount))) }
            report.outcome = Classifier.httpStatus(response.status, expected: check.expectedStatus,
                                                   credentialsSent: context.credentials.areSent,
                                                   wwwAuthenticate: response.headers["www-authenticate"])
            await context.noteAuthAnswer(status: response.status, headers: response.headers,
                                         credentialsSent: context.credentials.areSent, target: target, into: &report)
        }
        return report
    }
}
