import Dispatch
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Accepts connections on a listening socket from a Dispatch read source and hands the new descriptors to an
/// async sequence. `stop()` closes the listening socket and ends the sequence.
// @unchecked Sendable: the Dispatch source is thread-safe and only resumed/suspended/cancelled under `state`'s
// lock; the other stored properties are immutable and Sendable.
final class Acceptor: @unchecked Sendable {
    let connections: AsyncStream<Int32>
    private let continuation: AsyncStream<Int32>.Continuation
    private let listenFD: Int32
    private let queue: DispatchQueue
    private let source: any DispatchSourceRead
    private let state = Mutex(State())

    private struct State {
        var started = false
        var stopped = false
        /// Suspended after running out of descriptors, resumed a little later.
        var paused = false
    }

    init(socket: ListeningSocket, queue: DispatchQueue) {
        listenFD = socket.fd
        self.queue = queue
        (connections, continuation) = AsyncStream.makeStream(of: Int32.self, bufferingPolicy: .unbounded)
        source = DispatchSource.makeReadSource(fileDescriptor: socket.fd, queue: queue)
        // Captures `self` until cancellation, which makes Dispatch drop the handler.
        source.setEventHandler { [self] in acceptPending() }
        source.setCancelHandler { [listenFD, continuation] in
            POSIX.closeFD(listenFD)
            continuation.finish()
        }
    }

    func start() {
        state.withLock { s in
            guard !s.started, !s.stopped else { return }
            s.started = true
            source.resume()
        }
    }

    func stop() {
        state.withLock { s in
            guard !s.stopped else { return }
            s.stopped = true
            // Cancelling needs a resumed source: an inactive or suspended one is resumed first.
            if !s.started || s.paused { source.resume() }
            source.cancel()
        }
    }

    private func acceptPending() {
        while true {
            if let fd = POSIX.acceptConnection(listenFD) {
                POSIX.setNoDelay(fd)
                if case .terminated = continuation.yield(fd) { POSIX.closeFD(fd) }
                continue
            }
            let code = POSIX.lastError
            if POSIX.isWouldBlock(code) { return }
            if code == EINTR || code == ECONNABORTED || code == EPROTO { continue }
            // Out of descriptors or memory: the socket stays readable, so pause instead of spinning.
            pauseBriefly()
            return
        }
    }

    private func pauseBriefly() {
        let paused = state.withLock { s in
            guard !s.stopped, !s.paused else { return false }
            s.paused = true
            source.suspend()
            return true
        }
        guard paused else { return }
        queue.asyncAfter(deadline: .now() + .milliseconds(100)) { [self] in
            state.withLock { s in
                guard s.paused, !s.stopped else { return }
                s.paused = false
                source.resume()
            }
        }
    }
}
