import HTTPParser

/// One row of the route table: method, path, handler and how the server treats it. `Application` builds the
/// router, the API-key exemptions and the metrics' route labels from one list of these.
public struct Endpoint: Sendable {
    public var method: String
    public var path: String
    /// Answered without an API key: probes and scrapes (`/health`, `/ready`, `/metrics`).
    public var isProbe: Bool
    /// See `Router.add(_:_:watchesPeer:_:)`: false for handlers that answer at once.
    public var watchesPeer: Bool
    public var handler: Router.Handler

    public init(
        _ method: String, _ path: String, isProbe: Bool = false, watchesPeer: Bool = true,
        _ handler: @escaping Router.Handler
    ) {
        self.method = method; self.path = path; self.isProbe = isProbe; self.watchesPeer = watchesPeer
        self.handler = handler
    }
}

extension Router {
    public init(_ endpoints: [Endpoint]) {
        self.init()
        for e in endpoints { add(e.method, e.path, watchesPeer: e.watchesPeer, e.handler) }
    }
}
