#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Wall-clock times as the status page and `/status?history=N` write them, in UTC. Far cheaper
/// than `ISO8601DateFormatter` (whose format `iso8601(_:milliseconds: true)` matches), which counts
/// when a fleet's history holds a hundred thousand probes.
enum UTCTime {
    /// `HH:MM:SSZ`.
    static func clock(_ unixNano: UInt64) -> String {
        let t = brokenDown(unixNano)
        return "\(pad(t.tm_hour)):\(pad(t.tm_min)):\(pad(t.tm_sec))Z"
    }

    /// `YYYY-MM-DDTHH:MM:SSZ`, or `YYYY-MM-DDTHH:MM:SS.mmmZ`.
    static func iso8601(_ unixNano: UInt64, milliseconds: Bool = false) -> String {
        let t = brokenDown(unixNano)
        var text = "\(t.tm_year + 1900)-\(pad(t.tm_mon + 1))-\(pad(t.tm_mday))T\(pad(t.tm_hour)):\(pad(t.tm_min)):\(pad(t.tm_sec))"
        if milliseconds {
            let ms = unixNano / 1_000_000 % 1000
            text += ms < 10 ? ".00\(ms)" : ms < 100 ? ".0\(ms)" : ".\(ms)"
        }
        return text + "Z"
    }

    private static func brokenDown(_ unixNano: UInt64) -> tm {
        var seconds = time_t(unixNano / 1_000_000_000)
        var result = tm()
        gmtime_r(&seconds, &result)
        return result
    }

    private static func pad(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
}
