import ClozeTensor

/// LM-BFF's demonstration sampling over a pool of labelled training examples.
///
/// Candidates of a query: every pool example (minus the query itself when it is a training example);
/// with similarity filtering (`--demo_filter`), only the most similar: the candidates sorted by cosine
/// similarity to the query, keeping per class the first ⌊⌊n / classes⌋ · rate⌋ (n = candidates). A draw
/// (LM-BFF's `select_context`) permutes the candidates at random and keeps the first example of each
/// class; the demonstrations come in class order.
public struct DemonstrationSampler: Sendable {
    /// Class of every pool example.
    public let labels: [Int]
    public let classCount: Int

    public init(labels: [Int], classCount: Int) { self.labels = labels; self.classCount = classCount }

    /// The candidate pool indices of one query. `similarity[i]`: the query's cosine to pool example i.
    public func candidates(excluding query: Int? = nil, similarity: [Float]? = nil, rate: Double = 0.5) -> [Int] {
        let all = labels.indices.filter { $0 != query }
        guard let similarity else { return all }
        // At least one per class, so tiny pools (K = 1, 2) still give every class a demonstration.
        let limit = max(1, Int(Double(all.count / max(1, classCount)) * rate))
        // Descending similarity; ties keep pool order (Python's stable sort in LM-BFF).
        let sorted = all.sorted { similarity[$0] != similarity[$1] ? similarity[$0] > similarity[$1] : $0 < $1 }
        var taken = [Int](repeating: 0, count: classCount)
        var out: [Int] = []
        for i in sorted where taken[labels[i]] < limit {
            taken[labels[i]] += 1
            out.append(i)
        }
        return out
    }

    /// One demonstration per class present among `candidates`, in class order.
    public func draw(from candidates: [Int], rng: inout SeededRNG) -> [Int] {
        var order = candidates
        FewShotSampler.shuffle(&order, &rng)
        var chosen = [Int?](repeating: nil, count: classCount)
        let present = Set(candidates.map { labels[$0] }).count
        var found = 0
        for i in order where chosen[labels[i]] == nil {
            chosen[labels[i]] = i
            found += 1
            if found == present { break }
        }
        return chosen.compactMap { $0 }
    }

    /// Cosine similarity of row `query` of `queries` to every row of `pool` (both [n × dim] row-major).
    public static func cosine(query q: Int, of queries: [Float], pool: [Float], dimension d: Int) -> [Float] {
        queries.withUnsafeBufferPointer { qs in
            pool.withUnsafeBufferPointer { ps in
                let a = qs.baseAddress! + q * d
                let na = Vectorized.dot(a, a, count: d).squareRoot()
                return (0..<(pool.count / d)).map { i in
                    let b = ps.baseAddress! + i * d
                    let nb = Vectorized.dot(b, b, count: d).squareRoot()
                    return Vectorized.dot(a, b, count: d) / max(na * nb, 1e-12)
                }
            }
        }
    }
}
