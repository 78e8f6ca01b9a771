import Dispatch
import Foundation

/// Runs `body` until it returns or the process receives SIGINT or SIGTERM, which cancels it (graceful shutdown).
func withSignalCancellation<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T? {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            await SignalWaiter.wait(for: [SIGINT, SIGTERM])
            return nil
        }
        let first = try await group.next() ?? nil
        group.cancelAll()
        return first
    }
}

enum SignalWaiter {
    /// Suspends until one of the signals arrives (or the task is cancelled).
    static func wait(for signals: [Int32]) async {
        let queue = DispatchQueue(label: "cohort.signals")
        let box = SourceBox()
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let once = Once(c)
                for s in signals {
                    signal(s, SIG_IGN)
                    let source = DispatchSource.makeSignalSource(signal: s, queue: queue)
                    source.setEventHandler { once.fire() }
                    source.resume()
                    box.add(source, once)
                }
                if Task.isCancelled { once.fire() }
            }
        } onCancel: {
            box.fireAll()
        }
        box.cancelAll()
    }

    /// Resumes a continuation at most once.
    final class Once: @unchecked Sendable {  // guarded by the lock
        let lock = NSLock()
        var continuation: CheckedContinuation<Void, Never>?
        init(_ c: CheckedContinuation<Void, Never>) { self.continuation = c }
        func fire() {
            self.lock.lock()
            let c = self.continuation
            self.continuation = nil
            self.lock.unlock()
            c?.resume()
        }
    }

    /// Keeps the signal sources alive; `@unchecked Sendable` because it is guarded by the lock.
    final class SourceBox: @unchecked Sendable {
        let lock = NSLock()
        var sources: [any DispatchSourceSignal] = []
        var onces: [Once] = []
        func add(_ s: any DispatchSourceSignal, _ o: Once) {
            self.lock.lock()
            self.sources.append(s)
            self.onces.append(o)
            self.lock.unlock()
        }
        func fireAll() {
            self.lock.lock()
            let o = self.onces
            self.lock.unlock()
            for x in o { x.fire() }
        }
        func cancelAll() {
            self.lock.lock()
            for s in self.sources { s.cancel() }
            self.lock.unlock()
        }
    }
}
