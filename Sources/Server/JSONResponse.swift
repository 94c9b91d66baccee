import Foundation
import HTTPParser

extension HTTPResponse {
    /// `value` encoded with Foundation's JSONEncoder (sorted keys, so output is stable) as
    /// `Content-Type: application/json`. An encoding failure becomes a 500 in the error shape.
    public static func json<T: Encodable>(
        status: Int = 200, _ value: T,
        headers: HTTPHeaders = HTTPHeaders()
    ) -> HTTPResponse {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            let data = try encoder.encode(value)
            return .json(status: status, bytes: Array(data), headers: headers)
        } catch {
            let fallback = #"{"error":{"message":"response encoding failed","type":"internal"}}"#
            return .json(status: 500, bytes: Array(fallback.utf8))
        }
    }

    /// Already-encoded JSON bytes.
    public static func json(status: Int = 200, bytes: [UInt8], headers: HTTPHeaders = HTTPHeaders()) -> HTTPResponse {
        var headers = headers
        headers.set(name: "Content-Type", value: "application/json")
        return HTTPResponse(status: status, headers: headers, body: bytes)
    }
}
