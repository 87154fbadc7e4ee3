import Foundation
import HTTPClient
import Tracing

/// Plain HTTP (blackbox_exporter's http prober): one request as configured, then the status,
/// body and header expectations of the target's `HTTPCheck`.
public struct HTTPProbe: Prober {
    public static let defaultMaxBodyBytes = 1 << 20
    /// A larger body fails the probe as `response_too_large`.
    public var maxBodyBytes: Int

    public init(maxBodyBytes: Int = HTTPProbe.defaultMaxBodyBytes) {
        self.maxBodyBytes = maxBodyBytes
    }

    public func probe(_ target: Target, context: ProbeContext) async -> ProbeReport {
        let check = if case .http(let check) = target.kind { check } else { HTTPCheck() }
        let credentials = await context.credentials.credentials(for: target)
        var report = ProbeReport(outcome: Outcome(.unhealthy), credentials: credentials)

        var request = HTTPRequest(method: check.method, url: target.url, body: check.body.map { Array($0.utf8) },
                                  timeout: target.timeout)
        for header in target.headers { request.headers.add(header.name, header.value) }
        if let authorization = credentials.authorization { request.headers.add("Authorization", authorization) }
        request.tls = target.tls
        request.freshConnection = true
        request.captureCertificate = target.url.lowercased().hasPrefix("https:")
        request.followRedirects = check.followRedirects
        request.maxResponseBodyBytes = maxBodyBytes

        switch await context.http.fetch(request) {
        case .failure(let error):
            report.httpStatus = error.partialStatus
            report.timings = error.timings
            report.outcome = Classifier.transportError(error.kind)
        case .success(let response):
            report.httpStatus = response.status
            report.timings = response.timings
            report.certificateNotAfter = response.peerCertificate?.notAfter?.timeIntervalSince1970
            if response.redirectCount > 0 { report.attributes.append(Attribute("probe.http.redirects", .int(response.redirectCount))) }
            report.outcome = HTTPAssertions.evaluate(check: check, status: response.status, headers: response.headers,
                                                     body: response.body, credentialsSent: credentials.areSent)
            if response.status == 401, credentials.areSent { await context.credentials.rejected(target) }
        }
        return report
    }
}
