import Synchronization

/// Contexts pinned with `POST /v1/contexts`: their KV cache entries are not evicted until their time ends.
/// Shared by the API (pins and unpins) and every worker's `Session` (which asks what it must keep), hence the
/// lock; the rules themselves are `PinLedger`, a value type.
public final class PinBoard: Sendable {
    private let ledger: Mutex<PinLedger>

    init(limits: PinLedger.Limits) { ledger = Mutex(PinLedger(limits: limits)) }

    /// Keys whose cache entries must stay, at `now`.
    func keys(at now: ContinuousClock.Instant) -> Set<String> { ledger.withLock { $0.keys(at: now) } }

    func pin(_ pin: PinnedContext, at now: ContinuousClock.Instant) throws(ScoringError) {
        try ledger.withLock { ledger throws(ScoringError) in try ledger.pin(pin, at: now) }
    }

    /// Whether the key was pinned (and not expired).
    func unpin(_ key: String, at now: ContinuousClock.Instant) -> Bool { ledger.withLock { $0.unpin(key, at: now) } }

    func list(at now: ContinuousClock.Instant) -> [PinnedContext] { ledger.withLock { $0.list(at: now) } }
}

/// A pinned context: what `POST /v1/contexts` returns and `GET /v1/contexts` lists.
public struct PinnedContext: Sendable, Equatable {
    public var key: String
    public var tokens: Int
    public var expires: ContinuousClock.Instant
    public var method: ScoringMethod

    public init(key: String, tokens: Int, expires: ContinuousClock.Instant, method: ScoringMethod) {
        self.key = key; self.tokens = tokens; self.expires = expires; self.method = method
    }

    public func secondsLeft(at now: ContinuousClock.Instant) -> Double {
        let left = now.duration(to: expires).components
        return max(0, Double(left.seconds) + Double(left.attoseconds) / 1e18)
    }
}

/// The pinning rules, as a value: pins expire at their time; together they may hold at most `maxTokens`
/// tokens and `maxContexts` cache streams, so the engine always keeps room to score (a stream for a request's
/// own prompt level and one for a candidate). A pin of a key already pinned renews it.
struct PinLedger: Sendable {
    struct Limits: Sendable, Equatable {
        var maxTokens: Int
        var maxContexts: Int
    }

    let limits: Limits
    private(set) var pins: [String: PinnedContext] = [:]

    init(limits: Limits) { self.limits = limits }

    mutating func keys(at now: ContinuousClock.Instant) -> Set<String> {
        expire(at: now)
        return Set(pins.keys)
    }

    mutating func pin(_ pin: PinnedContext, at now: ContinuousClock.Instant) throws(ScoringError) {
        expire(at: now)
        let others = pins.values.filter { $0.key != pin.key }
        let tokens = others.reduce(0) { $0 + $1.tokens } + pin.tokens
        guard others.count + 1 <= limits.maxContexts, tokens <= limits.maxTokens else {
            throw .storageFull(
                "pinning \(pin.tokens) tokens would hold \(tokens) tokens in \(others.count + 1) pinned contexts; "
                    + "the KV budget allows \(limits.maxTokens) tokens in \(limits.maxContexts) "
                    + "(DELETE /v1/contexts/{key} frees one, or raise --kv-budget / --cache-slots)")
        }
        pins[pin.key] = pin
    }

    mutating func unpin(_ key: String, at now: ContinuousClock.Instant) -> Bool {
        expire(at: now)
        return pins.removeValue(forKey: key) != nil
    }

    mutating func list(at now: ContinuousClock.Instant) -> [PinnedContext] {
        expire(at: now)
        return pins.values.sorted { $0.expires < $1.expires }
    }

    private mutating func expire(at now: ContinuousClock.Instant) { pins = pins.filter { $0.value.expires > now } }
}

extension PinLedger.Limits {
    /// What a worker's cache can give to pins and still score: a window of tokens, and two streams (a request's
    /// own prompt level over a pinned context, and a candidate's scratch copy) stay free.
    init(configuration: EngineConfiguration, window: Int) {
        self.init(
            maxTokens: max(0, configuration.cacheTokens - window), maxContexts: max(0, configuration.cacheSlots - 2))
    }
}
