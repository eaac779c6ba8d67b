import ClozeModels
import ClozeTensor

/// Multi-mask PET (Schick & Schütze 2021, "It's Not Just Size That Matters"; timoschick/pet's
/// MultiMaskTaskHelper): the pattern's mask expands to as many masks as the longest verbalization;
/// training uses PET's hinge loss over candidate log-likelihoods, inference max-first decoding.
public enum MultiMask {
    /// PET's multi-mask training loss for a batch whose examples carry `verbalizer.maskCount` masks:
    /// with L_c = −Σ_j log p(token_{c,j} at mask j) (summed over the candidate's own tokens, full-vocabulary
    /// softmax), loss = mean_b Σ_{w ≠ y_b} max(0, 1 + L_{y_b} − L_w).
    public static func hingeLoss(model: any MaskedLanguageModel, batch: PETBatch, verbalizer: MultiTokenVerbalizer,
                                 training: Bool, rng: inout SeededRNG?, tape: Tape?) throws -> Tensor {
        let hidden = try model.encode(batch.encoded, training: training, rng: &rng, tape: tape)
        let rows = batch.allMaskRows.flatMap { $0 }
        let logits = try model.mlmLogits(hidden: hidden, positions: rows, vocabularyRows: nil, tape: tape)
        let B = batch.labels.count, C = verbalizer.tokens.count
        // Picks: for every example and candidate, its tokens at its first masks (rows of `logits`).
        var pickRows: [Int] = [], pickCols: [Int] = [], pickOwner: [Int] = []   // owner = b·C + c
        var rowBase = 0
        for b in 0..<B {
            for (c, toks) in verbalizer.tokens.enumerated() {
                for (j, t) in toks.enumerated() { pickRows.append(rowBase + j); pickCols.append(Int(t)); pickOwner.append(b * C + c) }
            }
            rowBase += batch.allMaskRows[b].count
        }
        let logp = Ops.logSoftmaxPick(logits, rows: pickRows, cols: pickCols, tape: tape)
        let P = pickRows.count
        // Candidate losses L [B·C] = A·logp with A[owner, p] = −1 (a 1-D input is one row for linear).
        var a = [Float](repeating: 0, count: B * C * P)
        for (p, owner) in pickOwner.enumerated() { a[owner * P + p] = -1 }
        let candidateLoss = Ops.linear(logp, weight: Tensor(shape: [B * C, P], data: a), bias: nil, tape: tape)
        // Hinge terms [B·(C−1)] = relu(1 + L_{b,y} − L_{b,w}).
        var d = [Float](repeating: 0, count: B * (C - 1) * B * C)
        var term = 0
        for b in 0..<B {
            guard let y = batch.labels[b] else { throw PETError(.unknownLabel, "multi-mask PET training needs labelled examples") }
            for w in 0..<C where w != y {
                d[term * B * C + b * C + y] += 1; d[term * B * C + b * C + w] -= 1
                term += 1
            }
        }
        let hinge = Ops.relu(Ops.linear(candidateLoss, weight: Tensor(shape: [B * (C - 1), B * C], data: d),
                                        bias: Tensor(shape: [B * (C - 1)], data: [Float](repeating: 1, count: B * (C - 1))), tape: tape), tape: tape)
        return Ops.scale(Ops.sum(hinge, tape: tape), by: 1 / Float(B), tape: tape)
    }

    /// One candidate being decoded for one example.
    struct Hypothesis {
        var feature: Int
        var choice: Int
        var input: PETInput
        /// Mask offsets (0..<n) not yet filled.
        var open: [Int]
        var logProb: Float = 0
    }

    /// Label scores [N, labels], row-major: per candidate the summed log-probability of its tokens under
    /// PET's default max-first decoding: of the candidate's unfilled masks, fill the one where its token
    /// is most probable, re-run the model, repeat. Inputs keep only as many masks as the candidate has
    /// tokens (PET's `trim_input_ids`). Batched across examples and candidates (the reference needs eval
    /// batch size 1): the first pass is shared by the candidates of one length, later passes run every
    /// unfinished candidate of every example together.
    public static func maxFirstScores(model: any MaskedLanguageModel, features: [PETFeature], verbalizer: MultiTokenVerbalizer,
                                      batchSize: Int, padID: Int32, progress: ((Int) -> Void)? = nil) throws -> [Float] {
        let C = verbalizer.tokens.count
        let lengths = Array(Set(verbalizer.tokens.map(\.count))).sorted()
        var hypotheses: [Hypothesis] = []
        // First pass: one input per example and candidate length.
        var firstInputs: [PETInput] = [], firstRequests: [[(offset: Int, token: Int32)]] = [], firstOwners: [[Int]] = []
        for (f, feature) in features.enumerated() {
            for n in lengths {
                let input = feature.input.keepingMasks(n)
                var requests: [(offset: Int, token: Int32)] = [], owners: [Int] = []
                for (c, toks) in verbalizer.tokens.enumerated() where toks.count == n {
                    owners.append(hypotheses.count)
                    hypotheses.append(Hypothesis(feature: f, choice: c, input: input, open: Array(0..<n)))
                    requests += toks.enumerated().map { ($0.offset, $0.element) }
                }
                firstInputs.append(input); firstRequests.append(requests); firstOwners.append(owners)
            }
        }
        let firstLogProbs = try logProbabilities(model: model, inputs: firstInputs, requests: firstRequests, batchSize: batchSize, padID: padID)
        for (i, owners) in firstOwners.enumerated() {
            var k = 0
            for h in owners {
                let n = hypotheses[h].open.count
                fill(&hypotheses[h], logProbs: Array(firstLogProbs[i][k..<(k + n)]), tokens: verbalizer.tokens[hypotheses[h].choice])
                k += n
            }
        }
        progress?(features.count / 2)
        // Later passes: every candidate with masks left, all examples together.
        while true {
            let active = hypotheses.indices.filter { !hypotheses[$0].open.isEmpty }
            if active.isEmpty { break }
            let requests = active.map { h in hypotheses[h].open.map { ($0, verbalizer.tokens[hypotheses[h].choice][$0]) } }
            let lp = try logProbabilities(model: model, inputs: active.map { hypotheses[$0].input }, requests: requests,
                                          batchSize: batchSize, padID: padID)
            for (i, h) in active.enumerated() { fill(&hypotheses[h], logProbs: lp[i], tokens: verbalizer.tokens[hypotheses[h].choice]) }
        }
        var scores = [Float](repeating: 0, count: features.count * C)
        for h in hypotheses { scores[h.feature * C + h.choice] = h.logProb }
        progress?(features.count)
        return scores
    }

    /// Fills the open mask whose token is most probable (`logProbs` in `open` order; the first on a tie,
    /// as the reference's strict `>`), adding its log-probability.
    static func fill(_ h: inout Hypothesis, logProbs: [Float], tokens: [Int32]) {
        var best = 0
        for k in 1..<logProbs.count where logProbs[k] > logProbs[best] { best = k }
        let offset = h.open[best]
        h.logProb += logProbs[best]
        h.input.inputIDs[h.input.maskPosition + offset] = tokens[offset]
        h.open.remove(at: best)
    }

    /// For every input, the log-probabilities (full-vocabulary softmax) of the requested tokens at the
    /// requested mask offsets. Inputs are batched in length order (little padding).
    static func logProbabilities(model: any MaskedLanguageModel, inputs: [PETInput], requests: [[(offset: Int, token: Int32)]],
                                 batchSize: Int, padID: Int32) throws -> [[Float]] {
        var out = [[Float]](repeating: [], count: inputs.count)
        let order = inputs.indices.sorted { inputs[$0].inputIDs.count < inputs[$1].inputIDs.count }
        let step = max(1, batchSize)
        for start in stride(from: 0, to: order.count, by: step) {
            let idx = Array(order[start..<min(start + step, order.count)])
            let batch = try PETBatch(idx.map { PETFeature(input: inputs[$0], label: nil) }, padID: padID)
            var noRNG: SeededRNG? = nil
            let hidden = try model.encode(batch.encoded, training: false, rng: &noRNG, tape: nil)
            // One logits row per distinct requested mask, then the picks.
            var rows: [Int] = [], rowOf: [Int: Int] = [:], pickRows: [Int] = [], pickCols: [Int] = []
            for (b, i) in idx.enumerated() {
                for r in requests[i] {
                    let flat = b * batch.encoded.seqLen + inputs[i].maskPosition + r.offset
                    if rowOf[flat] == nil { rowOf[flat] = rows.count; rows.append(flat) }
                    pickRows.append(rowOf[flat]!); pickCols.append(Int(r.token))
                }
            }
            let logits = try model.mlmLogits(hidden: hidden, positions: rows, vocabularyRows: nil, tape: nil)
            let picked = Ops.logSoftmaxPick(logits, rows: pickRows, cols: pickCols, tape: nil).data
            var k = 0
            for i in idx {
                out[i] = Array(picked[k..<(k + requests[i].count)])
                k += requests[i].count
            }
        }
        return out
    }
}
