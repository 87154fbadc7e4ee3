import ArgumentParser
import Foundation

/// probe-agent: health-checks MCP servers, MCP gateways and HTTP services, one trace per probe.
struct ProbeAgentCommand: AsyncParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "probe-agent",
        abstract: "Health-checks MCP servers, gateways and HTTP services; every probe is a trace.",
        version: version,
        subcommands: [CheckCommand.self, RunCommand.self, ValidateCommand.self]
    )
}

/// Exit statuses: 0 healthy/alive, 1 degraded/unhealthy/unreachable, 2 usage or configuration error.
enum ExitStatus {
    static let success: Int32 = 0
    static let probeFailed: Int32 = 1
    static let usage: Int32 = 2
}

@main
enum Main {
    static func main() async {
        // A closed stdout or stderr (a pipe whose reader went away) is a write error, not death.
        signal(SIGPIPE, SIG_IGN)
        var parsed: (any ParsableCommand.Type)?
        do {
            var command = try ProbeAgentCommand.parseAsRoot()
            parsed = type(of: command)
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let code as ExitCode {
            exit(code.rawValue)
        } catch {
            // `--help` arrives as ArgumentParser's help command throwing its text: a clean exit, not an error.
            if ProbeAgentCommand.exitCode(for: error) == .success {
                print(ProbeAgentCommand.fullMessage(for: error))
                exit(ExitStatus.success)
            }
            FileHandle.standardError.write(Data((usageMessage(for: error, in: parsed) + "\n").utf8))
            exit(ExitStatus.usage)
        }
    }
}

extension Main {
    /// A usage error found while a subcommand runs (a bad `--timeout`, URL or header) points at that
    /// subcommand's help; ArgumentParser would print the root command's usage line.
    static func usageMessage(for error: any Error, in command: (any ParsableCommand.Type)?) -> String {
        guard let name = command?.configuration.commandName, command != ProbeAgentCommand.self else {
            return ProbeAgentCommand.fullMessage(for: error)
        }
        return "Error: \(ProbeAgentCommand.message(for: error))\nSee 'probe-agent \(name) --help' for more information."
    }
}
