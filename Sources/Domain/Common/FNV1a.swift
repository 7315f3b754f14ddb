/// The 64-bit FNV-1a hash: a fixed, portable fingerprint of bytes (not a defence against an
/// adversary). It names a scenario's stored runs, splits seeded streams and makes the
/// storefront's entity tags, so the same bytes give the same value on every machine and run.
public enum FNV1a {
    public static func hash<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01B3
        }
        return hash
    }
}
