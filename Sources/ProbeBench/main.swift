// Release-mode benchmarks: `swift run -c release ProbeBench <suite>`; figures go to BENCHMARKS.md.
let suites: [String: () async throws -> Void] = [
    "tracing": runTracingBenchmarks,
    "export": runExportBenchmarks,
    "probe": runProbeBenchmarks,
]
let requested = CommandLine.arguments.dropFirst().first ?? "all"
if requested == "all" {
    for name in suites.keys.sorted() { try await suites[name]!() }
} else if let suite = suites[requested] {
    try await suite()
} else {
    print("usage: ProbeBench [all|\(suites.keys.sorted().joined(separator: "|"))]")
}
