import Logging

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Rendering of one log line in either format. Pure functions, so tests can check escaping directly.
public enum LogLine {
    /// Metadata keys printed first, in this order (the access log's fields); the rest follow sorted, so a
    /// line's layout never depends on dictionary order.
    static let leadingKeys = [
        "method", "path", "status", "bytes", "duration_ms", "queue_ms", "compute_ms", "request_id", "remote",
    ]

    public static func render(
        format: LogFormat, time: String, level: String, label: String, message: String,
        fields: Logger.Metadata
    ) -> String {
        var ordered: [(String, Logger.Metadata.Value)] = []
        ordered.reserveCapacity(fields.count)
        for key in leadingKeys { if let v = fields[key] { ordered.append((key, v)) } }
        for key in fields.keys.sorted() where !leadingKeys.contains(key) { ordered.append((key, fields[key]!)) }

        switch format {
        case .logfmt:
            var out = "ts=\(time) level=\(level) logger=\(logfmtValue(label)) msg=\(logfmtValue(message))"
            for (key, value) in ordered { out += " \(logfmtKey(key))=\(logfmtValue(flatText(value)))" }
            return out
        case .json:
            var out =
                "{\"ts\":\(jsonString(time)),\"level\":\(jsonString(level)),\"logger\":\(jsonString(label)),\"msg\":\(jsonString(message))"
            for (key, value) in ordered where !["ts", "level", "logger", "msg"].contains(key) {
                out += ",\(jsonString(key)):\(jsonValue(value))"
            }
            return out + "}"
        }
    }

    // MARK: logfmt

    /// Bare when it is a plain token, else double-quoted with `"`, `\` and control characters escaped.
    public static func logfmtValue(_ s: String) -> String {
        if !s.isEmpty
            && s.utf8.allSatisfy({
                $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "=")
                    && $0 != UInt8(ascii: "\\")
            })
        {
            return s
        }
        return "\"" + escaped(s) + "\""
    }

    /// Keys are identifiers (ASCII letters, digits, `_`, `.`, `-`): anything else becomes `_`.
    static func logfmtKey(_ s: String) -> String {
        func allowed(_ b: UInt8) -> Bool {
            switch b {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "-"):
                return true
            default: return false
            }
        }
        if s.isEmpty { return "_" }
        // Every key this server logs is already an identifier: checking bytes keeps the access log cheap.
        if s.utf8.allSatisfy(allowed) { return s }
        return String(
            s.unicodeScalars.map { c -> Character in c.isASCII && allowed(UInt8(c.value)) ? Character(c) : "_" })
    }

    static func flatText(_ value: Logger.Metadata.Value) -> String {
        switch value {
        case .string(let s): return s
        case .stringConvertible(let c): return c.description
        case .array, .dictionary: return jsonValue(value)
        }
    }

    // MARK: JSON

    public static func jsonString(_ s: String) -> String { "\"" + escaped(s) + "\"" }

    static func jsonValue(_ value: Logger.Metadata.Value) -> String {
        switch value {
        case .string(let s): return jsonString(s)
        case .stringConvertible(let c):
            // Numbers and booleans stay JSON numbers and booleans; everything else is a string.
            switch c {
            case let b as Bool: return b ? "true" : "false"
            case let i as Int: return String(i)
            case let d as Double where d.isFinite: return String(d)
            default: return jsonString(c.description)
            }
        case .array(let items): return "[" + items.map(jsonValue).joined(separator: ",") + "]"
        case .dictionary(let d):
            return "{" + d.keys.sorted().map { "\(jsonString($0)):\(jsonValue(d[$0]!))" }.joined(separator: ",") + "}"
        }
    }

    /// JSON string escaping (also valid inside a logfmt quoted value): `"`, `\`, and every control character.
    static func escaped(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }

    // MARK: time

    /// `2026-11-26T21:40:00.123Z`, from the real-time clock without Foundation's formatters.
    public static func utcTimestamp() -> String {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        var seconds = time_t(ts.tv_sec)
        var t = tm()
        gmtime_r(&seconds, &t)
        func pad(_ v: Int32, _ width: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        let millis = Int32(ts.tv_nsec / 1_000_000)
        return
            "\(pad(t.tm_year + 1900, 4))-\(pad(t.tm_mon + 1, 2))-\(pad(t.tm_mday, 2))T\(pad(t.tm_hour, 2)):\(pad(t.tm_min, 2)):\(pad(t.tm_sec, 2)).\(pad(millis, 3))Z"
    }
}
