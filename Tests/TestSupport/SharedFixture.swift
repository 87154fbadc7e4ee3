import Foundation

/// A fixture started on first use and shared by a whole test class, stopped in its class tearDown.
public final class SharedFixture<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Result<Value, Error>?
    private let make: () throws -> Value
    private let stopValue: (Value) -> Void

    public init(make: @escaping () throws -> Value, stop: @escaping (Value) -> Void) {
        self.make = make
        self.stopValue = stop
    }

    public func get() throws -> Value {
        lock.lock()
        defer { lock.unlock() }
        if value == nil { value = Result { try make() } }
        return try value!.get()
    }

    public func stop() {
        lock.lock()
        defer { lock.unlock() }
        if case .success(let v)? = value { stopValue(v) }
        value = nil
    }
}
