import Foundation

/// When the spool forces what it wrote to the disk.
public enum SpoolFsync: String, Sendable, CaseIterable {
    /// After every appended export request (one batch): survives power loss, costs one fsync per batch.
    case batch
    /// Never: survives a crash of the agent (`kill -9`), not a crash of the machine.
    case never
}

/// `exporter.spool`: where undeliverable export requests wait for the collector.
public struct SpoolConfig: Sendable, Equatable {
    public static let defaultMaxBytes = 256 << 20

    public var directory: String
    /// Segment files together stay under this; the oldest are dropped to make room.
    public var maxBytes: Int = SpoolConfig.defaultMaxBytes
    public var fsync: SpoolFsync = .batch

    public init(directory: String, maxBytes: Int = SpoolConfig.defaultMaxBytes, fsync: SpoolFsync = .batch) {
        self.directory = directory
        self.maxBytes = maxBytes
        self.fsync = fsync
    }

    /// Smallest `max_bytes` accepted: a few export requests.
    public static let minimumMaxBytes = 64 << 10

    public enum EnvironmentName {
        public static let directory = "PROBE_AGENT_SPOOL_DIR"
        public static let maxBytes = "PROBE_AGENT_SPOOL_MAX_BYTES"
        public static let fsync = "PROBE_AGENT_SPOOL_FSYNC"
    }

    /// `PROBE_AGENT_SPOOL_DIR` (no spool when unset or empty), `PROBE_AGENT_SPOOL_MAX_BYTES`
    /// (bytes, or with a unit: `512MiB`, `1GiB`, `100MB`), `PROBE_AGENT_SPOOL_FSYNC` (`batch` or
    /// `never`). A value that does not parse is reported and the default used.
    public static func fromEnvironment(_ env: [String: String]) -> (SpoolConfig?, warnings: [String]) {
        func value(_ name: String) -> String? {
            guard let text = env[name]?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
            return text
        }
        guard let directory = value(EnvironmentName.directory) else { return (nil, []) }
        var config = SpoolConfig(directory: directory)
        var warnings: [String] = []
        if let text = value(EnvironmentName.maxBytes) {
            if let bytes = ByteSize.parse(text), bytes >= minimumMaxBytes { config.maxBytes = bytes }
            else { warnings.append("\(EnvironmentName.maxBytes)=\(text) is not a size of at least 64KiB (e.g. 256MiB); using 256MiB") }
        }
        if let text = value(EnvironmentName.fsync) {
            if let fsync = SpoolFsync(rawValue: text.lowercased()) { config.fsync = fsync }
            else { warnings.append("\(EnvironmentName.fsync)=\(text) is not one of batch, never; using batch") }
        }
        return (config, warnings)
    }
}

/// A size in bytes as a user writes it: `268435456`, `256MiB`, `256Mi`, `100MB`, `1G`, `64KiB`.
public enum ByteSize {
    private static let units: [String: Int] = [
        "": 1, "b": 1,
        "k": 1 << 10, "ki": 1 << 10, "kib": 1 << 10, "kb": 1000,
        "m": 1 << 20, "mi": 1 << 20, "mib": 1 << 20, "mb": 1_000_000,
        "g": 1 << 30, "gi": 1 << 30, "gib": 1 << 30, "gb": 1_000_000_000,
        "t": 1 << 40, "ti": 1 << 40, "tib": 1 << 40, "tb": 1_000_000_000_000,
    ]

    public static func parse(_ text: String) -> Int? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let digits = trimmed.prefix { $0.isASCII && $0.isNumber }
        let unit = trimmed.dropFirst(digits.count).trimmingCharacters(in: .whitespaces).lowercased()
        guard !digits.isEmpty, let number = Int(digits), let factor = units[unit] else { return nil }
        let (bytes, overflow) = number.multipliedReportingOverflow(by: factor)
        return overflow ? nil : bytes
    }

    /// "256 MiB", "64 KiB", "1000 bytes".
    public static func text(_ bytes: Int) -> String {
        for (factor, unit) in [(1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")] where bytes >= factor && bytes % factor == 0 {
            return "\(bytes / factor) \(unit)"
        }
        return "\(bytes) bytes"
    }
}
