import HTTPParser
import Scoring

/// Every error the server answers with, one case each: its status and its `type` string. openapi.json's
/// `Error.type` enum and the README's table list exactly these (a test holds them to it).
public enum ErrorCode: String, Sendable, CaseIterable {
    case badRequest = "bad_request"
    case contextTooLong = "context_too_long"
    case unsupportedMethod = "unsupported_method"
    case unauthorized
    case notFound = "not_found"
    case methodNotAllowed = "method_not_allowed"
    /// The client was too slow sending its request head or body.
    case requestTimeout = "request_timeout"
    case lengthRequired = "length_required"
    case payloadTooLarge = "payload_too_large"
    case uriTooLong = "uri_too_long"
    /// The scoring queue is full; `Retry-After` says when to come back.
    case queueFull = "queue_full"
    case headersTooLarge = "headers_too_large"
    /// The client left before its response (only ever seen in logs and metrics).
    case cancelled
    case `internal`
    case notImplemented = "not_implemented"
    /// The server is shutting down.
    case unavailable
    /// The connection cap was reached; the connection is closed.
    case tooManyConnections = "too_many_connections"
    /// The request's deadline passed before scoring finished.
    case deadlineExceeded = "deadline_exceeded"
    case httpVersionNotSupported = "http_version_not_supported"
    /// Pinned contexts already hold what the KV budget allows (`POST /v1/contexts`).
    case insufficientStorage = "insufficient_storage"

    public var status: Int {
        switch self {
        case .badRequest, .contextTooLong, .unsupportedMethod: return 400
        case .unauthorized: return 401
        case .notFound: return 404
        case .methodNotAllowed: return 405
        case .requestTimeout: return 408
        case .lengthRequired: return 411
        case .payloadTooLarge: return 413
        case .uriTooLong: return 414
        case .queueFull: return 429
        case .headersTooLarge: return 431
        case .cancelled: return 499
        case .internal: return 500
        case .notImplemented: return 501
        case .unavailable, .tooManyConnections: return 503
        case .deadlineExceeded: return 504
        case .httpVersionNotSupported: return 505
        case .insufficientStorage: return 507
        }
    }
}

/// An error on its way to the client: the code (status and type), a message for people, the field at fault
/// as a value, and what the client should wait before retrying. `HTTPResponse.error(_:)` renders it, once.
public struct APIError: Error, Sendable, Equatable {
    public var code: ErrorCode
    public var message: String
    public var field: FieldPath?
    public var retryAfterSeconds: Int?
    /// `Allow` for 405.
    public var allow: String?

    public init(
        _ code: ErrorCode, _ message: String, field: FieldPath? = nil, retryAfterSeconds: Int? = nil,
        allow: String? = nil
    ) {
        self.code = code; self.message = message; self.field = field
        self.retryAfterSeconds = retryAfterSeconds; self.allow = allow
    }

    public var status: Int { code.status }
    public var type: String { code.rawValue }

    public static func badRequest(_ message: String, field: FieldPath? = nil) -> APIError {
        APIError(.badRequest, message, field: field)
    }

    /// The parser's refusal.
    public init(_ parseError: HTTPParseError) {
        let code: ErrorCode
        switch parseError {
        case .badRequestLine, .badHeader, .badChunk, .badContentLength, .conflictingFraming: code = .badRequest
        case .lengthRequired: code = .lengthRequired
        case .bodyTooLarge: code = .payloadTooLarge
        case .uriTooLong: code = .uriTooLong
        case .headersTooLarge: code = .headersTooLarge
        case .unsupportedTransferCoding: code = .notImplemented
        case .unsupportedVersion: code = .httpVersionNotSupported
        }
        self.init(code, parseError.message)
    }

    /// The scoring layer's error. `draining`: a cancelled request was dropped by the shutdown rather than
    /// left by its client.
    public init(_ error: ScoringError, draining: Bool = false) {
        switch error {
        case .invalidRequest(let field, let reason): self.init(.badRequest, reason, field: field)
        case .contextTooLong: self.init(.contextTooLong, error.message, field: "context")
        case .unsupportedMethod: self.init(.unsupportedMethod, error.message, field: "method")
        case .overloaded(let seconds): self.init(.queueFull, error.message, retryAfterSeconds: seconds)
        case .storageFull: self.init(.insufficientStorage, error.message)
        case .timedOut: self.init(.deadlineExceeded, error.message)
        case .cancelled: self.init(draining ? .unavailable : .cancelled, error.message)
        case .invalidConfiguration, .modelLoadFailed, .engineFailure: self.init(.internal, error.message)
        }
    }
}

/// The one error body every endpoint returns:
/// `{"error":{"type":"<snake_case_type>","message":"<human text>","field":"<optional>"}}`.
public struct ErrorBody: Codable, Sendable, Equatable {
    public struct Detail: Codable, Sendable, Equatable {
        public var type: String
        public var message: String
        public var field: String?
    }
    public var error: Detail

    public init(type: String, message: String, field: String? = nil) {
        error = Detail(type: type, message: message, field: field)
    }
}

extension HTTPResponse {
    /// The error in the shared JSON shape with its status and headers: the only place an error becomes HTTP.
    public static func error(_ error: APIError) -> HTTPResponse {
        var headers = HTTPHeaders()
        if let seconds = error.retryAfterSeconds { headers.add(name: "Retry-After", value: String(seconds)) }
        if let allow = error.allow { headers.add(name: "Allow", value: allow) }
        if error.code == .unauthorized { headers.add(name: "WWW-Authenticate", value: "Bearer") }
        let body = ErrorBody(type: error.type, message: error.message, field: error.field?.description)
        return .json(status: error.status, body, headers: headers)
    }
}
