import HTTPParser
import Logging
import Scoring

/// Everything the service is configured with besides the engine: the HTTP server, the API, the access log.
/// The defaults here are the defaults of `longrm serve`.
public struct AppConfiguration: Sendable {
    public var server = ServerConfiguration()
    public var api = APIConfiguration()
    /// One line per request (`AccessLog`).
    public var accessLog = true
    /// Where access lines go; nil: the `longrm.access` logger, made when the application is built (after the
    /// logging system is bootstrapped, which a logger made earlier would not follow).
    public var accessLogger: Logger?

    public init() {}
}

/// The one wiring of the service, used by `longrm serve`, `longrm score` and the tests: configuration and a
/// `ScoringService` in, a server out. It builds the router from one route table (the API's endpoints,
/// `/metrics`, `/health`), and derives the API-key exemptions and the metrics' route labels from that table.
public final class Application: Sendable {
    public let server: HTTPServer
    public let api: ScoringAPI
    public let metrics: MetricsEndpoint
    /// The route table, in registration order.
    public let endpoints: [Endpoint]

    public init(configuration: AppConfiguration, service: any ScoringService, logger: Logger = Logger(label: "longrm"))
    {
        let lifecycle = ServerLifecycle()
        api = ScoringAPI(service: service, configuration: configuration.api, lifecycle: lifecycle)
        let apiEndpoints = api.endpoints
        let requests = RequestMetrics(
            knownRoutes: Set(apiEndpoints.map(\.path) + [MetricsEndpoint.path, HealthHandler.path]))
        metrics = MetricsEndpoint(requests: requests, service: service, lifecycle: lifecycle)
        endpoints = apiEndpoints + [metrics.endpoint, HealthHandler.endpoint]

        var server = configuration.server
        server.authExemptPaths = Set(endpoints.filter(\.isProbe).map(\.path))
        let accessLog =
            configuration.accessLog
            ? [AccessLog(logger: configuration.accessLogger ?? Logger(label: "longrm.access"))] : []
        server.observer = RequestObservers([requests] + accessLog)
        self.server = HTTPServer(configuration: server, router: Router(endpoints), lifecycle: lifecycle, logger: logger)
        metrics.attach(self.server)
    }

    /// One request without a socket (see `HTTPServer.respond(to:)`).
    public func respond(to request: HTTPRequest) async -> HTTPResponse {
        await server.respond(to: request)
    }

    /// `POST path` with a JSON body, without a socket.
    public func post(_ path: String, body: [UInt8]) async -> HTTPResponse {
        var headers = HTTPHeaders([("Content-Type", "application/json")])
        headers.add(name: "Content-Length", value: String(body.count))
        return await respond(
            to: HTTPRequest(method: "POST", target: path, version: .http11, headers: headers, body: body))
    }
}
