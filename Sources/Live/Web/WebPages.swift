import Domain
public import Foundation
public import Hummingbird
import HTTPTypes
import NIOCore

/// The storefront (`/`) and the operator console (`/admin`): plain HTML, CSS and ES modules, no
/// build step, read once at start from `Public/` (the `FlashDeal_LiveWeb.resources` folder SwiftPM
/// puts beside the binary, or `api.webRoot`). They speak to the same `/graphql` as any client.
///
/// Every answer carries a content security policy that allows the page's own scripts, styles and
/// connections only (no inline script, no other origin, no framing), and an `ETag`: a page
/// revalidates (`no-cache`) and is answered `304` when unchanged.
public struct WebPages: Sendable {
    struct File: Sendable {
        var body: ByteBuffer
        var type: String
        var etag: String
    }

    /// Files by URL path (`/`, `/admin`, `/assets/js/store.js`).
    let files: [String: File]
    /// Where they were read from.
    public let root: URL

    static let policy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        + "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

    /// Reads the pages from `root`, or from the resources folder beside the running binary.
    /// Throws ``WebPagesError`` naming where it looked when there is none.
    public init(root given: String? = nil) throws {
        let candidates = given.map { [URL(fileURLWithPath: $0)] } ?? Self.defaultRoots()
        guard let root = candidates.first(where: { FileManager.default.fileExists(atPath: $0.appendingPathComponent("index.html").path) }) else {
            throw WebPagesError(looked: candidates.map(\.path))
        }
        self.root = root
        var files: [String: File] = [:]
        let enumerator = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey])
        while let url = enumerator?.nextObject() as? URL {
            guard (try? url.resourceValues(forKeys: [.isRegularFileKey]))?.isRegularFile == true else { continue }
            let relative = String(url.standardizedFileURL.path.dropFirst(root.standardizedFileURL.path.count)).trimmingCharacters(in: ["/"])
            let data = try Data(contentsOf: url)
            let file = File(body: ByteBuffer(bytes: data), type: Self.type(of: url.pathExtension), etag: Self.etag(data))
            switch relative {
            case "index.html": files["/"] = file
            case "admin.html": files["/admin"] = file
            default: files["/assets/" + relative] = file
            }
        }
        self.files = files
    }

    /// The resources folder SwiftPM writes beside the binary (`.build/<config>/`, or wherever the
    /// binary and the folder were copied together).
    static func defaultRoots() -> [URL] {
        let folder = "FlashDeal_LiveWeb.resources"
        var roots: [URL] = []
        if let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            roots.append(URL(fileURLWithPath: executable).deletingLastPathComponent().appendingPathComponent(folder))
        }
        roots.append(Bundle.main.bundleURL.appendingPathComponent(folder))
        return roots.map { $0.appendingPathComponent("Public") }
    }

    /// Adds `GET /`, `GET /admin` and `GET /assets/**` to `router`.
    public func add<Context: RequestContext>(to router: Router<Context>) {
        router.get("/") { request, _ in answer("/", request) }
        router.get("/admin") { request, _ in answer("/admin", request) }
        router.get("/assets/**") { request, _ in answer(request.uri.path, request) }
    }

    func answer(_ path: String, _ request: Request) -> Response {
        var headers: HTTPFields = [
            .contentSecurityPolicy: Self.policy, .xContentTypeOptions: "nosniff", HTTPField.Name("Referrer-Policy")!: "no-referrer",
            .cacheControl: "no-cache",
        ]
        guard !path.contains(".."), let file = files[path] else {
            headers[.contentType] = "text/plain; charset=utf-8"
            return Response(status: .notFound, headers: headers, body: .init(byteBuffer: ByteBuffer(string: "not found: \(path)\n")))
        }
        headers[.eTag] = file.etag
        if request.headers[.ifNoneMatch] == file.etag { return Response(status: .notModified, headers: headers) }
        headers[.contentType] = file.type
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: file.body))
    }

    static func type(of pathExtension: String) -> String {
        switch pathExtension {
        case "html": "text/html; charset=utf-8"
        case "css": "text/css; charset=utf-8"
        case "js": "text/javascript; charset=utf-8"
        case "svg": "image/svg+xml"
        case "png": "image/png"
        case "json": "application/json"
        default: "application/octet-stream"
        }
    }

    /// A strong validator: FNV-1a of the bytes.
    static func etag(_ data: Data) -> String {
        "\"\(String(FNV1a.hash(data), radix: 16))\""
    }
}

/// The pages' files are not where the server looked.
public struct WebPagesError: Error, CustomStringConvertible {
    public var looked: [String]
    public var description: String {
        "the storefront's files (index.html) are not in \(looked.joined(separator: " or ")); set api.webRoot (--api-web-root, FLASHDEAL_API_WEB_ROOT) to the folder that holds them"
    }
}
