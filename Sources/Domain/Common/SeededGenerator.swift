/// A seeded, splittable pseudo-random generator (SplitMix64): the only randomness the
/// project's deterministic code uses. The same seed gives the same sequence on every machine.
public struct SeededGenerator: RandomNumberGenerator, Hashable, Sendable {
    public private(set) var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// An independent stream named `label`: the same parent seed and label always give the same
    /// stream, and adding a new label does not change any other stream's draws.
    public func split(_ label: String) -> SeededGenerator {
        var mixer = SeededGenerator(seed: state ^ FNV1a.hash(label.utf8))  // the label's hash, mixed with the seed
        return SeededGenerator(seed: mixer.next())
    }

    /// A uniform double in [0, 1) with 53 random bits.
    public mutating func nextUnitInterval() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }
}
