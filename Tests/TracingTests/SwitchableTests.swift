import XCTest
@testable import Tracing

/// Replacing the processor or the sampler while spans flow: each span goes to exactly one
/// processor, and after `replace` returns none reaches the old one.
final class SwitchableTests: XCTestCase {
    func testNoSpanReachesTheOldProcessorAfterReplaceReturns() async {
        let old = CollectingProcessor(), new = CollectingProcessor()
        let switchable = SwitchableSpanProcessor(old)
        let tracer = Tracer(scope: .test, processor: switchable)
        let total = 20_000
        let ending = Task.detached {
            for i in 0..<total { tracer.startSpan("s\(i)", root: true).end() }
        }
        try? await Task.sleep(for: .milliseconds(1))
        let replaced = switchable.replace(with: new)
        XCTAssertTrue(replaced as AnyObject === old)
        let countAtSwitch = old.spans.count
        await ending.value
        XCTAssertEqual(old.spans.count, countAtSwitch, "nothing reached the old processor after replace returned")
        XCTAssertEqual(old.spans.count + new.spans.count, total, "every span went to one of them")
    }

    func testSamplerSwitch() {
        let sampler = SwitchableSampler(AlwaysOffSampler())
        let tracer = Tracer(scope: .test, sampler: sampler, processor: CollectingProcessor())
        XCTAssertFalse(tracer.startSpan("off", root: true).isRecording)
        sampler.replace(with: AlwaysOnSampler())
        XCTAssertTrue(tracer.startSpan("on", root: true).isRecording)
        XCTAssertEqual(sampler.description, "AlwaysOnSampler")
    }
}
