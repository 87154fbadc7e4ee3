/// Parses durations as written in configs and flags: `250ms`, `10s`, `1.5s`, `2m`, `1h`.
enum DurationText {
    static func parse(_ text: String) -> Duration? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
        for (suffix, seconds) in units where trimmed.hasSuffix(suffix) {
            let number = trimmed.dropLast(suffix.count)
            guard !number.isEmpty, number.allSatisfy({ $0.isNumber || $0 == "." }),
                  let value = Double(number), value.isFinite, value >= 0 else { return nil }
            return .nanoseconds(Int64((value * seconds * 1e9).rounded()))
        }
        return nil
    }

    static func format(_ duration: Duration) -> String {
        let (s, atto) = duration.components
        let ms = Double(s) * 1000 + Double(atto) / 1e15
        return ms < 1000 ? String(format: "%.1f ms", ms) : String(format: "%.2f s", ms / 1000)
    }
}

import Foundation
