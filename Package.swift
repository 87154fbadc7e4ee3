// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "probe-agent",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "probe-agent", targets: ["ProbeAgent"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
    ],
    targets: [
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CZlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CIsal", providers: [.apt(["libisal-dev"])]),
        .systemLibrary(name: "CCrypt", providers: [.apt(["libcrypt-dev"])]),
        .target(name: "HTTPClient", dependencies: ["CCurl"]),
        .target(name: "Tracing"),
        .target(name: "OTLPExporter", dependencies: ["Tracing", "HTTPClient", "CIsal", "CZlib"]),
        .target(name: "ProbeLogic", dependencies: ["Tracing", "HTTPClient"]),
        .executableTarget(name: "ProbeAgent", dependencies: [
            "Tracing", "HTTPClient", "OTLPExporter", "ProbeLogic", "CCrypt",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Yams", package: "Yams"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
        ]),
        .executableTarget(name: "ProbeBench", dependencies: ["Tracing", "OTLPExporter", "HTTPClient", "ProbeLogic"]),

        .target(name: "TestSupport", dependencies: ["HTTPClient"], path: "Tests/TestSupport"),
        .testTarget(name: "HTTPClientTests", dependencies: ["HTTPClient", "TestSupport"]),
        .testTarget(name: "TracingTests", dependencies: ["Tracing"]),
        .testTarget(name: "OTLPExporterTests", dependencies: ["OTLPExporter", "Tracing", "HTTPClient", "TestSupport", "CZlib"]),
        .testTarget(name: "ProbeLogicTests", dependencies: ["ProbeLogic", "Tracing", "HTTPClient", "TestSupport"]),
        .testTarget(name: "ProbeAgentTests", dependencies: ["ProbeAgent", "ProbeLogic", "OTLPExporter", "Tracing", "TestSupport"]),
    ]
)

// Fuzz targets (Tests/Fuzz, docs/fuzzing.md), declared only for scripts/fuzz, which builds them with
// `--sanitize=fuzzer` into .build-fuzz: libFuzzer supplies their main, so a plain build could not link them.
if Context.environment["PROBE_AGENT_FUZZ"] == "1" {
    let agent = package.targets.first { $0.name == "ProbeAgent" }!
    package.targets += [
        // The executable's own sources (Tests/Fuzz/ProbeAgentSources links to Sources/ProbeAgent) as a
        // library, so targets can import the config loader and the admin renderers; its @main entry is
        // renamed so that it does not clash with libFuzzer's main.
        .target(name: "ProbeAgentFuzzable", dependencies: agent.dependencies, path: "Tests/Fuzz/ProbeAgentSources",
                exclude: agent.exclude, resources: agent.resources,
                swiftSettings: (agent.swiftSettings ?? [])
                    + [.unsafeFlags(["-Xfrontend", "-entry-point-function-name", "-Xfrontend", "probe_agent_main"])],
                linkerSettings: agent.linkerSettings),
        .target(name: "FuzzSupport", dependencies: ["Tracing"], path: "Tests/Fuzz/FuzzSupport"),
    ]
    let fuzzTargets: [(name: String, dependencies: [Target.Dependency])] = [
        ("FuzzSSEParser", ["ProbeLogic"]),
        ("FuzzJSONRPCReply", ["ProbeLogic"]),
        ("FuzzURLRedaction", ["HTTPClient"]),
        ("FuzzProtobuf", ["OTLPExporter", "Tracing"]),
        ("FuzzConfigLoader", ["ProbeAgentFuzzable"]),
        ("FuzzPrometheusText", ["ProbeAgentFuzzable", "Tracing"]),
    ]
    for target in fuzzTargets {
        package.targets.append(.executableTarget(name: target.name, dependencies: ["FuzzSupport"] + target.dependencies,
                                                 path: "Tests/Fuzz/\(target.name)",
                                                 swiftSettings: [.unsafeFlags(["-parse-as-library"])]))
    }
}
