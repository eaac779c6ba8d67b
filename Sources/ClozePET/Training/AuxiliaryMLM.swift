import ClozeTensor

/// BERT-style random masking for PET's auxiliary language-modelling loss (transformers'
/// DataCollatorForLanguageModeling / PET's `mask_tokens`): each non-special, non-padding token is
/// chosen with probability `probability`; a chosen token becomes the mask id 80% of the time, a
/// random vocabulary id 10%, and stays 10%. Returns the corrupted ids, the chosen flat rows and their
/// original ids (the MLM targets).
public enum AuxiliaryMLM {
    public static func mask(_ ids: [Int32], attention: [Float], specialIDs: Set<Int32>, maskID: Int32, vocabSize: Int,
                            probability: Float, rng: inout SeededRNG) -> (ids: [Int32], rows: [Int], targets: [Int]) {
        var out = ids
        var rows: [Int] = [], targets: [Int] = []
        for i in ids.indices where attention[i] > 0 && !specialIDs.contains(ids[i]) {
            guard rng.nextUniform() < probability else { continue }
            rows.append(i); targets.append(Int(ids[i]))
            let r = rng.nextUniform()
            if r < 0.8 { out[i] = maskID }
            else if r < 0.9 { out[i] = Int32(rng.next() % UInt64(vocabSize)) }
        }
        return (out, rows, targets)
    }
}
