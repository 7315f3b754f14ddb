import Domain
import Foundation
@testable import LiveRuntime
import Testing

/// `CompactJSONEncoder` and `CompactJSONDecoder` against Foundation's `JSONEncoder` and
/// `JSONDecoder` on the documents the live server keeps in Redis, drawn at random: the same JSON
/// out (the same bytes with sorted keys), the same values back, and the fast path taken (a fallback to Foundation would be correct
/// but slow, so the tests check that these documents never need it).
@Suite struct CompactJSONTests {
    /// Text with what a JSON writer must escape, and what it must not.
    static let pieces = ["a", "Z", "0", " ", "/", "\"", "\\", "\n", "\r", "\t", "\u{0}", "\u{8}", "\u{c}", "\u{1f}", "\u{7f}", "é", "€", "😀", "\u{2028}", "{", "}", ",", ":", "[", "]"]

    struct Draw {
        var random: SeededGenerator

        mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &random) }
        mutating func text() -> String { (0..<int(0...12)).map { _ in CompactJSONTests.pieces.randomElement(using: &random)! }.joined() }
        mutating func id(_ prefix: String) -> String { prefix + String(int(0...999_999)) + [":", "-", "_", ".", ""].randomElement(using: &random)! }
        mutating func instant() -> Instant { Instant(nanosecondsSinceEpoch: Int64.random(in: 0...4_000_000_000_000_000_000, using: &random)) }
        mutating func money() -> Money { Money(minorUnits: Int64.random(in: -1_000_000...Int64.max / 1000, using: &random), currency: text()) }

        mutating func order() -> Order {
            let placed = instant()
            var order = Order(OrderPlaced(
                orderID: OrderID(id("o")), dealID: DealID(id("d")), userID: UserID(id("u")), quantity: int(1...5), unitPrice: money(),
                idempotencyKey: IdempotencyKey(id("k")), placedAt: placed, expiresAt: placed + .seconds(600), paymentDeadline: placed + .seconds(300)))
            switch int(0...3) {
            case 0: break
            case 1: order = order.after(.pay, at: placed + .seconds(1), paymentID: PaymentID(id("p")))!.0
            case 2: order = order.after(.cancel, at: placed + .seconds(2))!.0
            default: order = order.after(.expire, at: placed + .seconds(3))!.0
            }
            return order
        }

        mutating func payment() -> Payment {
            var payment = Payment(PaymentRequested(
                paymentID: PaymentID(id("p")), orderID: OrderID(id("o")), amount: money(), idempotencyKey: IdempotencyKey(id("k")), at: instant()))
            switch int(0...2) {
            case 0: break
            case 1: payment = payment.after(.complete, at: instant())!.0
            default: payment = payment.after(.fail, at: instant(), reason: text())!.0
            }
            return payment
        }

        mutating func scope() -> IdempotencyStoreKey {
            IdempotencyStoreKey(operation: text(), userID: UserID(id("u")), key: IdempotencyKey(id("k")), dealID: int(0...1) == 0 ? nil : DealID(id("d")))
        }

        mutating func result() -> StoredResult { StoredResult(outcome: text(), subject: text(), order: int(0...1) == 0 ? nil : id("o")) }

        /// Envelopes of the events the request path journals, with free text where events carry it.
        mutating func envelopes() -> [EventEnvelope] {
            let order = OrderID(id("o")), deal = DealID(id("d")), payment = PaymentID(id("p")), at = instant()
            let events: [(StreamID, DomainEvent)] = [
                (.order(order), .order(.placed(OrderPlaced(
                    orderID: order, dealID: deal, userID: UserID(id("u")), quantity: int(1...3), unitPrice: money(), idempotencyKey: IdempotencyKey(id("k")),
                    placedAt: at, expiresAt: at + .seconds(60), paymentDeadline: at + .seconds(30))))),
                (.inventory(deal), .inventory(.reserved(StockReserved(
                    dealID: deal, orderID: order, userID: UserID(id("u")), quantity: 1, idempotencyKey: IdempotencyKey(id("k")), expiresAt: at, at: at)))),
                (.inventory(deal), .inventory(.created(InventoryCreated(dealID: deal, total: int(0...100), perUserLimit: 2, cancelCoolDown: .seconds(int(0...60)))))),
                (.inventory(deal), .inventory(.confirmed(StockConfirmed(dealID: deal, orderID: order, quantity: 1, at: at)))),
                (.order(order), .order(.paid(OrderPaid(orderID: order, paymentID: payment, at: at)))),
                (.order(order), .order(.cancelled(OrderCancelled(orderID: order, at: at)))),
                (.order(order), .order(.refunded(OrderRefunded(orderID: order, paymentID: int(0...1) == 0 ? nil : payment, at: at)))),
                (.payment(payment), .payment(.requested(PaymentRequested(paymentID: payment, orderID: order, amount: money(), idempotencyKey: IdempotencyKey(id("k")), at: at)))),
                (.payment(payment), .payment(.completed(PaymentCompleted(paymentID: payment, orderID: order, at: at)))),
                (.payment(payment), .payment(.failed(PaymentFailed(paymentID: payment, orderID: order, reason: text(), at: at)))),
                (.product(ProductID(id("prod"))), .product(ProductCreated(productID: ProductID(id("prod")), name: text(), description: text()))),
                (.deal(deal), .deal(.started(DealStarted(dealID: deal, at: at)))),
            ]
            return (0..<int(1...4)).map { _ in
                let (stream, event) = events.randomElement(using: &random)!
                return EventEnvelope(aggregateID: stream, sequence: int(1...9), occurredAt: instant(), payload: event)
            }
        }
    }

    /// `value` written by both encoders and read back by both decoders: with sorted keys the same
    /// bytes, without the same JSON value (`JSONEncoder` writes keys in its dictionary's order).
    func check<T: Codable & Equatable>(_ value: T) throws {
        for sorted in [false, true] {
            let foundation = JSONEncoder()
            if sorted { foundation.outputFormatting = [.sortedKeys] }
            let theirs = String(decoding: try foundation.encode(value), as: UTF8.self)
            let bytes = try #require(try CompactJSONEncoder(sortedKeys: sorted).streamed(value), "fell back to JSONEncoder for \(theirs)")
            let ours = String(decoding: bytes, as: UTF8.self)
            if sorted {
                #expect(ours == theirs)
            } else {
                let parsed = try [ours, theirs].map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? NSObject }
                #expect(parsed[0] != nil && parsed[0] == parsed[1], "\(ours) is not \(theirs)")
            }
            for json in [ours, theirs] {
                #expect(CompactJSONDecoder().read(T.self, from: json) == value, "\(json)")
                #expect(try JSONDecoder().decode(T.self, from: Data(json.utf8)) == value)
            }
        }
    }

    @Test(arguments: 0..<60)
    func theRedisDocumentsAreJSONEncodersBytesAndReadBack(_ seed: Int) throws {
        var draw = Draw(random: SeededGenerator(seed: UInt64(seed)))
        try check(draw.order())
        try check(draw.payment())
        try check(draw.scope())
        try check(draw.result())
        try check(draw.envelopes())
        try check([draw.order(), draw.order()])
    }

    struct Unusual: Codable, Equatable {
        var ratio: Double?
        var when: Date?
        var blob: Data?
        var link: URL?
    }

    /// What the encoder leaves to JSONEncoder comes out as JSONEncoder writes it.
    @Test func floatsDatesDataAndURLsAreJSONEncodersToWrite() throws {
        let values = [
            Unusual(ratio: 0.1), Unusual(when: Date(timeIntervalSince1970: 12.5)), Unusual(blob: Data([1, 2, 3])),
            Unusual(link: URL(string: "https://example.com/a?b=c")), Unusual(),
        ]
        for value in values {
            for sorted in [false, true] {
                let foundation = JSONEncoder()
                if sorted { foundation.outputFormatting = [.sortedKeys] }
                #expect(try CompactJSONEncoder(sortedKeys: sorted).bytes(value) == Array(try foundation.encode(value)))
            }
        }
        #expect(try CompactJSONEncoder().streamed(Unusual(ratio: 1)) == nil)
        #expect(try CompactJSONEncoder().streamed(Unusual(blob: Data([1]))) == nil)
        #expect(try CompactJSONEncoder().streamed(Unusual()).map { String(decoding: $0, as: UTF8.self) } == "{}")
    }

    struct Nested: Codable, Equatable {
        var name: String
        var tags: [String: Int]
        var grid: [[Int8]]
        var flag: Bool?
        var unsigned: UInt64

        enum CodingKeys: String, CodingKey { case name, tags, grid, flag, unsigned, inner }
        enum Inner: String, CodingKey { case b, a }

        init(name: String, tags: [String: Int], grid: [[Int8]], flag: Bool?, unsigned: UInt64) {
            (self.name, self.tags, self.grid, self.flag, self.unsigned) = (name, tags, grid, flag, unsigned)
        }

        // Nested containers, written after their parent's next member was begun.
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(name, forKey: .name)
            var inner = c.nestedContainer(keyedBy: Inner.self, forKey: .inner)
            try inner.encode(unsigned, forKey: .b)
            try inner.encodeIfPresent(flag, forKey: .a)
            try c.encode(tags, forKey: .tags)
            var rows = c.nestedUnkeyedContainer(forKey: .grid)
            for row in grid { try rows.encode(row) }
        }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            name = try c.decode(String.self, forKey: .name)
            let inner = try c.nestedContainer(keyedBy: Inner.self, forKey: .inner)
            unsigned = try inner.decode(UInt64.self, forKey: .b)
            flag = try inner.decodeIfPresent(Bool.self, forKey: .a)
            tags = try c.decode([String: Int].self, forKey: .tags)
            var rows = try c.nestedUnkeyedContainer(forKey: .grid)
            grid = []
            while !rows.isAtEnd { grid.append(try rows.decode([Int8].self)) }
        }
    }

    /// Asks twice for its container, as a subclass and its superclass each do, after a member
    /// whose value is an object.
    struct Twice: Encodable {
        enum Key: String, CodingKey { case first, second }
        func encode(to encoder: any Encoder) throws {
            var a = encoder.container(keyedBy: Key.self)
            try a.encode(["x": 1], forKey: .first)
            var b = encoder.container(keyedBy: Key.self)
            try b.encode([2], forKey: .second)
        }
    }

    @Test func aValueAskingAgainForItsContainerGetsTheSameOne() throws {
        let sorted = JSONEncoder()
        sorted.outputFormatting = [.sortedKeys]
        let ours = try #require(try CompactJSONEncoder(sortedKeys: true).streamed([Twice(), Twice()]))
        #expect(String(decoding: ours, as: UTF8.self) == String(decoding: try sorted.encode([Twice(), Twice()]), as: UTF8.self))
    }

    /// Writes its parent's part through `superEncoder`, and an array through a nested one.
    struct Inherited: Encodable {
        enum Key: String, CodingKey { case own, list }
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: Key.self)
            try c.encode(1, forKey: .own)
            var list = c.nestedUnkeyedContainer(forKey: .list)
            var row = list.nestedUnkeyedContainer()
            try row.encode("a/b")
            try ["parent": true].encode(to: c.superEncoder())
        }
    }

    @Test func superEncoderIsJSONEncodersToWrite() throws {
        #expect(try CompactJSONEncoder().streamed(Inherited()) == nil)
        let sorted = JSONEncoder()
        sorted.outputFormatting = [.sortedKeys]
        #expect(try CompactJSONEncoder(sortedKeys: true).bytes(Inherited()) == Array(try sorted.encode(Inherited())))
    }

    @Test func nestedContainersDictionariesAndEveryIntegerWidth() throws {
        try check(Nested(name: "x/y", tags: ["b": 2, "a": -1, "A": Int.min, "é": Int.max], grid: [[], [Int8.min, 0, Int8.max]], flag: false, unsigned: UInt64.max))
        try check(Nested(name: "", tags: [:], grid: [], flag: nil, unsigned: 0))
    }

    /// Whatever the document, the decoder answers what JSONDecoder answers: the same value, or an
    /// error where JSONDecoder has one (its own, so its message names what is wrong).
    @Test(arguments: [
        #"{"name":"n","inner":{"b":1},"tags":{},"grid":[[1,2]]}"#,
        " \n{ \"name\" : \"n\" , \"inner\" : { \"b\" : 18446744073709551615 , \"a\" : true } , \"tags\" : { \"k\" : -5 } , \"grid\" : [ ] } \t",
        #"{"name":"a\/b\"\\\n\u00e9\ud83d\ude00\u0000","inner":{"b":1},"tags":{},"grid":[]}"#,
        #"{"name":"\ud83d","inner":{"b":1},"tags":{},"grid":[]}"#,
        #"{"name":"\ude00x","inner":{"b":1},"tags":{},"grid":[]}"#,
        #"{"name":"\ud83dx\ude00","inner":{"b":1},"tags":{},"grid":[]}"#,
        #"{"name":"\u12","inner":{"b":1},"tags":{},"grid":[]}"#,
        #"{"name":"n","inner":{"b":1.0},"tags":{},"grid":[]}"#,
        #"{"name":"n","inner":{"b":1e2},"tags":{},"grid":[]}"#,
        #"{"name":"n","inner":{"b":-1},"tags":{},"grid":[]}"#,
        #"{"name":"n","inner":{"b":18446744073709551616},"tags":{},"grid":[]}"#,
        #"{"name":"n","inner":{"b":1},"tags":{},"grid":[[128]]}"#,
        #"{"name":"n","name":"m","inner":{"b":1},"tags":{},"grid":[]}"#,
        #"{"name":null,"inner":{"b":1},"tags":{},"grid":[]}"#,
        #"{"name":"n","inner":{"b":1,"a":null},"tags":{},"grid":[]}"#,
        #"{"name":"n","inner":{"b":1,"a":1},"tags":{},"grid":[]}"#,
        #"{"name":"n","inner":{"b":"1"},"tags":{},"grid":[]}"#,
        #"{"name":"n","tags":{},"grid":[]}"#,
        #"{"name":"n","inner":{"b":1},"tags":{},"grid":[],"extra":[{"x":[1,"}",{"y":null}]}]}"#,
        #"{"name":"n","inner":{"b":1},"tags":{},"grid":[],}"#,
        #"{"name":"n","inner":{"b":01},"tags":{},"grid":[]}"#,
        #"{"name":"n","inner":{"b":1},"tags":{},"grid":[]} x"#,
        "{\"name\":\"tab\tin\",\"inner\":{\"b\":1},\"tags\":{},\"grid\":[]}",
        #"{"name":"n","inner":{"b":1},"tags":{},"grid":[]"#,
        #"["name"]"#, "", "null", "7",
    ])
    func readsWhatJSONDecoderReads(_ json: String) {
        func answer(_ body: () throws -> Nested) -> String {
            do { return "\(try body())" } catch { return "error: \(error)" }
        }
        #expect(answer { try CompactJSONDecoder().decode(Nested.self, from: json) } == answer { try JSONDecoder().decode(Nested.self, from: Data(json.utf8)) })
    }

    @Test func plainDocumentsTakeTheFastPathAndOthersDoNot() {
        #expect(CompactJSONDecoder().read(Nested.self, from: #"{"name":"n","inner":{"b":1},"tags":{"k":2},"grid":[[1]]}"#) != nil)
        #expect(CompactJSONDecoder().read(Nested.self, from: #"{"name":"\ud83d","inner":{"b":1},"tags":{},"grid":[]}"#) == nil)
        #expect(CompactJSONDecoder().read(Nested.self, from: #"{"na\u006de":"n","inner":{"b":1},"tags":{},"grid":[]}"#) == nil)
        #expect(CompactJSONDecoder().read(Nested.self, from: #"{"name":"n","inner":{"b":1.0},"tags":{},"grid":[]}"#) == nil)
        #expect(CompactJSONDecoder().read(Nested.self, from: #"{"name":"n","name":"n","inner":{"b":1},"tags":{},"grid":[]}"#) == nil)
    }
}
