import XCTest
@testable import Tracing

final class RingBufferTests: XCTestCase {
    func testBoundedFIFOAcrossGrowthAndWrapAround() {
        var ring = RingBuffer<Int>(capacity: 40)
        var expected: [Int] = []
        var next = 0
        // Interleave pushes and pops so head wraps while storage grows 16 → 32 → 40.
        for round in 0..<50 {
            for _ in 0..<(round % 7 + 1) {
                let accepted = ring.append(next)
                XCTAssertEqual(accepted, expected.count < 40)
                if accepted { expected.append(next) }
                next += 1
            }
            let popped = ring.popFirst(round % 5)
            XCTAssertEqual(popped, Array(expected.prefix(round % 5)))
            expected.removeFirst(popped.count)
            XCTAssertEqual(ring.count, expected.count)
        }
        XCTAssertEqual(ring.popFirst(1000), expected)
        XCTAssertTrue(ring.isEmpty)
    }

    func testRejectsWhenFull() {
        var ring = RingBuffer<Int>(capacity: 3)
        XCTAssertTrue(ring.append(1) && ring.append(2) && ring.append(3))
        XCTAssertFalse(ring.append(4))
        XCTAssertEqual(ring.popFirst(2), [1, 2])
        XCTAssertTrue(ring.append(5))
        XCTAssertEqual(ring.popFirst(5), [3, 5])
    }
}
