func runTracingBenchmarks() async throws { print("tracing benchmarks: not written yet") }
