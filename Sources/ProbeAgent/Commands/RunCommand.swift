import ArgumentParser
import Foundation
import Logging

/// `probe-agent run --config agent.yaml`: the daemon.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the daemon: probe every configured target on its interval, export telemetry, serve /metrics and /status."
    )

    @Option(help: "The agent's YAML config file.")
    var config: String

    @Option(help: "Probe only the targets replica i of n owns, e.g. 0/3 (default: $PROBE_AGENT_SHARD, then the file's shard).")
    var shard: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical (default: the config's log_level; when given, a reload's log_level does not change it).")
    var logLevel: String?

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let loaded = try ConfigLoader.loadForCommand(path: config, environment: environment)
        let levelText = logLevel ?? loaded.logLevel
        guard let level = Logger.Level(rawValue: levelText) else {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical")
        }
        // Log lines queue for a writer thread: a slow or absent reader of stderr never holds up a probe.
        let logs = LogQueue()
        let levelSwitch = LogLevelSwitch(level)
        LoggingSystem.bootstrap { logs.handler(label: $0, level: levelSwitch) }
        defer { logs.flush(timeout: .seconds(2)) }
        let logger = Logger(label: "probe-agent")
        let agent = try Agent(config: loaded, configPath: config, shardFlag: shard, logLevelFlag: logLevel,
                              environment: environment, logger: logger, logs: logs, logLevel: levelSwitch)
        throw ExitCode(try await agent.run())
    }
}
