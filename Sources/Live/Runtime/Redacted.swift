/// Connection strings as logs and error messages may show them: a password in the user
/// information (`redis://:secret@host`, `mongodb://user:secret@h1,h2/db`) and the values of query
/// options that carry secrets (`…?password=…`, `tlsCertificateKeyFilePassword=…`) become `***`.
public enum Redacted {
    public static func uri(_ text: String) -> String {
        guard let scheme = text.range(of: "://") else { return text }
        let rest = text[scheme.upperBound...]
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
        var authority = String(rest[..<authorityEnd])
        if let at = authority.lastIndex(of: "@") {
            let user = authority[..<at]
            if let colon = user.firstIndex(of: ":") { authority = "\(user[..<colon]):***\(authority[at...])" }
        }
        var tail = String(rest[authorityEnd...])
        if let question = tail.firstIndex(of: "?") {
            let options = tail[tail.index(after: question)...].split(separator: "&", omittingEmptySubsequences: false).map { option -> String in
                guard let equals = option.firstIndex(of: "=") else { return String(option) }
                let name = option[..<equals].lowercased()
                let secret = ["password", "secret", "token", "key"].contains { name.contains($0) } && !name.hasSuffix("file")
                return secret ? "\(option[..<equals])=***" : String(option)
            }
            tail = String(tail[..<question]) + "?" + options.joined(separator: "&")
        }
        return String(text[..<scheme.upperBound]) + authority + tail
    }
}
