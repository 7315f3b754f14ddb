import GraphQL
import Synchronization

/// A union's members found by the Swift type of the value a resolver returned, each type looked up
/// once. Graphiti's unions have no `resolveType`, so GraphQL 4.3 asks every member in turn
/// whether the value is its own, and to list the members calls Graphiti's closure, which looks
/// each member up in Graphiti's type registry again: for each mutation's result, about 1.6% of the
/// API's CPU under `make bench-live`'s journey (perf, 2k requests/s). Graphiti's `isTypeOf` is
/// `value is T`: the answer depends on the value's type only, so it is kept by type.
final class UnionMembers: Sendable {
    let name: String
    let members: [GraphQLObjectType]
    private let known: Mutex<[ObjectIdentifier: GraphQLObjectType]> = Mutex([:])

    init(_ union: GraphQLUnionType) throws {
        name = union.name
        members = try union.types()
    }

    /// The member `value` belongs to, by its type.
    func member(of value: any Sendable, _ info: GraphQLResolveInfo) throws -> GraphQLObjectType {
        let type = ObjectIdentifier(Swift.type(of: value))
        if let member = known.withLock({ $0[type] }) { return member }
        guard let member = try members.first(where: { try $0.isTypeOf?(value, info) ?? false }) else {
            throw GraphQLError(message: "\(name): \(Swift.type(of: value)) is none of its members (\(members.map(\.name).joined(separator: ", ")))")
        }
        known.withLock { $0[type] = member }
        return member
    }

    /// A union of the same name, description and members, resolved by ``member(of:_:)``.
    func union(like original: GraphQLUnionType) throws -> GraphQLUnionType {
        try GraphQLUnionType(
            name: original.name, description: original.description, resolveType: { [self] value, info in try member(of: value, info) },
            types: members)
    }
}

extension ShopAPI {
    /// Gives every field of `object` whose type is a union (a mutation's result) that union
    /// resolved by ``UnionMembers``: the same name, description and members, so the document's
    /// validation, introspection and the printed schema see the same types; only how execution
    /// finds a result's member changes. Run once, after the schema is built and before it executes
    /// anything (after ``readArgumentsDirectly(_:)``: the fields keep the resolvers they have).
    static func resolveUnionsByType(_ object: GraphQLObjectType?) throws {
        try rebuilding(object) { fields, _ in
            var unions: [String: GraphQLUnionType] = [:]
            for (name, field) in fields {
                let nonNull = field.type as? GraphQLNonNull
                guard let original = (nonNull?.ofType ?? field.type) as? GraphQLUnionType else { continue }
                let union = try unions[original.name] ?? UnionMembers(original).union(like: original)
                unions[original.name] = union
                fields[name] = GraphQLField(
                    type: nonNull == nil ? union : GraphQLNonNull(union), description: field.description, deprecationReason: field.deprecationReason,
                    args: field.args, resolve: field.resolve, subscribe: field.subscribe, astNode: field.astNode)
            }
        }
    }
}
