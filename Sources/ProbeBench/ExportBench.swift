func runExportBenchmarks() async throws { print("export benchmarks: not written yet") }
