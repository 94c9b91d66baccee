import Logging
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How log lines look on stderr: `logfmt` (`ts=… level=info msg="…" key=value`) or one JSON object per line.
public enum LogFormat: String, Sendable, CaseIterable {
    case logfmt
    case json
}

/// A swift-log handler writing one structured line per event: timestamp (UTC, milliseconds), level, logger
/// label, message, then the metadata (handler, then event). Lines are written whole with one `write(2)` each,
/// so concurrent loggers never interleave.
public struct StructuredLogHandler: LogHandler {
    public typealias Sink = @Sendable (String) -> Void

    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    private let label: String
    private let format: LogFormat
    private let sink: Sink

    public init(label: String, format: LogFormat, level: Logger.Level = .info, sink: @escaping Sink = StructuredLogHandler.standardError) {
        self.label = label; self.format = format; self.logLevel = level; self.sink = sink
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields = metadata
        if let explicit = event.metadata { fields.merge(explicit) { _, new in new } }
        if let error = event.error { fields["error"] = .string("\(error)") }
        sink(LogLine.render(format: format, time: LogLine.utcTimestamp(), level: event.level.rawValue, label: label,
                            message: event.message.description, fields: fields))
    }

    /// Writes the line (a newline is added) to fd 2, retrying short writes.
    public static let standardError: Sink = { line in
        let bytes = Array((line + "\n").utf8)
        errorLock.withLock { _ in
            bytes.withUnsafeBytes { raw in
                var offset = 0
                while offset < raw.count {
                    let n = write(2, raw.baseAddress! + offset, raw.count - offset)
                    if n > 0 { offset += n } else if n < 0 && errno == EINTR { continue } else { break }
                }
            }
        }
    }

    private static let errorLock = Mutex(())
}
