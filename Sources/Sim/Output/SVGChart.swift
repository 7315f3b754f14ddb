import Foundation

/// A line chart as inline SVG: no script, no external resource.
public struct SVGChart {
    public struct Line {
        public var name: String
        public var values: [Double]
        public var dashed: Bool
        public init(_ name: String, _ values: [Double], dashed: Bool = false) {
            self.name = name
            self.values = values
            self.dashed = dashed
        }
    }

    public var title: String
    public var unit: String
    public var lines: [Line]
    public var width = 720.0
    public var height = 240.0

    public init(title: String, unit: String, lines: [Line]) {
        self.title = title
        self.unit = unit
        self.lines = lines
    }

    static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#17becf"]

    public func render() -> String {
        let left = 60.0, right = 150.0, top = 28.0, bottom = 30.0
        let plotW = width - left - right, plotH = height - top - bottom
        let count = max(2, lines.map(\.values.count).max() ?? 2)
        let maxY = Self.niceCeiling(lines.flatMap(\.values).filter(\.isFinite).max() ?? 1)
        func x(_ i: Int) -> Double { left + plotW * Double(i) / Double(count - 1) }
        func y(_ v: Double) -> Double { top + plotH * (1 - min(max(v, 0), maxY) / maxY) }
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" font-family=\"sans-serif\" font-size=\"11\">"
        svg += "<text x=\"\(left)\" y=\"16\" font-size=\"13\" font-weight=\"bold\">\(Self.escape(title))</text>"
        for k in 0...4 {
            let v = maxY * Double(k) / 4
            svg += "<line x1=\"\(left)\" x2=\"\(left + plotW)\" y1=\"\(f(y(v)))\" y2=\"\(f(y(v)))\" stroke=\"#ddd\"/>"
            svg += "<text x=\"\(left - 6)\" y=\"\(f(y(v) + 4))\" text-anchor=\"end\">\(Self.label(v))</text>"
        }
        let step = max(1, (count - 1) / 8)
        for i in stride(from: 0, to: count, by: step) {
            svg += "<text x=\"\(f(x(i)))\" y=\"\(f(top + plotH + 16))\" text-anchor=\"middle\">\(i)s</text>"
        }
        svg += "<text x=\"12\" y=\"\(f(top + plotH / 2))\" transform=\"rotate(-90 12 \(f(top + plotH / 2)))\" text-anchor=\"middle\">\(Self.escape(unit))</text>"
        for (n, line) in lines.enumerated() {
            let color = Self.palette[n % Self.palette.count]
            let points = line.values.enumerated().map { "\(f(x($0.offset))),\(f(y($0.element)))" }.joined(separator: " ")
            svg += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.6\"\(line.dashed ? " stroke-dasharray=\"5 3\"" : "") points=\"\(points)\"/>"
            let ly = top + 14 * Double(n)
            svg += "<line x1=\"\(f(left + plotW + 10))\" x2=\"\(f(left + plotW + 30))\" y1=\"\(f(ly))\" y2=\"\(f(ly))\" stroke=\"\(color)\" stroke-width=\"2\"\(line.dashed ? " stroke-dasharray=\"5 3\"" : "")/>"
            svg += "<text x=\"\(f(left + plotW + 34))\" y=\"\(f(ly + 4))\">\(Self.escape(line.name))</text>"
        }
        return svg + "</svg>"
    }

    func f(_ v: Double) -> String { String(format: "%.1f", v) }

    static func niceCeiling(_ v: Double) -> Double {
        guard v > 0 else { return 1 }
        let magnitude = pow(10, floor(log10(v)))
        for m in [1.0, 2, 2.5, 5, 10] where m * magnitude >= v { return m * magnitude }
        return 10 * magnitude
    }

    static func label(_ v: Double) -> String {
        if v >= 1_000_000 { return String(format: "%.1fM", v / 1e6) }
        if v >= 10_000 { return String(format: "%.0fk", v / 1e3) }
        if v == v.rounded() { return String(Int(v)) }
        return String(format: "%.2g", v)
    }

    public static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
