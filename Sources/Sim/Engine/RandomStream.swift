import Domain

/// xoshiro256** seeded through SplitMix64: the simulator's generator. Fast, 256 bits of state,
/// and the same sequence on every machine for the same seed.
public struct RandomStream: RandomNumberGenerator, Sendable {
    var s0, s1, s2, s3: UInt64

    public init(seed: UInt64) {
        var mixer = SeededGenerator(seed: seed)
        s0 = mixer.next(); s1 = mixer.next(); s2 = mixer.next(); s3 = mixer.next()
    }

    public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = (s3 << 45) | (s3 >> 19)
        return result
    }

    /// Uniform in [0, 1).
    public mutating func unit() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// Uniform in (0, 1]: safe under a logarithm.
    public mutating func openUnit() -> Double { Double((next() >> 11) + 1) * 0x1.0p-53 }

    /// Uniform integer in 0..<n.
    public mutating func below(_ n: Int) -> Int {
        Int((UInt128(next()) &* UInt128(UInt64(n))) >> 64)
    }
}

/// Independent random streams derived from one seed, one per named model component: adding a
/// component (a new name) does not change the draws of any other.
public struct RandomStreams: Sendable {
    public let seed: UInt64

    public init(seed: UInt64) { self.seed = seed }

    public func stream(_ name: String) -> RandomStream {
        var generator = SeededGenerator(seed: seed).split(name)
        return RandomStream(seed: generator.next())
    }

    /// The seed of replication `index` (0 is the base seed itself).
    public static func replicationSeed(base: UInt64, index: Int) -> UInt64 {
        guard index > 0 else { return base }
        var generator = SeededGenerator(seed: base).split("replication-\(index)")
        return generator.next()
    }
}
