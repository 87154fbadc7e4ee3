import Foundation
@testable import ProbeAgent

/// Parses YAML as `agent.yaml` with files served from a dictionary.
enum ConfigFixture {
    struct MissingFile: Error, CustomStringConvertible {
        var description: String { "no such file" }
    }

    static func parse(_ yaml: String, env: [String: String] = [:], files: [String: String] = [:],
                      baseDirectory: String? = nil) throws(ConfigErrors) -> AgentConfig {
        try ConfigLoader.parse(yaml: yaml, file: "agent.yaml", environment: env, baseDirectory: baseDirectory) { path in
            guard let contents = files[path] else { throw MissingFile() }
            return contents
        }
    }

    /// The error lines for `yaml` (empty when it loads).
    static func errors(_ yaml: String, env: [String: String] = [:], files: [String: String] = [:]) -> [String] {
        do {
            _ = try parse(yaml, env: env, files: files)
            return []
        } catch {
            return error.errors.map(\.description)
        }
    }

    /// The repository root, from this file's location.
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
}
