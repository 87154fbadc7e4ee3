import ArgumentParser
import Foundation
import HTTPClient
import ProbeLogic

/// `probe-agent validate --config agent.yaml`: load the config as `run` would and report.
struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check a config file: print every error with file, line and field (exit 2), or any warnings and a summary (exit 0)."
    )

    @Option(help: "The agent's YAML config file.")
    var config: String

    @Option(help: "Also show which targets replica i of n owns, e.g. 0/3 (default: $PROBE_AGENT_SHARD, then the file's shard).")
    var shard: String?

    func run() throws {
        let environment = ProcessInfo.processInfo.environment
        let loaded = try ConfigLoader.loadForCommand(path: config, environment: environment)
        let shard = try Shard.effective(flag: shard, environment: environment, configured: loaded.shard)
        for warning in loaded.warnings { FileHandle.standardError.write(Data("warning: \(warning)\n".utf8)) }
        print(ValidateCommand.summary(loaded, file: config, shard: shard))
    }

    /// `agent.yaml: OK — 5 targets (3 MCP, 2 HTTP); shard 0/3 owns 2 (split 2, 1, 2)`
    static func summary(_ config: AgentConfig, file: String, shard: Shard?) -> String {
        let names = config.targets.map(\.target.name)
        let mcp = config.targets.count { if case .mcp = $0.target.kind { true } else { false } }
        var text = "\(file): OK — \(names.count) target\(names.count == 1 ? "" : "s") (\(mcp) MCP, \(names.count - mcp) HTTP)"
        if let shard {
            var split = [Int](repeating: 0, count: shard.count)
            for name in names { split[Shard.owner(of: name, count: shard.count)] += 1 }
            text += "; shard \(shard) owns \(split[shard.index]) (split \(split.map(String.init).joined(separator: ", ")))"
        }
        if let discovery = config.discovery {
            text += "; discovery from \(HTTPURL.redact(discovery.url)) every \(discovery.interval.configText)"
        }
        return text
    }
}
