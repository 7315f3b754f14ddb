import Foundation

/// Marsaglia and Tsang's ziggurat method (2000) for the standard normal (128 layers) and the
/// unit exponential (256 layers): about 98% of draws cost one random number, a table look-up and
/// a multiply, with no logarithm or trigonometry.
enum Ziggurat {
    struct Tables {
        var kn = [UInt32](repeating: 0, count: 128), wn = [Double](repeating: 0, count: 128), fn = [Double](repeating: 0, count: 128)
        var ke = [UInt32](repeating: 0, count: 256), we = [Double](repeating: 0, count: 256), fe = [Double](repeating: 0, count: 256)

        init() {
            let m1 = 2147483648.0, m2 = 4294967296.0
            var dn = 3.442619855899, tn = dn
            let vn = 9.91256303526217e-3
            var q = vn / exp(-0.5 * dn * dn)
            kn[0] = UInt32((dn / q) * m1); kn[1] = 0
            wn[0] = q / m1; wn[127] = dn / m1
            fn[0] = 1; fn[127] = exp(-0.5 * dn * dn)
            for i in stride(from: 126, through: 1, by: -1) {
                dn = (-2 * log(vn / dn + exp(-0.5 * dn * dn))).squareRoot()
                kn[i + 1] = UInt32((dn / tn) * m1)
                tn = dn
                fn[i] = exp(-0.5 * dn * dn)
                wn[i] = dn / m1
            }
            var de = 7.697117470131487, te = de
            let ve = 3.949659822581572e-3
            q = ve / exp(-de)
            ke[0] = UInt32((de / q) * m2); ke[1] = 0
            we[0] = q / m2; we[255] = de / m2
            fe[0] = 1; fe[255] = exp(-de)
            for i in stride(from: 254, through: 1, by: -1) {
                de = -log(ve / de + exp(-de))
                ke[i + 1] = UInt32((de / te) * m2)
                te = de
                fe[i] = exp(-de)
                we[i] = de / m2
            }
        }
    }

    /// The tables, copied once into memory that lives as long as the process, so a draw reads
    /// them without retaining arrays.
    struct Pointers: @unchecked Sendable {
        // Safe: written once at initialisation, only read afterwards.
        let kn: UnsafePointer<UInt32>, wn: UnsafePointer<Double>, fn: UnsafePointer<Double>
        let ke: UnsafePointer<UInt32>, we: UnsafePointer<Double>, fe: UnsafePointer<Double>

        init(_ t: Tables) {
            func copy<T>(_ a: [T]) -> UnsafePointer<T> {
                let p = UnsafeMutablePointer<T>.allocate(capacity: a.count)
                p.initialize(from: a, count: a.count)
                return UnsafePointer(p)
            }
            kn = copy(t.kn); wn = copy(t.wn); fn = copy(t.fn); ke = copy(t.ke); we = copy(t.we); fe = copy(t.fe)
        }
    }

    static let tables = Pointers(Tables())

    /// A standard normal deviate.
    static func normal(_ random: inout RandomStream) -> Double {
        let t = tables
        while true {
            let hz = Int32(truncatingIfNeeded: random.next() >> 32)
            let iz = Int(hz & 127)
            if UInt32(abs(Int64(hz))) < t.kn[iz] { return Double(hz) * t.wn[iz] }
            if iz == 0 {  // the tail beyond r
                let r = 3.442619855899
                var x = 0.0, y = 0.0
                repeat {
                    x = -log(random.openUnit()) / r
                    y = -log(random.openUnit())
                } while y + y < x * x
                return hz > 0 ? r + x : -r - x
            }
            let x = Double(hz) * t.wn[iz]
            if t.fn[iz] + random.unit() * (t.fn[iz - 1] - t.fn[iz]) < exp(-0.5 * x * x) { return x }
        }
    }

    /// A unit-mean exponential deviate.
    static func exponential(_ random: inout RandomStream) -> Double {
        let t = tables
        while true {
            let jz = UInt32(truncatingIfNeeded: random.next() >> 32)
            let iz = Int(jz & 255)
            if jz < t.ke[iz] { return Double(jz) * t.we[iz] }
            if iz == 0 { return 7.697117470131487 - log(random.openUnit()) }
            let x = Double(jz) * t.we[iz]
            if t.fe[iz] + random.unit() * (t.fe[iz - 1] - t.fe[iz]) < exp(-x) { return x }
        }
    }
}
