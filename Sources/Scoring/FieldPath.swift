/// A path to a field of a request, as a value: `responses[3]`, `items[0].messages[1].role`. The scoring layer
/// names the field at fault with it; the HTTP layer renders it once, and can re-root it (a response of an
/// engine request that stands for `items[7]` of a batch) without parsing text.
public struct FieldPath: Sendable, Hashable, CustomStringConvertible, ExpressibleByStringLiteral {
    public enum Component: Sendable, Hashable {
        case key(String)
        case index(Int)
    }

    public var components: [Component]

    public init(_ components: [Component]) { self.components = components }
    public init(_ key: String) { components = [.key(key)] }
    public init(stringLiteral key: String) { self.init(key) }

    /// `self[i]`.
    public func index(_ i: Int) -> FieldPath { FieldPath(components + [.index(i)]) }
    /// `self.key`.
    public func key(_ key: String) -> FieldPath { FieldPath(components + [.key(key)]) }
    /// `prefix.self`.
    public func under(_ prefix: FieldPath) -> FieldPath { FieldPath(prefix.components + components) }

    /// The first component's key and the index right after it (`responses[3]` → ("responses", 3)).
    public var keyAndIndex: (key: String, index: Int)? {
        guard components.count >= 2, case .key(let key) = components[0], case .index(let i) = components[1] else {
            return nil
        }
        return (key, i)
    }

    public var description: String {
        var out = ""
        for component in components {
            switch component {
            case .key(let key): out += out.isEmpty ? key : "." + key
            case .index(let i): out += "[\(i)]"
            }
        }
        return out
    }
}
