/// A weighted semaphore that bounds the memory held by updates being received.
///
/// Each upload is assembled in memory before the round can check it; without a bound, 30 sites uploading a large
/// model at once would hold 30 models. An upload takes `ceil(bytes / unit)` of `capacity` slots (at least one, at
/// most all); uploads beyond the budget wait before reading their stream, and HTTP/2 flow control then holds their
/// senders back.
actor UploadSlots {
    let capacity: Int
    let unit: Int
    private var available: Int
    private var waiters: [(weight: Int, continuation: CheckedContinuation<Void, Never>)] = []

    init(capacity: Int = 8, unitBytes: Int = 32 << 20) {
        self.capacity = capacity
        self.unit = unitBytes
        self.available = capacity
    }

    func weight(forBytes bytes: Int) -> Int { min(self.capacity, max(1, (bytes + self.unit - 1) / self.unit)) }

    func acquire(bytes: Int) async {
        let w = self.weight(forBytes: bytes)
        if self.waiters.isEmpty && self.available >= w {
            self.available -= w
            return
        }
        await withCheckedContinuation { self.waiters.append((w, $0)) }
    }

    func release(bytes: Int) {
        self.available += self.weight(forBytes: bytes)
        while let first = self.waiters.first, first.weight <= self.available {
            self.waiters.removeFirst()
            self.available -= first.weight
            first.continuation.resume()
        }
    }
}
