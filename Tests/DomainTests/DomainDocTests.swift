import Domain
import Foundation
import Testing

/// `docs/domain.md` must match the code: its transition tables and its event table.
@Suite struct DomainDocTests {
    static let doc: String = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return (try? String(contentsOf: root.appendingPathComponent("docs/domain.md"), encoding: .utf8)) ?? ""
    }()

    /// The rows of the table after `<!-- marker -->`, as cells.
    static func table(_ marker: String) -> [[String]] {
        guard let start = doc.range(of: "<!-- \(marker) -->") else { return [] }
        return doc[start.upperBound...].split(separator: "\n").drop { !$0.hasPrefix("|") }
            .prefix { $0.hasPrefix("|") }.dropFirst(2)
            .map { $0.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) } }
    }

    static func transitions<S: RawRepresentable & CaseIterable, T: RawRepresentable & CaseIterable>(
        _ next: (S, T) -> S?
    ) -> Set<[String]> where S.RawValue == String, T.RawValue == String {
        var rows: Set<[String]> = []
        for s in S.allCases { for t in T.allCases { if let n = next(s, t) { rows.insert([s.rawValue, t.rawValue, n.rawValue]) } } }
        return rows
    }

    @Test func dealTableMatches() {
        #expect(Set(Self.table("transitions: deal")) == Self.transitions { (s: DealStatus, t: DealStatus.Trigger) in s.next(on: t) })
    }

    @Test func orderTableMatches() {
        #expect(Set(Self.table("transitions: order")) == Self.transitions { (s: OrderStatus, t: OrderStatus.Trigger) in s.next(on: t) })
    }

    @Test func paymentTableMatches() {
        #expect(Set(Self.table("transitions: payment")) == Self.transitions { (s: PaymentStatus, t: PaymentStatus.Trigger) in s.next(on: t) })
    }

    @Test func eventTableListsEveryEventWithItsFields() async throws {
        let rows = Self.table("events")
        #expect(Set(rows.map { $0[0] }) == Set(DomainEvent.typeNames))
        let samples = try await EventEnvelopeTests.everyEventType()
        for row in rows {
            guard let sample = samples.first(where: { $0.type == row[0] }) else { Issue.record("no sample of \(row[0])"); continue }
            let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(sample)) as! [String: Any]
            let payload = json["payload"] as! [String: Any]
            let documented = row[2].components(separatedBy: "(").first!
                .split(separator: ",").map { $0.trimmingCharacters(in: CharacterSet(charactersIn: " `")) }
            #expect(Set(documented) == Set(payload.keys), "\(row[0])")
            #expect(sample.aggregateID.description.hasPrefix(row[1] + "/"), "\(row[0])")
        }
    }
}
