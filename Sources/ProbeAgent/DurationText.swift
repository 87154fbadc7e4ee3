/// Parses durations as written in configs and flags: `250ms`, `10s`, `1.5s`, `2m`, `1h`.
enum DurationText {
    /// The longest duration any setting takes (intervals, timeouts, `check --timeout`).
    static let longest: Duration = .seconds(24 * 3600)

    enum Problem: Error, Equatable, CustomStringConvertible {
        case malformed
        case notPositive
        case tooLong(Duration)

        var description: String {
            switch self {
            case .malformed: "is not a duration (expected e.g. 30s, 500ms, 1m)"
            case .notPositive: "must be greater than 0"
            case .tooLong(let limit): "is too long (at most \(limit.configText))"
            }
        }
    }

    /// A duration greater than 0 and at most `longest`. The number is checked before it becomes
    /// a `Duration`, so no text can overflow the conversion.
    static func parse(_ text: String, longest: Duration = longest) -> Result<Duration, Problem> {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
        guard let (suffix, unit) = units.first(where: { trimmed.hasSuffix($0.0) }) else { return .failure(.malformed) }
        let number = trimmed.dropLast(suffix.count)
        let digits = number.hasPrefix("-") ? number.dropFirst() : number
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
              let value = Double(number), value.isFinite else { return .failure(.malformed) }
        let seconds = value * unit
        guard seconds > 0 else { return .failure(.notPositive) }
        guard seconds <= longest.seconds else { return .failure(.tooLong(longest)) }
        let nanoseconds = Int64((seconds * 1e9).rounded())
        return nanoseconds > 0 ? .success(.nanoseconds(nanoseconds)) : .failure(.notPositive)
    }

    static func format(_ duration: Duration) -> String {
        let ms = duration.milliseconds
        return ms < 1000 ? String(format: "%.1f ms", ms) : String(format: "%.2f s", ms / 1000)
    }
}

import Foundation
