import HTTPParser

/// `GET /health`: liveness only. It never touches the engine, so it answers while the engine is busy.
public enum HealthHandler {
    public static let path = "/health"
    private static let body = Array(#"{"status":"ok"}"#.utf8)

    public static let handler: Router.Handler = { _, _ in HTTPResponse.json(status: 200, bytes: body) }

    public static let endpoint = Endpoint("GET", path, isProbe: true, watchesPeer: false, handler)
}
