import Logging

/// How log lines look on stderr: `logfmt` (`ts=… level=info msg="…" key=value`) or one JSON object per line.
public enum LogFormat: String, Sendable, CaseIterable {
    case logfmt
    case json
}

/// A swift-log handler writing one structured line per event: timestamp (UTC, milliseconds), level, logger
/// label, message, then the metadata (handler, then event). Lines are written whole, so concurrent loggers
/// never interleave.
public struct StructuredLogHandler: LogHandler {
    public typealias Sink = @Sendable (String) -> Void

    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    private let label: String
    private let format: LogFormat
    private let sink: Sink

    public init(
        label: String, format: LogFormat, level: Logger.Level = .info,
        sink: @escaping Sink = StructuredLogHandler.standardError
    ) {
        self.label = label; self.format = format; self.logLevel = level; self.sink = sink
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields = event.metadata ?? [:]
        if !metadata.isEmpty { fields.merge(metadata) { event, _ in event } }
        if let error = event.error { fields["error"] = .string("\(error)") }
        sink(
            LogLine.render(
                format: format, time: LogLine.utcTimestamp(), level: event.level.rawValue, label: label,
                message: event.message.description, fields: fields))
    }

    /// Queues the line (a newline is added) for fd 2; a background thread writes it (see `LineWriter`).
    public static let standardError: Sink = { line in LineWriter.standardError.write(line) }
}
