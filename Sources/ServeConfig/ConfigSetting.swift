/// One `serve` setting: its flag, its environment variable and the help text, kept in one place so `--help`,
/// the config file keys and the effective-configuration log cannot drift apart.
public struct ConfigSetting: Sendable {
    /// The long flag without dashes, e.g. `max-queue-requests`.
    public let flag: String
    public let summary: String
    /// What the default is, as `--help` shows it; nil when there is none. Read from the configuration structs.
    public let defaultText: String?
    /// Never printed: the effective configuration shows it as `<redacted>`.
    public var secret = false
    /// Whether LONGRM_<FLAG> and the config file may set it (not for `--config` itself or `--check-config`).
    public var fromEnvironment = true
    /// The placeholder `--help` shows for the value (ArgumentParser's default is the flag name).
    public var valueName: String?

    /// `--max-queue-requests` ← `LONGRM_MAX_QUEUE_REQUESTS`.
    public var environmentName: String { ConfigSetting.environmentName(flag) }

    public static func environmentName(_ flag: String) -> String {
        "LONGRM_" + flag.uppercased().replacingOccurrences(of: "-", with: "_")
    }

    /// The `--help` text: the summary, the default and the variable.
    public var helpText: String {
        var text = summary
        var notes: [String] = []
        if let defaultText { notes.append("default: \(defaultText)") }
        if fromEnvironment { notes.append("env: \(environmentName)") }
        if !notes.isEmpty { text += " (" + notes.joined(separator: "; ") + ")" }
        return text
    }
}

/// Where a value came from, for the effective-configuration log and error messages.
public enum ConfigOrigin: Sendable, Equatable {
    case flag, environment, file, defaultValue

    public var name: String {
        switch self {
        case .flag: return "flag"
        case .environment: return "env"
        case .file: return "file"
        case .defaultValue: return "default"
        }
    }
}

/// A setting with an invalid value, or an unreadable config file: `serve` exits with status 2.
public struct ConfigError: Error, Sendable, CustomStringConvertible {
    public let description: String
}
