/// Resolves each setting from, in order of precedence, the command line, `LONGRM_<FLAG>`, the config file and
/// the default, converts it, and records the effective value for the start-up log. An empty environment
/// variable counts as unset (orchestrators often template empty values).
struct ConfigResolver {
    let environment: [String: String]
    let file: ConfigFile?
    /// Every resolved setting in resolution order, secrets already redacted.
    private(set) var effective: [(flag: String, value: String, origin: ConfigOrigin)] = []

    init(environment: [String: String], file: ConfigFile?) {
        self.environment = environment; self.file = file
    }

    /// The raw text and where it came from; nil when only the default applies.
    private func raw(_ setting: ConfigSetting, cli: String?) -> (text: String, origin: ConfigOrigin)? {
        if let cli { return (cli, .flag) }
        guard setting.fromEnvironment else { return nil }
        if let env = environment[setting.environmentName], !env.isEmpty { return (env, .environment) }
        if let value = file?.values[setting.flag] { return (value, .file) }
        return nil
    }

    private func describe(_ setting: ConfigSetting, _ origin: ConfigOrigin) -> String {
        switch origin {
        case .flag: return "--\(setting.flag)"
        case .environment: return "--\(setting.flag) (from \(setting.environmentName))"
        case .file: return "--\(setting.flag) (from \(file?.path ?? "the config file"))"
        case .defaultValue: return "--\(setting.flag)"
        }
    }

    private mutating func record(_ setting: ConfigSetting, _ value: String, _ origin: ConfigOrigin) {
        effective.append((setting.flag, setting.secret ? "<redacted>" : value, origin))
    }

    /// Converts the value with `parse`; nil from it is reported with `expected`.
    mutating func value<T>(
        _ setting: ConfigSetting, cli: String?, default defaultValue: T, expected: String,
        show: (T) -> String = { "\($0)" }, parse: (String) -> T?
    ) throws(ConfigError) -> T {
        guard let (text, origin) = raw(setting, cli: cli) else {
            record(setting, show(defaultValue), .defaultValue)
            return defaultValue
        }
        guard let parsed = parse(text.trimmingCharacters(in: .whitespaces)) else {
            let shown = setting.secret ? "<redacted>" : "'\(text)'"
            throw ConfigError(
                description: "invalid value \(shown) for \(describe(setting, origin)): expected \(expected)")
        }
        record(setting, show(parsed), origin)
        return parsed
    }

    mutating func int(
        _ setting: ConfigSetting, cli: String?, default defaultValue: Int,
        range: ClosedRange<Int>
    ) throws(ConfigError) -> Int {
        let expected =
            range.upperBound == Int.max
            ? "an integer ≥ \(range.lowerBound)"
            : "an integer in \(range.lowerBound)…\(range.upperBound)"
        return try value(setting, cli: cli, default: defaultValue, expected: expected) { text in
            Int(text.replacingOccurrences(of: "_", with: "")).flatMap { range.contains($0) ? $0 : nil }
        }
    }

    mutating func string(_ setting: ConfigSetting, cli: String?, default defaultValue: String) throws(ConfigError)
        -> String
    {
        try value(setting, cli: cli, default: defaultValue, expected: "a non-empty string") { $0.isEmpty ? nil : $0 }
    }

    mutating func optionalString(_ setting: ConfigSetting, cli: String?) throws(ConfigError) -> String? {
        // Spelled out: with T == String?, a bare `nil` from the parser would read as "parsed to no value".
        try value(
            setting, cli: cli, default: String?.none, expected: "a non-empty string",
            show: { $0 ?? "<none>" }
        ) { text -> String?? in text.isEmpty ? .none : .some(text) }
    }

    /// A presence flag (`--flash-attn`): on the command line it can only switch on, so the flag wins when
    /// given and the environment or file decide otherwise.
    mutating func bool(_ setting: ConfigSetting, cli: Bool, default defaultValue: Bool) throws(ConfigError) -> Bool {
        try value(
            setting, cli: cli ? "true" : nil, default: defaultValue, expected: "1, true, yes, on, 0, false, no or off"
        ) {
            switch $0.lowercased() {
            case "1", "true", "yes", "on": return true
            case "0", "false", "no", "off": return false
            default: return nil
            }
        }
    }

    mutating func choice<T: RawRepresentable & CaseIterable>(
        _ setting: ConfigSetting, cli: String?,
        default defaultValue: T?
    ) throws(ConfigError) -> T?
    where T.RawValue == String {
        let names = T.allCases.map(\.rawValue).joined(separator: ", ")
        return try value(
            setting, cli: cli, default: defaultValue, expected: "one of \(names)",
            show: { $0?.rawValue ?? "<none>" }
        ) { text -> T?? in T(rawValue: text.lowercased()).map { .some($0) } }
    }
}
