import Synchronization

/// Shared view of the server's phase, for handlers that must report draining (`/ready`).
/// Create it before the router, hand it to `HTTPServer.init`, capture it in handlers.
public final class ServerLifecycle: Sendable {
    private let state = Mutex<(draining: Bool, observers: [@Sendable () -> Void])>((false, []))

    public init() {}

    /// True from the moment a graceful shutdown starts.
    public var isDraining: Bool { state.withLock { $0.draining } }

    /// Called once when draining starts (immediately if it already has).
    public func onDrain(_ observer: @escaping @Sendable () -> Void) {
        let runNow = state.withLock { s in
            if s.draining { return true }
            s.observers.append(observer)
            return false
        }
        if runNow { observer() }
    }

    /// Returns false when draining had already started.
    func startDraining() -> Bool {
        let observers: [@Sendable () -> Void]? = state.withLock { s in
            guard !s.draining else { return nil }
            s.draining = true
            defer { s.observers = [] }
            return s.observers
        }
        guard let observers else { return false }
        for observer in observers { observer() }
        return true
    }
}
