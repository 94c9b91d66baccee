import Foundation
import HTTPParser

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

/// An error a handler can turn into a response with `HTTPResponse.error(_:)`.
public struct APIError: Error, Sendable, Equatable {
    public var status: Int
    public var type: String
    public var message: String
    public var field: String?

    public init(status: Int, type: String, message: String, field: String? = nil) {
        self.status = status; self.type = type; self.message = message; self.field = field
    }

    public static func badRequest(_ message: String, field: String? = nil) -> APIError {
        APIError(status: 400, type: "bad_request", message: message, field: field)
    }
    public static func notFound(_ message: String) -> APIError {
        APIError(status: 404, type: "not_found", message: message)
    }
    public static func overloaded(_ message: String) -> APIError {
        APIError(status: 503, type: "overloaded", message: message)
    }
    public static func internalError(_ message: String) -> APIError {
        APIError(status: 500, type: "internal", message: message)
    }

    /// The error type name used for a status when no more specific one applies.
    public static func defaultType(forStatus status: Int) -> String {
        switch status {
        case 400: return "bad_request"
        case 401: return "unauthorized"
        case 403: return "forbidden"
        case 404: return "not_found"
        case 405: return "method_not_allowed"
        case 408: return "timeout"
        case 411: return "length_required"
        case 413: return "payload_too_large"
        case 414: return "uri_too_long"
        case 415: return "unsupported_media_type"
        case 422: return "unprocessable"
        case 429: return "too_many_requests"
        case 431: return "headers_too_large"
        case 501: return "not_implemented"
        case 503: return "overloaded"
        case 504: return "timeout"
        case 505: return "http_version_not_supported"
        default: return status >= 500 ? "internal" : "bad_request"
        }
    }

    /// The parser's refusal, in the shared error shape.
    public init(_ parseError: HTTPParseError) {
        let status = parseError.status
        self.init(status: status, type: APIError.defaultType(forStatus: status), message: parseError.message)
    }
}

extension HTTPResponse {
    /// An error response in the shared JSON shape.
    public static func error(_ error: APIError, headers: HTTPHeaders = HTTPHeaders()) -> HTTPResponse {
        let body = ErrorBody(type: error.type, message: error.message, field: error.field)
        return .json(status: error.status, body, headers: headers)
    }

    public static func error(status: Int, type: String? = nil, message: String, field: String? = nil,
                             headers: HTTPHeaders = HTTPHeaders()) -> HTTPResponse {
        .error(APIError(status: status, type: type ?? APIError.defaultType(forStatus: status), message: message,
                        field: field), headers: headers)
    }
}
