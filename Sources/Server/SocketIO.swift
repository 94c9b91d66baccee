import Dispatch
import Synchronization

/// Why a wait for readiness ended without the socket becoming ready. (Task cancellation surfaces as
/// `CancellationError`.)
enum SocketWaitError: Error, Equatable {
    case timedOut
    case closed
    /// The server is draining and this was a wait for the first byte of a next request.
    case draining
}

/// Owns one non-blocking connected socket and bridges its readiness to async/await with Dispatch sources.
///
/// At most one reader and one writer wait at a time. A Dispatch source is resumed exactly while someone waits
/// on it, so a level-triggered source never spins; every resume/suspend happens under the lock so their counts
/// stay balanced. `close()` resumes suspended sources before cancelling them (Linux crashes when a suspended
/// source is released) and the descriptor is closed only after all three sources report cancellation, so no
/// event can land on a reused descriptor number. Only the task that owns the connection calls `close()`.
// @unchecked Sendable: the Dispatch sources are thread-safe objects whose suspend/resume/cancel calls are all
// made under `state`'s lock; every other stored property is immutable or inside that Mutex.
final class SocketIO: @unchecked Sendable {
    let fd: Int32
    private let readSource: any DispatchSourceRead
    private let writeSource: any DispatchSourceWrite
    private let timer: any DispatchSourceTimer
    private let state = Mutex(State())

    private struct Waiter {
        let id: UInt64
        let continuation: UnsafeContinuation<Void, any Error>
        let deadline: DispatchTime?
        /// Waiting for the first byte of a next request: ended early when the server drains.
        let idle: Bool
    }

    private struct State {
        var nextID: UInt64 = 0
        var reader: Waiter?
        var writer: Waiter?
        var readArmed = false
        var writeArmed = false
        var closed = false
        var draining = false
        var sourcesCancelled = 0
        /// When the timer fires next (nil: never). It may fire early for a waiter that already left; that is
        /// cheaper than rescheduling it on every wait.
        var timerDeadline: DispatchTime?
    }

    private enum Direction { case read, write }

    init(fd: Int32, queue: DispatchQueue) {
        self.fd = fd
        readSource = DispatchSource.makeReadSource(fileDescriptor: fd, queue: queue)
        writeSource = DispatchSource.makeWriteSource(fileDescriptor: fd, queue: queue)
        timer = DispatchSource.makeTimerSource(queue: queue)
        // The handlers capture `self` strongly; the cycle is broken when close() cancels the sources.
        readSource.setEventHandler { [self] in ready(.read) }
        writeSource.setEventHandler { [self] in ready(.write) }
        timer.setEventHandler { [self] in timerFired() }
        for source in [readSource, writeSource, timer] as [any DispatchSourceProtocol] {
            source.setCancelHandler { [self] in sourceCancelled() }
        }
        timer.schedule(deadline: .distantFuture, leeway: .milliseconds(5))
        timer.resume()
    }

    var isDraining: Bool { state.withLock { $0.draining } }

    /// Ends a pending idle wait (and every later one) with `.draining`.
    func beginDraining() {
        let woken: Waiter? = state.withLock { s in
            s.draining = true
            guard let reader = s.reader, reader.idle else { return nil }
            s.reader = nil
            disarm(.read, &s)
            return reader
        }
        woken?.continuation.resume(throwing: SocketWaitError.draining)
    }

    func waitReadable(deadline: DispatchTime?, idle: Bool = false) async throws {
        try await wait(.read, deadline: deadline, idle: idle)
    }

    func waitWritable(deadline: DispatchTime?) async throws {
        try await wait(.write, deadline: deadline, idle: false)
    }

    /// Stops all waits and releases the descriptor once Dispatch has let go of it. Idempotent.
    func close() {
        let woken: [Waiter] = state.withLock { s in
            guard !s.closed else { return [] }
            s.closed = true
            let waiters = [s.reader, s.writer].compactMap { $0 }
            s.reader = nil
            s.writer = nil
            if !s.readArmed { readSource.resume() }
            if !s.writeArmed { writeSource.resume() }
            s.readArmed = true
            s.writeArmed = true
            readSource.cancel()
            writeSource.cancel()
            timer.cancel()
            return waiters
        }
        for waiter in woken { waiter.continuation.resume(throwing: SocketWaitError.closed) }
    }

    // MARK: - Waiting

    private func wait(_ direction: Direction, deadline: DispatchTime?, idle: Bool) async throws {
        let id = state.withLock { s in
            s.nextID &+= 1; return s.nextID
        }
        try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<Void, any Error>) in
                let failure: (any Error)? = state.withLock { s in
                    if s.closed { return SocketWaitError.closed }
                    // Checked under the lock: a cancellation after this point finds the waiter registered.
                    if Task.isCancelled { return CancellationError() }
                    if idle && s.draining { return SocketWaitError.draining }
                    let waiter = Waiter(id: id, continuation: continuation, deadline: deadline, idle: idle)
                    switch direction {
                    case .read:
                        precondition(s.reader == nil, "two concurrent reads on one socket")
                        s.reader = waiter
                        if !s.readArmed { s.readArmed = true; readSource.resume() }
                    case .write:
                        precondition(s.writer == nil, "two concurrent writes on one socket")
                        s.writer = waiter
                        if !s.writeArmed { s.writeArmed = true; writeSource.resume() }
                    }
                    if let deadline, s.timerDeadline.map({ deadline < $0 }) ?? true {
                        s.timerDeadline = deadline
                        timer.schedule(deadline: deadline, leeway: .milliseconds(5))
                    }
                    return nil
                }
                if let failure { continuation.resume(throwing: failure) }
            }
        } onCancel: {
            let woken: Waiter? = state.withLock { s in
                var found: Waiter?
                if let r = s.reader, r.id == id { found = r; s.reader = nil; disarm(.read, &s) }
                if let w = s.writer, w.id == id { found = w; s.writer = nil; disarm(.write, &s) }
                return found
            }
            woken?.continuation.resume(throwing: CancellationError())
        }
    }

    // MARK: - Dispatch callbacks (on the server's event queue)

    private func ready(_ direction: Direction) {
        let woken: Waiter? = state.withLock { s in
            // A late event after close() must not suspend a cancelled source (its cancel handler would never run).
            guard !s.closed else { return nil }
            let waiter: Waiter?
            switch direction {
            case .read: waiter = s.reader; s.reader = nil
            case .write: waiter = s.writer; s.writer = nil
            }
            // Also reached for a stale event with nobody waiting: stop the level-triggered source spinning.
            disarm(direction, &s)
            return waiter
        }
        woken?.continuation.resume()
    }

    private func timerFired() {
        let now = DispatchTime.now()
        let expired: [Waiter] = state.withLock { s in
            guard !s.closed else { return [] }
            var out: [Waiter] = []
            if let r = s.reader, let d = r.deadline, d <= now { out.append(r); s.reader = nil; disarm(.read, &s) }
            if let w = s.writer, let d = w.deadline, d <= now { out.append(w); s.writer = nil; disarm(.write, &s) }
            rearmTimer(&s)
            return out
        }
        for waiter in expired { waiter.continuation.resume(throwing: SocketWaitError.timedOut) }
    }

    private func sourceCancelled() {
        let last = state.withLock { s in
            s.sourcesCancelled += 1; return s.sourcesCancelled == 3
        }
        // Dispatch drops the handlers (and with them the reference cycle) once a source is cancelled.
        if last { POSIX.closeFD(fd) }
    }

    // MARK: - Helpers (call with the lock held)

    private func disarm(_ direction: Direction, _ s: inout State) {
        switch direction {
        case .read: if s.readArmed { s.readArmed = false; readSource.suspend() }
        case .write: if s.writeArmed { s.writeArmed = false; writeSource.suspend() }
        }
    }

    private func rearmTimer(_ s: inout State) {
        let next = [s.reader?.deadline, s.writer?.deadline].compactMap { $0 }.min()
        s.timerDeadline = next
        timer.schedule(deadline: next ?? .distantFuture, leeway: .milliseconds(5))
    }
}
