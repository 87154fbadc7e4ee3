import Foundation
import HTTPClient
import ProbeLogic
import Yams

/// Typed reads of one value. Each reports what was expected and returns nil when the value is wrong.
extension ConfigNode {
    /// A scalar's text with `${NAME}` replaced from the environment.
    func text() -> String? {
        guard case .scalar(let scalar) = node else { return fail("expected a single value, got \(kindName)") }
        switch EnvInterpolation.expand(scalar.string, environment: context.environment) {
        case .success(let text): return text
        case .failure(let failure): return fail(failure.description)
        }
    }

    /// Like `text()`, but the value is never repeated in a message.
    func secret() -> Secret? {
        guard let text = text() else { return nil }
        guard !text.isEmpty else { return fail("is empty") }
        return Secret(text)
    }

    func nonEmptyText(_ expected: String) -> String? {
        guard let text = text() else { return nil }
        return text.isEmpty ? fail("is empty (expected \(expected))") : text
    }

    /// A duration greater than zero.
    func duration() -> Duration? {
        guard let text = text() else { return nil }
        guard let duration = DurationText.parse(text) else {
            return fail("\"\(text)\" is not a duration (expected e.g. 30s, 500ms, 1m)")
        }
        return duration > .zero ? duration : fail("\"\(text)\" must be greater than 0")
    }

    func int(atLeast minimum: Int) -> Int? {
        guard let text = text() else { return nil }
        guard let value = Int(text) else { return fail("\"\(text)\" is not a whole number (expected \(minimum) or more)") }
        return value >= minimum ? value : fail("\(value) is too small (expected \(minimum) or more)")
    }

    func bool() -> Bool? {
        guard let text = text() else { return nil }
        switch text.lowercased() {
        case "true": return true
        case "false": return false
        default: return fail("\"\(text)\" is not a boolean (expected true or false)")
        }
    }

    /// One of a fixed set of words.
    func choice(_ allowed: [String]) -> String? {
        guard let text = text() else { return nil }
        return allowed.contains(text) ? text : fail("\"\(text)\" is not one of: \(allowed.joined(separator: ", "))")
    }

    func choice<E: RawRepresentable & CaseIterable>(_ type: E.Type) -> E? where E.RawValue == String {
        choice(E.allCases.map(\.rawValue)).flatMap(E.init(rawValue:))
    }

    /// An absolute http:// or https:// URL with a host.
    func httpURL() -> String? {
        guard let text = text() else { return nil }
        guard URLAuthority(text) != nil, !text.contains(where: \.isWhitespace) else {
            return fail("\"\(URLRedactor.redact(text))\" is not an http:// or https:// URL with a host")
        }
        return text
    }

    /// A file path, relative paths taken from the config file's directory.
    func filePath() -> String? {
        guard let text = nonEmptyText("a file path") else { return nil }
        guard let base = context.baseDirectory, !text.hasPrefix("/") else { return text }
        return (base as NSString).appendingPathComponent(text)
    }

    /// A path that must be readable now (CA bundles, client certificates).
    func readablePath() -> String? {
        guard let path = filePath() else { return nil }
        do {
            _ = try context.readFile(path)
            return path
        } catch {
            return fail("cannot read \(path) (\(ConfigNode.reason(error)))")
        }
    }

    /// A secret read from the file this value names, trimmed.
    func fileSecret() -> Secret? {
        guard let path = filePath() else { return nil }
        let contents: String
        do {
            contents = try context.readFile(path)
        } catch {
            return fail("cannot read \(path) (\(ConfigNode.reason(error)))")
        }
        let trimmed = contents.trimmingCharacters(in: .whitespacesAndNewlines)
        return trimmed.isEmpty ? fail("\(path) is empty") : Secret(trimmed)
    }

    /// An error's reason without Foundation's long prose.
    static func reason(_ error: any Error) -> String {
        let nsError = error as NSError
        if nsError.domain == NSCocoaErrorDomain {
            switch nsError.code {
            case NSFileReadNoSuchFileError: return "no such file"
            case NSFileReadNoPermissionError: return "permission denied"
            case NSFileReadInapplicableStringEncodingError: return "not UTF-8 text"
            default: break
            }
        }
        return "\(error)"
    }

    /// The `name: value` pairs of a free-form mapping, values as text.
    func textEntries() -> [(key: String, value: String, node: ConfigNode)] {
        (entries() ?? []).compactMap { entry in entry.value.text().map { (entry.key, $0, entry.value) } }
    }
}
