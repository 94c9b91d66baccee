import Dispatch

/// Whole reads and writes on a `SocketIO`: retry on would-block by waiting for readiness.
extension SocketIO {
    enum ReadOutcome: Equatable {
        case bytes(Int)
        /// End of stream, a socket error, or the server draining an idle connection.
        case closed
        case timedOut
    }

    /// Reads what is available into `buffer`, waiting (until `deadline`) when nothing is.
    func read(into buffer: inout [UInt8], until deadline: DispatchTime?, idle: Bool = false) async -> ReadOutcome {
        while true {
            let result = buffer.withUnsafeMutableBytes { POSIX.receive(fd, into: $0) }
            switch result {
            case .bytes(let n): return .bytes(n)
            case .endOfStream, .failed: return .closed
            case .wouldBlock:
                do { try await waitReadable(deadline: deadline, idle: idle) } catch SocketWaitError.timedOut {
                    return .timedOut
                } catch {
                    return .closed
                }
            }
        }
    }

    /// Writes all of `bytes`, handling partial writes; false when the peer is gone, the write timed out, or the
    /// task was cancelled.
    func writeAll(_ bytes: [UInt8], timeout: DispatchTimeInterval) async -> Bool {
        var offset = 0
        let deadline = DispatchTime.now() + timeout
        while offset < bytes.count {
            let result = bytes.withUnsafeBytes {
                POSIX.transmit(fd, from: UnsafeRawBufferPointer(rebasing: $0[offset...]))
            }
            switch result {
            case .bytes(let n): offset += n
            case .endOfStream, .failed: return false
            case .wouldBlock:
                do { try await waitWritable(deadline: deadline) } catch { return false }
            }
        }
        return true
    }

    /// Half-closes and discards what the peer still sends until it closes (bounded in time and bytes), so the
    /// kernel does not answer unread data with a reset that could destroy the response before it is read.
    func lingeringClose(timeout: DispatchTimeInterval, maxBytes: Int = 1 << 20) async {
        POSIX.shutdownWrite(fd)
        let deadline = DispatchTime.now() + timeout
        var scratch = [UInt8](repeating: 0, count: 4096)
        var discarded = 0
        while discarded < maxBytes {
            guard case .bytes(let n) = await read(into: &scratch, until: deadline) else { return }
            discarded += n
        }
    }
}
