import HTTPParser

/// Maps `(method, path)` to handlers. Paths match exactly (the query string is ignored).
///
/// `HEAD` falls back to the `GET` handler (the body is dropped when written), `OPTIONS` on a known path answers
/// 204 with `Allow`, another method on a known path 405 with `Allow`, an unknown path 404.
public struct Router: Sendable {
    public typealias Handler = @Sendable (HTTPRequest, RequestContext) async -> HTTPResponse

    private var routes: [String: [String: Handler]] = [:]

    public init() {}

    public mutating func add(_ method: String, _ path: String, _ handler: @escaping Handler) {
        routes[path, default: [:]][method.uppercased()] = handler
    }

    public mutating func get(_ path: String, _ handler: @escaping Handler) { add("GET", path, handler) }
    public mutating func post(_ path: String, _ handler: @escaping Handler) { add("POST", path, handler) }

    public func hasRoute(_ method: String, _ path: String) -> Bool { routes[path]?[method.uppercased()] != nil }

    public enum Resolution: Sendable {
        case handler(Handler)
        case notFound
        case methodNotAllowed(allow: String)
        case options(allow: String)
    }

    public func resolve(method: String, path: Substring) -> Resolution {
        guard let byMethod = routes[String(path)] else { return .notFound }
        if let handler = byMethod[method] { return .handler(handler) }
        if method == "HEAD", let handler = byMethod["GET"] { return .handler(handler) }
        var allowed = Set(byMethod.keys)
        if allowed.contains("GET") { allowed.insert("HEAD") }
        allowed.insert("OPTIONS")
        let allow = allowed.sorted().joined(separator: ", ")
        return method == "OPTIONS" ? .options(allow: allow) : .methodNotAllowed(allow: allow)
    }
}
