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

/// The jobs whose decode is running on a context, read by llama.cpp's abort callback between graph nodes. The
/// decode stops only when every one of them is cancelled: a wave shared with a live request runs on.
final class AbortSlot: Sendable {
    private let current = Mutex<[JobControl]>([])

    /// Installs `controls` and returns the ones they replace, to be restored when a nested job finishes.
    @discardableResult
    func set(_ controls: [JobControl]) -> [JobControl] {
        current.withLock { slot in
            let previous = slot
            slot = controls
            return previous
        }
    }

    @discardableResult
    func set(_ control: JobControl?) -> [JobControl] { set(control.map { [$0] } ?? []) }

    var shouldAbort: Bool { current.withLock { !$0.isEmpty && $0.allSatisfy(\.isCancelled) } }

    static let callback: @convention(c) (UnsafeMutableRawPointer?) -> Bool = { data in
        guard let data else { return false }
        return Unmanaged<AbortSlot>.fromOpaque(data).takeUnretainedValue().shouldAbort
    }
}
