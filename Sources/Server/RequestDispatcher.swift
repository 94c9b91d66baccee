import HTTPParser

/// Decides, without suspending, what answers a request: authentication, then routing.
struct RequestDispatcher: Sendable {
    let router: Router
    let auth: APIKeyAuth?

    enum Decision {
        case respond(HTTPResponse)
        case run(Router.Handler, watchesPeer: Bool)
    }

    func decide(_ request: HTTPRequest) -> Decision {
        if let auth, !auth.isAuthorized(request) { return .respond(.error(APIKeyAuth.unauthorized)) }
        switch router.resolve(method: request.method, path: request.path) {
        case .handler(let handler, let watchesPeer):
            return .run(handler, watchesPeer: watchesPeer)
        case .notFound:
            return .respond(.error(APIError(.notFound, "no route for \(request.path)")))
        case .methodNotAllowed(let allow):
            return .respond(
                .error(
                    APIError(
                        .methodNotAllowed, "\(request.method) is not allowed on \(request.path)",
                        allow: allow)))
        case .options(let allow):
            var headers = HTTPHeaders()
            headers.add(name: "Allow", value: allow)
            return .respond(HTTPResponse(status: 204, headers: headers))
        }
    }
}
