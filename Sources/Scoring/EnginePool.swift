import Foundation

/// Worker threads, one `Session` (llama_context) each, fed by the `Scheduler`. llama_decode blocks for up to
/// minutes, so it runs here and never on Swift's cooperative pool; callers await a continuation.
public final class EnginePool: @unchecked Sendable {  // safe: every mutable field is guarded by `condition`
    public struct QueueLimits: Sendable, Equatable {
        public var maxQueuedRequests: Int
        public var maxQueuedTokens: Int
        public init(maxQueuedRequests: Int = 256, maxQueuedTokens: Int = 1_048_576) {
            self.maxQueuedRequests = maxQueuedRequests; self.maxQueuedTokens = maxQueuedTokens
        }
    }

    public struct Snapshot: Sendable, Equatable {
        public var queuedRequests: Int
        public var queuedTokens: Int
        public var runningJobs: Int
        public var saturated: Bool
        public var batches: Int
        public var batchedJobs: Int
        public var computedTokens: Int
        public var reusedTokens: Int
        /// Generation decode steps (one llama_decode each) and the candidate tokens they decoded: tokens per
        /// step is how many generations in flight shared each call.
        public var generationSteps: Int = 0
        public var generationStepTokens: Int = 0
    }

    struct Completed: Sendable {
        var outcome: JobOutcome
        var queueMs: Double
        var computeMs: Double
    }

    struct Pending {
        var plan: JobPlan
        var control: JobControl
        var continuation: CheckedContinuation<Completed, any Error>
    }

    private let condition = NSCondition()
    private var scheduler: Scheduler<Pending>
    private var nextID: UInt64 = 0
    private var stopping = false
    private var running = 0
    private var stats = (batches: 0, batchedJobs: 0, computed: 0, reused: 0)
    private var generation = (steps: 0, tokens: 0)
    /// Generation jobs admitted to a worker's session, by job id, with the time they were admitted.
    private var generationJobs: [UInt64: (job: Scheduler<Pending>.Queued, started: UInt64)] = [:]

    /// Contexts pinned with `POST /v1/contexts`, which every session keeps cached until they expire.
    let pins: PinBoard

    private init(workers: Int, limits: Scheduler<Pending>.Limits, pins: PinBoard) {
        scheduler = Scheduler(limits: limits, workers: workers)
        self.pins = pins
    }

    /// Starts the workers and returns once each has created its llama_context.
    static func start(model: Model, configuration: EngineConfiguration, limits: QueueLimits) async throws -> EnginePool
    {
        let pool = EnginePool(
            workers: configuration.workers,
            limits: .init(
                maxQueuedRequests: limits.maxQueuedRequests, maxQueuedTokens: limits.maxQueuedTokens,
                maxJobsPerBatch: max(1, configuration.cacheSlots / 2),
                maxBatchTokens: max(configuration.batchSize * 4, 8192),
                affinityPatienceNanos: 2_000_000_000),
            pins: PinBoard(
                limits: PinLedger.Limits(configuration: configuration, window: configuration.window(for: model))))
        for worker in 0..<configuration.workers {
            try await withCheckedThrowingContinuation { (ready: CheckedContinuation<Void, any Error>) in
                let thread = Thread {
                    // Linux names a thread only from inside it; otherwise it inherits its creator's name.
                    Thread.current.name = "longrm-engine-\(worker)"
                    let session: Session
                    do {
                        session = try Session(model: model, configuration: configuration, pins: pool.pins)
                    } catch {
                        ready.resume(throwing: error)
                        return
                    }
                    ready.resume()
                    pool.work(worker: worker, session: session)
                }
                thread.stackSize = 16 << 20
                thread.start()
            }
        }
        return pool
    }

    /// Queues a job and waits for it. Cancelling the calling task drops the job if it is still queued and
    /// aborts its prefill if it is running; a deadline does the same with `timedOut`.
    func run(_ plan: JobPlan, contextKey: String, deadline: ContinuousClock.Instant?) async throws -> Completed {
        let control = JobControl()
        let id: UInt64 = condition.withLock {
            nextID += 1; return nextID
        }
        let timer = deadline.map { deadline in
            Task { [weak self] in
                try await Task.sleep(until: deadline, clock: .continuous)
                control.cancel(timedOut: true)
                self?.dropQueued(id: id, control: control)
            }
        }
        defer { timer?.cancel() }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let admission: Scheduler<Pending>.Admission
                condition.lock()
                if control.isCancelled || stopping {
                    condition.unlock()
                    continuation.resume(throwing: stopping ? ScoringError.cancelled : control.error)
                    return
                }
                admission = scheduler.enqueue(
                    .init(
                        id: id, tokens: plan.totalTokens, contextKey: contextKey, enqueuedAt: Self.now(),
                        payload: Pending(plan: plan, control: control, continuation: continuation)))
                condition.broadcast()
                condition.unlock()
                if case .rejected(let retryAfter) = admission {
                    continuation.resume(throwing: ScoringError.overloaded(retryAfterSeconds: retryAfter))
                }
            }
        } onCancel: {
            control.cancel()
            dropQueued(id: id, control: control)
        }
    }

    public var snapshot: Snapshot {
        condition.withLock {
            Snapshot(
                queuedRequests: scheduler.queuedRequests, queuedTokens: scheduler.queuedTokens, runningJobs: running,
                saturated: scheduler.isSaturated, batches: stats.batches, batchedJobs: stats.batchedJobs,
                computedTokens: stats.computed, reusedTokens: stats.reused,
                generationSteps: generation.steps, generationStepTokens: generation.tokens)
        }
    }

    /// Stops the workers after their current batch; queued jobs fail with `cancelled`.
    public func stop() {
        condition.lock()
        stopping = true
        var dropped: [Pending] = []
        while let job = scheduler.queue.first, let removed = scheduler.remove(id: job.id) {
            dropped.append(removed.payload)
        }
        condition.broadcast()
        condition.unlock()
        for job in dropped { job.continuation.resume(throwing: ScoringError.cancelled) }
    }

    private func dropQueued(id: UInt64, control: JobControl) {
        let removed = condition.withLock { scheduler.remove(id: id) }
        removed?.payload.continuation.resume(throwing: control.error)
    }

    /// Jobs at most this large run between the chunks of a longer prefill, so a 100K-token context does not
    /// hold up short requests for minutes (FIFO would).
    private static let interleaveMaxTokens = 4096

    private func work(worker: Int, session: Session) {
        session.betweenChunks = { [unowned self, unowned session] in
            let prefilling = session.prefilling
            let batch = condition.withLock {
                scheduler.nextBatch(worker: worker, now: Self.now(), maxJobTokens: Self.interleaveMaxTokens) {
                    !session.shouldWait(for: prefilling, $0.plan)
                }
            }
            guard !batch.isEmpty else { return }
            let nested = session.betweenChunks
            session.betweenChunks = nil
            defer { session.betweenChunks = nested }
            run(batch, worker: worker, session: session)
        }
        defer { session.betweenChunks = nil }
        while true {
            condition.lock()
            var batch: [Scheduler<Pending>.Queued] = []
            while !stopping {
                batch = scheduler.nextBatch(worker: worker, now: Self.now())
                // Generation in flight: take what is queued and go on stepping, never wait.
                if !batch.isEmpty || session.isGenerating { break }
                // Wake periodically while jobs wait for another worker's cache (affinity patience).
                _ = condition.wait(until: Date(timeIntervalSinceNow: scheduler.queuedRequests > 0 ? 0.05 : 1))
            }
            if stopping && batch.isEmpty {
                condition.unlock()
                stopGeneration(session: session)
                return
            }
            condition.unlock()
            if !batch.isEmpty { run(batch, worker: worker, session: session) }
            if session.isGenerating { stepGeneration(worker: worker, session: session) }
        }
    }

    private func run(_ batch: [Scheduler<Pending>.Queued], worker: Int, session: Session) {
        // Generation jobs join the session's continuous batch (stepped by the loop above); the rest run now.
        let generating = batch.filter { $0.payload.plan.generates }
        if !generating.isEmpty {
            let started = Self.now()
            condition.withLock {
                running += generating.count
                for job in generating { generationJobs[job.id] = (job, started) }
            }
            for job in generating {
                session.enqueueGeneration(Session.Job(plan: job.payload.plan, control: job.payload.control), id: job.id)
            }
        }
        let batch = batch.filter { !$0.payload.plan.generates }
        guard !batch.isEmpty else { return }
        condition.withLock { running += batch.count }
        let started = Self.now()
        let results = session.execute(batch.map { Session.Job(plan: $0.payload.plan, control: $0.payload.control) })
        let finished = Self.now()
        let keys = session.cachedKeys
        let computed = results.reduce(0) { $0 + ((try? $1.get().computedTokens) ?? 0) }
        let reused = results.reduce(0) { $0 + ((try? $1.get().reusedTokens) ?? 0) }
        condition.withLock {
            running -= batch.count
            scheduler.report(worker: worker, cachedKeys: keys)
            scheduler.recordThroughput(tokens: computed, seconds: Double(finished - started) / 1e9)
            stats.batches += 1
            stats.batchedJobs += batch.count
            stats.computed += computed
            stats.reused += reused
        }
        let computeMs = Double(finished - started) / 1e6
        for (job, result) in zip(batch, results) {
            let queueMs = Double(started &- job.enqueuedAt) / 1e6
            switch result {
            case .success(let outcome):
                job.payload.continuation.resume(
                    returning: Completed(outcome: outcome, queueMs: queueMs, computeMs: computeMs))
            case .failure(let error):
                job.payload.continuation.resume(throwing: error)
            }
        }
    }

    static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    // MARK: generation (continuous batching; Session+Generation.swift)

    private func stepGeneration(worker: Int, session: Session) {
        let before = (session.generation.steps, session.generation.stepTokens)
        let finished = session.stepGeneration()
        let after = (session.generation.steps, session.generation.stepTokens)
        condition.withLock {
            generation.steps += after.0 - before.0
            generation.tokens += after.1 - before.1
        }
        guard !finished.isEmpty else { return }
        let now = Self.now()
        let ended: [(job: Scheduler<Pending>.Queued, started: UInt64, result: Result<JobOutcome, ScoringError>)] =
            condition.withLock {
                let ended = finished.compactMap { done in
                    generationJobs.removeValue(forKey: done.id).map {
                        (job: $0.job, started: $0.started, result: done.result)
                    }
                }
                running -= ended.count
                let computed = ended.reduce(0) { $0 + ((try? $1.result.get().computedTokens) ?? 0) }
                stats.computed += computed
                stats.reused += ended.reduce(0) { $0 + ((try? $1.result.get().reusedTokens) ?? 0) }
                scheduler.report(worker: worker, cachedKeys: session.cachedKeys)
                return ended
            }
        for entry in ended {
            let queueMs = Double(entry.started &- entry.job.enqueuedAt) / 1e6
            switch entry.result {
            case .success(let outcome):
                entry.job.payload.continuation.resume(
                    returning: Completed(
                        outcome: outcome, queueMs: queueMs,
                        computeMs: Double(now - entry.started) / 1e6))
            case .failure(let error):
                entry.job.payload.continuation.resume(throwing: error)
            }
        }
    }

    private func stopGeneration(session: Session) {
        let ids = session.cancelAllGeneration()
        let jobs = condition.withLock {
            let jobs = ids.compactMap { generationJobs.removeValue(forKey: $0)?.job }
            running -= jobs.count
            return jobs
        }
        for job in jobs { job.payload.continuation.resume(throwing: ScoringError.cancelled) }
    }
}
