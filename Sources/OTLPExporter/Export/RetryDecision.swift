import Foundation
import HTTPClient

/// Why a batch was not delivered and will not be retried.
package enum DropReason: Equatable, Sendable, CustomStringConvertible {
    case httpStatus(Int)
    case transport(HTTPClientError.Kind)
    case responseTooLarge
    case retryAfterPastDeadline(Duration)
    case deadlineExceeded
    case attemptsExhausted

    package var description: String {
        switch self {
        case .httpStatus(let s): return "HTTP \(s)"
        case .transport(let kind): return "transport error (\(kind.rawValue))"
        case .responseTooLarge: return "response larger than the cap"
        case .retryAfterPastDeadline(let d): return "Retry-After \(d) does not fit the export deadline"
        case .deadlineExceeded: return "export deadline exceeded"
        case .attemptsExhausted: return "retry attempts exhausted"
        }
    }
}

package enum RetryDecision: Equatable, Sendable {
    case success
    /// Retry after the server's delay, or after exponential backoff when nil.
    case retry(after: Duration?)
    case drop(DropReason)
}

/// The pure part of the export policy (§4).
package enum RetryRules {
    package static let retryableStatuses: Set<Int> = [429, 502, 503, 504]

    /// Any 2xx succeeds; only 429/502/503/504 are retried (honouring Retry-After); the rest is dropped.
    package static func decision(status: Int, retryAfter: String?, now: Date) -> RetryDecision {
        if (200..<300).contains(status) { return .success }
        guard retryableStatuses.contains(status) else { return .drop(.httpStatus(status)) }
        return .retry(after: retryAfter.flatMap { RetryAfter.parse($0, now: now) })
    }

    /// Transport failures that mean "try again": no connection, or no (complete) answer. Never TLS,
    /// certificate, DNS-less or malformed-URL failures: retrying cannot fix those.
    package static let retryableTransportKinds: Set<HTTPClientError.Kind> = [
        .connectionRefused, .timeout, .sendFailed, .receiveFailed, .emptyReply, .connectionReset,
    ]

    package static func decision(transportError kind: HTTPClientError.Kind) -> RetryDecision {
        if kind == .responseTooLarge { return .drop(.responseTooLarge) }
        return retryableTransportKinds.contains(kind) ? .retry(after: nil) : .drop(.transport(kind))
    }

    package static func decision(status: Int, headers: HTTPHeaders, now: Date) -> RetryDecision {
        decision(status: status, retryAfter: headers["Retry-After"], now: now)
    }
}

/// `Retry-After`: delay-seconds or an HTTP-date (IMF-fixdate, RFC 850, asctime).
package enum RetryAfter {
    package static func parse(_ value: String, now: Date) -> Duration? {
        let text = value.trimmingCharacters(in: .whitespaces)
        if !text.isEmpty, text.allSatisfy(\.isASCII), text.allSatisfy(\.isNumber) {
            return Int64(text).map { .seconds($0) } ?? .seconds(Int64(Int32.max))
        }
        guard let date = httpDate(text) else { return nil }
        let seconds = date.timeIntervalSince(now)
        return seconds > 0 ? .milliseconds(Int64((seconds * 1000).rounded(.up))) : .zero
    }

    static func httpDate(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        for format in ["EEE, dd MMM yyyy HH:mm:ss zzz", "EEEE, dd-MMM-yy HH:mm:ss zzz", "EEE MMM d HH:mm:ss yyyy"] {
            formatter.dateFormat = format
            if let date = formatter.date(from: text) { return date }
        }
        return nil
    }
}

/// Full-jitter exponential backoff: `random(0, min(cap, base·2^attempt))`, reset per batch.
package struct RetryPolicy: Sendable {
    package var base: Duration
    package var cap: Duration
    /// A safety net when the export has no deadline (timeout 0).
    package var maxAttempts: Int
    /// Maps the backoff ceiling to the actual delay; full jitter by default.
    package var jitter: @Sendable (Duration) -> Duration

    package init(base: Duration = .seconds(1), cap: Duration = .seconds(30), maxAttempts: Int = 10,
                jitter: @escaping @Sendable (Duration) -> Duration = RetryPolicy.fullJitter) {
        self.base = base
        self.cap = cap
        self.maxAttempts = maxAttempts
        self.jitter = jitter
    }

    package static let `default` = RetryPolicy()

    @Sendable package static func fullJitter(_ ceiling: Duration) -> Duration {
        let ns = ceiling.nanoseconds
        return ns > 0 ? .nanoseconds(Int64.random(in: 0...ns)) : .zero
    }

    /// Delay before retry number `attempt + 1` (attempt 0 = after the first failure).
    package func backoff(attempt: Int) -> Duration {
        let factor = Int64(1) << Int64(Swift.min(attempt, 40))
        let ceiling = base.nanoseconds.multipliedReportingOverflow(by: factor)
        let capped = ceiling.overflow ? cap.nanoseconds : Swift.min(cap.nanoseconds, ceiling.partialValue)
        return jitter(.nanoseconds(capped))
    }
}
