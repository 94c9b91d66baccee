import HTTPParser

/// Maps `(method, path)` to handlers. Paths match exactly (the query string is ignored), or a `RouteTemplate`
/// (`/v1/contexts/{key}`) when no exact path does.
///
/// `HEAD` falls back to the `GET` handler (the body is dropped when written), `OPTIONS` on a known path answers
/// 204 with `Allow`, another method on a known path 405 with `Allow`, an unknown path 404.
public struct Router: Sendable {
    public typealias Handler = @Sendable (HTTPRequest, RequestContext) async -> HTTPResponse

    private struct Route {
        let handler: Handler
        let watchesPeer: Bool
    }
    private var routes: [String: [String: Route]] = [:]
    private var templates: [RouteTemplate] = []

    public init() {}

    /// `watchesPeer`: read the socket while the handler runs and cancel the handler's task when the client
    /// disconnects. Costs about as much as a trivial handler (two child tasks, arming the read source), so
    /// handlers that answer at once without suspending (health, metrics) pass false.
    public mutating func add(_ method: String, _ path: String, watchesPeer: Bool = true, _ handler: @escaping Handler) {
        routes[path, default: [:]][method.uppercased()] = Route(handler: handler, watchesPeer: watchesPeer)
        if let template = RouteTemplate(path), !templates.contains(template) { templates.append(template) }
    }

    public mutating func get(_ path: String, watchesPeer: Bool = true, _ handler: @escaping Handler) {
        add("GET", path, watchesPeer: watchesPeer, handler)
    }
    public mutating func post(_ path: String, watchesPeer: Bool = true, _ handler: @escaping Handler) {
        add("POST", path, watchesPeer: watchesPeer, handler)
    }

    public func hasRoute(_ method: String, _ path: String) -> Bool { routes[path]?[method.uppercased()] != nil }

    public enum Resolution: Sendable {
        case handler(Handler, watchesPeer: Bool)
        case notFound
        case methodNotAllowed(allow: String)
        case options(allow: String)
    }

    public func resolve(method: String, path: Substring) -> Resolution {
        let name =
            routes[String(path)] != nil ? String(path) : templates.first { $0.parameter(in: path) != nil }?.pattern
        guard let name, let byMethod = routes[name] else { return .notFound }
        if let route = byMethod[method] ?? (method == "HEAD" ? byMethod["GET"] : nil) {
            return .handler(route.handler, watchesPeer: route.watchesPeer)
        }
        var allowed = Set(byMethod.keys)
        if allowed.contains("GET") { allowed.insert("HEAD") }
        allowed.insert("OPTIONS")
        let allow = allowed.sorted().joined(separator: ", ")
        return method == "OPTIONS" ? .options(allow: allow) : .methodNotAllowed(allow: allow)
    }
}
