import Synchronization

/// xoshiro256** (Blackman & Vigna): fast, 256-bit state, good enough for ids that must be
/// unique and uniformly random but not secret.
package struct Xoshiro256StarStar: RandomNumberGenerator, Sendable {
    private var s0, s1, s2, s3: UInt64

    /// Seeds from `seed` via SplitMix64, so any seed (even 0) gives a valid, non-zero state.
    package init(seed: UInt64) {
        var x = seed
        func splitMix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        (s0, s1, s2, s3) = (splitMix(), splitMix(), splitMix(), splitMix())
    }

    /// Seeded from the system's cryptographic generator.
    package init() {
        var system = SystemRandomNumberGenerator()
        self.init(seed: system.next())
    }

    @inline(__always)
    package mutating func next() -> UInt64 {
        let result = rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = rotl(s3, 45)
        return result
    }

    @inline(__always)
    private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }
}

/// The process-wide id generator: one xoshiro256** behind a mutex. An uncontended lock costs
/// far less than a `getrandom` call per id, and the critical section is a handful of instructions.
package struct FastRandomNumberGenerator: RandomNumberGenerator, Sendable {
    private static let shared = Mutex(Xoshiro256StarStar())

    package init() {}

    package mutating func next() -> UInt64 {
        Self.shared.withLock { $0.next() }
    }

    /// Three draws under one lock: a trace id (high, low) and a span id, all non-zero as ids require.
    static func traceAndSpanID() -> (TraceID, SpanID) {
        shared.withLock { rng in
            (TraceID.random(using: &rng), SpanID.random(using: &rng))
        }
    }

    static func traceID() -> TraceID {
        shared.withLock { rng in TraceID.random(using: &rng) }
    }

    static func spanID() -> SpanID {
        shared.withLock { rng in SpanID.random(using: &rng) }
    }
}
