import Synchronization

/// Cancellation state of one job, shared by the waiting task, the scheduler and the worker thread.
public final class JobControl: Sendable {
    private let state = Atomic<UInt8>(0)  // 0 active, 1 cancelled, 2 deadline passed

    public init() {}

    /// First reason wins: a request that timed out stays timed out even if its client then disconnects.
    public func cancel(timedOut: Bool = false) {
        _ = state.compareExchange(expected: 0, desired: timedOut ? 2 : 1, ordering: .relaxed)
    }

    public var isCancelled: Bool { state.load(ordering: .relaxed) != 0 }

    var error: ScoringError { state.load(ordering: .relaxed) == 2 ? .timedOut : .cancelled }
}

/// The job whose decode is running on a context, read by llama.cpp's abort callback between graph nodes.
final class AbortSlot: Sendable {
    private let current = Mutex<JobControl?>(nil)

    /// Installs `control` and returns the one it replaces, to be restored when a nested job finishes.
    @discardableResult
    func set(_ control: JobControl?) -> JobControl? {
        current.withLock { slot in
            let previous = slot
            slot = control
            return previous
        }
    }
    var shouldAbort: Bool { current.withLock { $0?.isCancelled ?? false } }

    static let callback: @convention(c) (UnsafeMutableRawPointer?) -> Bool = { data in
        guard let data else { return false }
        return Unmanaged<AbortSlot>.fromOpaque(data).takeUnretainedValue().shouldAbort
    }
}
