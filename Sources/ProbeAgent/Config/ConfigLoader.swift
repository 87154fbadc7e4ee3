import ArgumentParser
import Foundation
import Yams

/// Reads `agent.yaml` into an `AgentConfig`, validating everything once, up front. Reports every
/// problem found, not just the first.
enum ConfigLoader {
    static func load(path: String, environment: [String: String]) throws(ConfigErrors) -> AgentConfig {
        let yaml: String
        do {
            yaml = try TextFile.contents(of: path)
        } catch {
            throw ConfigErrors([ConfigError(file: path, line: error.line, column: error.column, path: "",
                                            message: "cannot read the config file (\(error.reason))")])
        }
        let directory = (path as NSString).deletingLastPathComponent
        return try parse(yaml: yaml, file: path, environment: environment,
                         baseDirectory: directory.isEmpty ? nil : directory,
                         readFile: { try TextFile.contents(of: $0) })
    }

    /// - Parameters:
    ///   - file: the name errors are reported under.
    ///   - baseDirectory: relative paths in the file are taken from here (nil: as written).
    ///   - readFile: reads the files the config refers to (tokens, passwords, certificates).
    static func parse(yaml: String, file: String, environment: [String: String], baseDirectory: String? = nil,
                      readFile: @escaping (String) throws -> String) throws(ConfigErrors) -> AgentConfig {
        let context = ConfigContext(file: file, environment: environment, baseDirectory: baseDirectory, readFile: readFile)
        if let tooBig = YAMLLimits.check(yaml, file: file) { throw ConfigErrors([tooBig]) }
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: yaml) else {
                throw ConfigErrors([ConfigError(file: file, path: "", message: "the file is empty (expected a mapping with targets)")])
            }
            root = node
        } catch let error as ConfigErrors {
            throw error
        } catch {
            throw ConfigErrors([syntaxError(error, file: file)])
        }
        let decoded = AgentConfigDecoder.decode(ConfigNode(root, path: "", context: context))
        guard var config = decoded, context.errors.isEmpty else { throw ConfigErrors(inFileOrder(context.errors)) }
        config.warnings = inFileOrder(context.warnings)
        return config
    }

    static func inFileOrder(_ problems: [ConfigError]) -> [ConfigError] {
        problems.sorted { ($0.line ?? 0, $0.column ?? 0) < ($1.line ?? 0, $1.column ?? 0) }
    }

    /// Yams' position and problem, without its snippet of the file (which could hold a secret).
    static func syntaxError(_ error: any Error, file: String) -> ConfigError {
        guard let yamlError = error as? YamlError else {
            return ConfigError(file: file, path: "", message: "invalid YAML (\(error))")
        }
        func located(_ context: YamlError.Context?, _ problem: String, _ mark: Mark, _ yaml: String) -> ConfigError {
            // libyaml's own bound (1000 levels) can trip before ours when it scans ahead.
            let problem = problem.hasPrefix("Maximum nesting level") ? "nested more than \(YAMLLimits.maxDepth) levels deep" : problem
            var message = context.map { "invalid YAML: \(problem) (\($0.text) at line \($0.mark.line))" } ?? "invalid YAML: \(problem)"
            let line = yaml.split(separator: "\n", omittingEmptySubsequences: false).dropFirst(max(0, mark.line - 1)).first
            if line?.unicodeScalars.dropFirst(max(0, mark.column - 1)).first == "\t" { message += "; YAML does not allow tabs for indentation" }
            return ConfigError(file: file, line: mark.line, column: mark.column, path: "", message: message)
        }
        switch yamlError {
        case .scanner(let context, let problem, let mark, let yaml),
             .parser(let context, let problem, let mark, let yaml),
             .composer(let context, let problem, let mark, let yaml):
            return located(context, problem, mark, yaml)
        case .duplicatedKeysInMapping(let duplicates, let context):
            // Yams marks the first occurrence; point at the repeat when it is on a later line.
            let key = duplicates.min() ?? ""  // Yams collects them in a dictionary: pick one the same way every time
            let first = context.mark
            let lines = context.text.split(separator: "\n", omittingEmptySubsequences: false)
            let repeatLine = lines.indices.dropFirst(first.line).first { index in
                lines[index].unicodeScalars.dropFirst(max(0, first.column - 1)).starts(with: (key + ":").unicodeScalars)
                    && lines[index].unicodeScalars.prefix(max(0, first.column - 1)).allSatisfy { $0 == " " || $0 == "-" }
            }
            return ConfigError(file: file, line: repeatLine.map { $0 + 1 } ?? first.line, column: first.column, path: "",
                               message: "duplicate key '\(key)' (first at line \(first.line))")
        case .reader(let problem, let offset, _, let yaml):
            var line: Int?, column: Int?
            if let offset {  // in Characters; lines are counted by scalar, since "\r\n" is one Character
                let before = yaml.prefix(offset).unicodeScalars
                line = before.count(where: { $0 == "\n" }) + 1
                column = before.count - (before.lastIndex(of: "\n").map { before.distance(from: before.startIndex, to: $0) + 1 } ?? 0) + 1
            }
            return ConfigError(file: file, line: line, column: column, path: "", message: "invalid YAML: \(problem)")
        default:
            return ConfigError(file: file, path: "", message: "invalid YAML")
        }
    }
}

extension ConfigLoader {
    /// For `run` and `validate`: the config, or every error on stderr and exit status 2.
    static func loadForCommand(path: String, environment: [String: String]) throws -> AgentConfig {
        do {
            return try load(path: path, environment: environment)
        } catch {
            FileHandle.standardError.write(Data((error.description + "\n").utf8))
            throw ExitCode(ExitStatus.usage)
        }
    }
}
