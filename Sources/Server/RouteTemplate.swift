/// A path with one trailing parameter, `/v1/contexts/{key}`: matches `/v1/contexts/` followed by one
/// non-empty segment. The pattern itself is the route's name in the table and in metrics labels.
public struct RouteTemplate: Sendable, Hashable {
    public let pattern: String
    let prefix: String

    /// Nil when `pattern` has no trailing `{name}` segment (an exact path).
    public init?(_ pattern: String) {
        guard pattern.hasSuffix("}"), let open = pattern.lastIndex(of: "{"), open > pattern.startIndex,
            pattern[pattern.index(before: open)] == "/"
        else { return nil }
        self.pattern = pattern
        prefix = String(pattern[..<open])
    }

    /// The parameter's value in `path`, or nil when the path does not match.
    public func parameter(in path: Substring) -> Substring? {
        guard path.hasPrefix(prefix) else { return nil }
        let value = path.dropFirst(prefix.count)
        return value.isEmpty || value.contains("/") ? nil : value
    }
}
