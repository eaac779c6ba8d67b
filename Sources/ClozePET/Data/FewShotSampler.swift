import ClozeTensor

/// K examples per class, chosen with a seed.
public enum FewShotSampler {
    /// For each class (in label order) a seeded Fisher–Yates shuffle of its examples, first `k` kept;
    /// the union is then shuffled with the same generator. Fails when a class has fewer than `k`.
    public static func sample(_ data: Dataset, perClass k: Int, seed: UInt64) throws -> [Example] {
        var rng = SeededRNG(seed: seed)
        var byClass = [[Example]](repeating: [], count: data.labels.count)
        for e in data.examples {
            guard let l = e.label else {
                throw PETError(.unknownLabel, "few-shot sampling needs labelled examples; this row has no label", at: e.location)
            }
            byClass[l].append(e)
        }
        var picked: [Example] = []
        for (c, var group) in byClass.enumerated() {
            if group.count < k {
                throw PETError(.kTooLarge,
                    "K = \(k) per class, but class '\(data.labels[c])' has only \(group.count) example\(group.count == 1 ? "" : "s"); lower K",
                    at: SourceLocation(file: data.file))
            }
            shuffle(&group, &rng)
            picked += group.prefix(k)
        }
        shuffle(&picked, &rng)
        return picked
    }

    /// Fisher–Yates with the project's generator (platform-independent, unlike `Array.shuffle(using:)`'s contract).
    public static func shuffle<T>(_ a: inout [T], _ rng: inout SeededRNG) {
        guard a.count > 1 else { return }
        for i in stride(from: a.count - 1, to: 0, by: -1) {
            let j = Int(rng.next() % UInt64(i + 1))
            a.swapAt(i, j)
        }
    }
}
