public import Foundation

extension Scenario {
    /// A scenario file made self-contained, for running where its folder is not (an Indexed
    /// Job's pods, `sweep --emit-k8s-job`): its `include`s merged in, and each empirical
    /// distribution's `histogramFile` renamed to a file to ship beside it.
    public struct Bundle: Sendable {
        /// The scenario document, JSON with sorted keys.
        public var document: Data
        /// The files it names, by the name it now gives them and where they are read from.
        public var files: [(name: String, source: String)]
    }

    /// Bundles the scenario file at `path`; the bundle parses as the file does.
    public static func bundle(path: String) throws(ScenarioError) -> Bundle {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent().path
        guard let data = try? Data(contentsOf: url), let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw ScenarioError(path: "$", message: "cannot read a JSON object from \(path)")
        }
        var merged = root
        if let includes = root["include"] as? [String] { merged = try resolving(includes, under: root, directory: directory) }
        var files: [(name: String, source: String)] = []
        func rename(_ node: Any) -> Any {
            if var object = node as? [String: Any] {
                // In key order, so the files are numbered the same way every time.
                for key in object.keys.sorted() {
                    let value = object[key]!
                    if key == "histogramFile", let file = value as? String {
                        let source = file.hasPrefix("/") ? file : "\(directory)/\(file)"
                        let name = "histogram-\(files.count + 1)-\(URL(fileURLWithPath: file).lastPathComponent)"
                        files.append((name, source))
                        object[key] = name
                    } else {
                        object[key] = rename(value)
                    }
                }
                return object
            }
            if let array = node as? [Any] { return array.map(rename) }
            return node
        }
        let document = try! JSONSerialization.data(withJSONObject: rename(merged), options: [.sortedKeys, .prettyPrinted])
        return Bundle(document: document, files: files)
    }
}
