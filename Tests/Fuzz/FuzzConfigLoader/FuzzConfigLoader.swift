import FuzzSupport
@testable import ProbeAgentFuzzable

/// The config loader (YAML → AgentConfig) on any text: it returns a config or located errors,
/// never traps (libFuzzer's -timeout catches one that hangs), gives the same answer twice, and no
/// error quotes a secret taken from the environment or a referenced file.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfigLoader(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let yaml = String(decoding: input.rest(), as: UTF8.self)
    let first = load(yaml), second = load(yaml)
    require(first == second, "two loads differ:\n\(first)\n---\n\(second)")
    guard case .failure(let errors) = first else { return 0 }
    require(!errors.errors.isEmpty, "a failure without errors")
    // YAML's line breaks: LF, CR LF, a lone CR, NEL, LS and PS.
    let scalars = Array(yaml.unicodeScalars)
    let lineCount = 1 + scalars.indices.count { i in
        ["\n", "\u{85}", "\u{2028}", "\u{2029}"].contains(scalars[i]) || (scalars[i] == "\r" && (i + 1 == scalars.count || scalars[i + 1] != "\n"))
    }
    for error in errors.errors {
        require(!error.message.isEmpty, "an error without a message")
        if let line = error.line { require((1...lineCount + 1).contains(line), "line \(line) of \(lineCount): \(error)") }
        if let column = error.column { require(column >= 1, "column \(column): \(error)") }
        for secret in Secrets.all where !yaml.contains(secret) {
            require(!error.description.contains(secret), "secret in error: \(shown(error.description))")
        }
    }
    return 0
}

enum Secrets {
    static let environment = ["TOKEN": "envSecretA1", "PASSWORD": "envSecretB2", "EMPTY": "", "URL": "http://127.0.0.1:1/mcp?token=envSecretC3"]
    static let fileContents = "fileSecretD4\n"
    static let all = ["envSecret", "fileSecret"]
}

private func load(_ yaml: String) -> Result<AgentConfig, ConfigErrors> {
    Result { () throws(ConfigErrors) in
        try ConfigLoader.parse(yaml: yaml, file: "agent.yaml", environment: Secrets.environment) { path in
            guard path.hasPrefix("/run/secrets/") else { throw MissingFile() }
            return Secrets.fileContents
        }
    }
}

private struct MissingFile: Error, CustomStringConvertible {
    var description: String { "no such file" }
}
