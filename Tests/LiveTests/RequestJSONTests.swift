import Foundation
import GraphQL
@testable import LiveAPI
import Testing

/// The request body reader against `JSONDecoder` on the same bytes.
@Suite struct RequestJSONTests {
    static func canonical(_ map: Map) -> String {
        var out: [UInt8] = []
        ResponseJSON.write(map, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    static func fast(_ text: String) -> Map? {
        Data(text.utf8).withUnsafeBytes { bytes in
            var reader = JSONMapReader(bytes: bytes)
            return reader.document()
        }
    }

    @Test(arguments: [
        #"{"query":"{ deals { id } }"}"#,
        #" { "query" : "q" , "variables" : { "in" : { "dealId" : "d-1", "quantity" : 2, "idempotencyKey" : "k" } }, "operationName" : null } "#,
        #"{"query":"q","variables":{"a":[1,-2,3.5,-0.25,1e3,2E-2,0,true,false,null,[],{}],"s":"\"\\\/\b\f\n\r\t\u00e9\u20ac\ud83d\ude00 é€😀"}}"#,
        #"{"query":"q","variables":{"big":1.5e300}}"#,
        "{\"query\":\"q\",\"variables\":{}}\n",
    ])
    func readsWhatJSONDecoderReads(_ text: String) throws {
        let mine = try #require(Self.fast(text))
        // The same value as JSONSerialization reads (key order aside).
        let theirs = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]) as? NSDictionary
        let ours = try JSONSerialization.jsonObject(with: Data(Self.canonical(mine).utf8), options: [.fragmentsAllowed]) as? NSDictionary
        #expect(ours != nil && ours == theirs)
        let request = try GraphQLHTTPRequest.parse(Data(text.utf8))
        #expect(request.query == (text.contains(#""query":"{ deals { id } }""#) ? "{ deals { id } }" : "q"))
    }

    @Test(arguments: [
        "", "{", #"{"query":"q",}"#, #"{"query":01}"#, #"{"query":"unterminated}"#, "{\"query\":\"tab\there\"}",
        #"{"query":"\x"}"#, #"{"query":"\ud83d"}"#, #"{"query":"\ude00"}"#, #"{"query":"q"} trailing"#, #"[1,]"#,
        #"{"query":1.}"#, #"{"query":-}"#, #"{"query":tru}"#, #"{"a" 1}"#,
        String(repeating: "[", count: 100) + String(repeating: "]", count: 100),
    ])
    func refusesWhatIsNotJSON(_ text: String) {
        let read = Self.fast(text)
        #expect(read.map(Self.canonical) == nil, "read \(read.map(Self.canonical) ?? "")")
    }

    @Test func aBodyTheReaderRefusesIsJSONDecodersToExplain() {
        #expect(throws: (any Error).self) { try GraphQLHTTPRequest.parse(Data(#"{"query":"q","#.utf8)) }
        // Valid JSON of the wrong shape: JSONDecoder names what is wrong.
        do {
            _ = try GraphQLHTTPRequest.parse(Data(#"{"query":7}"#.utf8))
            Issue.record("a number query was accepted")
        } catch {
            #expect("\(error)".contains("query"))
        }
        #expect(throws: (any Error).self) { try GraphQLHTTPRequest.parse(Data(#"{"query":"q","variables":[1]}"#.utf8)) }
    }
}
