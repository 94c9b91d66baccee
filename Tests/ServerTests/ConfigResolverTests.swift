import Foundation
import Scoring
import Server
import Testing

@testable import ServeConfig

/// `serve`'s settings: precedence flag > LONGRM_<FLAG> > config file (JSON or key = value) > default, the
/// defaults read from the configuration structs, and clear errors for bad values. The binary's own checks
/// (exit status 2, --help, the start-up log) are in tests/ops_config.sh.
@Suite("serve configuration")
struct ConfigResolverTests {
    func resolve(_ options: [String: String] = [:], switches: [String] = [], env: [String: String] = [:])
        throws(ConfigError) -> ServeConfiguration
    {
        let cli = CommandLineValues(
            options: options, switches: Dictionary(uniqueKeysWithValues: switches.map { ($0, true) }))
        return try ServeConfiguration.resolve(commandLine: cli, environment: env)
    }

    func effective(_ c: ServeConfiguration, _ flag: String) -> (value: String, origin: ConfigOrigin)? {
        c.effective.first { $0.flag == flag }.map { ($0.value, $0.origin) }
    }

    func file(_ name: String, _ text: String) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent(
            "longrm-config-\(UUID().uuidString)-\(name)")
        try Data(text.utf8).write(to: url)
        return url.path
    }

    func expectInvalid(
        _ fragment: String, _ body: () throws(ConfigError) -> ServeConfiguration,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        do {
            _ = try body()
            Issue.record("expected an invalid configuration mentioning \(fragment)", sourceLocation: sourceLocation)
        } catch {
            #expect(error.description.contains(fragment), "\(error.description)", sourceLocation: sourceLocation)
        }
    }

    @Test func defaultsAreTheConfigurationStructs() throws {
        let c = try resolve()
        let app = AppConfiguration(), engine = EngineConfiguration(), queue = EnginePool.QueueLimits()
        #expect(c.app.server.port == app.server.port && c.app.server.host == app.server.host)
        #expect(c.app.server.maxConnections == app.server.maxConnections)
        #expect(c.app.server.limits.maxBodyBytes == app.server.limits.maxBodyBytes)
        #expect(c.app.server.drainTimeout == app.server.drainTimeout)
        #expect(c.app.api.defaultTimeoutMs == app.api.defaultTimeoutMs && c.app.api.defaultMethod == nil)
        #expect(c.queueLimits == queue)
        #expect(c.engine == engine)
        #expect(effective(c, "port")! == ("8080", .defaultValue))
        #expect(effective(c, "max-queue-requests")?.value == String(queue.maxQueuedRequests))
        // --help shows the same defaults.
        #expect(ServeSettings.port.helpText.contains("default: \(app.server.port); env: LONGRM_PORT"))
        #expect(ServeSettings.batchSize.helpText.contains("default: \(engine.batchSize)"))
        #expect(ServeSettings.drainTimeoutMs.helpText.contains("default: 30000"))
        #expect(
            ServeSettings.all.filter(\.fromEnvironment).allSatisfy {
                $0.helpText.contains("env: \($0.environmentName)")
            })
    }

    @Test func aKeyValueFileIsReadInAnySpellingOfTheKeys() throws {
        let path = try file(
            "kv.conf",
            """
            # comment line
            port = 1111
            LONGRM_MAX_QUEUE_REQUESTS=7
            max_connections = "9"
            flash-attn = yes
            """)
        let c = try resolve([ServeSettings.config.flag: path])
        #expect(effective(c, "port")! == ("1111", .file))
        #expect(c.queueLimits.maxQueuedRequests == 7 && c.app.server.maxConnections == 9)
        #expect(c.engine.flashAttention)
        #expect(effective(c, "config")?.value == path)
    }

    @Test func flagBeatsEnvironmentBeatsFileBeatsDefault() throws {
        let path = try file("kv.conf", "port = 1111\nmax-queue-requests = 7\n")
        let fromEnv = try resolve([ServeSettings.config.flag: path], env: ["LONGRM_PORT": "2222"])
        #expect(effective(fromEnv, "port")! == ("2222", .environment))
        let fromFlag = try resolve(["port": "3333"], env: ["LONGRM_PORT": "2222", "LONGRM_CONFIG": path])
        #expect(effective(fromFlag, "port")! == ("3333", .flag))
        #expect(fromFlag.queueLimits.maxQueuedRequests == 7, "LONGRM_CONFIG names the file")
        let emptyVariable = try resolve(env: ["LONGRM_PORT": ""])
        #expect(emptyVariable.app.server.port == 8080, "an empty variable counts as unset")
    }

    @Test func onOffFlagsFromTheEnvironmentAndTheCommandLine() throws {
        #expect(try resolve(env: ["LONGRM_FLASH_ATTN": "1"]).engine.flashAttention)
        #expect(
            try resolve(switches: ["flash-attn"], env: ["LONGRM_FLASH_ATTN": "false"]).engine.flashAttention,
            "--flash-attn beats LONGRM_FLASH_ATTN=false")
        #expect(try !resolve(env: ["LONGRM_NO_PREFIX_SHARING": "on"]).engine.sharePrefix)
    }

    @Test func kvTypeFollowsThePrecedenceAndQ8NeedsFlashAttention() throws {
        #expect(try resolve().engine.kvType == .f16)
        let fromFlag = try resolve(["kv-type": "q8_0"], switches: ["flash-attn"], env: ["LONGRM_KV_TYPE": "f16"])
        #expect(fromFlag.engine.kvType == .q8_0 && effective(fromFlag, "kv-type")! == ("q8_0", .flag))
        let fromEnv = try resolve(env: ["LONGRM_KV_TYPE": "Q8_0", "LONGRM_FLASH_ATTN": "on"])
        #expect(fromEnv.engine.kvType == .q8_0 && effective(fromEnv, "kv-type")! == ("q8_0", .environment))
        let path = try file("kv.conf", "kv_type = q8_0\nflash-attn = yes\n")
        let fromFile = try resolve([ServeSettings.config.flag: path], env: ["LONGRM_KV_TYPE": ""])
        #expect(fromFile.engine.kvType == .q8_0 && effective(fromFile, "kv-type")?.origin == .file)
        #expect(try resolve(["kv-type": "f16"], env: ["LONGRM_KV_TYPE": "q8_0"]).engine.kvType == .f16)
        expectInvalid("invalid value 'q4_0' for --kv-type: expected one of f16, q8_0") { () throws(ConfigError) in
            try resolve(["kv-type": "q4_0"], switches: ["flash-attn"])
        }
        // llama.cpp cannot quantize V without flash attention: refused at start-up, whichever source set it.
        expectInvalid("--kv-type q8_0 needs --flash-attn") { () throws(ConfigError) in try resolve(["kv-type": "q8_0"])
        }
        expectInvalid("--kv-type q8_0 needs --flash-attn") { () throws(ConfigError) in
            try resolve(["kv-type": "q8_0"], env: ["LONGRM_FLASH_ATTN": "off"])
        }
    }

    @Test func aJSONFileTakesNumbersBooleansAndStrings() throws {
        let path = try file(
            "c.json",
            #"""
            {"port": 4444, "repack": true, "default_method": "likelihood", "log-format": "json", "api-key": "json-secret"}
            """#)
        let c = try resolve([ServeSettings.config.flag: path])
        #expect(c.app.server.port == 4444 && c.engine.repackWeights && c.app.api.defaultMethod == .likelihood)
        #expect(c.logFormat == .json && c.app.server.apiKey == "json-secret")
        #expect(effective(c, "api-key")?.value == "<redacted>")
        #expect(!c.effective.contains { $0.value.contains("json-secret") })
    }

    @Test func badValuesNameTheSettingAndWhereItCameFrom() throws {
        expectInvalid("invalid value '70000' for --port: expected an integer in 0…65535") { () throws(ConfigError) in
            try resolve(["port": "70000"])
        }
        expectInvalid("for --workers (from LONGRM_WORKERS)") { () throws(ConfigError) in
            try resolve(env: ["LONGRM_WORKERS": "abc"])
        }
        expectInvalid("LONGRM_FLASH_ATTN") { () throws(ConfigError) in try resolve(env: ["LONGRM_FLASH_ATTN": "maybe"])
        }
        expectInvalid("expected one of logfmt, json") { () throws(ConfigError) in try resolve(["log-format": "xml"]) }
        expectInvalid("expected one of likelihood, classifier, judge") { () throws(ConfigError) in
            try resolve(["default-method": "bogus"])
        }
        expectInvalid("must not exceed --batch-size") { () throws(ConfigError) in
            try resolve(["batch-size": "64", "ubatch-size": "128"])
        }
        expectInvalid("invalid value <redacted> for --api-key") { () throws(ConfigError) in try resolve(["api-key": ""])
        }
    }

    @Test func badFilesAreRefusedWithTheirPath() throws {
        let unknown = try file("bad.conf", "port = 1\nbogus-setting = 3\n")
        expectInvalid("unknown setting 'bogus-setting'") { () throws(ConfigError) in try resolve(["config": unknown]) }
        let small = try file("small.conf", "max-body-bytes = 12\n")
        expectInvalid("from \(small)") { () throws(ConfigError) in try resolve(["config": small]) }
        expectInvalid("cannot read the config file") { () throws(ConfigError) in
            try resolve(["config": "/nonexistent/x.conf"])
        }
        let nonScalar = try file("bad.json", #"{"port": [1]}"#)
        expectInvalid("must be a JSON object") { () throws(ConfigError) in try resolve(["config": nonScalar]) }
        let twice = try file("twice.conf", "port = 1\nPORT = 2\n")
        expectInvalid("appears twice") { () throws(ConfigError) in try resolve(["config": twice]) }
    }
}
