import Synchronization

/// The open connections: enforces the cap, tells them when the server drains, and lets shutdown wait until
/// they are gone.
final class ConnectionRegistry: Sendable {
    private struct State {
        var nextID: UInt64 = 0
        var open: [UInt64: SocketIO] = [:]
        var rejecting = 0
        var draining = false
        var forced = false
        var emptyWaiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
    }
    private let state = Mutex(State())
    let maxConnections: Int

    init(maxConnections: Int) { self.maxConnections = maxConnections }

    var openCount: Int { state.withLock { $0.open.count } }

    /// Registers a connection, or returns nil when the cap is reached.
    func admit(_ io: SocketIO) -> UInt64? {
        let result: (id: UInt64, draining: Bool)? = state.withLock { s in
            guard s.open.count < maxConnections else { return nil }
            s.nextID &+= 1
            s.open[s.nextID] = io
            return (s.nextID, s.draining)
        }
        if result?.draining == true { io.beginDraining() }
        return result?.id
    }

    func remove(_ id: UInt64) {
        let waiters: [CheckedContinuation<Void, Never>] = state.withLock { s in
            s.open[id] = nil
            guard s.open.isEmpty else { return [] }
            defer { s.emptyWaiters = [:] }
            return Array(s.emptyWaiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Rejections in progress are bounded too, so a flood cannot pile up tasks.
    func beginRejecting() -> Bool {
        state.withLock { s in
            guard s.rejecting < maxConnections else { return false }
            s.rejecting += 1
            return true
        }
    }

    func endRejecting() { state.withLock { $0.rejecting -= 1 } }

    /// Wakes every connection that waits for a next request, so it closes; busy ones close after responding.
    func drainAll() {
        let ios: [SocketIO] = state.withLock { s in
            s.draining = true
            return Array(s.open.values)
        }
        for io in ios { io.beginDraining() }
    }

    /// Ends `waitUntilEmpty()` now, whatever is still open (a second SIGINT during the drain).
    func stopWaiting() {
        let waiters: [CheckedContinuation<Void, Never>] = state.withLock { s in
            s.forced = true
            defer { s.emptyWaiters = [:] }
            return Array(s.emptyWaiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns when no connection is open, after `stopWaiting()`, or when the calling task is cancelled.
    func waitUntilEmpty() async {
        let id: UInt64 = state.withLock { s in
            s.nextID &+= 1; return s.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let done = state.withLock { s in
                    if s.open.isEmpty || s.forced || Task.isCancelled { return true }
                    s.emptyWaiters[id] = continuation
                    return false
                }
                if done { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { s in s.emptyWaiters.removeValue(forKey: id) }
            waiter?.resume()
        }
    }
}
