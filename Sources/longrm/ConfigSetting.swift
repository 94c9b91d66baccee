import ArgumentParser

/// One `serve` setting: its flag, its environment variable and the help text, kept in one place so `--help`,
/// the config file keys and the effective-configuration log cannot drift apart.
struct ConfigSetting: Sendable {
    /// The long flag without dashes, e.g. `max-queue-requests`.
    let flag: String
    let summary: String
    /// What the default is, as `--help` shows it; nil when there is none.
    let defaultText: String?
    /// Never printed: the effective configuration shows it as `<redacted>`.
    var secret = false
    /// Whether LONGRM_<FLAG> and the config file may set it (not for `--config` itself or `--check-config`).
    var fromEnvironment = true
    /// The placeholder `--help` shows for the value (ArgumentParser's default is the flag name).
    var valueName: String?

    /// `--max-queue-requests` ← `LONGRM_MAX_QUEUE_REQUESTS`.
    var environmentName: String { ConfigSetting.environmentName(flag) }

    static func environmentName(_ flag: String) -> String {
        "LONGRM_" + flag.uppercased().replacingOccurrences(of: "-", with: "_")
    }

    var help: ArgumentHelp {
        var text = summary
        var notes: [String] = []
        if let defaultText { notes.append("default: \(defaultText)") }
        if fromEnvironment { notes.append("env: \(environmentName)") }
        if !notes.isEmpty { text += " (" + notes.joined(separator: "; ") + ")" }
        return ArgumentHelp(text, valueName: valueName)
    }
}

/// Where a value came from, for the effective-configuration log and error messages.
enum ConfigOrigin: Sendable, Equatable {
    case flag, environment, file, defaultValue

    var name: String {
        switch self {
        case .flag: return "flag"
        case .environment: return "env"
        case .file: return "file"
        case .defaultValue: return "default"
        }
    }
}

/// A setting with an invalid value, or an unreadable config file: `serve` exits with status 2.
struct ConfigError: Error, Sendable, CustomStringConvertible {
    let description: String
}
