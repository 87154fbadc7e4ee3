import ProbeLogic
import Tracing

/// Whether a probe's trace was exported: sampled at its start (ratio sampling) and, under
/// `failure_biased` sampling, kept when its root span ended (the processor decided before the
/// run returned).
enum TraceKept {
    static func rule(_ tracer: Tracer) -> @Sendable (ProbeRun) -> Bool {
        let processor = tracer.processor
        return { run in run.sampled && (processor.decision(for: run.traceID) ?? true) }
    }
}
