import Dispatch
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Delivers SIGTERM/SIGINT/SIGHUP (or any given signals) to a handler through Dispatch signal sources.
///
/// A signal is set to be ignored (so its default action cannot end the process before Dispatch sees it) the
/// first time a watcher asks for it, and stays so: on Linux, libdispatch installs its own handler once per
/// process, and resetting the disposition on cancel would leave every later watcher of that signal deaf (a
/// test process runs many servers). Once no watcher is left, the signal is ignored.
// @unchecked Sendable: immutable after init; Dispatch sources are thread-safe and only cancelled here.
final class SignalWatcher: @unchecked Sendable {
    private static let prepared = Mutex<Set<Int32>>([])
    private let sources: [any DispatchSourceSignal]

    init(signals: [Int32], queue: DispatchQueue, handler: @escaping @Sendable (Int32) -> Void) {
        sources = signals.map { number in
            if Self.prepared.withLock({ $0.insert(number).inserted }) { _ = signal(number, SIG_IGN) }
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler { handler(number) }
            source.resume()
            return source
        }
    }

    /// Stops watching.
    func cancel() {
        for source in sources { source.cancel() }
    }
}
