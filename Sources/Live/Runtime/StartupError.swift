/// A backend that does not answer at start-up, named.
public struct StartupError: Error, CustomStringConvertible {
    public var description: String
    package init(_ description: String) { self.description = description }
}
