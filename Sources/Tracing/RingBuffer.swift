/// A FIFO queue with a hard capacity. Storage grows by doubling up to the capacity, so a large
/// configured queue costs nothing until used; append and pop are O(1).
struct RingBuffer<Element> {
    let capacity: Int
    private var storage: ContiguousArray<Element?> = []
    private var head = 0
    private(set) var count = 0

    init(capacity: Int) { self.capacity = max(1, capacity) }

    var isEmpty: Bool { count == 0 }

    /// False (and nothing stored) when full.
    @inline(__always)
    mutating func append(_ element: Element) -> Bool {
        guard count < capacity else { return false }
        if count == storage.count { grow() }
        var tail = head + count
        if tail >= storage.count { tail -= storage.count }
        storage[tail] = element
        count += 1
        return true
    }

    /// Removes and returns up to `n` elements from the front.
    mutating func popFirst(_ n: Int) -> [Element] {
        let taken = min(n, count)
        var out = [Element]()
        out.reserveCapacity(taken)
        for _ in 0..<taken {
            out.append(storage[head].take()!)
            head += 1
            if head == storage.count { head = 0 }
        }
        count -= taken
        if count == 0 { head = 0 }
        return out
    }

    private mutating func grow() {
        let size = min(capacity, max(16, storage.count * 2))
        var grown = ContiguousArray<Element?>(repeating: nil, count: size)
        for i in 0..<count {
            var index = head + i
            if index >= storage.count { index -= storage.count }
            grown[i] = storage[index].take()
        }
        storage = grown
        head = 0
    }
}
