/// The queue in front of the workers, as a pure state machine: no locks, no clock, no threads. `EnginePool`
/// wraps it in a mutex and turns its decisions into thread wake-ups and continuation resumptions.
///
/// Rules: admission is bounded by queued requests and queued tokens (overload is refused, never queued
/// without end); jobs leave in FIFO order, except that a worker holding a job's context in its cache takes it
/// first; a worker batches later jobs with the first up to a job count and token budget.
struct Scheduler<Payload> {
    struct Limits: Sendable, Equatable {
        var maxQueuedRequests: Int
        var maxQueuedTokens: Int
        /// Jobs a worker takes at once and their total tokens.
        var maxJobsPerBatch: Int
        var maxBatchTokens: Int
        /// Nanoseconds a job with another worker's affinity waits before any worker may take it.
        var affinityPatienceNanos: UInt64
    }

    struct Queued {
        var id: UInt64
        var tokens: Int
        var contextKey: String
        var enqueuedAt: UInt64
        var payload: Payload
    }

    enum Admission: Equatable {
        case accepted
        case rejected(retryAfterSeconds: Int)
    }

    let limits: Limits
    private(set) var queue: [Queued] = []
    private(set) var queuedTokens = 0
    /// Context keys each worker's cache holds, as last reported.
    private var workerKeys: [Set<String>]
    /// Tokens/second the engine has shown, to estimate Retry-After.
    private var throughput: Double = 500

    init(limits: Limits, workers: Int) {
        self.limits = limits
        workerKeys = Array(repeating: [], count: workers)
    }

    var queuedRequests: Int { queue.count }
    var isSaturated: Bool { queue.count >= limits.maxQueuedRequests || queuedTokens >= limits.maxQueuedTokens }

    /// A request larger than the token limit is still admitted into an empty queue: it fits the window
    /// (the planner checked), so refusing it would refuse it forever.
    mutating func enqueue(_ job: Queued) -> Admission {
        let overRequests = queue.count >= limits.maxQueuedRequests
        let overTokens = !queue.isEmpty && queuedTokens + job.tokens > limits.maxQueuedTokens
        if overRequests || overTokens {
            return .rejected(
                retryAfterSeconds: max(1, Int((Double(queuedTokens + job.tokens) / throughput).rounded(.up))))
        }
        queue.append(job)
        queuedTokens += job.tokens
        return .accepted
    }

    /// Removes a queued job (cancelled or past its deadline). Nil when it already left the queue.
    mutating func remove(id: UInt64) -> Queued? {
        guard let i = queue.firstIndex(where: { $0.id == id }) else { return nil }
        queuedTokens -= queue[i].tokens
        return queue.remove(at: i)
    }

    /// The jobs worker `worker` should run next, oldest first. Empty when nothing is eligible.
    /// `maxJobTokens` limits the pick to small jobs: what a worker runs between the chunks of a long prefill.
    /// `accepting` leaves jobs out for now (those that would rather wait for a prefill in flight).
    mutating func nextBatch(
        worker: Int, now: UInt64, maxJobTokens: Int = .max, accepting: (Payload) -> Bool = { _ in true }
    ) -> [Queued] {
        let eligible = queue.indices.filter {
            queue[$0].tokens <= maxJobTokens && isEligible(queue[$0], worker: worker, now: now)
                && accepting(queue[$0].payload)
        }
        guard let first = eligible.first else { return [] }
        var chosen = [first]
        var tokens = queue[first].tokens
        for i in eligible.dropFirst()
        where chosen.count < limits.maxJobsPerBatch && tokens + queue[i].tokens <= limits.maxBatchTokens {
            chosen.append(i)
            tokens += queue[i].tokens
        }
        let taken = chosen.map { queue[$0] }
        for i in chosen.sorted(by: >) { queuedTokens -= queue[i].tokens; queue.remove(at: i) }
        return taken
    }

    mutating func report(worker: Int, cachedKeys: Set<String>) { workerKeys[worker] = cachedKeys }

    mutating func recordThroughput(tokens: Int, seconds: Double) {
        guard tokens > 0, seconds > 0 else { return }
        throughput = 0.8 * throughput + 0.2 * (Double(tokens) / seconds)
    }

    private func isEligible(_ job: Queued, worker: Int, now: UInt64) -> Bool {
        if workerKeys[worker].contains(job.contextKey) { return true }
        let holders = workerKeys.indices.filter { $0 != worker && workerKeys[$0].contains(job.contextKey) }
        if holders.isEmpty { return true }
        return now &- job.enqueuedAt >= limits.affinityPatienceNanos
    }
}
