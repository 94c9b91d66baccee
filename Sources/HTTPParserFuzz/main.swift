// Fuzz target for HTTPRequestParser. Built with -DFUZZING (scripts/fuzz.sh) this is a libFuzzer entry point;
// otherwise it is a replay tool: `HTTPParserFuzz FILE...` runs the same checks on each file (crash
// reproducers, corpus entries) and prints what the parser made of it; `HTTPParserFuzz --bench` measures
// throughput.
import HTTPParser

#if FUZZING
    @_cdecl("LLVMFuzzerTestOneInput")
    public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
        let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
        FuzzCheck.check(bytes)
        return 0
    }
#else
    import Foundation

    /// Top-level code of the plain build. (A fuzzing build compiles this file as a library, where top-level
    /// statements are not allowed even in an inactive branch; a global with an initialiser is allowed in both.)
    let replayed: Void = replay(CommandLine.arguments.dropFirst())

    func replay(_ paths: ArraySlice<String>) {
        if paths.first == "--bench" {
            do { try Bench.run() } catch { print("bench failed: \(error)"); exit(1) }
            return
        }
        if paths.isEmpty { print("usage: HTTPParserFuzz FILE...   (replays inputs through the fuzz checks) | --bench") }
        for path in paths {
            guard let data = FileManager.default.contents(atPath: path) else {
                print("\(path): unreadable")
                exit(2)
            }
            let bytes = [UInt8](data)
            FuzzCheck.check(bytes)
            let outcome = FuzzCheck.run(bytes, cuts: [], requireHost: false)
            let requests = outcome.events.filter { if case .request = $0 { true } else { false } }.count
            print(
                "\(path): \(bytes.count) bytes, \(requests) requests, "
                    + (outcome.error.map { "error \($0.status) \($0.message)" } ?? "phase \(outcome.phase)"))
        }
    }
#endif
