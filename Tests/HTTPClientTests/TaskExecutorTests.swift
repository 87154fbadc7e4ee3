@testable import HTTPClient
import TestSupport
import XCTest

/// The client's loop thread as a task executor: tasks that prefer it run there, before and after
/// every request, and never hang once the loop has stopped.
final class TaskExecutorTests: HTTPFixtureTestCase {
    func testTasksPreferringTheLoopRunOnItBetweenRequests() async throws {
        let (client, base) = (client!, base)
        let onLoop = try await withThrowingTaskGroup(of: [Bool].self) { group in
            for _ in 0..<8 {
                group.addTask(executorPreference: client.taskExecutor) {
                    var seen = [client.loop.onLoopThread]
                    for _ in 0..<3 {
                        let response = try await client.execute(HTTPRequest(url: "\(base)/bytes/10"))
                        XCTAssertEqual(response.status, 200)
                        seen.append(client.loop.onLoopThread)
                    }
                    return seen
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        XCTAssertEqual(onLoop, Array(repeating: true, count: 32))
    }

    func testTasksWithoutThePreferenceRunElsewhere() async throws {
        let client = client!
        _ = try await client.execute(HTTPRequest(url: "\(base)/bytes/10"))
        XCTAssertFalse(client.loop.onLoopThread)
        let onLoop = await Task { client.loop.onLoopThread }.value
        XCTAssertFalse(onLoop)
    }

    func testATaskInFlightWhenTheLoopStopsStillFinishes() async throws {
        let (client, base) = (client!, base)
        let finished = expectation(description: "the task ran to its end")
        Task(executorPreference: client.taskExecutor) {
            let error = await client.failure(HTTPRequest(url: "\(base)/slow-headers/5"))
            XCTAssertEqual(error?.kind, .cancelled)
            finished.fulfill()
        }
        try await Task.sleep(for: .milliseconds(300))
        client.shutdown()
        await fulfillment(of: [finished], timeout: 5)
    }

    func testTasksPreferringAStoppedLoopStillRun() async {
        let client = client!
        client.shutdown()
        let ran = expectation(description: "the task ran")
        Task(executorPreference: client.taskExecutor) { ran.fulfill() }
        await fulfillment(of: [ran], timeout: 5)
    }
}
