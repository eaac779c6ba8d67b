/// Token → id table keyed by UTF-8 bytes (open addressing, FNV-1a), looked up without allocating.
struct ByteVocab {
    private var storage: [UInt8] = []
    private var starts: [Int32] = []
    private var lengths: [Int32] = []
    private var ids: [Int32] = []
    private var slots: [Int32] = []   // index into entries, -1 = empty
    private var mask = 0

    init(capacity: Int = 16) {
        var n = 16
        while n < capacity * 2 { n <<= 1 }
        slots = [Int32](repeating: -1, count: n)
        mask = n - 1
    }

    var count: Int { ids.count }

    @inline(__always)
    static func hash(_ p: UnsafeBufferPointer<UInt8>) -> Int {
        var h: UInt64 = 0xcbf29ce484222325
        for b in p { h = (h ^ UInt64(b)) &* 0x100000001b3 }
        return Int(truncatingIfNeeded: h ^ (h >> 29))
    }

    /// Inserts or overwrites (the last assignment wins, like a map built in order).
    mutating func insert(_ key: [UInt8], id: Int32) {
        if (ids.count + 1) * 2 > slots.count { grow() }
        key.withUnsafeBufferPointer { kp in
            var s = ByteVocab.hash(kp) & mask
            while true {
                let e = Int(slots[s])
                if e < 0 {
                    slots[s] = Int32(ids.count)
                    starts.append(Int32(storage.count)); lengths.append(Int32(key.count)); ids.append(id)
                    storage.append(contentsOf: key)
                    return
                }
                if equal(e, kp) { ids[e] = id; return }
                s = (s + 1) & mask
            }
        }
    }

    @inline(__always)
    private func equal(_ e: Int, _ kp: UnsafeBufferPointer<UInt8>) -> Bool {
        let len = Int(lengths[e])
        guard len == kp.count else { return false }
        let st = Int(starts[e])
        return storage.withUnsafeBufferPointer { sp in
            for i in 0..<len where sp[st + i] != kp[i] { return false }
            return true
        }
    }

    private mutating func grow() {
        let n = slots.count * 2
        slots = [Int32](repeating: -1, count: n)
        mask = n - 1
        storage.withUnsafeBufferPointer { sp in
            for e in 0..<ids.count {
                let kp = UnsafeBufferPointer(rebasing: sp[Int(starts[e])..<Int(starts[e] + lengths[e])])
                var s = ByteVocab.hash(kp) & mask
                while slots[s] >= 0 { s = (s + 1) & mask }
                slots[s] = Int32(e)
            }
        }
    }

    @inline(__always)
    func lookup(_ kp: UnsafeBufferPointer<UInt8>) -> Int32? {
        var s = ByteVocab.hash(kp) & mask
        while true {
            let e = Int(slots[s])
            if e < 0 { return nil }
            if equal(e, kp) { return ids[e] }
            s = (s + 1) & mask
        }
    }

    func lookup(_ key: [UInt8]) -> Int32? { key.withUnsafeBufferPointer { lookup($0) } }
    func lookup(_ key: String) -> Int32? { lookup(Array(key.utf8)) }

    /// id → token bytes for every entry (ids may be sparse).
    func reversed() -> [Int32: [UInt8]] {
        var r: [Int32: [UInt8]] = [:]
        for e in 0..<ids.count { r[ids[e]] = Array(storage[Int(starts[e])..<Int(starts[e] + lengths[e])]) }
        return r
    }
}
