import XCTest
import HTTPClient

final class DurationConversionTests: XCTestCase {
    func testConversions() {
        XCTAssertEqual(Duration.milliseconds(1500).seconds, 1.5)
        XCTAssertEqual(Duration.milliseconds(1500).milliseconds, 1500)
        XCTAssertEqual(Duration.microseconds(250).milliseconds, 0.25)
        XCTAssertEqual(Duration.nanoseconds(1_234_567_891).nanoseconds, 1_234_567_891)
        XCTAssertEqual(Duration.milliseconds(-1500).nanoseconds, -1_500_000_000)
        XCTAssertEqual(Duration.milliseconds(-1500).seconds, -1.5)
        XCTAssertEqual((Duration.nanoseconds(1) / 4).nanoseconds, 0)  // truncated
        XCTAssertEqual(Duration.zero.seconds, 0)
    }

    /// Whole nanoseconds saturate instead of trapping (an Int64 holds 292 years of them).
    func testNanosecondsClamp() {
        XCTAssertEqual(Duration.seconds(Int64.max).nanoseconds, .max)
        XCTAssertEqual(Duration.seconds(Int64.min).nanoseconds, .min)
        XCTAssertEqual((Duration.nanoseconds(Int64.max) + .nanoseconds(1)).nanoseconds, .max)
        XCTAssertEqual(Duration.seconds(Int64.max).seconds, Double(Int64.max))
    }
}
