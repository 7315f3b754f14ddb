import Domain
import Testing

/// The hash that names stored runs and splits seeded streams is the published FNV-1a: its test
/// vectors hold, so a stored run's scenario hash means the same on every machine.
struct FingerprintTests {
    @Test func fnv1aMatchesItsPublishedVectors() {
        #expect(FNV1a.hash("".utf8) == 0xCBF2_9CE4_8422_2325)
        #expect(FNV1a.hash("a".utf8) == 0xAF63_DC4C_8601_EC8C)
        #expect(FNV1a.hash("foobar".utf8) == 0x85944171F73967E8)
    }

    @Test func aSplitStreamDependsOnItsLabelAndItsParentAlone() {
        var a = SeededGenerator(seed: 7).split("arrivals"), b = SeededGenerator(seed: 7).split("arrivals")
        var c = SeededGenerator(seed: 7).split("redis"), d = SeededGenerator(seed: 8).split("arrivals")
        let first = a.next()
        #expect(first == b.next())
        #expect(first != c.next() && first != d.next())
    }
}
